// Direct-routing real-server preparation (seed 003): make this host accept packets for a VIP while never
// answering ARP for it. Three methods: sysctl (arp_ignore/arp_announce + VIP on lo, through libnl-route),
// arptables (the system's arptables binary, run with an argument vector) and redirect (nat REDIRECT rules
// through libiptc, in lvsctl's chain). What setup changed is recorded in a per-namespace state file, so
// teardown removes exactly that and puts sysctls back to their old values.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LVSCore
#if canImport(Glibc)
import Glibc
#endif

/// How a real server is kept from answering ARP for the VIP.
public enum DRMethod: String, Codable, Sendable, CaseIterable {
    /// `sysctl`: arp_ignore/arp_announce and the VIP on lo; `arptables`: ARP rules and the VIP on the interface; `redirect`: nat REDIRECT, no VIP.
    case sysctl, arptables, redirect
}

/// One VIP as `dr setup` asks for it (validated for syntax; the interface is checked against the kernel later).
public struct DRRequest: Hashable, Sendable {
    /// The virtual IP the real server must accept and must not answer ARP for.
    public var vip: IPAddress
    /// How ARP for the VIP is suppressed.
    public var method: DRMethod
    /// The interface named with `--interface`; nil picks the one whose subnet holds the VIP.
    public var interface: String?
    /// redirect only.
    public var ports: [PortRange]
    /// redirect only.
    public var protocols: [IPProtocol]

    /// Creates a request; call sites validate the VIP and the ports first.
    public init(vip: IPAddress, method: DRMethod, interface: String?, ports: [PortRange], protocols: [IPProtocol]) {
        self.vip = vip; self.method = method; self.interface = interface; self.ports = ports; self.protocols = protocols
    }

    /// The `dr setup` line that asks for this again (used by `lvsctl save`).
    public var setupLine: String {
        var s = "dr setup --vip \(vip) --method \(method.rawValue)"
        if let i = interface { s += " --interface \(i)" }
        if method == .redirect {
            s += " --ports \(ports.map(\.description).joined(separator: ","))"
            s += " --proto \(protocols.count == 2 ? "both" : protocols.first?.description ?? "tcp")"
        }
        return s
    }
}


/// What setup did for one VIP, as kept in the state file.
public struct DRRecord: Codable, Hashable, Sendable {
    /// The VIP, as text.
    public var vip: String
    /// The method it was set up with.
    public var method: DRMethod
    /// The interface asked for (nil: automatic).
    public var requestedInterface: String?
    /// The interface used: the ARP interface (sysctl) or the alias interface (arptables).
    public var interface: String?
    /// redirect only: the ports, as `80` or `8000:8010`.
    public var ports: [String]
    /// redirect only: `tcp` and/or `udp`.
    public var protocols: [String]
    /// The real server's own address on `interface` (arptables: the mangled ARP source).
    public var realIP: String?
    /// The VIP address lvsctl added (nil when it was already there: teardown then leaves it).
    public var addedAddress: DRAddress?
    /// arptables rules lvsctl appended, each as `CHAIN ARGS...` (teardown deletes exactly these).
    public var arpRules: [[String]]
    /// The backend holding this VIP's rules (redirect: nat; arptables: ARP); nil is iptables-legacy and the
    /// arptables binary (also in state files written before the nftables backend existed).
    public var firewall: FirewallKind?

    /// The request this record answers.
    public var request: DRRequest? {
        guard let v = IPAddress(vip) else { return nil }
        return DRRequest(vip: v, method: method, interface: requestedInterface, ports: ports.compactMap(PortRange.init),
                         protocols: protocols.compactMap { p in IPProtocol.allCases.first { $0.description == p } })
    }
}

/// An address lvsctl put on an interface.
public struct DRAddress: Codable, Hashable, Sendable {
    /// The interface the address was added to (`lo` for the sysctl method).
    public var device: String
    /// The prefix length it was added with (32 or 128).
    public var prefixLength: Int
}

/// A sysctl lvsctl changed, with the value it had before.
public struct DRSysctl: Codable, Hashable, Sendable {
    /// `all`, `default` or an interface name.
    public var interface: String
    /// `arp_ignore` or `arp_announce`.
    public var name: String
    /// The value before lvsctl changed it; teardown restores it once no VIP needs the change.
    public var original: Int
    /// The `sysctl -w` name, e.g. `net.ipv4.conf.all.arp_ignore`.
    public var key: String { "net.ipv4.conf.\(interface.replacing(".", with: "/")).\(name)" }
}

/// The state file: every VIP set up in this network namespace, and the sysctls' previous values.
public struct DRState: Codable, Sendable {
    /// The state file format version.
    public var version = 1
    /// One record per VIP set up in this namespace.
    public var records: [DRRecord] = []
    /// Sysctls lvsctl changed, with their previous values.
    public var sysctls: [DRSysctl] = []
    /// An empty state (nothing set up).
    public init() {}
}

/// The live view of one recorded VIP (`lvsctl dr status`).
public struct DRStatus: Codable, Sendable {
    /// The VIP, as text.
    public var vip: String
    /// `sysctl`, `arptables` or `redirect`.
    public var method: String
    /// The interface used (absent when none).
    public var interface: String?
    /// Interfaces that hold the VIP.
    public var bound_on: [String]
    /// `net.ipv4.conf.X.arp_*` values that matter for this VIP.
    public var sysctls: [String: Int]
    /// Rules lvsctl keeps for this VIP, in iptables/arptables syntax, each with whether it is in place.
    public var rules: [DRRuleStatus]
    /// Missing pieces and conflicts; empty when all is well.
    public var problems: [String]
    /// Advice, e.g. that services must listen on the wildcard address (redirect).
    public var notes: [String]
}

/// One rule in `DRStatus`.
public struct DRRuleStatus: Codable, Sendable {
    /// The rule in iptables or arptables syntax.
    public var rule: String
    /// Whether the rule is in place now.
    public var present: Bool
}

/// Plans and carries out `dr setup`, `dr teardown` and `dr status` in the current network namespace.
public final class DirectRouting {
    /// The rtnetlink socket for interfaces and addresses (libnl-route).
    public let route: RouteSocket
    /// The backend for the redirect method's nat rules.
    public let firewall: FirewallBackend
    /// The state file of this namespace (default `/run/lvsctl/dr/netns-COOKIE.json`).
    public let statePath: String
    /// The nat rules' owner (comment `lvsctl: dr`).
    public static let ruleOwner = "dr"

    /// Opens an rtnetlink socket in the current namespace; `statePath` overrides the state file (tests).
    public init(firewall: FirewallBackend, statePath: String? = nil) throws {
        route = try RouteSocket()
        self.firewall = firewall
        self.statePath = statePath ?? DirectRouting.defaultStatePath()
    }

    /// `/run/lvsctl/dr/netns-COOKIE.json`: one file per network namespace (the thread's, after `--netns`). The
    /// namespace cookie (`SO_NETNS_COOKIE`, Linux 5.14+) is never reused while the system runs, unlike the
    /// namespace's inode number, so a namespace created later never inherits a deleted one's records.
    public static func defaultStatePath() -> String {
        if case .success(let fd) = Syscall.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) {
            defer { Syscall.close(fd) }
            if case .success(let cookie) = Syscall.getsockoptUInt64(fd, SOL_SOCKET, 71 /* SO_NETNS_COOKIE */) {
                return "/run/lvsctl/dr/netns-\(cookie).json"
            }
        }
        let id = (try? Syscall.stat("/proc/thread-self/ns/net").get()).map { "inode-\($0.st_ino)" } ?? "default"
        return "/run/lvsctl/dr/netns-\(id).json"
    }

    // MARK: state file

    /// Reads the state file; an absent file is an empty state.
    public func loadState() throws -> DRState {
        let fd: Int32
        switch Syscall.open(statePath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) {
        case .success(let d): fd = d
        case .failure(.noSuchFileOrDirectory): return DRState()
        case .failure(let e): throw DRError("cannot read \(statePath): \(e)")
        }
        let data = Data(readToEnd(fd) ?? [])
        Syscall.close(fd)
        do { return try JSONDecoder().decode(DRState.self, from: data) } catch {
            throw DRError("\(statePath) is not a valid lvsctl dr state file; move it away to start afresh")
        }
    }

    /// Writes the state file atomically (mode 0600), creating `/run/lvsctl/dr/` if needed.
    public func saveState(_ s: DRState) throws {
        for d in ["/run/lvsctl", String(statePath[..<(statePath.lastIndex(of: "/") ?? statePath.endIndex)])] { _ = Syscall.mkdir(d, 0o700) }
        if s.records.isEmpty && s.sysctls.isEmpty {
            if case .failure(let e) = Syscall.unlink(statePath), e != .noSuchFileOrDirectory {
                throw DRError("cannot remove \(statePath): \(e)")
            }
            return
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let text = String(decoding: try enc.encode(s), as: UTF8.self) + "\n"
        try writeFileAtomically(statePath, text, mode: 0o600)
    }

    // MARK: setup

    /// A planned change with its undo.
    struct Step {
        var describe: String
        var run: () throws -> Void
        var undo: () -> Void
    }

    /// A validated setup, ready to run: nothing has changed yet.
    public struct Plan {
        var steps: [Step] = []
        var newRecords: [DRRecord] = []
        var newSysctls: [DRSysctl] = []
        /// One line per change, for `--dry-run` and messages.
        public var changes: [String] { steps.map(\.describe) }
        /// True when setup would change nothing (`no changes`).
        public var isEmpty: Bool { steps.isEmpty && newRecords.isEmpty }
    }

    /// Validates `requests` against the kernel and the state file and computes the steps. Throws before any change:
    /// usage errors (unknown interface, ...) and conflicts (another method in place, the VIP on a real interface).
    public func plan(_ requests: [DRRequest]) throws -> Plan {
        let state = try loadState()
        let ifaces = try route.interfaces()
        let addrs = try route.addresses(interfaces: ifaces)
        guard let lo = ifaces.first(where: { $0.isLoopback }) else { throw DRError("no loopback interface in this namespace") }
        var plan = Plan()
        var seen = Set<IPAddress>()
        var sysctlWanted: [String: Int] = [:]  // "IF/name" -> minimum value
        var sysctlOrder: [(String, String)] = []
        var arpListed: [[String]]?
        var natAdds: [AddressFamily: [FirewallRule]] = [:]
        var arpSteps: [Step] = [], addrSteps: [Step] = []
        var arpAdds: [ARPRewrite] = []

        for req in requests {
            guard seen.insert(req.vip).inserted else { throw DRError("VIP \(req.vip) is given twice", usage: true) }
            if let i = req.interface {
                guard let itf = ifaces.first(where: { $0.name == i }) else { throw DRError("unknown interface '\(i)'", usage: true) }
                if itf.isLoopback && req.method != .sysctl { throw DRError("--interface \(i) is the loopback; name the interface that faces the director", usage: true) }
            }
            if let rec = state.records.first(where: { $0.vip == req.vip.description }) {
                if rec.request == req { continue }  // already set up exactly so: nothing to do
                let how = rec.method == req.method ? "with other settings (\(rec.request?.setupLine ?? rec.method.rawValue))" : "with --method \(rec.method.rawValue)"
                throw DRError("VIP \(req.vip) is already set up \(how); run 'lvsctl dr teardown --vip \(req.vip)' first")
            }
            let holders = addrs.filter { $0.address == req.vip }
            let onReal = holders.filter { $0.interfaceIndex != lo.index }
            // The interface that faces the director: named, or the one whose subnet holds the VIP.
            let faceName = req.interface ?? addrs.first { $0.interfaceIndex != lo.index && $0.address != req.vip && $0.contains(req.vip) }?.interfaceName
            var rec = DRRecord(vip: req.vip.description, method: req.method, requestedInterface: req.interface, interface: nil,
                               ports: req.ports.map(\.description), protocols: req.protocols.map(\.description),
                               realIP: nil, addedAddress: nil, arpRules: [], firewall: firewall.kind == .nftables ? .nftables : nil)
            switch req.method {
            case .sysctl:
                if let h = onReal.first {
                    throw DRError("VIP \(req.vip) is on \(h.interfaceName), where this host answers ARP for it; remove it there first (or use --method arptables)")
                }
                if req.vip.family == .inet {
                    rec.interface = faceName == lo.name ? nil : faceName
                    for i in ["all"] + (rec.interface.map { [$0] } ?? []) {
                        for (name, v) in [("arp_ignore", 1), ("arp_announce", 2)] {
                            let k = "\(i)/\(name)"
                            if sysctlWanted[k] == nil { sysctlOrder.append((i, name)) }
                            sysctlWanted[k] = max(sysctlWanted[k] ?? 0, v)
                        }
                    }
                }
                if holders.isEmpty {
                    let prefix = req.vip.family == .inet ? 32 : 128
                    rec.addedAddress = DRAddress(device: lo.name, prefixLength: prefix)
                    addrSteps.append(addressStep(req.vip, prefix, lo))
                }
            case .arptables:
                guard let f = faceName, let itf = ifaces.first(where: { $0.name == f }) else {
                    throw DRError("no interface has a subnet holding \(req.vip); name one with --interface", usage: true)
                }
                guard let rip = addrs.first(where: { $0.interfaceIndex == itf.index && $0.address.family == .inet && $0.address != req.vip }) else {
                    throw DRError("interface \(f) has no IPv4 address of its own to put in ARP replies", usage: true)
                }
                rec.interface = f
                rec.realIP = rip.address.description
                if firewall.kind == .nftables {
                    arpAdds.append(ARPRewrite(vip: req.vip, realIP: rip.address, owner: Self.ruleOwner))
                } else {
                    if arpListed == nil { arpListed = try ARPTables.rules() }
                    for r in Self.arptablesRules(vip: req.vip.description, realIP: rip.address.description) where !ARPTables.contains(arpListed!, r) {
                        rec.arpRules.append(r)
                        arpSteps.append(Step(describe: "arptables -A \(r.joined(separator: " "))",
                                             run: { try ARPTables.run("-A", r) }, undo: { try? ARPTables.run("-D", r) }))
                    }
                }
                if !holders.contains(where: { $0.interfaceIndex == itf.index }) {
                    rec.addedAddress = DRAddress(device: f, prefixLength: 32)
                    addrSteps.append(addressStep(req.vip, 32, itf))
                }
            case .redirect:
                if let h = onReal.first {
                    throw DRError("VIP \(req.vip) is on \(h.interfaceName), where this host answers ARP for it; the redirect method needs no VIP: remove it first")
                }
                for p in req.protocols {
                    natAdds[req.vip.family, default: []] += FirewallRule.split(owner: Self.ruleOwner, destination: req.vip, proto: p,
                                                                               ports: req.ports, action: .redirect)
                }
            }
            plan.newRecords.append(rec)
        }

        // Sysctls go first (before any VIP comes up), then rules, then addresses.
        var sysSteps: [Step] = []
        for (i, name) in sysctlOrder {
            let want = sysctlWanted["\(i)/\(name)"]!
            let cur = try Sysctl.read(i, name)
            if cur < want {
                if !state.sysctls.contains(where: { $0.interface == i && $0.name == name }) {
                    plan.newSysctls.append(DRSysctl(interface: i, name: name, original: cur))
                }
                sysSteps.append(Step(describe: "sysctl -w net.ipv4.conf.\(i).\(name)=\(want)",
                                     run: { try Sysctl.write(i, name, want) }, undo: { try? Sysctl.write(i, name, cur) }))
            }
        }
        if !arpAdds.isEmpty {  // nftables: one transaction for the arp table
            let fw = firewall
            let old = try fw.arpRewrites() ?? []
            let new = old.filter { o in !arpAdds.contains { $0.vip == o.vip } } + arpAdds
            arpSteps.append(Step(describe: arpAdds.map { "nft add element arp \(NFTablesBackend.drTable) rewrite { \($0.vip) comment \"dr\" : \($0.realIP) }" }.joined(separator: "; "),
                                 run: { try fw.replaceARPRewrites(new) }, undo: { try? fw.replaceARPRewrites(old) }))
        }
        var natSteps: [Step] = []
        for f in [AddressFamily.inet, .inet6] {
            guard let adds = natAdds[f] else { continue }
            let fw = firewall
            let old = try fw.rules(table: .nat, family: f)
            let new = old + adds.filter { !old.contains($0) }
            if new != old {
                natSteps.append(Step(describe: adds.map { Self.ruleText($0, fw.kind) }.joined(separator: "; "),
                                     run: { try fw.replaceRules(new, table: .nat, family: f) },
                                     undo: { try? fw.replaceRules(old, table: .nat, family: f) }))
            }
        }
        plan.steps = sysSteps + arpSteps + natSteps + addrSteps
        return plan
    }

    /// The arptables binary's rules for one VIP, each as `[CHAIN, args...]`.
    public static func arptablesRules(vip: String, realIP: String) -> [[String]] {
        [["INPUT", "-d", vip, "-j", "DROP"], ["OUTPUT", "-s", vip, "-j", "mangle", "--mangle-ip-s", realIP]]
    }

    /// A redirect rule as text: `iptables -t nat -A LVSCTL ...` or `nft add element ip lvsctl_dr redirects { ... }`.
    static func ruleText(_ r: FirewallRule, _ kind: FirewallKind) -> String {
        kind == .nftables ? NFTablesBackend.elementCommand(r)
            : (r.family == .inet ? "iptables " : "ip6tables ") + r.iptablesArguments.joined(separator: " ")
    }

    /// The backend holding `rec`'s rules: the one it was set up with.
    func backend(for rec: DRRecord) -> FirewallBackend {
        let want: FirewallKind = rec.firewall ?? .iptablesLegacy
        if firewall.kind == want { return firewall }
        return want.backend()
    }

    private func addressStep(_ vip: IPAddress, _ prefix: Int, _ itf: NetworkInterface) -> Step {
        let r = route
        return Step(describe: "ip addr add \(vip)/\(prefix) dev \(itf.name)",
                    run: { try r.addAddress(vip, prefixLength: prefix, interface: itf.index) },
                    undo: { try? r.deleteAddress(vip, prefixLength: prefix, interface: itf.index) })
    }

    /// Runs a plan: every step, then the state file. On any failure, undoes what ran and rethrows.
    /// Returns the undo of the whole plan (used by `restore` when a later part of a file fails).
    @discardableResult
    public func execute(_ plan: Plan) throws -> () -> Void {
        if plan.isEmpty { return {} }
        var done: [Step] = []
        let before = try loadState()
        do {
            for s in plan.steps { try s.run(); done.append(s) }
            var st = before
            st.records += plan.newRecords
            st.sysctls += plan.newSysctls
            try saveState(st)
        } catch {
            for s in done.reversed() { s.undo() }
            throw error
        }
        return {
            for s in done.reversed() { s.undo() }
            try? self.saveState(before)
        }
    }

    // MARK: teardown

    /// Removes what setup added for `vips` (all recorded VIPs when nil), newest first, and puts back sysctls no
    /// remaining VIP needs. Returns the changes made.
    public func teardown(vips: [IPAddress]?) throws -> [String] {
        var state = try loadState()
        if let v = vips {
            for a in v where !state.records.contains(where: { $0.vip == a.description }) {
                throw DRError("VIP \(a) is not set up by lvsctl dr in this namespace")
            }
        }
        let chosen = state.records.filter { r in vips.map { $0.contains { $0.description == r.vip } } ?? true }
        var changes: [String] = []
        var failures: [String] = []
        let ifaces = try route.interfaces()
        let addrs = try route.addresses(interfaces: ifaces)
        var arpListed: [[String]]?
        for rec in chosen.reversed() {
            var ok = true
            if let a = rec.addedAddress, let vip = IPAddress(rec.vip) {
                if let itf = ifaces.first(where: { $0.name == a.device }),
                   addrs.contains(where: { $0.address == vip && $0.interfaceIndex == itf.index }) {
                    do { try route.deleteAddress(vip, prefixLength: a.prefixLength, interface: itf.index); changes.append("ip addr del \(vip)/\(a.prefixLength) dev \(a.device)") }
                    catch { ok = false; failures.append("\(error)") }
                }
            }
            if !rec.arpRules.isEmpty {
                if arpListed == nil { arpListed = try ARPTables.rules() }
                for r in rec.arpRules.reversed() where ARPTables.contains(arpListed!, r) {
                    do { try ARPTables.run("-D", r); changes.append("arptables -D \(r.joined(separator: " "))") }
                    catch { ok = false; failures.append("\(error)") }
                }
            }
            if rec.method == .arptables, rec.firewall == .nftables, let vip = IPAddress(rec.vip) {
                do {
                    let fw = backend(for: rec)
                    let old = try fw.arpRewrites() ?? []
                    let keep = old.filter { $0.vip != vip }
                    if keep != old {
                        try fw.replaceARPRewrites(keep)
                        changes.append("removed the nftables ARP rules for \(vip) (table arp \(NFTablesBackend.drTable))")
                    }
                } catch { ok = false; failures.append("\(error)") }
            }
            if rec.method == .redirect, let vip = IPAddress(rec.vip) {
                do {
                    let fw = backend(for: rec)
                    let old = try fw.rules(table: .nat, family: vip.family)
                    let keep = old.filter { !($0.owner == Self.ruleOwner && $0.destination == vip) }
                    if keep != old {
                        try fw.replaceRules(keep, table: .nat, family: vip.family)
                        changes.append("removed \(old.count - keep.count) \(fw.kind == .nftables ? "nftables redirect element group" : "nat REDIRECT rule")(s) for \(vip)")
                    }
                } catch { ok = false; failures.append("\(error)") }
            }
            if ok { state.records.removeAll { $0.vip == rec.vip } }
        }
        // Sysctls: put back those no remaining sysctl-method VIP needs.
        let needed = Set(state.records.filter { $0.method == .sysctl && IPAddress($0.vip)?.family == .inet }
            .flatMap { ["all"] + ($0.interface.map { [$0] } ?? []) })
        var keptSysctls: [DRSysctl] = []
        for s in state.sysctls.reversed() {
            if needed.contains(s.interface) { keptSysctls.insert(s, at: 0); continue }
            if s.interface != "all" && !ifaces.contains(where: { $0.name == s.interface }) { continue }  // interface gone
            do { try Sysctl.write(s.interface, s.name, s.original); changes.append("sysctl -w \(s.key)=\(s.original)") }
            catch { keptSysctls.insert(s, at: 0); failures.append("\(error)") }
        }
        state.sysctls = keptSysctls
        try saveState(state)
        if !failures.isEmpty { throw DRError("teardown incomplete: " + failures.joined(separator: "; ")) }
        return changes
    }

    // MARK: status

    /// The live state of every recorded VIP.
    public func status() throws -> [DRStatus] {
        let state = try loadState()
        let ifaces = try route.interfaces()
        let addrs = try route.addresses(interfaces: ifaces)
        let loIndex = ifaces.first(where: { $0.isLoopback })?.index
        var arpListed: [[String]]?
        var nat: [AddressFamily: [FirewallRule]] = [:]
        var out: [DRStatus] = []
        for rec in state.records {
            guard let vip = IPAddress(rec.vip) else { continue }
            let holders = addrs.filter { $0.address == vip }
            var st = DRStatus(vip: rec.vip, method: rec.method.rawValue, interface: rec.interface,
                              bound_on: holders.map(\.interfaceName), sysctls: [:], rules: [], problems: [], notes: [])
            if vip.family == .inet {
                for i in ["all"] + (rec.interface.map { [$0] } ?? []) where i == "all" || ifaces.contains(where: { $0.name == i }) {
                    for n in ["arp_ignore", "arp_announce"] {
                        if let v = try? Sysctl.read(i, n) { st.sysctls["net.ipv4.conf.\(i).\(n)"] = v }
                    }
                }
            }
            func effective(_ n: String) -> Int {
                max(st.sysctls["net.ipv4.conf.all.\(n)"] ?? 0, rec.interface.flatMap { st.sysctls["net.ipv4.conf.\($0).\(n)"] } ?? 0)
            }
            switch rec.method {
            case .sysctl:
                if !holders.contains(where: { $0.interfaceIndex == loIndex }) { st.problems.append("VIP is not bound on lo: this host drops packets for it") }
                for h in holders where h.interfaceIndex != loIndex {
                    st.problems.append("VIP is also on \(h.interfaceName), where this host answers ARP for it")
                }
                if vip.family == .inet {
                    if effective("arp_ignore") < 1 { st.problems.append("arp_ignore is below 1: this host answers ARP for the VIP") }
                    if effective("arp_announce") < 2 { st.problems.append("arp_announce is below 2: this host may announce the VIP as an ARP source") }
                } else {
                    st.notes.append("IPv6: neighbour discovery answers only for addresses on the asking interface, so the VIP on lo is never announced")
                }
            case .arptables where rec.firewall == .nftables:
                let present = ((try? backend(for: rec).arpRewrites()) ?? nil)?.contains { $0.vip == vip && $0.realIP.description == rec.realIP } ?? false
                let text = "nft add element arp \(NFTablesBackend.drTable) rewrite { \(rec.vip) comment \"dr\" : \(rec.realIP ?? "?") }"
                st.rules.append(DRRuleStatus(rule: text, present: present))
                if !present { st.problems.append("nftables ARP rule missing: \(text)") }
                if let i = rec.interface, !holders.contains(where: { $0.interfaceName == i }) {
                    st.problems.append("VIP is not bound on \(i): this host drops packets for it")
                }
            case .arptables:
                if arpListed == nil { arpListed = (try? ARPTables.rules()) ?? [] }
                let wanted = [["INPUT", "-d", rec.vip, "-j", "DROP"]] +
                    (rec.realIP.map { [["OUTPUT", "-s", rec.vip, "-j", "mangle", "--mangle-ip-s", $0]] } ?? [])
                for r in wanted {
                    let present = ARPTables.contains(arpListed!, r)
                    st.rules.append(DRRuleStatus(rule: "arptables -A " + r.joined(separator: " "), present: present))
                    if !present { st.problems.append("arptables rule missing: -A \(r.joined(separator: " "))") }
                }
                if let i = rec.interface, !holders.contains(where: { $0.interfaceName == i }) {
                    st.problems.append("VIP is not bound on \(i): this host drops packets for it")
                }
            case .redirect:
                let fw = backend(for: rec)
                if nat[vip.family] == nil { nat[vip.family] = (try? fw.rules(table: .nat, family: vip.family)) ?? [] }
                let req = rec.request
                for p in req?.protocols ?? [] {
                    for r in FirewallRule.split(owner: Self.ruleOwner, destination: vip, proto: p, ports: req?.ports ?? [], action: .redirect) {
                        let present = nat[vip.family]!.contains(r)
                        let text = Self.ruleText(r, fw.kind)
                        st.rules.append(DRRuleStatus(rule: text, present: present))
                        if !present { st.problems.append("nat rule missing: \(text)") }
                    }
                }
                for h in holders where h.interfaceIndex != loIndex {
                    st.problems.append("VIP is on \(h.interfaceName), where this host answers ARP for it")
                }
                st.notes.append("services must listen on the wildcard address (0.0.0.0 or ::), not on the VIP")
            }
            out.append(st)
        }
        return out
    }
}
