import ArgumentParser
import LVSCore
import LVSKit
#if canImport(Glibc)
import Glibc
#endif

/// The version printed by `--version`.
let lvsctlVersion = "0.1.0"

/// `lvsctl`: the root command.
struct LVSCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lvsctl",
        abstract: "Run a Linux Virtual Server (IPVS) load balancer from one tool.",
        discussion: """
        Virtual and real servers (like ipvsadm), firewall-mark bundles in the mangle table, persistence, \
        save/restore/apply of the whole state, and direct-routing real-server setup.
        Example: lvsctl bundle add web --vip 192.0.2.10 --ports 80,443 -s rr -p 60
        ipvsadm equivalent: ipvsadm (see Documentation/migrating-from-ipvsadm.md)
        Start here: Documentation/quick-start.md
        """,
        version: "lvsctl \(lvsctlVersion)",
        subcommands: [VS.self, RS.self, List.self, Bundle.self, Persistence.self, Save.self, Restore.self,
                      Apply.self, Import.self, Zero.self, Clear.self, Timeout.self, Daemon.self,
                      Connections.self, Info.self, DR.self, Monitor.self, SysctlCommand.self]
    )
}

/// Options every kernel-facing command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .of(.netns, Options.global), help: .of(.netns, Options.global)) var netns: String?
    @Option(name: .of(.firewall, Options.global), help: .of(.firewall, Options.global)) var firewall: String?

    /// Enters the namespace, if one was named, and records the firewall backend asked for. Call before opening any socket.
    func enter() throws {
        try Firewall.request(option: firewall)
        if let n = netns {
            // A name, not a path: reject it as bad input (exit 2) before anything is opened.
            guard !n.isEmpty, !n.contains("/"), n != ".", n != "..", n.utf8.allSatisfy({ $0 >= 32 && $0 != 127 }) else {
                throw UsageError("invalid network namespace name \(shown(n)) (a name under /run/netns)")
            }
            try enterNetworkNamespace(n)
        }
    }

    /// Enters the namespace and opens the IPVS client.
    func client() throws -> IPVSClient {
        try enter()
        return try IPVSClient()
    }
}

/// `--json`.
struct OutputOptions: ParsableArguments {
    @Flag(name: .of(.json, Options.output), help: .of(.json, Options.output)) var json = false
}
