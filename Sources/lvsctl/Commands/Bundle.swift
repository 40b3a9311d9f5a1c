import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import LVSCore

/// Bundle names go into chain comments and shell scripts: 1..64 of [A-Za-z0-9_.-], starting with a letter or digit.
func validateBundleName(_ n: String) throws {
    let okChars = n.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 || $0 == 46 || $0 == 45 }
    guard !n.isEmpty, n.count <= MarkBundle.maxNameLength, okChars, let f = n.utf8.first, f != 45, f != 46 else {
        throw UsageError("invalid bundle name \(shown(n)) (1..\(MarkBundle.maxNameLength) characters of A-Z a-z 0-9 _ . -, not starting with - or .)")
    }
}

/// lvsctl's bundles as they live in the kernel: mangle rules (IPv4 and IPv6) plus fwmark services.
struct BundleStore {
    let firewall: FirewallBackend

    /// The store on this process's firewall backend (`Firewall.backend()`).
    static func system() throws -> BundleStore { BundleStore(firewall: try Firewall.backend()) }

    /// lvsctl's mangle rules of one family (none when the table module is absent and no rules exist).
    func rules(_ f: AddressFamily) throws -> [FirewallRule] { try firewall.rules(table: .mangle, family: f) }

    /// Bundle `b`'s rules as commands an admin could type: `iptables -t mangle -A LVSCTL ...` (ip6tables for IPv6)
    /// on iptables-legacy, `nft add element ip lvsctl marks { ... }` on nftables.
    func describe(_ b: MarkBundle) -> [String] { b.rules.map { ruleText($0, firewall.kind, program: true) } }

    /// Every bundle, IPv4 first.
    func bundles() throws -> [MarkBundle] { MarkBundle.from(rules: try rules(.inet) + rules(.inet6)) }

    /// The fwmark service key of bundle `name`.
    func key(ofBundle name: String) throws -> ServiceKey {
        guard let b = try bundles().first(where: { $0.name == name }) else { throw UsageError("no bundle named \(shown(name))") }
        return b.serviceKey
    }

    /// Writes bundle `b`'s rules after the chain's current ones, then runs `addService` (the IPVS half). When that
    /// fails, the rollback removes `b`'s rules only, read afresh: rules written meanwhile by anyone else stay.
    /// The caller holds lvsctl's lock, so no other lvsctl command reads or writes the chain in between.
    func add(_ b: MarkBundle, addService: () throws -> Void) throws {
        try firewall.replaceRules(try rules(b.family) + b.rules, table: .mangle, family: b.family)
        do {
            try addService()
        } catch {
            if let now = try? rules(b.family) {
                try? firewall.replaceRules(now.filter { $0.owner != b.owner }, table: .mangle, family: b.family)
            }
            throw error
        }
    }

    /// Removes bundle `b`: runs `deleteService` (the IPVS half, nil when there is none), then removes `b`'s rules
    /// (only `b`'s, read afresh). When the rules cannot be removed, `restoreService` puts the service back.
    func delete(_ b: MarkBundle, deleteService: (() throws -> Void)?, restoreService: () -> Void) throws {
        try deleteService?()
        do {
            try firewall.replaceRules(try rules(b.family).filter { $0.owner != b.owner }, table: .mangle, family: b.family)
        } catch {
            if deleteService != nil { restoreService() }
            throw error
        }
    }
}

/// A `bundle add` line as plain values: what `bundle add` and the fast file parser validate and add.
struct BundleSpec: ConfigLine {
    var name: String
    var vips: [String]
    var ports: String
    var proto: String = "tcp"
    var mark: String?
    var settings: SettingsSpec

    /// The validated bundle (mark may be 0 = pick one) and its service.
    func model() throws -> (MarkBundle, VirtualService) {
        try validateBundleName(name)
        if vips.isEmpty { throw UsageError("give at least one --vip") }
        var addrs: [IPAddress] = []
        for v in vips {
            guard let a = IPAddress(v) else { throw UsageError("invalid VIP \(shown(v))") }
            try checkUnicast(a, what: "VIP")
            if let f = addrs.first, f.family != a.family { throw UsageError("VIP \(shown(v)) is \(a.family) but \(f) is \(f.family); one bundle holds one family") }
            if !addrs.contains(a) { addrs.append(a) }
        }
        let pr = try parsePortList(ports)
        let protos = try parseProtocols(proto)
        let m = try mark.map(parseMark) ?? 0
        let b = MarkBundle(name: name, vips: addrs, ports: pr, protocols: protos, mark: m)
        var s = VirtualService(key: .fwmark(m == 0 ? 1 : m, b.family))
        try settings.apply(to: &s, isNew: true)
        return (b, s)
    }

    func add(to config: inout ClusterConfig, source: inout SourceMap) throws {
        var (b, s) = try model()
        if source.hasBundle(b.name, config) { throw UsageError("bundle \(shown(b.name)) is defined twice") }
        let used = source.usedMarks(config)
        if b.mark == 0 { b.mark = lowestFree(used) }
        else if used.contains(b.mark) { throw UsageError("mark \(b.mark) is already used by another bundle or fwmark service") }
        s.key = b.serviceKey
        config.bundles.append(b)
        config.entries.append(ServiceEntry(service: s, servers: []))
        source.services[s.key] = source.current
        source.entryIndex[s.key] = config.entries.count - 1
    }
}

/// `lvsctl bundle add|delete|list`.
struct Bundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Firewall-mark bundles: mangle MARK rules plus the fwmark virtual service, as one unit.",
        discussion: """
        Example: lvsctl bundle add web --vip 192.0.2.10 --ports 80,443 --mark 80 -s rr -p 60
        ipvsadm equivalent: iptables -t mangle -A PREROUTING ... -j MARK --set-mark 80 plus ipvsadm -A -f 80 -s rr -p 60
        Guide: Documentation/firewall-mark-bundles.md
        """,
        subcommands: [Add.self, Delete.self, List.self, Migrate.self])

    struct Add: ParsableCommand, ConfigLine {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Mark VIP:ports in the mangle table and create the fwmark service for them.",
            discussion: """
            Example: lvsctl bundle add web --vip 192.0.2.10 --ports 80,443 --mark 80 -s rr -p 60
            ipvsadm equivalent: iptables -t mangle -A PREROUTING -p tcp -d 192.0.2.10/32 -m multiport --dports 80,443 -j MARK --set-mark 80; ipvsadm -A -f 80 -s rr -p 60
            """)
        @Argument(help: "Bundle name.") var name: String
        @Option(name: .customLong("vip"), help: "A virtual IP (repeatable; one family).") var vips: [String] = []
        @Option(name: .customLong("ports"), help: "Ports and ranges, e.g. 80,443 or 8000:8010.") var ports: String
        @Option(name: .customLong("proto"), help: "tcp, udp or both (default tcp).") var proto: String = "tcp"
        @Option(name: .customLong("mark"), help: "Firewall mark (default: the lowest free one).") var mark: String?
        @OptionGroup var settings: ServiceSettings
        @OptionGroup var global: GlobalOptions

        /// The plain values, shared with the fast file parser.
        var spec: BundleSpec {
            BundleSpec(name: name, vips: vips, ports: ports, proto: proto, mark: mark, settings: settings.spec)
        }

        /// The validated bundle (mark may be 0 = pick one) and its service.
        func model() throws -> (MarkBundle, VirtualService) { try spec.model() }

        func add(to config: inout ClusterConfig, source: inout SourceMap) throws { try spec.add(to: &config, source: &source) }

        func run() throws {
            _ = try model()
            try global.enter()
            let store = try BundleStore.system()
            let client = try IPVSClient()
            // One lock across reading the bundles and services, choosing the mark, both halves and any rollback:
            // two adds at once would otherwise pick the same mark, or each commit the chain it read (one is lost).
            let b: MarkBundle = try withLvsctlLock {
                var state = ClusterConfig()
                state.bundles = try store.bundles()
                state.entries = try client.services().map { ServiceEntry(service: $0, servers: []) }
                var src = SourceMap()
                try add(to: &state, source: &src)
                let b = state.bundles.last!, s = state.entries.last!.service
                if store.firewall.kind == .iptablesLegacy && systemIPTablesIsNFT() {
                    notice("note: bundle rules live in the legacy iptables tables (iptables-legacy-save -t mangle shows them); this host's iptables is the nftables variant: 'lvsctl bundle migrate --to nftables' moves them there")
                }
                try store.add(b) { try client.perform(.addService(s)) }
                return b
            }
            if mark == nil { emit("bundle \(b.name): mark \(b.mark)\n") }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Remove a bundle: its mangle rules and its fwmark service (with its real servers).",
            discussion: "Example: lvsctl bundle delete web\nipvsadm equivalent: iptables -t mangle -D PREROUTING ... -j MARK --set-mark 80 (each rule) plus ipvsadm -D -f 80")
        @Argument(help: "Bundle name.") var name: String
        @OptionGroup var global: GlobalOptions
        func run() throws {
            try validateBundleName(name)
            try global.enter()
            let store = try BundleStore.system()
            let client = try IPVSClient()
            try withLvsctlLock {  // as in add: no other lvsctl command reads or writes the chain meanwhile
                guard let b = try store.bundles().first(where: { $0.name == name }) else {
                    throw UsageError("no bundle named \(shown(name))")
                }
                let entry = try client.table().first { $0.service.key == b.serviceKey }
                try store.delete(b, deleteService: entry.map { _ in { try client.perform(.deleteService(b.serviceKey)) } },
                                 restoreService: {  // put the service back as it was
                    if let e = entry {
                        _ = try? client.execute([.addService(e.service.config)] + e.servers.map { .addDest(b.serviceKey, $0.config) }, stopOnError: false)
                    }
                })
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Show bundles with their VIPs, ports, mark, rules and service.",
            discussion: "Example: lvsctl bundle list --json\nipvsadm equivalent: iptables-save -t mangle plus ipvsadm -Ln")
        @OptionGroup var output: OutputOptions
        @OptionGroup var global: GlobalOptions
        func run() throws {
            try global.enter()
            let store = try BundleStore.system()
            let bundles = try store.bundles()
            let client = try IPVSClient()
            let table = try client.table()
            struct JB: Encodable {
                var name: String, vips: [String], ports: [String], proto: String, mark: UInt32, family: String
                var rules: [String], service: JSONService?
            }
            struct Doc: Encodable { var schema = jsonSchemaVersion; var bundles: [JB] }
            let docs = bundles.map { b in
                JB(name: b.name, vips: b.vips.map(\.description), ports: b.ports.map(\.description), proto: b.protoName,
                   mark: b.mark, family: b.family.description,
                   rules: store.describe(b),
                   service: table.first { $0.service.key == b.serviceKey }.map(JSONService.init))
            }
            if output.json { try printJSON(Doc(bundles: docs)); return }
            var out = ""
            for d in docs {
                out += "bundle \(d.name): mark \(d.mark) \(d.proto) \(d.vips.joined(separator: ",")) ports \(d.ports.joined(separator: ","))\n"
                if let s = d.service {
                    out += "  service \(s.spec) -s \(s.scheduler)" + (s.persistence.map { " persistent \($0.timeout)" } ?? "") + ", \(s.real_servers.count) real server(s)\n"
                } else { out += "  service MISSING (fwmark \(d.mark) not in IPVS)\n" }
                for r in d.rules { out += "  rule: \(r)\n" }
            }
            emit(out)
        }
    }
}

extension Bundle {
    /// `lvsctl bundle migrate --to nftables|iptables-legacy`.
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Move lvsctl's firewall rules (bundles, dr redirect and ARP rules) to the other firewall backend.",
            discussion: """
            The new rules are written and read back first, then the old ones removed; when a step fails, what was \
            written is taken out again, so either the old or the new rules are in place, never neither. IPVS is not touched.
            Example: lvsctl bundle migrate --to nftables
            ipvsadm equivalent: none (by hand: iptables-legacy-save, translate, nft -f, then delete the old rules)
            """)
        @Option(name: .customLong("to"), help: "nftables or iptables-legacy.") var to: String
        @Option(name: .customLong("wait"), help: "Seconds to wait for another lvsctl command to finish (default 30).") var wait: Double = 30
        @OptionGroup var global: GlobalOptions

        func run() throws {
            guard let parsed = FirewallSelection.parse(to), let target = parsed else {
                throw UsageError("invalid --to \(shown(to)) (expected nftables or iptables-legacy)")
            }
            try global.enter()
            let lines = try withLvsctlLock(wait: wait) { try migrate(to: target) }
            emit(lines.joined(separator: "\n") + "\n")
        }

        func migrate(to target: FirewallKind) throws -> [String] {
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
}

/// The lowest mark not in `used`.
func lowestFree(_ used: Set<UInt32>) -> UInt32 {
    var m: UInt32 = 1
    while used.contains(m) { m += 1 }
    return m
}

/// Parses `--proto tcp|udp|both`.
func parseProtocols(_ s: String) throws -> [IPProtocol] {
    switch s {
    case "tcp": return [.tcp]
    case "udp": return [.udp]
    case "both": return [.tcp, .udp]
    default: throw UsageError("invalid protocol \(shown(s)) (expected tcp, udp or both)")
    }
}

/// Parses `80,443,8000:8010`: ports 1..65535, ranges low:high with low <= high.
func parsePortList(_ s: String) throws -> [PortRange] {
    if s.isEmpty { throw UsageError("empty port list") }
    // Split at the ASCII ',' and ':' bytes (String.split walks Characters: ~15,000 instructions for "80,443",
    // on every bundle line of a restore file).
    var out: [PortRange] = []
    let u = s.utf8
    var start = u.startIndex
    while true {
        let end = u[start...].firstIndex(of: 44) ?? u.endIndex
        let item = Substring(u[start..<end])
        func bad() -> UsageError { UsageError("invalid port \(shown(String(item))) (expected 1..65535 or LOW:HIGH)") }
        let colon = item.utf8.firstIndex(of: 58)
        let loText = colon.map { Substring(item.utf8[..<$0]) } ?? item
        guard let lo = parseDecimal(loText), lo >= 1, lo <= 65535 else { throw bad() }
        var hi = lo
        if let c = colon {
            let hiText = Substring(item.utf8[item.utf8.index(after: c)...])
            guard hiText.utf8.firstIndex(of: 58) == nil else { throw bad() }
            guard let h = parseDecimal(hiText), h >= 1, h <= 65535 else { throw bad() }
            guard h >= lo else { throw UsageError("reversed port range \(shown(String(item)))") }
            hi = h
        }
        out.append(PortRange(low: UInt16(lo), high: UInt16(hi)))
        if end == u.endIndex { return out }
        start = u.index(after: end)
    }
}

/// One rule as text: the iptables arguments (with the program name when `program`) or the nft element command.
func ruleText(_ r: FirewallRule, _ kind: FirewallKind, program: Bool) -> String {
    if kind == .nftables { return NFTablesBackend.elementCommand(r) }
    let words = (program ? [r.family == .inet ? "iptables" : "ip6tables"] : []) + r.iptablesArguments
    return words.map(quoteIfNeeded).joined(separator: " ")
}

/// Quotes a shell word when it holds spaces or metacharacters (for display only; nothing is run through a shell).
func quoteIfNeeded(_ w: String) -> String {
    w.contains(where: { " \"'$`\\;&|<>*?()[]{}!#~".contains($0) }) ? "\"" + w.replacing("\"", with: "\\\"") + "\"" : w
}
