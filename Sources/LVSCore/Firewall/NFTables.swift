// The nftables backend: lvsctl's rules in tables of its own, written through libnftables (the library behind `nft`),
// one command buffer = one kernel transaction. Nothing else imports CNFTables.
//
//   table ip lvsctl          map marks    (daddr . l4proto . dport : mark, intervals), one rule at hook prerouting
//                                         priority mangle: `meta mark set ip daddr . meta l4proto . th dport map @marks`
//   table ip lvsctl_dr       set redirects (daddr . l4proto . dport), nat prerouting `... @redirects redirect`
//   table arp lvsctl_dr      set vips + map rewrite (vip : real address), input drop / output sender rewrite
// (and `ip6` tables of the same names). Every element carries its owner as a comment (`bundle web`, `dr`), so
// `nft list table ip lvsctl` reads as the list of bundles. One map lookup per packet, whatever the number of bundles
// (an interval map is a pipapo set, whose lookup itself grows a little: +7 % per packet at 1,000 bundles in `make
// bench`, against 4x for the legacy chain).
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import CNFTables

/// The output of one libnftables run.
struct NFTResult {
    var ok: Bool
    var output: String
    /// The error buffer's first `Error:` line without the prefix (empty when none).
    var error: String
    /// True when the error says the object does not exist.
    var notFound: Bool { error.contains("No such file or directory") }
    /// True when the kernel cannot do it at all (family or expression not built in this kernel).
    var unsupported: Bool {
        error.contains("Operation not supported") || error.contains("Protocol not supported")
            || error.contains("Address family not supported")
    }
    /// True when a concurrent change made the kernel refuse the batch; running it again is safe.
    var transient: Bool {
        error.contains("Device or resource busy") || error.contains("Interrupted system call")
            || error.contains("Resource temporarily unavailable") || error.contains("Try again")
    }
}

/// Runs nft command text through libnftables, with a fresh context each time (so no cache outlives a change).
enum NFT {
    /// Whether this kernel offers nf_tables' netlink family (libnftables exits the process when it cannot open
    /// its socket, so this is asked first).
    static let netlinkUsable: Bool = {
        guard case .success(let fd) = Syscall.socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                                                      12 /* NETLINK_NETFILTER */) else { return false }
        Syscall.close(fd)
        return true
    }()

    /// Whether this thread has CAP_NET_ADMIN (bit 12 of `CapEff` in /proc/thread-self/status). Without it libnftables
    /// prints "Operation not permitted (you must be root)" straight to standard error, so it is not called at all.
    /// Read once: a process's capabilities do not change while lvsctl runs (entering a namespace keeps them).
    static let hasNetAdmin: Bool = {
        guard let bytes = readFile("/proc/thread-self/status") else { return true }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst(7).filter { !$0.isWhitespace }
            if let v = UInt64(hex, radix: 16) { return v & (1 << 12) != 0 }
        }
        return true
    }()

    /// Runs `commands` (one transaction); `json` asks for JSON output.
    static func run(_ commands: String, json: Bool = false) -> NFTResult {
        guard netlinkUsable else {
            return NFTResult(ok: false, output: "", error: "Protocol not supported (no nf_tables netlink in this kernel)")
        }
        guard hasNetAdmin else { return NFTResult(ok: false, output: "", error: "Operation not permitted") }
        guard let ctx = nft_ctx_new(UInt32(NFT_CTX_DEFAULT)) else {
            return NFTResult(ok: false, output: "", error: "cannot create a libnftables context")
        }
        defer { nft_ctx_free(ctx) }
        _ = nft_ctx_buffer_output(ctx)
        _ = nft_ctx_buffer_error(ctx)
        if json { nft_ctx_output_set_flags(ctx, UInt32(NFT_CTX_OUTPUT_JSON)) }
        let rc = nft_run_cmd_from_buffer(ctx, commands)
        let out = nft_ctx_get_output_buffer(ctx).map { String(cString: $0) } ?? ""
        let err = nft_ctx_get_error_buffer(ctx).map { String(cString: $0) } ?? ""
        let first = err.split(separator: "\n").first { $0.hasPrefix("Error:") } ?? err.split(separator: "\n").first ?? ""
        var msg = String(first)
        if msg.hasPrefix("Error: ") { msg.removeFirst(7) }
        if msg.hasPrefix("Could not process rule: ") { msg.removeFirst(24) }
        return NFTResult(ok: rc == 0, output: out, error: rc == 0 ? "" : (msg.isEmpty ? "libnftables failed" : msg))
    }
}

/// A JSON value, as `nft -j` prints it.
indirect enum NFTJSON: Decodable, Equatable {
    case string(String), number(Double), bool(Bool), array([NFTJSON]), object([String: NFTJSON]), null

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let a = try? c.decode([NFTJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: NFTJSON].self)) }
    }
    subscript(_ k: String) -> NFTJSON? { if case .object(let o) = self { return o[k] }; return nil }
    var array: [NFTJSON]? { if case .array(let a) = self { return a }; return nil }
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var number: Double? { if case .number(let n) = self { return n }; return nil }
}

/// One element of an nft set or map as lvsctl reads it: the key's parts, the value (maps), the comment.
struct NFTElement: Equatable {
    var key: [NFTJSON]
    var value: NFTJSON?
    var comment: String?

    /// The elements of the first set or map in `nft -j list set|map ...` output.
    static func parse(_ json: String) throws -> [NFTElement] {
        let doc = try JSONDecoder().decode(NFTJSON.self, from: Data(json.utf8))
        for item in doc["nftables"]?.array ?? [] {
            guard let s = item["set"] ?? item["map"] else { continue }
            return (s["elem"]?.array ?? []).map { e in
                var k = e, v: NFTJSON?
                if case .array(let pair) = e, pair.count == 2 { k = pair[0]; v = pair[1] }  // map: [key, value]
                var comment: String?
                if let inner = k["elem"] { comment = inner["comment"]?.string; k = inner["val"] ?? .null }
                let parts = k["concat"]?.array ?? [k]
                return NFTElement(key: parts, value: v, comment: comment)
            }
        }
        return []
    }
}

/// lvsctl's rules in nftables tables of its own, through libnftables. Every change is one transaction that
/// replaces the whole table (so it applies whole or not at all, and a concurrent `nft` writer's tables are never
/// read or touched); a batch refused because another writer committed in between is run again.
public final class NFTablesBackend: FirewallBackend {
    /// The table of the bundles' marks (`ip` and `ip6`).
    public static let markTable = "lvsctl"
    /// The table of the dr redirect (`ip`, `ip6`) and arptables (`arp`) methods.
    public static let drTable = "lvsctl_dr"
    /// The comment on each of lvsctl's nft rules.
    public static let ruleComment = "lvsctl"
    /// Attempts of a transaction refused as busy.
    public let maxAttempts = 20

    /// A backend for the current network namespace.
    public init() {}

    public var kind: FirewallKind { .nftables }

    static func family(_ f: AddressFamily) -> String { f == .inet ? "ip" : "ip6" }
    static func table(_ t: FirewallTable) -> String { t == .mangle ? markTable : drTable }
    static func label(_ t: FirewallTable, _ f: AddressFamily) -> String { "nftables table \(family(f)) \(table(t))" }

    /// Whether libnftables can work here (the nf_tables netlink family exists).
    public static var usable: Bool { NFT.netlinkUsable }

    /// Runs a read; nil when the object does not exist or cannot exist in this kernel.
    func read(_ cmd: String, what: String) throws -> String? {
        let r = NFT.run(cmd, json: true)
        if r.ok { return r.output }
        if r.notFound || r.unsupported { return nil }
        throw FirewallError(operation: what, errno: 0, detail: Self.explain(r.error))
    }

    /// Runs a write transaction, again while it is refused as busy.
    func write(_ text: String, what: String) throws {
        var attempt = 0
        while true {
            attempt += 1
            let r = NFT.run(text)
            if r.ok { return }
            if r.transient && attempt < maxAttempts { Syscall.sleep(microseconds: 2_000 * attempt); continue }
            throw FirewallError(operation: what, errno: 0, detail: Self.explain(r.error))
        }
    }

    static func explain(_ e: String) -> String {
        if e.contains("Operation not permitted") { return "needs CAP_NET_ADMIN (run as root)" }
        if e.contains("Protocol not supported") || e.contains("Operation not supported") || e.contains("Address family not supported") {
            return "\(e) (this kernel lacks nf_tables or one of its families; the iptables-legacy backend may work: --firewall iptables-legacy)"
        }
        return e
    }

    // MARK: marks and redirects

    public func rules(table: FirewallTable, family f: AddressFamily) throws -> [FirewallRule] {
        let setName = table == .mangle ? "marks" : "redirects"
        let cmd = "list \(table == .mangle ? "map" : "set") \(Self.family(f)) \(Self.table(table)) \(setName)"
        guard let json = try read(cmd, what: Self.label(table, f)) else { return [] }
        let elements: [NFTElement]
        do { elements = try NFTElement.parse(json) } catch {
            throw FirewallError(operation: Self.label(table, f), errno: 0, detail: "cannot read libnftables' JSON: \(error)")
        }
        return try Self.rules(from: elements, table: table, family: f)
    }

    /// Groups elements back into rules (per owner, address, protocol and action; split at 15 port slots like the
    /// legacy chain), ordered by mark, address and protocol, whatever order the kernel lists them in.
    static func rules(from elements: [NFTElement], table: FirewallTable, family f: AddressFamily) throws -> [FirewallRule] {
        struct Group: Hashable { var owner: String; var addr: IPAddress; var proto: IPProtocol; var mark: UInt32 }
        var groups: [Group: [PortRange]] = [:]
        func bad(_ why: String) -> FirewallError { FirewallError(operation: label(table, f), errno: EINVAL, detail: why) }
        for e in elements {
            guard e.key.count == 3, let a = e.key[0].string.flatMap(IPAddress.init), a.family == f else {
                throw bad("unexpected element \(e.key) (not written by lvsctl?)")
            }
            let proto: IPProtocol
            switch e.key[1] {
            case .string("tcp"), .number(6): proto = .tcp
            case .string("udp"), .number(17): proto = .udp
            default: throw bad("unexpected protocol \(e.key[1]) in element for \(a)")
            }
            let ports: PortRange
            if let n = e.key[2].number {
                ports = PortRange(UInt16(n))
            } else if let r = e.key[2]["range"]?.array, r.count == 2, let lo = r[0].number, let hi = r[1].number {
                ports = PortRange(low: UInt16(lo), high: UInt16(hi))
            } else { throw bad("unexpected port \(e.key[2]) in element for \(a)") }
            var mark: UInt32 = 0
            if table == .mangle {
                guard let m = e.value?.number, m >= 0, m <= Double(UInt32.max) else { throw bad("element for \(a) has no mark") }
                mark = UInt32(m)
            }
            groups[Group(owner: e.comment ?? "", addr: a, proto: proto, mark: mark), default: []].append(ports)
        }
        let order = groups.keys.sorted { x, y in
            if x.mark != y.mark { return x.mark < y.mark }
            if x.addr != y.addr { return x.addr < y.addr }
            if x.proto != y.proto { return x.proto.rawValue < y.proto.rawValue }
            return x.owner < y.owner
        }
        return order.flatMap { g -> [FirewallRule] in
            let ports = groups[g]!
            let all = ports.count == 1 && ports[0].low == 0 && ports[0].high == 65535
            return FirewallRule.split(owner: g.owner, destination: g.addr, proto: g.proto, ports: all ? [] : ports,
                                      action: table == .mangle ? .mark(g.mark) : .redirect)
        }
    }

    public func replaceRules(_ rules: [FirewallRule], table: FirewallTable, family f: AddressFamily) throws {
        try FirewallRule.validate(rules, table: table, family: f)
        let text = try Self.replaceText(rules, table: table, family: f)
        try write(text, what: Self.label(table, f))
    }

    /// The key of one element: `ADDR . PROTO . PORT[-PORT]` (all ports: `0-65535`).
    static func elementKeys(_ r: FirewallRule) -> [(key: String, low: UInt16, high: UInt16)] {
        let ranges = r.ports.isEmpty ? [PortRange(low: 0, high: 65535)] : r.ports
        return ranges.map { p in ("\(r.destination) . \(r.proto) . \(p.isSingle ? "\(p.low)" : "\(p.low)-\(p.high)")", p.low, p.high) }
    }

    /// The rule as the nft command that adds its elements, e.g.
    /// `nft add element ip lvsctl marks { 192.0.2.10 . tcp . 80 comment "bundle web" : 0x50 }` (for display).
    public static func elementCommand(_ r: FirewallRule) -> String {
        let set = r.table == .mangle ? "\(markTable) marks" : "\(drTable) redirects"
        let items = elementKeys(r).map { k -> String in
            var e = k.key + " comment \"" + r.owner + "\""
            if case .mark(let m) = r.action { e += " : 0x" + String(m, radix: 16) }
            return e
        }
        return "nft add element \(family(r.family)) \(set) { " + items.joined(separator: ", ") + " }"
    }

    /// A comment in nft syntax (owners never hold a quote: bundle names and `dr` are checked words).
    static func quoted(_ s: String) throws -> String {
        guard !s.contains("\""), !s.contains("\\"), s.utf8.count < 128 else {
            throw FirewallError(operation: "nftables element", errno: EINVAL, detail: "comment \(s) cannot be written")
        }
        return "\"" + s + "\""
    }

    /// The whole transaction that makes `table` hold exactly `rules`: create-if-missing, delete, recreate (an empty
    /// `rules` deletes the table). Overlapping port ranges of one address and protocol are refused first, naming both
    /// owners (the kernel would refuse the batch with a bare "File exists").
    static func replaceText(_ rules: [FirewallRule], table: FirewallTable, family f: AddressFamily) throws -> String {
        let fam = family(f), name = Self.table(table)
        var text = "table \(fam) \(name) {}\ndelete table \(fam) \(name)\n"
        if rules.isEmpty { return text }
        // Overlaps: sort per (address, protocol) by low port.
        var spans: [(addr: IPAddress, proto: IPProtocol, low: UInt16, high: UInt16, owner: String)] = []
        var elements: [String] = []
        // Canonical order (mark, address, protocol, owner; ports ascending), the order `rules(from:)` reads back in:
        // the kernel lists elements in the order they were added, so a restore lists exactly like the original.
        func mark(_ r: FirewallRule) -> UInt32 { if case .mark(let m) = r.action { return m }; return 0 }
        let sorted = rules.sorted { x, y in
            if mark(x) != mark(y) { return mark(x) < mark(y) }
            if x.destination != y.destination { return x.destination < y.destination }
            if x.proto != y.proto { return x.proto.rawValue < y.proto.rawValue }
            if x.owner != y.owner { return x.owner < y.owner }
            return (x.ports.first ?? PortRange(0)) < (y.ports.first ?? PortRange(0))
        }
        for r in sorted {
            for k in elementKeys(r) {
                spans.append((r.destination, r.proto, k.low, k.high, r.owner))
                var e = k.key + " comment " + (try quoted(r.owner))
                if case .mark(let m) = r.action { e += " : 0x" + String(m, radix: 16) }
                elements.append(e)
            }
        }
        spans.sort { ($0.addr, $0.proto.rawValue, $0.low) < ($1.addr, $1.proto.rawValue, $1.low) }
        for (a, b) in zip(spans, spans.dropFirst()) where a.addr == b.addr && a.proto == b.proto && b.low <= a.high {
            let what = a.owner == b.owner ? "twice in \(a.owner)" : "in both \(a.owner) and \(b.owner)"
            throw FirewallError(operation: label(table, f), errno: EEXIST,
                                detail: "\(a.proto) port \(b.low) of \(a.addr) is \(what)")
        }
        let addrType = f == .inet ? "ipv4_addr" : "ipv6_addr"
        text += "table \(fam) \(name) {\n"
        if table == .mangle {
            text += "\tcomment \"lvsctl firewall-mark bundles: change them with lvsctl bundle, not by hand\"\n"
            text += "\tmap marks {\n\t\ttype \(addrType) . inet_proto . inet_service : mark\n\t\tflags interval\n"
            text += "\t\telements = { " + elements.joined(separator: ",\n\t\t\t") + " }\n\t}\n"
            text += "\tchain prerouting {\n\t\ttype filter hook prerouting priority mangle; policy accept;\n"
            text += "\t\tmeta mark set \(fam) daddr . meta l4proto . th dport map @marks comment \"\(ruleComment)\"\n\t}\n"
        } else {
            text += "\tcomment \"lvsctl dr setup: change it with lvsctl dr, not by hand\"\n"
            text += "\tset redirects {\n\t\ttype \(addrType) . inet_proto . inet_service\n\t\tflags interval\n"
            text += "\t\telements = { " + elements.joined(separator: ",\n\t\t\t") + " }\n\t}\n"
            text += "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
            text += "\t\t\(fam) daddr . meta l4proto . th dport @redirects redirect comment \"\(ruleComment)\"\n\t}\n"
        }
        return text + "}\n"
    }

    // MARK: ARP (the dr arptables method)

    public func arpRewrites() throws -> [ARPRewrite]? {
        guard let json = try read("list map arp \(Self.drTable) rewrite", what: "nftables table arp \(Self.drTable)") else { return [] }
        let elements = try NFTElement.parse(json)
        return elements.compactMap { e in
            guard let v = e.key.first?.string.flatMap(IPAddress.init), let r = e.value?.string.flatMap(IPAddress.init) else { return nil }
            return ARPRewrite(vip: v, realIP: r, owner: e.comment ?? "")
        }.sorted { $0.vip < $1.vip }
    }

    public func replaceARPRewrites(_ rewrites: [ARPRewrite]) throws {
        let t = Self.drTable
        var text = "table arp \(t) {}\ndelete table arp \(t)\n"
        if !rewrites.isEmpty {
            for r in rewrites where r.vip.family != .inet || r.realIP.family != .inet {
                throw FirewallError(operation: "nftables table arp \(t)", errno: EINVAL, detail: "ARP rules are IPv4 only (\(r.vip))")
            }
            let vips = try rewrites.map { "\($0.vip) comment \(try Self.quoted($0.owner))" }
            let map = try rewrites.map { "\($0.vip) comment \(try Self.quoted($0.owner)) : \($0.realIP)" }
            text += """
            table arp \(t) {
            \tcomment "lvsctl dr setup --method arptables: change it with lvsctl dr, not by hand"
            \tset vips {
            \t\ttype ipv4_addr
            \t\telements = { \(vips.joined(separator: ", ")) }
            \t}
            \tmap rewrite {
            \t\ttype ipv4_addr : ipv4_addr
            \t\telements = { \(map.joined(separator: ", ")) }
            \t}
            \tchain input {
            \t\ttype filter hook input priority filter; policy accept;
            \t\tarp daddr ip @vips drop comment "\(Self.ruleComment)"
            \t}
            \tchain output {
            \t\ttype filter hook output priority filter; policy accept;
            \t\tarp saddr ip set arp saddr ip map @rewrite comment "\(Self.ruleComment)"
            \t}
            }

            """
        }
        try write(text, what: "nftables table arp \(t)")
    }

    // MARK: presence

    /// The names of lvsctl's tables that exist, as `FAMILY NAME` (`ip lvsctl`, `arp lvsctl_dr`, ...).
    public func tables() throws -> [String] {
        guard let json = try read("list tables", what: "nftables tables") else { return [] }
        let doc = try JSONDecoder().decode(NFTJSON.self, from: Data(json.utf8))
        return (doc["nftables"]?.array ?? []).compactMap { item -> String? in
            guard let t = item["table"], let fam = t["family"]?.string, let n = t["name"]?.string,
                  n == Self.markTable || n == Self.drTable else { return nil }
            return "\(fam) \(n)"
        }
    }

    public func hasRules() throws -> Bool { !(try tables()).isEmpty }
}
