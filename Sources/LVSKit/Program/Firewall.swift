#if canImport(Glibc)
import Glibc
#endif
import LVSCore

/// The firewall backend of this process: `--firewall`, else `$LVSCTL_FIREWALL`, else a file's `firewall` line, else
/// auto (see `FirewallSelection`). Chosen once, on first use, in the namespace entered by then.
public enum Firewall {
    nonisolated(unsafe) static var requested: (kind: FirewallKind, source: String)?
    nonisolated(unsafe) static var fromFile: (kind: FirewallKind, source: String)?
    nonisolated(unsafe) static var chosen: FirewallChoice?

    /// Validates `--firewall` and `$LVSCTL_FIREWALL` (exit 2 on a bad value).
    public static func request(option: String?) throws {
        if let o = option {
            guard let k = FirewallSelection.parse(o) else {
                throw UsageError("invalid firewall backend \(shown(o)) (expected auto, nftables or iptables-legacy)")
            }
            requested = k.map { ($0, "chosen with --firewall") }
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
    public static func useFileLine(_ kind: FirewallKind?, file: String, line: Int?) {
        if let k = kind { fromFile = (k, "chosen by the firewall line of \(file)" + (line.map { ":\($0)" } ?? "")) }
    }

    /// The choice (computed once).
    public static func choice() -> FirewallChoice {
        if let c = chosen { return c }
        let c = FirewallSelection.choose(requested: requested ?? fromFile)
        chosen = c
        return c
    }

    /// The backend to read and write with; refuses (exit 1) when the admin named another backend than the one that
    /// holds lvsctl's rules.
    public static func backend() throws -> FirewallBackend {
        let c = choice()
        if let why = c.conflict { throw FirewallError(operation: "firewall", errno: 0, detail: why) }
        return c.backend()
    }
}

/// lvsctl's own lock. Every command that changes the firewall (bundle add/delete/migrate, dr setup/teardown,
/// restore, apply) holds it across the whole change: reading what exists, choosing a mark, writing the rules and the
/// IPVS half, and any rollback. Without it two commands each read the same chain, and the last commit wins (a lost
/// bundle).
public let lvsctlLockPath = "/run/lvsctl/lock"

/// Runs `body` holding lvsctl's lock (`withFileLock` on ``lvsctlLockPath``), waiting at most `wait` seconds.
/// Not reentrant (flock locks an open file, so a second take in the same process waits for itself until `wait`
/// runs out): `body` must not call anything that takes it again.
public func withLvsctlLock<T>(wait: Double = 30, _ body: () throws -> T) throws -> T {
    try withFileLock(lvsctlLockPath, timeout: wait, purpose: "another lvsctl command is changing IPVS or the firewall", body)
}
