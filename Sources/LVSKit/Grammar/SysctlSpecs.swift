import LVSCore

/// How the value of one IPVS sysctl is checked before anything is written. The rules follow the kernel's
/// Documentation/networking/ipvs-sysctl.rst and its handlers; where the kernel takes any integer but only some
/// mean anything (a boolean written as 5, `conn_reuse_mode` 7), lvsctl takes only the meaningful ones.
public enum SysctlRule: Sendable, Equatable {
    /// 0 or 1 (the kernel reads any non-zero value as 1).
    case boolean
    /// An integer in the range.
    case range(Int64, Int64)
    /// A defense mode of `drop_entry`, `drop_packet`, `secure_tcp`: 0 off, 1 and 2 automatic (the kernel itself
    /// switches between them as memory runs low and recovers), 3 always.
    case defenseMode
    /// A power of two from 1 to the bound (`sync_ports`).
    case powerOfTwo(Int64)
    /// `sync_threshold`: two integers THRESHOLD PERIOD, 0 <= THRESHOLD < PERIOD, or PERIOD 0.
    case threshold
    /// `est_cpulist`: a CPU list (`0-3,8`, `0,1-N:1/2`, `all`) or empty.
    case cpulist

    /// The rule in words, for messages and `--explain`.
    public var description: String {
        switch self {
        case .boolean: return "0 or 1"
        case .range(let a, let b): return "\(a)..\(b)"
        case .defenseMode: return "0..3"
        case .powerOfTwo(let m): return "a power of two, 1..\(m)"
        case .threshold: return "'THRESHOLD PERIOD' with THRESHOLD < PERIOD, or PERIOD 0"
        case .cpulist: return "a CPU list such as 0-3,8, or empty"
        }
    }

    /// The value in lvsctl's form (`sync_threshold` as `3 50`), or nil when the rule refuses it.
    public func canonical(_ v: String) -> String? {
        switch self {
        case .boolean: return v == "0" || v == "1" ? v : nil
        case .range(let a, let b): return SysctlRule.integer(v).flatMap { $0 >= a && $0 <= b ? String($0) : nil }
        case .defenseMode: return SysctlRule.integer(v).flatMap { $0 >= 0 && $0 <= 3 ? String($0) : nil }
        case .powerOfTwo(let m):
            return SysctlRule.integer(v).flatMap { $0 >= 1 && $0 <= m && $0 & ($0 - 1) == 0 ? String($0) : nil }
        case .threshold:
            let parts = v.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
            guard parts.count == 2, let t = SysctlRule.integer(String(parts[0])), let p = SysctlRule.integer(String(parts[1])),
                  t >= 0, p >= 0, p == 0 || t < p, p <= Int64(Int32.max) else { return nil }
            return "\(t) \(p)"
        case .cpulist:
            if v == "all" { return v }
            return v.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 44 || $0 == 45 || $0 == 58 || $0 == 47 || $0 == 78 }) ? v : nil
        }
    }

    /// True when the kernel's value `kernel` already means `wanted` (a canonical value): any non-zero boolean is
    /// on, and defense modes 1 and 2 are both "automatic".
    public func same(_ kernel: String, _ wanted: String) -> Bool {
        switch self {
        case .boolean:
            guard let k = SysctlRule.integer(kernel), let w = SysctlRule.integer(wanted) else { return kernel == wanted }
            return (k != 0) == (w != 0)
        case .defenseMode:
            guard let k = SysctlRule.integer(kernel), let w = SysctlRule.integer(wanted) else { return kernel == wanted }
            return (k == 2 ? 1 : k) == (w == 2 ? 1 : w)
        default:
            return kernel == wanted || canonical(kernel).map { $0 == wanted } == true
        }
    }

    /// A plain decimal integer (an optional leading minus, at most 18 digits), or nil.
    static func integer(_ s: String) -> Int64? {
        let u = s.utf8
        let digits = u.first == 45 ? u.dropFirst() : u[...]
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int64(s)
    }
}

/// One IPVS sysctl lvsctl knows: its rule, its default on Linux 6.1, and one line of explanation and advice.
public struct IPVSSysctl: Sendable {
    /// The file name under `/proc/sys/net/ipv4/vs/`.
    public let name: String
    /// How a value is checked.
    public let rule: SysctlRule
    /// The value a fresh network namespace of Linux 6.1 has, in lvsctl's form; nil when it depends on the machine
    /// (then `save` never writes the knob: it cannot tell a chosen value from the default).
    public let defaultValue: String?
    /// What the default is when it is not a fixed value.
    public let defaultNote: String?
    /// One line of explanation and advice (`sysctl show --explain`).
    public let explanation: String

    init(_ name: String, _ rule: SysctlRule, _ defaultValue: String?, _ explanation: String, defaultNote: String? = nil) {
        self.name = name; self.rule = rule; self.defaultValue = defaultValue; self.explanation = explanation
        self.defaultNote = defaultNote
    }

    /// The knob called `name`, if lvsctl knows it.
    public static func named(_ name: String) -> IPVSSysctl? { byName[name] }
    static let byName: [String: IPVSSysctl] = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

    /// The knob's name from any of its spellings: `expire_nodest_conn`, `net.ipv4.vs.expire_nodest_conn`,
    /// `net/ipv4/vs/expire_nodest_conn`.
    public static func knobName(_ word: String) -> String {
        for p in ["net.ipv4.vs.", "net/ipv4/vs/"] where word.hasPrefix(p) { return String(word.dropFirst(p.count)) }
        return word
    }

    /// True when the kernel's value `kernel` does not already mean `wanted` (a canonical value).
    public func differs(kernel: String, from wanted: String) -> Bool { !rule.same(kernel, wanted) }

    /// Every IPVS sysctl of Linux 6.1 (`ls /proc/sys/net/ipv4/vs` with every IPVS module loaded; `conntrack` needs
    /// CONFIG_IP_VS_NFCT, `debug_level` CONFIG_IP_VS_DEBUG, the `lbl*` knobs their scheduler's module), plus the
    /// two estimator knobs of 6.2 and later. Defaults measured in a fresh namespace of Debian's 6.1 kernel (user-mode
    /// Linux 6.1.176), as ipvs-sysctl.rst documents them.
    public static let all: [IPVSSysctl] = [
        IPVSSysctl("am_droprate", .range(1, Int64(Int32.max)), "10",
                   "With drop_packet=3, drop one packet in every N before forwarding; no effect otherwise."),
        IPVSSysctl("amemthresh", .range(1, Int64(Int32.max)), "1024",
                   "Free memory in pages below which the automatic defenses (drop_entry, drop_packet, secure_tcp set to 1) turn on."),
        IPVSSysctl("backup_only", .boolean, "0",
                   "1: while a backup sync daemon runs, do not balance (no DR/TUN loops); enable on backup directors that also receive VIP traffic."),
        IPVSSysctl("cache_bypass", .boolean, "0",
                   "1: when no real server is available, send the packet on to its original destination; for transparent web-cache clusters only."),
        IPVSSysctl("conn_reuse_mode", .range(0, 3), "1",
                   "A new connection on a reused client port: 0 keeps the old real server (even a deleted one, kubernetes #81775), 1 reschedules when safe (NAT TIME_WAIT, expire_nodest_conn), 2 also on FIN_WAIT (DR); keep 1 on 5.9+, which fixed its 1 s stall with conntrack (#70747)."),
        IPVSSysctl("conntrack", .boolean, "0",
                   "1: keep netfilter conntrack entries for IPVS connections; needed when firewall rules match ct state or NAT IPVS traffic, otherwise 0 is faster."),
        IPVSSysctl("debug_level", .range(0, 12), "0",
                   "Kernel log detail 0..12 (debug kernels only); global to all namespaces and read-only outside the initial one; keep 0 in production."),
        IPVSSysctl("drop_entry", .defenseMode, "0",
                   "SYN-flood defense that randomly drops half-open entries from the connection table: 0 off, 1 automatic below amemthresh, 3 always."),
        IPVSSysctl("drop_packet", .defenseMode, "0",
                   "Overload defense that drops a share of packets before forwarding: 0 off, 1 automatic (rate from free memory and amemthresh), 3 always (am_droprate)."),
        IPVSSysctl("est_cpulist", .cpulist, nil,
                   "CPUs the rate-estimation kernel threads may use (Linux 6.2+); empty stops estimation.",
                   defaultNote: "the housekeeping CPUs"),
        IPVSSysctl("est_nice", .range(-20, 19), "0",
                   "Nice value -20..19 of the rate-estimation kernel threads (Linux 6.2+)."),
        IPVSSysctl("expire_nodest_conn", .boolean, "0",
                   "1: a packet for a connection whose real server was deleted expires the connection, so the client sees it end at once; 0 drops such packets until it times out. Enable with a monitor that removes dead servers."),
        IPVSSysctl("expire_quiescent_template", .boolean, "0",
                   "1: a persistent client whose server has weight 0 is scheduled to another server; 0 keeps sending returning clients to the quiesced one. Enable to drain persistent services."),
        IPVSSysctl("ignore_tunneled", .boolean, "0",
                   "1: leave packets of protocols IPVS does not know (IPIP, GRE) alone; prevents routing loops when a director is also a real server."),
        IPVSSysctl("lblc_expiration", .range(1, 2_147_483), "86400",
                   "Seconds after which an unused destination entry of the lblc scheduler expires (with ip_vs_lblc loaded)."),
        IPVSSysctl("lblcr_expiration", .range(1, 2_147_483), "86400",
                   "Seconds after which an unused server set of the lblcr scheduler expires (with ip_vs_lblcr loaded)."),
        IPVSSysctl("nat_icmp_send", .boolean, "0",
                   "1: answer NAT packets from real servers that match no connection with ICMP destination unreachable; 0 drops them silently."),
        IPVSSysctl("pmtu_disc", .boolean, "1",
                   "1: refuse DF packets larger than the path MTU with ICMP fragmentation-needed, for every method; 0 lets tunnelling (-i) fragment them instead."),
        IPVSSysctl("run_estimation", .boolean, "1",
                   "1: compute the per-second rates (list --rate); 0 saves CPU on very large tables, rates then stay 0 and the first after re-enabling is inaccurate."),
        IPVSSysctl("schedule_icmp", .boolean, "0",
                   "1: schedule ICMP errors about connections this director does not know to a real server (several directors behind ECMP, with sh or mh); 0 ignores them."),
        IPVSSysctl("secure_tcp", .defenseMode, "0",
                   "Stricter TCP state table against SYN floods (NAT: established only after the handshake): 0 off, 1 automatic below amemthresh, 3 always."),
        IPVSSysctl("sloppy_sctp", .boolean, "0",
                   "1: create connection entries from any SCTP packet, not only INIT, so a director can take over associations it did not see start."),
        IPVSSysctl("sloppy_tcp", .boolean, "0",
                   "1: create connection entries from any TCP packet, not only SYN, so a backup director can take over connections the sync daemon did not copy."),
        IPVSSysctl("snat_reroute", .boolean, "1",
                   "1: route NAT replies from real servers as if the director sent them (matters with policy routing); 0 saves a route lookup per packet without it."),
        IPVSSysctl("sync_persist_mode", .range(0, 1), "0",
                   "0: the sync daemon copies every connection; 1: for persistent services only the templates (less traffic; the backups then need sloppy_tcp/sloppy_sctp)."),
        IPVSSysctl("sync_ports", .powerOfTwo(64), "1",
                   "Sync daemon threads, each on its own UDP port from 8848 up; set the same on master and backups before starting the daemons."),
        IPVSSysctl("sync_qlen_max", .range(1, Int64.max / 2), nil,
                   "Most sync messages queued for sending; raise it if a busy master drops sync messages. save never writes it: its default depends on the memory.",
                   defaultNote: "1/32 of the memory pages"),
        IPVSSysctl("sync_refresh_period", .range(0, 2_147_483), "0",
                   "Seconds: sync an unchanged connection again at most this often (0: by packet count, see sync_threshold); cuts sync traffic of long busy connections."),
        IPVSSysctl("sync_retries", .range(0, 3), "0",
                   "Send each sync message again up to 3 times (every sync_refresh_period/8), so lost sync packets do not lose connections."),
        IPVSSysctl("sync_sock_size", .range(0, Int64(Int32.max)), "0",
                   "Send (master) or receive (backup) buffer of the sync socket in bytes; 0 keeps the system default. Raise it when sync messages are dropped."),
        IPVSSysctl("sync_threshold", .threshold, "3 50",
                   "'THRESHOLD PERIOD': sync a connection when its packet count modulo PERIOD reaches THRESHOLD; with PERIOD 0 (and sync_refresh_period 0) only on state changes."),
        IPVSSysctl("sync_version", .range(0, 1), "1",
                   "Sync protocol version the master sends: 1 (current); 0 only for backups whose kernels understand nothing newer."),
    ]
}

/// One knob and its value in lvsctl's form (checked by its rule).
public struct SysctlSetting: Hashable, Sendable {
    /// The knob, e.g. `expire_nodest_conn`.
    public var name: String
    /// The value, e.g. `1` or `3 50`.
    public var value: String
    /// A setting.
    public init(name: String, value: String) { self.name = name; self.value = value }

    /// The setting as one word of a `sysctl set` line: `expire_nodest_conn=1`, or quoted when the value holds a
    /// blank (`'sync_threshold=3 50'`).
    public var word: String { value.contains(" ") || value.isEmpty ? "'\(name)=\(value)'" : "\(name)=\(value)" }
}

/// `sysctl set NAME=VALUE ...` as typed (a command line or a file line).
public struct SysctlSpec: Equatable, Sendable {
    /// The `NAME=VALUE` words.
    public var settings: [String]
    /// A spec.
    public init(settings: [String]) { self.settings = settings }

    /// Every setting checked by its knob's rule, in the order given: an unknown knob, a malformed word, a value
    /// its rule refuses or a knob given twice is a ``UsageError`` naming it.
    public func model() throws -> [SysctlSetting] {
        if settings.isEmpty { throw UsageError("give at least one NAME=VALUE, e.g. expire_nodest_conn=1") }
        var out: [SysctlSetting] = []
        for word in settings {
            guard let eq = word.firstIndex(of: "="), eq != word.startIndex else {
                throw UsageError("invalid sysctl setting \(shown(word)) (expected NAME=VALUE, e.g. expire_nodest_conn=1)")
            }
            let name = IPVSSysctl.knobName(String(word[..<eq]))
            let raw = String(word[word.index(after: eq)...])
            guard let knob = IPVSSysctl.named(name) else {
                throw UsageError("unknown IPVS sysctl \(shown(name)) (lvsctl sysctl show lists them)")
            }
            guard let value = knob.rule.canonical(raw) else {
                throw UsageError("invalid value \(shown(raw)) for \(name) (expected \(knob.rule.description))")
            }
            if out.contains(where: { $0.name == name }) { throw UsageError("sysctl \(name) is given twice") }
            out.append(SysctlSetting(name: name, value: value))
        }
        return out
    }
}
