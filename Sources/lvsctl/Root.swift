import ArgumentParser
import LVSCore
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
                      Connections.self, Info.self, DR.self]
    )
}

/// Options every kernel-facing command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("netns"), help: "Act inside the named network namespace (/run/netns/NAME).")
    var netns: String?
    @Option(name: .customLong("firewall"), help: "Firewall backend: auto (default; also $LVSCTL_FIREWALL), nftables or iptables-legacy.")
    var firewall: String?

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
    @Flag(name: .long, help: "Print JSON (schema: Documentation/json-output.md).")
    var json = false
}

/// The firewall backend of this process: `--firewall`, else `$LVSCTL_FIREWALL`, else a file's `firewall` line, else
/// auto (see `FirewallSelection`). Chosen once, on first use, in the namespace entered by then.
enum Firewall {
    nonisolated(unsafe) static var requested: (kind: FirewallKind, source: String)?
    nonisolated(unsafe) static var fromFile: (kind: FirewallKind, source: String)?
    nonisolated(unsafe) static var chosen: FirewallChoice?

    /// Validates `--firewall` and `$LVSCTL_FIREWALL` (exit 2 on a bad value).
    static func request(option: String?) throws {
        if let o = option {
            guard let k = FirewallSelection.parse(o) else {
                throw UsageError("invalid firewall backend \(shown(o)) (expected auto, nftables or iptables-legacy)")
            }
            requested = k.map { ($0, "chosen with --firewall") }
            if k == nil { requested = nil }
            return
        }
        if let e = getenv("LVSCTL_FIREWALL"), e.pointee != 0 {
            let v = String(cString: e)
            guard let k = FirewallSelection.parse(v) else {
                throw UsageError("invalid LVSCTL_FIREWALL \(shown(v)) (expected auto, nftables or iptables-legacy)")
            }
            requested = k.map { ($0, "chosen with LVSCTL_FIREWALL") }
        }
    }

    /// A file's `firewall` line (used unless `--firewall` or `$LVSCTL_FIREWALL` named one).
    static func useFileLine(_ kind: FirewallKind?, file: String, line: Int?) {
        if let k = kind { fromFile = (k, "chosen by the firewall line of \(file)" + (line.map { ":\($0)" } ?? "")) }
    }

    /// The choice (computed once).
    static func choice() -> FirewallChoice {
        if let c = chosen { return c }
        let c = FirewallSelection.choose(requested: requested ?? fromFile)
        chosen = c
        return c
    }

    /// The backend to read and write with; refuses (exit 1) when the admin named another backend than the one that
    /// holds lvsctl's rules.
    static func backend() throws -> FirewallBackend {
        let c = choice()
        if let why = c.conflict { throw FirewallError(operation: "firewall", errno: 0, detail: why) }
        return c.backend()
    }
}
