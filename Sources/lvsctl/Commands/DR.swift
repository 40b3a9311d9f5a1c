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

/// `lvsctl dr setup|teardown|status`: prepare this host as a direct-routing real server (seed 003).
struct DR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dr",
        abstract: "Prepare this host as a direct-routing real server: accept the VIP, never answer ARP for it.",
        discussion: """
        Methods: sysctl (default: arp_ignore=1, arp_announce=2, VIP on lo), arptables (drop ARP for the VIP, \
        mangle the ARP source, VIP on the interface), redirect (nat REDIRECT of VIP:ports; no VIP at all).
        What setup changes is recorded in /run/lvsctl/dr/, so teardown undoes exactly that.
        Example: lvsctl dr setup --vip 192.0.2.10
        ipvsadm equivalent: none (by hand: sysctl, ip addr, arptables or iptables; see Documentation/direct-routing.md)
        """,
        subcommands: [Setup.self, Teardown.self, Status.self])

    /// Runs `body` with a DirectRouting engine inside `--netns`, under lvsctl's lock; maps dr errors to exit codes.
    static func withEngine<T>(_ global: GlobalOptions, _ body: (DirectRouting) throws -> T) throws -> T {
        try global.enter()
        do {
            let dr = try DirectRouting(firewall: try Firewall.backend())
            return try withLvsctlLock { try body(dr) }
        } catch let e as DRError where e.isUsage {
            throw UsageError(e.description)
        }
    }

    struct Setup: ParsableCommand, DRLine {
        static let configuration = CommandConfiguration(
            commandName: "setup",
            abstract: "Prepare the VIP(s) on this real server (idempotent).",
            discussion: """
            Example: lvsctl dr setup --vip 192.0.2.10 --method sysctl --interface eth0
            Example: lvsctl dr setup --vip 192.0.2.10 --method redirect --ports 80,443
            ipvsadm equivalent: none; by hand: sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2; ip addr add 192.0.2.10/32 dev lo
            """)
        @Option(name: .customLong("vip"), help: "A virtual IP (repeatable).") var vips: [String] = []
        @Option(name: .customLong("method"), help: "sysctl (default), arptables or redirect.") var method: String = "sysctl"
        @Option(name: .customLong("interface"), help: "The interface facing the director (default: the one whose subnet holds the VIP).")
        var interface: String?
        @Option(name: .customLong("ports"), help: "redirect only: ports and ranges, e.g. 80,443.") var ports: String?
        @Option(name: .customLong("proto"), help: "redirect only: tcp (default), udp or both.") var proto: String?
        @Flag(name: .customLong("dry-run"), help: "Print what would change; change nothing.") var dryRun = false
        @OptionGroup var global: GlobalOptions

        func validate() throws { _ = try requests() }

        /// The validated requests (syntax only; the kernel checks come in `DirectRouting.plan`).
        func requests() throws -> [DRRequest] {
            if vips.isEmpty { throw UsageError("give at least one --vip") }
            guard let m = DRMethod(rawValue: method) else {
                throw UsageError("invalid method \(shown(method)) (expected sysctl, arptables or redirect)")
            }
            if let i = interface { try validateInterfaceName(i) }
            var pr: [PortRange] = [], protos: [IPProtocol] = []
            if m == .redirect {
                guard let p = ports else { throw UsageError("--method redirect needs --ports (e.g. --ports 80,443)") }
                pr = try parsePortList(p)
                protos = try parseProtocols(proto ?? "tcp")
            } else {
                if let p = ports { throw UsageError("--ports \(shown(p)) applies to --method redirect only") }
                if let p = proto { throw UsageError("--proto \(shown(p)) applies to --method redirect only") }
            }
            return try vips.map { v in
                guard let a = IPAddress(v) else { throw UsageError("invalid VIP \(shown(v))") }
                try checkUnicast(a, what: "VIP")
                if a.isLoopback { throw UsageError("VIP \(shown(v)) is a loopback address") }
                if m == .arptables && a.family == .inet6 {
                    throw UsageError("VIP \(shown(v)) is IPv6: ARP is IPv4 only (use --method sysctl, which needs no ARP rules for IPv6)")
                }
                return DRRequest(vip: a, method: m, interface: interface, ports: pr, protocols: protos)
            }
        }

        func run() throws {
            let reqs = try requests()
            try DR.withEngine(global) { dr in
                let plan = try dr.plan(reqs)
                if dryRun || plan.changes.isEmpty {
                    emit(plan.changes.isEmpty ? "no changes\n" : plan.changes.joined(separator: "\n") + "\n")
                    if dryRun { return }
                }
                try dr.execute(plan)
            }
        }
    }

    struct Teardown: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "teardown",
            abstract: "Remove exactly what dr setup added, and put the ARP sysctls back as they were.",
            discussion: "Example: lvsctl dr teardown --vip 192.0.2.10\nWithout --vip, every VIP set up in this namespace is torn down.\nipvsadm equivalent: none; by hand: ip addr del 192.0.2.10/32 dev lo and the old arp_ignore/arp_announce values")
        @Option(name: .customLong("vip"), help: "A VIP to tear down (repeatable; default: all).") var vips: [String] = []
        @OptionGroup var global: GlobalOptions

        func validate() throws { _ = try addresses() }
        func addresses() throws -> [IPAddress]? {
            if vips.isEmpty { return nil }
            return try vips.map { v in
                guard let a = IPAddress(v) else { throw UsageError("invalid VIP \(shown(v))") }
                // A VIP that setup refuses can never have been set up: bad input, like in setup.
                try checkUnicast(a, what: "VIP")
                return a
            }
        }

        func run() throws {
            let v = try addresses()
            try DR.withEngine(global) { dr in
                let changes = try dr.teardown(vips: v)
                if changes.isEmpty { notice("nothing to tear down") }
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show each VIP set up here: method, where it is bound, ARP sysctls or rules, and any problem.",
            discussion: "Example: lvsctl dr status --json\nWith --check, exits 1 when a problem is found (for monitoring).\nipvsadm equivalent: none; by hand: sysctl net.ipv4.conf.all.arp_ignore, ip addr show dev lo, arptables -L")
        @OptionGroup var output: OutputOptions
        @Flag(name: .customLong("check"), help: "Exit 1 if any VIP has a problem.") var check = false
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let st = try DR.withEngine(global) { try $0.status() }
            if output.json {
                struct Doc: Encodable { var schema = jsonSchemaVersion; var dr: [DRStatus] }
                try printJSON(Doc(dr: st))
            } else if st.isEmpty {
                emit("no direct-routing setup recorded in this network namespace\n")
            } else {
                var out = ""
                for s in st {
                    out += "VIP \(s.vip): method \(s.method)" + (s.interface.map { ", interface \($0)" } ?? "")
                    out += ", bound on " + (s.bound_on.isEmpty ? "nothing" : s.bound_on.joined(separator: ",")) + "\n"
                    for (k, v) in s.sysctls.sorted(by: { $0.key < $1.key }) { out += "  \(k) = \(v)\n" }
                    for r in s.rules { out += "  \(r.present ? "present" : "MISSING"): \(r.rule)\n" }
                    for p in s.problems { out += "  PROBLEM: \(p)\n" }
                    for n in s.notes { out += "  note: \(n)\n" }
                    if s.problems.isEmpty { out += "  ok\n" }
                }
                emit(out)
            }
            if check, st.contains(where: { !$0.problems.isEmpty }) {
                throw UsageErrorSystem("dr status: \(st.filter { !$0.problems.isEmpty }.count) VIP(s) with problems")
            }
        }
    }
}

/// Interface names: 1..15 bytes, no '/', whitespace or control characters, not '.' or '..'.
func validateInterfaceName(_ n: String) throws {
    let ok = !n.isEmpty && n.utf8.count <= 15 && n != "." && n != ".." &&
        n.utf8.allSatisfy { $0 > 32 && $0 != 127 && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: ":") }
    if !ok { throw UsageError("invalid interface name \(shown(n))") }
}

/// The `dr setup` lines `lvsctl save` writes: one per recorded VIP of this namespace.
enum DRSaved {
    static func savedLines() throws -> [String] {
        let dr = try DirectRouting(firewall: try Firewall.backend())
        return try dr.loadState().records.compactMap { $0.request?.setupLine }
    }
}
