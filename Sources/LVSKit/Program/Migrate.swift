import LVSCore

/// `bundle migrate`: moves lvsctl's firewall rules (bundles, dr redirect and ARP rules) to the other backend. The new
/// rules are written and read back first, then the old ones removed; when a step fails, what was written is taken
/// out again, so either the old or the new rules are in place, never neither. IPVS is not touched. The caller holds
/// lvsctl's lock.
public enum FirewallMigration {
    public static func migrate(to target: FirewallKind) throws -> [String] {
        let dest = target.backend(), source = target.other.backend()
        var moved: [(table: FirewallTable, family: AddressFamily, rules: [FirewallRule])] = []
        for t in FirewallTable.allCases {
            for f in [AddressFamily.inet, .inet6] {
                let r = try source.rules(table: t, family: f)
                if !r.isEmpty { moved.append((t, f, r)) }
            }
        }
        let dr = try DirectRouting(firewall: dest)
        var state = try dr.loadState()
        let arpMoving = state.records.indices.filter {
            state.records[$0].method == .arptables && (state.records[$0].firewall ?? .iptablesLegacy) != target
        }
        let redirectMoving = state.records.indices.filter {
            state.records[$0].method == .redirect && (state.records[$0].firewall ?? .iptablesLegacy) != target
        }
        if moved.isEmpty && arpMoving.isEmpty && redirectMoving.isEmpty {
            return ["nothing to migrate: lvsctl has no rules outside \(target.rawValue)"]
        }
        var undo: [() -> Void] = []
        var done: [String] = []
        do {
            // 1. The new rules, added to whatever the destination holds already.
            for m in moved {
                let old = try dest.rules(table: m.table, family: m.family)
                let new = old + m.rules.filter { !old.contains($0) }
                try dest.replaceRules(new, table: m.table, family: m.family)
                undo.append { try? dest.replaceRules(old, table: m.table, family: m.family) }
                let back = Set(try dest.rules(table: m.table, family: m.family))
                guard m.rules.allSatisfy(back.contains) else {
                    throw FirewallError(operation: "migrate", errno: 0, detail: "\(target.rawValue) did not keep the rules written to it")
                }
            }
            let arpPairs: [(index: Int, pair: ARPRewrite)] = arpMoving.compactMap { i in
                let r = state.records[i]
                guard let v = IPAddress(r.vip), let rip = r.realIP.flatMap(IPAddress.init) else { return nil }
                return (i, ARPRewrite(vip: v, realIP: rip, owner: DirectRouting.ruleOwner))
            }
            if target == .nftables && !arpPairs.isEmpty {
                let old = try dest.arpRewrites() ?? []
                try dest.replaceARPRewrites(old.filter { o in !arpPairs.contains { $0.pair.vip == o.vip } } + arpPairs.map(\.pair))
                undo.append { try? dest.replaceARPRewrites(old) }
            } else if target == .iptablesLegacy {
                let listed = arpPairs.isEmpty ? [] : try ARPTables.rules()
                for p in arpPairs {
                    var added: [[String]] = []
                    for r in DirectRouting.arptablesRules(vip: p.pair.vip.description, realIP: p.pair.realIP.description)
                    where !ARPTables.contains(listed, r) {
                        try ARPTables.run("-A", r)
                        undo.append { try? ARPTables.run("-D", r) }
                        added.append(r)
                    }
                    state.records[p.index].arpRules = added
                }
            }
            // 2. The old rules out.
            for m in moved {
                try source.replaceRules([], table: m.table, family: m.family)
                undo.append { try? source.replaceRules(m.rules, table: m.table, family: m.family) }
            }
            if target == .iptablesLegacy && !arpPairs.isEmpty {
                let old = try source.arpRewrites() ?? []
                try source.replaceARPRewrites(old.filter { o in !arpPairs.contains { $0.pair.vip == o.vip } })
                undo.append { try? source.replaceARPRewrites(old) }
            } else if target == .nftables {
                for i in arpMoving {
                    for r in state.records[i].arpRules.reversed() {
                        try ARPTables.run("-D", r)
                        undo.append { try? ARPTables.run("-A", r) }
                    }
                    state.records[i].arpRules = []
                }
            }
            // 3. The dr state file says where each VIP's rules are now.
            for i in arpMoving + redirectMoving { state.records[i].firewall = target == .nftables ? .nftables : nil }
            if !arpMoving.isEmpty || !redirectMoving.isEmpty { try dr.saveState(state) }
        } catch {
            undo.reversed().forEach { $0() }
            throw error
        }
        let bundles = MarkBundle.from(rules: moved.filter { $0.table == .mangle }.flatMap(\.rules))
        done.append("moved \(bundles.count) bundle(s) from \(source.name) to \(dest.name)"
                    + (bundles.isEmpty ? "" : ": " + bundles.map(\.name).joined(separator: ", ")))
        let natCount = moved.filter { $0.table == .nat }.reduce(0) { $0 + $1.rules.count }
        if natCount > 0 || !arpMoving.isEmpty {
            done.append("moved the dr rules of \(Set(redirectMoving + arpMoving).count) VIP(s) (\(natCount) redirect rule(s), \(arpMoving.count) ARP pair(s))")
        }
        return done
    }
}
