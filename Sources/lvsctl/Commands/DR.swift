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
import LVSKit

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

    struct Setup: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "setup",
            abstract: "Prepare the VIP(s) on this real server (idempotent).",
            discussion: """
            Example: lvsctl dr setup --vip 192.0.2.10 --method sysctl --interface eth0
            Example: lvsctl dr setup --vip 192.0.2.10 --method redirect --ports 80,443
            ipvsadm equivalent: none; by hand: sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2; ip addr add 192.0.2.10/32 dev lo
            """)
        @Option(name: .of(.vip, Options.drSetup), help: .of(.vip, Options.drSetup)) var vips: [String] = []
        @Option(name: .of(.method, Options.drSetup), help: .of(.method, Options.drSetup)) var method: String = "sysctl"
        @Option(name: .of(.interface, Options.drSetup), help: .of(.interface, Options.drSetup)) var interface: String?
        @Option(name: .of(.ports, Options.drSetup), help: .of(.ports, Options.drSetup)) var ports: String?
        @Option(name: .of(.proto, Options.drSetup), help: .of(.proto, Options.drSetup)) var proto: String?
        @Flag(name: .of(.dryRun, Options.drSetup), help: .of(.dryRun, Options.drSetup)) var dryRun = false
        @OptionGroup var global: GlobalOptions

        var spec: DRSetupSpec {
            DRSetupSpec(vips: vips, method: method, interface: interface, ports: ports, proto: proto, dryRun: dryRun)
        }

        func validate() throws { _ = try spec.requests() }

        func run() throws {
            let reqs = try spec.requests()
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

        func validate() throws { _ = try DRSetupSpec.teardownAddresses(vips) }

        func run() throws {
            let v = try DRSetupSpec.teardownAddresses(vips)
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
                throw SystemError("dr status: \(st.filter { !$0.problems.isEmpty }.count) VIP(s) with problems")
            }
        }
    }
}
