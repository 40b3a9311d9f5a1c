#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A destination port or an inclusive port range (`high == low` for a single port).
public struct PortRange: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The first port.
    public var low: UInt16
    /// The last port (equal to `low` for a single port).
    public var high: UInt16
    /// A range `low...high`; `high` must not be below `low` (checked when a rule is built).
    public init(low: UInt16, high: UInt16) { self.low = low; self.high = high }
    /// A single port.
    public init(_ port: UInt16) { low = port; high = port }
    /// Parses `80` or `8000:8010` (iptables syntax). Nil if malformed or `high < low`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2,
              let lo = parseDecimal(parts[0]), lo <= 65535 else { return nil }
        let hi = parts.count == 2 ? parseDecimal(parts[1]) : lo
        guard let hi, hi <= 65535, hi >= lo else { return nil }
        low = UInt16(lo); high = UInt16(hi)
    }
    /// True for a single port.
    public var isSingle: Bool { low == high }
    /// Port slots this takes in a multiport match: 1 for a port, 2 for a range.
    public var slots: Int { isSingle ? 1 : 2 }
    /// `80` or `8000:8010`.
    public var description: String { isSingle ? "\(low)" : "\(low):\(high)" }
    /// Orders by `low`, then `high`.
    public static func < (a: PortRange, b: PortRange) -> Bool { a.low != b.low ? a.low < b.low : a.high < b.high }
}

/// The table lvsctl's chain lives in: `mangle` for MARK rules, `nat` for REDIRECT rules.
public enum FirewallTable: String, Sendable, CaseIterable {
    /// `mangle` holds the bundles' MARK rules; `nat` the dr redirect rules.
    case mangle, nat
}

/// One rule lvsctl owns, independent of the backend.
///
/// It is written as `-A LVSCTL -d ADDR/32|/128 -p PROTO [PORT MATCH] -m comment --comment "lvsctl: OWNER" -j ...`
/// where the port match is `-m tcp|udp --dport P[:Q]` for exactly one `PortRange`, `-m multiport --dports ...`
/// (revision 1) for 2...15 slots, and nothing for an empty `ports` (all ports of the protocol).
public struct FirewallRule: Hashable, Sendable, CustomStringConvertible {
    /// What a matching packet gets.
    public enum Action: Hashable, Sendable {
        /// `-j MARK --set-xmark m/0xffffffff` (MARK revision 2), in table mangle.
        case mark(UInt32)
        /// `-j REDIRECT` (no options), in table nat.
        case redirect
    }
    /// Who the rule belongs to, e.g. `bundle web` or `dr 192.0.2.10`; stored as the comment `lvsctl: <owner>`.
    public var owner: String
    /// Matched as `-d ADDR/32` or `-d ADDR/128`; its family picks iptables or ip6tables.
    public var destination: IPAddress
    /// `.tcp` or `.udp` only.
    public var proto: IPProtocol
    /// Destination ports; see the type comment. Use `split` for lists beyond 15 slots.
    public var ports: [PortRange]
    /// `-j MARK` (mangle) or `-j REDIRECT` (nat).
    public var action: Action

    /// Creates a rule; `FirewallRule.validate` checks it before it is written.
    public init(owner: String, destination: IPAddress, proto: IPProtocol, ports: [PortRange], action: Action) {
        self.owner = owner; self.destination = destination; self.proto = proto; self.ports = ports; self.action = action
    }

    /// The chain lvsctl owns in each table.
    public static let chain = "LVSCTL"
    /// The comment on the single `-A PREROUTING -j LVSCTL` jump.
    public static let jumpComment = "lvsctl"
    /// The prefix of the comment on every lvsctl rule.
    public static let commentPrefix = "lvsctl: "
    /// At most this many port slots fit one multiport match (a range takes two).
    public static let maxSlots = 15

    /// The comment stored in the kernel.
    public var comment: String { FirewallRule.commentPrefix + owner }
    /// Multiport slots used by `ports`.
    public var slots: Int { ports.reduce(0) { $0 + $1.slots } }
    /// The table the rule's action belongs in.
    public var table: FirewallTable {
        switch action { case .mark: .mangle; case .redirect: .nat }
    }
    /// The address family of the destination.
    public var family: AddressFamily { destination.family }

    /// The rule as a shell command line, e.g. `iptables -t mangle -A LVSCTL ... --comment 'lvsctl: bundle web' ...`
    /// (`ip6tables` for IPv6).
    public var description: String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:,=@%+")
        let words = [family == .inet ? "iptables" : "ip6tables"] + iptablesArguments.map { a in
            !a.isEmpty && a.allSatisfy(safe.contains) ? a : "'" + a.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        }
        return words.joined(separator: " ")
    }

    /// Throws `FirewallError` (operation "rule") when the rule cannot be written as described.
    public func validate() throws {
        func bad(_ why: String) -> FirewallError { FirewallError(operation: "rule \"\(comment)\"", errno: EINVAL, detail: why) }
        guard proto == .tcp || proto == .udp else { throw bad("protocol \(proto) is not supported (tcp or udp only)") }
        let c = Array(comment.utf8)
        guard c.count < 256 else { throw bad("comment is \(c.count) bytes; at most 255 fit") }
        guard !c.contains(0), !c.contains(10), !c.contains(13) else { throw bad("owner contains a NUL or newline") }
        for p in ports where p.high < p.low { throw bad("port range \(p.low):\(p.high) is reversed") }
        guard slots <= FirewallRule.maxSlots else {
            throw bad("\(slots) port slots; at most \(FirewallRule.maxSlots) fit one rule (use FirewallRule.split)")
        }
    }

    /// Splits a port list into rules of at most 15 multiport slots each (a range takes 2).
    /// Ports are sorted, duplicates dropped and overlapping ranges merged first (adjacent ones are kept apart,
    /// so `80,81` stays `80,81`). An empty list yields one rule matching every port of `proto`.
    public static func split(owner: String, destination: IPAddress, proto: IPProtocol, ports: [PortRange],
                             action: Action) -> [FirewallRule] {
        var merged: [PortRange] = []
        for p in ports.map({ PortRange(low: min($0.low, $0.high), high: max($0.low, $0.high)) }).sorted() {
            if let last = merged.last, p.low <= last.high {
                merged[merged.count - 1].high = max(last.high, p.high)
            } else {
                merged.append(p)
            }
        }
        guard !merged.isEmpty else {
            return [FirewallRule(owner: owner, destination: destination, proto: proto, ports: [], action: action)]
        }
        var out: [FirewallRule] = []
        var chunk: [PortRange] = []
        var used = 0
        for p in merged {
            if used + p.slots > maxSlots {
                out.append(FirewallRule(owner: owner, destination: destination, proto: proto, ports: chunk, action: action))
                chunk = []; used = 0
            }
            chunk.append(p); used += p.slots
        }
        out.append(FirewallRule(owner: owner, destination: destination, proto: proto, ports: chunk, action: action))
        return out
    }

    /// The equivalent `iptables-legacy` / `ip6tables-legacy` arguments (without the program name), e.g.
    /// `-t mangle -A LVSCTL -d 192.0.2.1/32 -p tcp -m multiport --dports 80,443 -m comment --comment "lvsctl: bundle web" -j MARK --set-xmark 0x50/0xffffffff`.
    public var iptablesArguments: [String] {
        var a = ["-t", table.rawValue, "-A", FirewallRule.chain,
                 "-d", "\(destination)/\(destination.family == .inet ? 32 : 128)", "-p", proto.description]
        if ports.count == 1 {
            a += ["-m", proto.description, "--dport", ports[0].description]
        } else if ports.count > 1 {
            a += ["-m", "multiport", "--dports", ports.map(\.description).joined(separator: ",")]
        }
        a += ["-m", "comment", "--comment", comment]
        switch action {
        case .mark(let m): a += ["-j", "MARK", "--set-xmark", "0x" + String(m, radix: 16) + "/0xffffffff"]
        case .redirect: a += ["-j", "REDIRECT"]
        }
        return a
    }

    /// The iptables-legacy commands that create lvsctl's chain and its PREROUTING jump in `table`
    /// (what `IPTablesBackend.replaceRules` does when they are missing).
    public static func chainSetupArguments(table: FirewallTable) -> [[String]] {
        [["-t", table.rawValue, "-N", chain],
         ["-t", table.rawValue, "-A", "PREROUTING", "-m", "comment", "--comment", jumpComment, "-j", chain]]
    }

    /// Checks a whole rule set for `replaceRules`: each rule valid, of `family`, with an action that belongs in `table`.
    public static func validate(_ rules: [FirewallRule], table: FirewallTable, family: AddressFamily) throws {
        for r in rules {
            try r.validate()
            guard r.family == family else {
                throw FirewallError(operation: "rule \"\(r.comment)\"", errno: EINVAL,
                                    detail: "destination \(r.destination) is not \(family) (\(family == .inet ? "iptables" : "ip6tables"))")
            }
            guard r.table == table else {
                throw FirewallError(operation: "rule \"\(r.comment)\"", errno: EINVAL,
                                    detail: "\(r.action == .redirect ? "REDIRECT" : "MARK") rules belong in table \(r.table.rawValue), not \(table.rawValue)")
            }
        }
    }
}

/// A failed firewall operation. `description` reads like `mangle table commit: <reason>`.
public struct FirewallError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What was being done, e.g. `mangle table`, `ipv6 nat table commit`, `rule "lvsctl: web"`.
    public var operation: String
    /// The errno behind it, 0 if none.
    public var errno: Int32
    /// Human-readable reason.
    public var detail: String
    /// Creates an error.
    public init(operation: String, errno: Int32, detail: String) {
        self.operation = operation; self.errno = errno; self.detail = detail
    }
    /// `operation: detail`.
    public var description: String { "\(operation): \(detail)" }
}

/// The firewall backends lvsctl can write its rules with.
public enum FirewallKind: String, Sendable, CaseIterable, Codable {
    /// nftables through libnftables: tables `lvsctl` and `lvsctl_dr` of lvsctl's own.
    case nftables
    /// Legacy x_tables through libiptc: chain `LVSCTL` in the mangle and nat tables.
    case iptablesLegacy = "iptables-legacy"
}

/// The dr arptables method's pair of ARP rules for one VIP: ARP for `vip` arriving is dropped, and ARP leaving with
/// `vip` as sender address gets `realIP` instead.
public struct ARPRewrite: Hashable, Sendable {
    /// The VIP (IPv4).
    public var vip: IPAddress
    /// The real server's own address on the interface facing the director.
    public var realIP: IPAddress
    /// Who it belongs to (`dr`).
    public var owner: String
    /// Creates a pair.
    public init(vip: IPAddress, realIP: IPAddress, owner: String) { self.vip = vip; self.realIP = realIP; self.owner = owner }
}

/// Where lvsctl's rules live. iptables-legacy: chain `LVSCTL` reached by one jump from PREROUTING (the jump carries
/// the comment `lvsctl`), in table mangle (marks) or nat (redirects), for IPv4 and IPv6. nftables: tables of lvsctl's
/// own (see `NFTablesBackend`).
public protocol FirewallBackend {
    /// Which backend this is.
    var kind: FirewallKind { get }
    /// Reads lvsctl's own rules (only those in its chain that carry an `lvsctl: ` comment), in chain order.
    func rules(table: FirewallTable, family: AddressFamily) throws -> [FirewallRule]
    /// Replaces lvsctl's chain content with `rules` in one commit; an empty list removes the jump and the chain.
    func replaceRules(_ rules: [FirewallRule], table: FirewallTable, family: AddressFamily) throws
    /// True when any table or chain of lvsctl's exists in this backend (in the current network namespace).
    func hasRules() throws -> Bool
    /// The dr arptables method's rules, or nil when this backend leaves ARP to the system's arptables binary.
    func arpRewrites() throws -> [ARPRewrite]?
    /// Replaces them in one transaction (only called when `arpRewrites()` is not nil).
    func replaceARPRewrites(_ rewrites: [ARPRewrite]) throws
}

public extension FirewallBackend {
    /// The human name: `nftables` or `iptables-legacy`.
    var name: String { kind.rawValue }
}

/// True when `/usr/sbin/iptables` is the nf_tables variant (it resolves to `xtables-nft-multi`, or
/// `iptables -V` mentions `nf_tables`): rules lvsctl writes with libiptc are then not shown by plain `iptables`.
public func systemIPTablesIsNFT() -> Bool {
    let path = "/usr/sbin/iptables"
    guard let resolved = realpath(path, nil) else { return false }
    let target = String(cString: resolved)
    free(resolved)
    if target.hasSuffix("xtables-nft-multi") { return true }
    if target.hasSuffix("xtables-legacy-multi") { return false }
    guard let r = captureProgram(path, ["iptables", "-V"]) else { return false }
    return r.output.contains("nf_tables")
}
