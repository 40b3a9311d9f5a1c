#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CIPTC

/// The libiptc (ip4tc) and libip6tc entry points lvsctl uses, behind one family-independent face.
/// Entries cross as raw pointers to the bytes `XTEntryCodec` builds and parses.
struct IPTCOps {
    let family: AddressFamily
    let initTable: (String) -> OpaquePointer?
    let free: (OpaquePointer) -> Void
    let commit: (OpaquePointer) -> Bool
    let isChain: (String, OpaquePointer) -> Bool
    let createChain: (String, OpaquePointer) -> Bool
    let deleteChain: (String, OpaquePointer) -> Bool
    let flush: (String, OpaquePointer) -> Bool
    let append: (String, UnsafeRawPointer, OpaquePointer) -> Bool
    /// Rule numbers start at 0 here (libiptc's own convention; iptables' `-D CHAIN 1` passes 0).
    let deleteNum: (String, UInt32, OpaquePointer) -> Bool
    let firstRule: (String, OpaquePointer) -> UnsafeRawPointer?
    let nextRule: (UnsafeRawPointer, OpaquePointer) -> UnsafeRawPointer?
    let target: (UnsafeRawPointer, OpaquePointer) -> String
    let references: (String, OpaquePointer) -> UInt32?
    let strerror: (Int32) -> String

    static let ipv4 = IPTCOps(
        family: .inet,
        initTable: { iptc_init($0) },
        free: { iptc_free($0) },
        commit: { iptc_commit($0) != 0 },
        isChain: { iptc_is_chain($0, $1) != 0 },
        createChain: { iptc_create_chain($0, $1) != 0 },
        deleteChain: { iptc_delete_chain($0, $1) != 0 },
        flush: { iptc_flush_entries($0, $1) != 0 },
        append: { iptc_append_entry($0, $1.assumingMemoryBound(to: ipt_entry.self), $2) != 0 },
        deleteNum: { iptc_delete_num_entry($0, $1, $2) != 0 },
        firstRule: { c, h in iptc_first_rule(c, h).map { UnsafeRawPointer($0) } },
        nextRule: { e, h in iptc_next_rule(e.assumingMemoryBound(to: ipt_entry.self), h).map { UnsafeRawPointer($0) } },
        target: { e, h in iptc_get_target(e.assumingMemoryBound(to: ipt_entry.self), h).map { String(cString: $0) } ?? "" },
        references: { c, h in var n: UInt32 = 0; return iptc_get_references(&n, c, h) != 0 ? n : nil },
        strerror: { String(cString: iptc_strerror($0)) })

    static let ipv6 = IPTCOps(
        family: .inet6,
        initTable: { ip6tc_init($0) },
        free: { ip6tc_free($0) },
        commit: { ip6tc_commit($0) != 0 },
        isChain: { ip6tc_is_chain($0, $1) != 0 },
        createChain: { ip6tc_create_chain($0, $1) != 0 },
        deleteChain: { ip6tc_delete_chain($0, $1) != 0 },
        flush: { ip6tc_flush_entries($0, $1) != 0 },
        append: { ip6tc_append_entry($0, $1.assumingMemoryBound(to: ip6t_entry.self), $2) != 0 },
        deleteNum: { ip6tc_delete_num_entry($0, $1, $2) != 0 },
        firstRule: { c, h in ip6tc_first_rule(c, h).map { UnsafeRawPointer($0) } },
        nextRule: { e, h in ip6tc_next_rule(e.assumingMemoryBound(to: ip6t_entry.self), h).map { UnsafeRawPointer($0) } },
        target: { e, h in ip6tc_get_target(e.assumingMemoryBound(to: ip6t_entry.self), h).map { String(cString: $0) } ?? "" },
        references: { c, h in var n: UInt32 = 0; return ip6tc_get_references(&n, c, h) != 0 ? n : nil },
        strerror: { String(cString: ip6tc_strerror($0)) })

    static func of(_ f: AddressFamily) -> IPTCOps { f == .inet ? .ipv4 : .ipv6 }

    /// Copies one entry (`next_offset` bytes) out of libiptc's cache.
    func bytes(of e: UnsafeRawPointer) -> [UInt8] {
        let n = Int(e.loadUnaligned(fromByteOffset: XTEntryCodec.Layout.of(family).nextOffset, as: UInt16.self))
        return Array(UnsafeRawBufferPointer(start: e, count: n))
    }

    /// Every entry of `chain`, in order, with the name libiptc resolves for its target (a chain name for jumps).
    func entries(_ chain: String, _ h: OpaquePointer) -> [(bytes: [UInt8], target: String)] {
        var out: [(bytes: [UInt8], target: String)] = []
        var e = firstRule(chain, h)
        while let cur = e {
            out.append((bytes(of: cur), target(cur, h)))
            e = nextRule(cur, h)
        }
        return out
    }
}

/// Differences between the hand-computed entry layout in `XTEntryCodec` and the C headers (empty when they agree).
func iptcLayoutMismatches() -> [String] {
    var out: [String] = []
    func check(_ what: String, _ c: Int?, _ ours: Int) { if c != ours { out.append("\(what): C \(c.map(String.init) ?? "?"), lvsctl \(ours)") } }
    let v4 = XTEntryCodec.Layout.ipv4, v6 = XTEntryCodec.Layout.ipv6
    check("sizeof(ipt_entry)", MemoryLayout<ipt_entry>.size, v4.entrySize)
    check("ipt_entry.ip.src", MemoryLayout<ipt_entry>.offset(of: \ipt_entry.ip.src), v4.src)
    check("ipt_entry.ip.dst", MemoryLayout<ipt_entry>.offset(of: \ipt_entry.ip.dst), v4.dst)
    check("ipt_entry.ip.smsk", MemoryLayout<ipt_entry>.offset(of: \ipt_entry.ip.smsk), v4.smsk)
    check("ipt_entry.ip.dmsk", MemoryLayout<ipt_entry>.offset(of: \ipt_entry.ip.dmsk), v4.dmsk)
    check("ipt_entry.ip.iniface", MemoryLayout<ipt_entry>.offset(of: \ipt_entry.ip.iniface), v4.ifaces)
    check("ipt_entry.ip.proto", MemoryLayout<ipt_entry>.offset(of: \ipt_entry.ip.proto), v4.proto)
    check("ipt_entry.ip.flags", MemoryLayout<ipt_entry>.offset(of: \ipt_entry.ip.flags), v4.flags)
    check("ipt_entry.ip.invflags", MemoryLayout<ipt_entry>.offset(of: \ipt_entry.ip.invflags), v4.invflags)
    check("ipt_entry.nfcache", MemoryLayout<ipt_entry>.offset(of: \ipt_entry.nfcache), v4.nfcache)
    check("ipt_entry.target_offset", MemoryLayout<ipt_entry>.offset(of: \ipt_entry.target_offset), v4.targetOffset)
    check("ipt_entry.next_offset", MemoryLayout<ipt_entry>.offset(of: \ipt_entry.next_offset), v4.nextOffset)
    check("ipt_entry.comefrom", MemoryLayout<ipt_entry>.offset(of: \ipt_entry.comefrom), v4.comefrom)
    check("ipt_entry.counters", MemoryLayout<ipt_entry>.offset(of: \ipt_entry.counters), v4.counters)
    check("sizeof(ip6t_entry)", MemoryLayout<ip6t_entry>.size, v6.entrySize)
    check("ip6t_entry.ipv6.src", MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.ipv6.src), v6.src)
    check("ip6t_entry.ipv6.dst", MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.ipv6.dst), v6.dst)
    check("ip6t_entry.ipv6.smsk", MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.ipv6.smsk), v6.smsk)
    check("ip6t_entry.ipv6.dmsk", MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.ipv6.dmsk), v6.dmsk)
    check("ip6t_entry.ipv6.iniface", MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.ipv6.iniface), v6.ifaces)
    check("ip6t_entry.ipv6.proto", MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.ipv6.proto), v6.proto)
    check("ip6t_entry.ipv6.flags", MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.ipv6.flags), v6.flags)
    check("ip6t_entry.ipv6.invflags", MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.ipv6.invflags), v6.invflags)
    check("ip6t_entry.nfcache", MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.nfcache), v6.nfcache)
    check("ip6t_entry.target_offset", MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.target_offset), v6.targetOffset)
    check("ip6t_entry.next_offset", MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.next_offset), v6.nextOffset)
    check("ip6t_entry.comefrom", MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.comefrom), v6.comefrom)
    check("ip6t_entry.counters", MemoryLayout<ip6t_entry>.offset(of: \ip6t_entry.counters), v6.counters)
    check("xt_align(1)", lvs_xt_align(1), XTEntryCodec.align(1))
    check("sizeof(xt_entry_match)", lvs_sizeof_xt_entry_match(), XTEntryCodec.extHeaderSize)
    check("sizeof(xt_entry_target)", lvs_sizeof_xt_entry_target(), XTEntryCodec.extHeaderSize)
    check("XT_ALIGN(sizeof(xt_standard_target))", lvs_xt_align(lvs_sizeof_xt_standard_target()),
          XTEntryCodec.align(XTEntryCodec.extHeaderSize + XTEntryCodec.standardVerdictSize))
    check("sizeof(xt_tcp)", lvs_sizeof_xt_tcp(), XTEntryCodec.tcpInfoSize)
    check("sizeof(xt_udp)", lvs_sizeof_xt_udp(), XTEntryCodec.udpInfoSize)
    check("sizeof(xt_multiport_v1)", lvs_sizeof_xt_multiport_v1(), XTEntryCodec.multiportV1Size)
    check("xt_multiport_v1.pflags", lvs_offsetof_xt_multiport_v1_pflags(), XTEntryCodec.multiportPflagsOffset)
    check("xt_multiport_v1.invert", lvs_offsetof_xt_multiport_v1_invert(), XTEntryCodec.multiportInvertOffset)
    check("sizeof(xt_comment_info)", lvs_sizeof_xt_comment_info(), XTEntryCodec.commentInfoSize)
    check("sizeof(xt_mark_tginfo2)", lvs_sizeof_xt_mark_tginfo2(), XTEntryCodec.markTginfo2Size)
    check("sizeof(nf_nat_ipv4_multi_range_compat)", lvs_sizeof_nf_nat_ipv4_multi_range_compat(), XTEntryCodec.natIPv4CompatSize)
    check("sizeof(nf_nat_range)", lvs_sizeof_nf_nat_range(), XTEntryCodec.natRangeSize)
    check("XT_EXTENSION_MAXNAMELEN", Int(XT_EXTENSION_MAXNAMELEN), XTEntryCodec.extNameLength)
    return out
}

/// Reads and writes lvsctl's chain with libiptc, the way iptables-legacy does: under the xtables lock,
/// one init..commit per change, retried when another writer got in between (EAGAIN).
///
/// The PREROUTING jump is appended (`-A`, not `-I`) the first time, and stays where it is afterwards:
/// rules someone placed before it in PREROUTING see packets first.
/// `replaceRules` does not commit (and so keeps the rule counters) when the chain already holds exactly
/// the requested rules. Reads take no lock (a libiptc snapshot is consistent; EAGAIN is retried).
public final class IPTablesBackend: FirewallBackend, Sendable {
    /// The lock file: `lockFile`, else `$XTABLES_LOCKFILE`, else `/run/xtables.lock`.
    public let lockFile: String
    /// Seconds to wait for the xtables lock before failing.
    public let lockTimeout: Double
    /// Attempts of init..commit when the table changes under us.
    public let maxAttempts = 50
    /// Commits retried after EAGAIN in this process (diagnostics for tests; not synchronised).
    nonisolated(unsafe) static var commitRetries = 0

    /// A backend taking `lockFile` (default `/run/xtables.lock`) for at most `lockTimeout` seconds around each change.
    public init(lockFile: String? = nil, lockTimeout: Double = 10) {
        if let lockFile {
            self.lockFile = lockFile
        } else if let env = Syscall.getenv("XTABLES_LOCKFILE"), !env.isEmpty {
            self.lockFile = env
        } else {
            self.lockFile = "/run/xtables.lock"
        }
        self.lockTimeout = max(0, lockTimeout)
    }

    /// The tables instantiated in this thread's network namespace (`/proc/thread-self/net/ip{,6}_tables_names`),
    /// or nil when that cannot be read (no module yet, or no privilege: then `iptc_init` reports the reason).
    static func instantiatedTables(_ family: AddressFamily) -> Set<String>? {
        guard let text = readFile(namesPath(family)) else { return nil }
        return Set(String(decoding: text, as: UTF8.self).split(separator: "\n").map(String.init))
    }

    public var kind: FirewallKind { .iptablesLegacy }

    /// `/proc/thread-self/net/ip{,6}_tables_names`.
    static func namesPath(_ family: AddressFamily) -> String {
        "/proc/thread-self/net/" + (family == .inet ? "ip_tables_names" : "ip6_tables_names")
    }

    /// False when the family's base module (ip_tables or ip6_tables) is not loaded: then no table, and no rule of
    /// lvsctl's, can exist, and reading must not load it (the kernel may not even have it).
    static func moduleLoaded(_ family: AddressFamily) -> Bool { Syscall.access(namesPath(family), F_OK) }

    /// Whether this kernel has legacy x_tables for IPv4: ip_tables is loaded, or modprobe could load it
    /// (`modprobe -n`, which loads nothing). Linux 6.17 made it optional (CONFIG_NETFILTER_XTABLES_LEGACY).
    public static func kernelHasLegacy() -> Bool {
        if moduleLoaded(.inet) { return true }
        for path in ["/sbin/modprobe", "/usr/sbin/modprobe"] where Syscall.access(path, X_OK) {
            return runProgram(path, ["modprobe", "-n", "-q", "ip_tables"]) == 0
        }
        return false
    }

    /// True when lvsctl's chain exists in any table of either family (tables are only opened when the kernel
    /// already lists them, so nothing is loaded or instantiated).
    public func hasRules() throws -> Bool {
        for f in [AddressFamily.inet, .inet6] {
            guard let names = Self.instantiatedTables(f) else { continue }
            for t in FirewallTable.allCases where names.contains(t.rawValue) {
                let ops = IPTCOps.of(f)
                guard let h = ops.initTable(t.rawValue) else { continue }
                defer { ops.free(h) }
                if ops.isChain(FirewallRule.chain, h) { return true }
            }
        }
        return false
    }

    /// nil: the dr arptables method runs the system's arptables binary with this backend.
    public func arpRewrites() throws -> [ARPRewrite]? { nil }

    /// Never called (`arpRewrites()` is nil).
    public func replaceARPRewrites(_ rewrites: [ARPRewrite]) throws {
        throw FirewallError(operation: "arptables", errno: EOPNOTSUPP, detail: "the iptables-legacy backend uses the arptables binary")
    }

    static func label(_ table: FirewallTable, _ family: AddressFamily) -> String {
        family == .inet ? "\(table.rawValue) table" : "ipv6 \(table.rawValue) table"
    }

    /// Reads lvsctl's rules from chain `LVSCTL` of `table` (libiptc/libip6tc), under the xtables lock.
    public func rules(table: FirewallTable, family: AddressFamily) throws -> [FirewallRule] {
        // Reading a table makes the kernel instantiate it in this namespace (an empty table appears in
        // iptables-save). A table the kernel does not list yet holds no rules: answer without touching it. Without
        // the family's module no table exists at all: an IPv4-only host never needs ip6_tables, nor an nft-only one ip_tables.
        guard Self.moduleLoaded(family) else { return [] }
        if let names = Self.instantiatedTables(family), !names.contains(table.rawValue) { return [] }
        let ops = IPTCOps.of(family)
        let h = try initHandle(ops, table)
        defer { ops.free(h) }
        guard ops.isChain(FirewallRule.chain, h) else { return [] }
        return ops.entries(FirewallRule.chain, h).compactMap { XTEntryCodec.rule(from: $0.bytes, family: family) }
    }

    /// Replaces lvsctl's chain in `table` with `rules` in one libiptc commit, under the xtables lock, retried on EAGAIN.
    public func replaceRules(_ rules: [FirewallRule], table: FirewallTable, family: AddressFamily) throws {
        try FirewallRule.validate(rules, table: table, family: family)
        let ops = IPTCOps.of(family)
        let name = Self.label(table, family)
        let entries = rules.map { XTEntryCodec.entry(for: $0) }
        let jump = XTEntryCodec.jumpEntry(family: family)
        try withXtablesLock(path: lockFile, timeout: lockTimeout, operation: name) {
            var attempt = 0
            while true {
                attempt += 1
                let h = try initHandle(ops, table)
                defer { ops.free(h) }
                guard try edit(ops, h, name: name, rules: rules, entries: entries, jump: jump) else { return }
                if ops.commit(h) { return }
                let e = errno
                // EAGAIN: the table changed between our init and SET_REPLACE; nothing was written.
                // EINVAL: can also mean it changed between SET_REPLACE and the counter write-back that follows it
                // in iptc_commit, i.e. our table went in. Either way start over: a fresh init sees whether the
                // chain already holds our rules (then there is nothing left to do).
                if (e == EAGAIN || e == EINVAL) && attempt < maxAttempts {
                    Self.commitRetries += 1
                    Syscall.sleep(microseconds: min(5_000 * attempt, 100_000) + Int(Syscall.getpid() % 7) * 1_000); continue
                }
                throw FirewallError(operation: name + " commit", errno: e, detail: Self.explain(e, ops.strerror(e)))
            }
        }
    }

    /// Applies the change to the handle's cache; false when nothing needs committing.
    private func edit(_ ops: IPTCOps, _ h: OpaquePointer, name: String, rules: [FirewallRule],
                      entries: [[UInt8]], jump: [UInt8]) throws -> Bool {
        let chain = FirewallRule.chain
        func check(_ ok: Bool, _ what: String) throws {
            guard ok else {
                let e = errno
                throw FirewallError(operation: "\(name) \(what)", errno: e, detail: Self.explain(e, ops.strerror(e)))
            }
        }
        let hasChain = ops.isChain(chain, h)
        // Our jumps: PREROUTING rules that jump to LVSCTL and carry exactly the comment "lvsctl".
        let jumps = ops.entries("PREROUTING", h).enumerated().compactMap { i, e -> UInt32? in
            guard e.target == chain,
                  XTEntryCodec.parse(e.bytes, family: ops.family)?.comment == FirewallRule.jumpComment else { return nil }
            return UInt32(i)
        }
        if rules.isEmpty {
            guard hasChain || !jumps.isEmpty else { return false }
            for i in jumps.reversed() { try check(ops.deleteNum("PREROUTING", i, h), "delete PREROUTING jump") }
            if hasChain {
                try check(ops.flush(chain, h), "flush \(chain)")
                // Somebody else's jump into our chain: leave the (now empty) chain rather than touch their rule.
                if ops.references(chain, h) == 0 { try check(ops.deleteChain(chain, h), "delete chain \(chain)") }
            }
            return true
        }
        if hasChain && jumps.count == 1 {
            let current = ops.entries(chain, h).map { XTEntryCodec.rule(from: $0.bytes, family: ops.family) }
            if current.count == rules.count && zip(current, rules).allSatisfy({ $0 == $1 }) { return false }
        }
        if hasChain {
            try check(ops.flush(chain, h), "flush \(chain)")
        } else {
            try check(ops.createChain(chain, h), "create chain \(chain)")
        }
        for (i, e) in entries.enumerated() {
            try withAlignedBytes(e) { try check(ops.append(chain, $0, h), "append rule \(i + 1) (\(rules[i].comment))") }
        }
        if jumps.isEmpty {
            try withAlignedBytes(jump) { try check(ops.append("PREROUTING", $0, h), "append PREROUTING jump") }
        } else {
            for i in jumps.dropFirst().reversed() { try check(ops.deleteNum("PREROUTING", i, h), "delete extra PREROUTING jump") }
        }
        return true
    }

    /// `iptc_init`, retried on EAGAIN, and once after `modprobe` when the table or ip_tables is missing
    /// (as iptables-legacy does).
    private func initHandle(_ ops: IPTCOps, _ table: FirewallTable) throws -> OpaquePointer {
        let name = Self.label(table, ops.family)
        var triedModprobe = false
        var attempt = 0
        while true {
            attempt += 1
            if let h = ops.initTable(table.rawValue) { return h }
            let e = errno
            if e == EAGAIN && attempt < maxAttempts { continue }
            let base = ops.family == .inet ? "ip_tables" : "ip6_tables"
            let tableModule = (ops.family == .inet ? "iptable_" : "ip6table_") + table.rawValue
            if (e == ENOPROTOOPT || e == ENOENT) && !triedModprobe {
                triedModprobe = true
                for path in ["/sbin/modprobe", "/usr/sbin/modprobe"] where Syscall.access(path, X_OK) {
                    runProgram(path, ["modprobe", "-q", "-a", base, tableModule]); break
                }
                continue
            }
            let detail: String
            switch e {
            case EPERM, EACCES:
                detail = "needs CAP_NET_ADMIN (run as root)"
            case ENOPROTOOPT:
                detail = "the \(base) kernel module is missing (legacy iptables is not available in this kernel; modprobe \(base) failed); the nftables backend works without it: --firewall nftables"
            case ENOENT:
                detail = "table does not exist (kernel module \(tableModule) missing?)"
            default:
                detail = ops.strerror(e)
            }
            throw FirewallError(operation: name, errno: e, detail: detail)
        }
    }

    static func explain(_ e: Int32, _ libiptcText: String) -> String {
        switch e {
        case EPERM, EACCES: return "needs CAP_NET_ADMIN (run as root)"
        case EAGAIN: return "the table kept changing under us (another writer not using the xtables lock?)"
        default: return libiptcText
        }
    }
}

/// Hands libiptc an 8-aligned copy of an entry.
private func withAlignedBytes<T>(_ bytes: [UInt8], _ body: (UnsafeRawPointer) throws -> T) rethrows -> T {
    let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 8)
    defer { p.deallocate() }
    bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    return try body(UnsafeRawPointer(p))
}

/// Runs `body` holding `flock(LOCK_EX)` on the xtables lock file, as iptables-legacy does; polls every 50 ms
/// for up to `timeout` seconds.
func withXtablesLock<T>(path: String, timeout: Double, operation: String, _ body: () throws -> T) throws -> T {
    try withExclusiveFileLock(path, openFlags: O_CREAT | O_RDONLY, timeout: timeout, failure: {
        switch $0 {
        case .open(let e):
            FirewallError(operation: operation, errno: e.rawValue,
                          detail: "cannot open lock file \(path): \(e)" + (e == .permissionDenied || e == .notPermitted ? " (needs root)" : ""))
        case .lock(let e):
            FirewallError(operation: operation, errno: e.rawValue, detail: "cannot lock \(path): \(e)")
        case .timedOut:
            FirewallError(operation: operation, errno: EWOULDBLOCK,
                          detail: "cannot take \(path): held by another process for \(timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)) s")
        }
    }, body)
}
