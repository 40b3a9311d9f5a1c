import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import LVSCore
import LVSTestSupport

// MARK: - Pure tests (run anywhere)

final class FirewallTests: XCTestCase {
    let v4 = IPAddress("192.0.2.1")!
    let v6 = IPAddress("2001:db8::1")!

    func r(_ dst: IPAddress, _ proto: IPProtocol, _ ports: [PortRange], _ action: FirewallRule.Action,
           owner: String = "x") -> FirewallRule {
        FirewallRule(owner: owner, destination: dst, proto: proto, ports: ports, action: action)
    }

    /// Bytes all zero except the given runs (hex strings; ASCII for names is spelled out).
    func sparse(_ size: Int, _ runs: [(Int, [UInt8])]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: size)
        for (off, bytes) in runs { for (i, v) in bytes.enumerated() { b[off + i] = v } }
        return b
    }
    func hex(_ s: String) -> [UInt8] {
        let c = Array(s.replacingOccurrences(of: " ", with: "").utf8)
        return stride(from: 0, to: c.count, by: 2).map { UInt8(String(decoding: c[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }
    func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testLayoutMatchesCHeaders() {
        XCTAssertEqual(iptcLayoutMismatches(), [])
    }

    // The expected bytes below are what `iptables-legacy` 1.8.9 put in the kernel for the equivalent command,
    // read back with libiptc (kernel-only fields such as comefrom and the jump verdict excluded).

    func testIPv4TCPMarkEntryBytes() throws {
        // -d 192.0.2.1/32 -p tcp -m tcp --dport 80 -m comment --comment "lvsctl: x" -j MARK --set-xmark 0x50/0xffffffff
        let want = sparse(488, [(4, hex("c0000201")), (12, hex("ffffffff")), (80, hex("0600")), (88, hex("c001e801")),
                                (112, hex("3000") + ascii("tcp")), (144, hex("0000ffff50005000")),
                                (160, hex("2001") + ascii("comment")), (192, ascii("lvsctl: x")),
                                (448, hex("2800") + ascii("MARK")), (479, [2]), (480, hex("50000000ffffffff"))])
        XCTAssertEqual(XTEntryCodec.entry(for: r(v4, .tcp, [PortRange(80)], .mark(0x50))), want)
    }

    func testIPv4UDPMultiportEntryBytes() {
        // -d 192.0.2.1/32 -p udp -m multiport --dports 80,8000:8010 -m comment --comment "lvsctl: x" -j MARK --set-mark 80
        let want = sparse(520, [(4, hex("c0000201")), (12, hex("ffffffff")), (80, hex("1100")), (88, hex("e0010802")),
                                (112, hex("5000") + ascii("multiport")), (143, [1]), (144, hex("010350 00401f4a1f")),
                                (176, hex("0001")),
                                (192, hex("2001") + ascii("comment")), (224, ascii("lvsctl: x")),
                                (480, hex("2800") + ascii("MARK")), (511, [2]), (512, hex("50000000ffffffff"))])
        XCTAssertEqual(XTEntryCodec.entry(for: r(v4, .udp, [PortRange(80), PortRange(low: 8000, high: 8010)], .mark(80))), want)
    }

    func testIPv4RedirectEntryBytes() {
        // -t nat -d 192.0.2.1/32 -p tcp -m tcp --dport 80 -m comment --comment "lvsctl: x" -j REDIRECT
        let want = sparse(504, [(4, hex("c0000201")), (12, hex("ffffffff")), (80, hex("0600")), (88, hex("c001f801")),
                                (112, hex("3000") + ascii("tcp")), (144, hex("0000ffff50005000")),
                                (160, hex("2001") + ascii("comment")), (192, ascii("lvsctl: x")),
                                (448, hex("3800") + ascii("REDIRECT")), (480, hex("01000000"))])
        XCTAssertEqual(XTEntryCodec.entry(for: r(v4, .tcp, [PortRange(80)], .redirect)), want)
    }

    func testIPv6MarkAndRedirectEntryBytes() {
        let dst = hex("20010db8000000000000000000000001"), mask = [UInt8](repeating: 0xff, count: 16)
        // ip6tables: -d 2001:db8::1/128 -p tcp -m tcp --dport 80 -m comment --comment "lvsctl: x" -j MARK --set-xmark 0x50/0xffffffff
        let mark = sparse(544, [(16, dst), (48, mask), (128, hex("06000001")), (140, hex("f8012002")),
                                (168, hex("3000") + ascii("tcp")), (200, hex("0000ffff50005000")),
                                (216, hex("2001") + ascii("comment")), (248, ascii("lvsctl: x")),
                                (504, hex("2800") + ascii("MARK")), (535, [2]), (536, hex("50000000ffffffff"))])
        XCTAssertEqual(XTEntryCodec.entry(for: r(v6, .tcp, [PortRange(80)], .mark(0x50))), mark)
        // ip6tables -t nat: -d 2001:db8::1/128 -p udp -m udp --dport 80 -m comment --comment "lvsctl: x" -j REDIRECT
        let redirect = sparse(576, [(16, dst), (48, mask), (128, hex("11000001")), (140, hex("f8014002")),
                                    (168, hex("3000") + ascii("udp")), (200, hex("0000ffff50005000")),
                                    (216, hex("2001") + ascii("comment")), (248, ascii("lvsctl: x")),
                                    (504, hex("4800") + ascii("REDIRECT"))])
        XCTAssertEqual(XTEntryCodec.entry(for: r(v6, .udp, [PortRange(80)], .redirect)), redirect)
    }

    func testJumpEntryBytes() {
        // -A PREROUTING -m comment --comment lvsctl -j LVSCTL; libiptc replaces the name with the verdict.
        let want = sparse(440, [(88, hex("9001b801")), (112, hex("2001") + ascii("comment")), (144, ascii("lvsctl")),
                                (400, hex("2800") + ascii("LVSCTL"))])
        XCTAssertEqual(XTEntryCodec.jumpEntry(family: .inet), want)
        XCTAssertEqual(XTEntryCodec.jumpEntry(family: .inet6).count, 168 + 288 + 40)
    }

    func sampleRules(_ dst: IPAddress, _ action: FirewallRule.Action) -> [FirewallRule] { sampleFirewallRules(dst, action) }

    func testEntryRoundTrip() throws {
        for dst in [v4, v6] {
            for action in [FirewallRule.Action.mark(0), .mark(0x50), .mark(UInt32.max), .redirect] {
                for rule in sampleRules(dst, action) {
                    try rule.validate()
                    let bytes = XTEntryCodec.entry(for: rule)
                    XCTAssertEqual(bytes.count % 8, 0)
                    XCTAssertEqual(XTEntryCodec.rule(from: bytes, family: dst.family), rule, "\(rule)")
                }
            }
        }
        XCTAssertEqual(sampleRules(v4, .redirect)[5].slots, 15)
    }

    func testParserRejectsForeignEntries() {
        let rule = r(v4, .tcp, [PortRange(80)], .mark(5))
        let good = XTEntryCodec.entry(for: rule)
        func mutated(_ off: Int, _ v: UInt8) -> FirewallRule? {
            var b = good; b[off] = v; return XTEntryCodec.rule(from: b, family: .inet)
        }
        XCTAssertEqual(XTEntryCodec.rule(from: good, family: .inet), rule)
        XCTAssertNil(mutated(0, 10), "source address")
        XCTAssertNil(mutated(15, 0), "destination prefix shorter than /32")
        XCTAssertNil(mutated(16, UInt8(ascii: "e")), "input interface")
        XCTAssertNil(mutated(83, 0x02), "inverted destination")
        XCTAssertNil(mutated(144 + 8, 0x01), "tcp option")
        XCTAssertNil(mutated(144 + 11, 0x02), "inverted --dport")
        XCTAssertNil(mutated(144 + 2, 0x00), "source port range")
        XCTAssertNil(mutated(192, UInt8(ascii: "L")), "comment without the lvsctl: prefix")
        XCTAssertNil(mutated(484, 0x00), "MARK mask not 0xffffffff")
        XCTAssertNil(mutated(479, 1), "MARK revision 1")
        XCTAssertNil(XTEntryCodec.rule(from: Array(good.prefix(200)), family: .inet), "truncated")
        XCTAssertNil(XTEntryCodec.rule(from: XTEntryCodec.jumpEntry(family: .inet), family: .inet), "the jump")
        // REDIRECT --to-ports 8080 sets flags and ports.
        var redir = XTEntryCodec.entry(for: r(v4, .tcp, [PortRange(80)], .redirect))
        XCTAssertNotNil(XTEntryCodec.rule(from: redir, family: .inet))
        redir[484] = 2
        XCTAssertNil(XTEntryCodec.rule(from: redir, family: .inet))
        // Wrong family.
        XCTAssertNil(XTEntryCodec.rule(from: good, family: .inet6))
    }

    func testIPTablesArguments() {
        let rule = r(v4, .tcp, [PortRange(80), PortRange(443)], .mark(80), owner: "bundle web")
        XCTAssertEqual(rule.iptablesArguments,
                       ["-t", "mangle", "-A", "LVSCTL", "-d", "192.0.2.1/32", "-p", "tcp", "-m", "multiport",
                        "--dports", "80,443", "-m", "comment", "--comment", "lvsctl: bundle web",
                        "-j", "MARK", "--set-xmark", "0x50/0xffffffff"])
        XCTAssertEqual(r(v6, .udp, [PortRange(low: 8000, high: 8010)], .redirect, owner: "dr 2001:db8::1").iptablesArguments,
                       ["-t", "nat", "-A", "LVSCTL", "-d", "2001:db8::1/128", "-p", "udp", "-m", "udp",
                        "--dport", "8000:8010", "-m", "comment", "--comment", "lvsctl: dr 2001:db8::1", "-j", "REDIRECT"])
        XCTAssertEqual(r(v4, .udp, [], .mark(0), owner: "o").iptablesArguments,
                       ["-t", "mangle", "-A", "LVSCTL", "-d", "192.0.2.1/32", "-p", "udp", "-m", "comment",
                        "--comment", "lvsctl: o", "-j", "MARK", "--set-xmark", "0x0/0xffffffff"])
        XCTAssertEqual(r(v6, .tcp, [PortRange(80)], .redirect, owner: "it's web").description,
                       "ip6tables -t nat -A LVSCTL -d 2001:db8::1/128 -p tcp -m tcp --dport 80 -m comment --comment 'lvsctl: it'\\''s web' -j REDIRECT")
        XCTAssertEqual(FirewallRule.chainSetupArguments(table: .nat),
                       [["-t", "nat", "-N", "LVSCTL"],
                        ["-t", "nat", "-A", "PREROUTING", "-m", "comment", "--comment", "lvsctl", "-j", "LVSCTL"]])
    }

    func testSplit() {
        let ports = (1...20).map { PortRange(UInt16($0)) }
        let parts = FirewallRule.split(owner: "o", destination: v4, proto: .tcp, ports: ports.reversed(), action: .mark(1))
        XCTAssertEqual(parts.map(\.ports), [Array(ports[0..<15]), Array(ports[15...])])
        // Ranges take two slots; overlapping ranges and duplicates merge, adjacent ones do not.
        let mixed = [PortRange(low: 100, high: 200), PortRange(150), PortRange(low: 190, high: 300), PortRange(80),
                     PortRange(80), PortRange(81)] + (1...12).map { PortRange(UInt16(1000 + $0)) }
        let m = FirewallRule.split(owner: "o", destination: v4, proto: .udp, ports: mixed, action: .redirect)
        XCTAssertEqual(m.count, 2)
        XCTAssertEqual(m[0].ports.prefix(3), [PortRange(80), PortRange(81), PortRange(low: 100, high: 300)])
        XCTAssertEqual(m[0].slots, 15)
        XCTAssertEqual(m[1].ports, [PortRange(1012)])
        XCTAssertTrue(m.allSatisfy { $0.slots <= 15 && $0.owner == "o" && $0.proto == .udp && $0.action == .redirect })
        XCTAssertEqual(FirewallRule.split(owner: "o", destination: v4, proto: .tcp, ports: [], action: .mark(1)).map(\.ports), [[]])
        // Sixteen ports cannot go in one rule but split into 15 + 1.
        let sixteen = FirewallRule.split(owner: "o", destination: v4, proto: .tcp, ports: (1...16).map { PortRange(UInt16($0)) }, action: .mark(1))
        XCTAssertEqual(sixteen.map(\.slots), [15, 1])
    }

    func testPortRangeParse() {
        XCTAssertEqual(PortRange("80"), PortRange(80))
        XCTAssertEqual(PortRange("8000:8010"), PortRange(low: 8000, high: 8010))
        XCTAssertNil(PortRange("8010:8000"))
        XCTAssertNil(PortRange("65536"))
        XCTAssertNil(PortRange("80:"))
        XCTAssertNil(PortRange("-1"))
        XCTAssertEqual(PortRange(low: 8000, high: 8010).description, "8000:8010")
    }

    func testValidation() {
        func error(_ rules: [FirewallRule], _ table: FirewallTable, _ family: AddressFamily) -> String? {
            do { try FirewallRule.validate(rules, table: table, family: family); return nil } catch { return "\(error)" }
        }
        XCTAssertNil(error(sampleRules(v4, .mark(1)), .mangle, .inet))
        XCTAssertNil(error(sampleRules(v6, .redirect), .nat, .inet6))
        XCTAssertNotNil(error([r(v4, .sctp, [], .mark(1))], .mangle, .inet))
        XCTAssertNotNil(error([r(v4, .tcp, (1...16).map { PortRange(UInt16($0)) }, .mark(1))], .mangle, .inet))
        XCTAssertNotNil(error([r(v4, .tcp, [PortRange(low: 9, high: 8)], .mark(1))], .mangle, .inet))
        XCTAssertNotNil(error([r(v4, .tcp, [], .mark(1), owner: String(repeating: "a", count: 248))], .mangle, .inet))
        XCTAssertNil(error([r(v4, .tcp, [], .mark(1), owner: String(repeating: "a", count: 247))], .mangle, .inet))
        XCTAssertNotNil(error([r(v4, .tcp, [], .mark(1), owner: "a\nb")], .mangle, .inet))
        XCTAssertEqual(error([r(v4, .tcp, [], .mark(1))], .mangle, .inet6),
                       "rule \"lvsctl: x\": destination 192.0.2.1 is not ipv6 (ip6tables)")
        XCTAssertEqual(error([r(v4, .tcp, [], .redirect)], .mangle, .inet),
                       "rule \"lvsctl: x\": REDIRECT rules belong in table nat, not mangle")
    }

    func testFakeBackend() throws {
        let fake = FakeFirewallBackend()
        let rules = sampleRules(v4, .mark(7))
        XCTAssertEqual(try fake.rules(table: .mangle, family: .inet), [])
        try fake.replaceRules(rules, table: .mangle, family: .inet)
        XCTAssertEqual(try fake.rules(table: .mangle, family: .inet), rules)
        XCTAssertEqual(try fake.rules(table: .mangle, family: .inet6), [])
        XCTAssertThrowsError(try fake.replaceRules(rules, table: .nat, family: .inet))
        fake.failNext = FirewallError(operation: "mangle table commit", errno: EPERM, detail: "needs CAP_NET_ADMIN (run as root)")
        XCTAssertThrowsError(try fake.replaceRules([], table: .mangle, family: .inet)) {
            XCTAssertEqual("\($0)", "mangle table commit: needs CAP_NET_ADMIN (run as root)")
        }
        try fake.replaceRules([], table: .mangle, family: .inet)
        XCTAssertEqual(try fake.rules(table: .mangle, family: .inet), [])
        XCTAssertEqual(fake.replaceCalls.count, 2)
        XCTAssertTrue(fake.tables.isEmpty)
    }

    func testLockFileDefaultAndTimeout() throws {
        XCTAssertEqual(IPTablesBackend(lockFile: "/tmp/x.lock").lockFile, "/tmp/x.lock")
        setenv("XTABLES_LOCKFILE", "/tmp/env.lock", 1)
        XCTAssertEqual(IPTablesBackend().lockFile, "/tmp/env.lock")
        unsetenv("XTABLES_LOCKFILE")
        XCTAssertEqual(IPTablesBackend().lockFile, "/run/xtables.lock")
        XCTAssertEqual(IPTablesBackend().lockTimeout, 10)

        let path = "/tmp/lvsctl-fwtest-\(getpid()).lock"
        defer { unlink(path) }
        // Free lock: taken at once; the file is created 0600.
        XCTAssertEqual(try withXtablesLock(path: path, timeout: 0, operation: "mangle table") { 42 }, 42)
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        // Held through another open file description (as another process would): times out with a clear message.
        let other = open(path, O_RDONLY)
        XCTAssertEqual(flock(other, LOCK_EX | LOCK_NB), 0)
        let start = monotonic()
        XCTAssertThrowsError(try withXtablesLock(path: path, timeout: 0.3, operation: "mangle table") { 1 }) {
            XCTAssertEqual("\($0)", "mangle table: cannot take \(path): held by another process for 0.3 s")
        }
        let waited = monotonic() - start
        XCTAssertGreaterThanOrEqual(waited, 0.29)
        XCTAssertLessThan(waited, 1.0)
        close(other)
        XCTAssertEqual(try withXtablesLock(path: path, timeout: 0, operation: "mangle table") { 7 }, 7)
    }

    /// Without root, reading fails with a clear message (and touches nothing).
    func testNonRootErrorMessage() throws {
        guard geteuid() != 0 else { throw XCTSkip("running as root") }
        XCTAssertThrowsError(try IPTablesBackend().rules(table: .mangle, family: .inet)) {
            XCTAssertEqual("\($0)", "mangle table: needs CAP_NET_ADMIN (run as root)")
        }
        XCTAssertThrowsError(try IPTablesBackend().rules(table: .nat, family: .inet6)) {
            XCTAssertEqual("\($0)", "ipv6 nat table: needs CAP_NET_ADMIN (run as root)")
        }
    }

    func testNFTDetectionDoesNotCrash() {
        _ = systemIPTablesIsNFT()
    }
}

/// Rules covering 1 port, a single range, 2 ports, mixed, 15 slots, no ports, tcp and udp, odd owner text.
func sampleFirewallRules(_ dst: IPAddress, _ action: FirewallRule.Action) -> [FirewallRule] {
    func r(_ dst: IPAddress, _ proto: IPProtocol, _ ports: [PortRange], _ action: FirewallRule.Action, owner: String) -> FirewallRule {
        FirewallRule(owner: owner, destination: dst, proto: proto, ports: ports, action: action)
    }
    let fifteen = (1...13).map { PortRange(UInt16(1000 + $0)) } + [PortRange(low: 2000, high: 2010)]
    return [
        r(dst, .tcp, [PortRange(80)], action, owner: "bundle web"),
        r(dst, .udp, [PortRange(53)], action, owner: "bundle dns"),
        r(dst, .tcp, [PortRange(80), PortRange(443)], action, owner: "bundle web"),
        r(dst, .udp, [PortRange(low: 8000, high: 8010)], action, owner: "dr \(dst)"),
        r(dst, .tcp, [PortRange(22), PortRange(low: 8000, high: 8010)], action, owner: "mixed"),
        r(dst, .tcp, fifteen, action, owner: "fifteen slots"),
        r(dst, .udp, (1...15).map { PortRange(UInt16(3000 + $0)) }, action, owner: "fifteen udp"),
        r(dst, .tcp, [], action, owner: "all tcp ports"),
        r(dst, .tcp, [PortRange(0), PortRange(65535)], action, owner: "édge ports, \"quoted\" & spaced"),
    ]
    }

func monotonic() -> Double {
    var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

// MARK: - Kernel tests (root, inside a throw-away network namespace; see Tests/Kernel/firewall-host-check.sh)

/// Runs only when LVSCTL_FIREWALL_NETNS_TEST=1, as root, inside the namespace named by LVSCTL_FIREWALL_NETNS.
/// When LVSCTL_FIREWALL_REF_NETNS names a second namespace, the reference iptables-legacy commands run there;
/// otherwise they run here first and the tables are reset before lvsctl writes.
final class FirewallKernelTests: XCTestCase {
    let v4 = IPAddress("192.0.2.1")!
    let v6 = IPAddress("2001:db8::1")!
    var refNS: String? { ProcessInfo.processInfo.environment["LVSCTL_FIREWALL_REF_NETNS"].flatMap { $0.isEmpty ? nil : $0 } }

    static func nsInode(_ path: String) -> UInt? {
        var st = stat(); return stat(path, &st) == 0 ? UInt(st.st_ino) : nil
    }

    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["LVSCTL_FIREWALL_NETNS_TEST"] == "1" else {
            throw XCTSkip("set LVSCTL_FIREWALL_NETNS_TEST=1 and run via Tests/Kernel/firewall-host-check.sh")
        }
        guard geteuid() == 0 else { throw XCTSkip("needs root") }
        // Only inside the namespace the script created: our netns must be /run/netns/$LVSCTL_FIREWALL_NETNS,
        // and (when /proc/1 is readable) not the one of pid 1.
        let host = Self.nsInode("/proc/1/ns/net")
        guard let name = ProcessInfo.processInfo.environment["LVSCTL_FIREWALL_NETNS"], !name.isEmpty,
              let mine = Self.nsInode("/proc/self/ns/net"), mine == Self.nsInode("/run/netns/\(name)"), mine != host else {
            throw XCTSkip("refusing to touch iptables outside the namespace named by LVSCTL_FIREWALL_NETNS")
        }
        if let ns = refNS {
            guard let ref = Self.nsInode("/run/netns/\(ns)"), ref != host, ref != mine else {
                throw XCTSkip("reference namespace \(ns) missing or not separate")
            }
        }
        reset(ref: false)
        if refNS != nil { reset(ref: true) }
    }

    override func tearDown() {
        if ProcessInfo.processInfo.environment["LVSCTL_FIREWALL_NETNS_TEST"] == "1", geteuid() == 0 {
            reset(ref: false)
            if refNS != nil { reset(ref: true) }
        }
    }

    func tool(_ family: AddressFamily, save: Bool = false) -> String {
        "/usr/sbin/" + (family == .inet ? "iptables" : "ip6tables") + "-legacy" + (save ? "-save" : "")
    }

    /// Runs an iptables-legacy command here or (ref) in the reference namespace; returns its exit status.
    @discardableResult
    func ipt(_ family: AddressFamily, _ args: [String], ref: Bool = false) -> Int32 {
        if ref, let ns = refNS {
            return runProgram("/usr/sbin/ip", ["ip", "netns", "exec", ns, tool(family)] + args)
        }
        return runProgram(tool(family), [tool(family)] + args)
    }

    /// iptables-legacy-save output without the date comments.
    func save(_ family: AddressFamily, _ table: FirewallTable, ref: Bool = false) -> String {
        let out: String?
        if ref, let ns = refNS {
            out = captureProgram("/usr/sbin/ip", ["ip", "netns", "exec", ns, tool(family, save: true), "-t", table.rawValue])?.output
        } else {
            out = captureProgram(tool(family, save: true), [tool(family, save: true), "-t", table.rawValue])?.output
        }
        return (out ?? "").split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
    }

    func reset(ref: Bool) {
        for f in [AddressFamily.inet, .inet6] {
            for t in FirewallTable.allCases {
                ipt(f, ["-t", t.rawValue, "-F"], ref: ref)
                ipt(f, ["-t", t.rawValue, "-X"], ref: ref)
            }
        }
    }

    func rules(_ dst: IPAddress, _ action: FirewallRule.Action) -> [FirewallRule] {
        sampleFirewallRules(dst, action)
    }

    /// Requirement 1 and 3: the same rules through iptables-legacy and through libiptc give identical
    /// iptables-legacy-save output, and read back unchanged.
    func testSaveOutputIdenticalToIPTablesLegacy() throws {
        let backend = IPTablesBackend()
        for (dst, table, action) in [(v4, FirewallTable.mangle, FirewallRule.Action.mark(0x50)), (v4, .nat, .redirect),
                                     (v6, .mangle, .mark(0xdeadbeef)), (v6, .nat, .redirect)] {
            let family = dst.family
            let set = rules(dst, action)
            let useRef = refNS != nil
            for args in FirewallRule.chainSetupArguments(table: table) + set.map(\.iptablesArguments) {
                XCTAssertEqual(ipt(family, args, ref: useRef), 0, "iptables-legacy \(args)")
            }
            let expected = save(family, table, ref: useRef)
            if useRef {
                XCTAssertFalse(save(family, table).contains("LVSCTL"), "reference commands leaked into the test namespace")
            } else {
                reset(ref: false)
            }
            XCTAssertTrue(expected.contains("-A LVSCTL"), expected)

            try backend.replaceRules(set, table: table, family: family)
            XCTAssertEqual(save(family, table), expected, "\(table) \(family)")
            if ProcessInfo.processInfo.environment["LVSCTL_FIREWALL_VERBOSE"] == "1" { print(save(family, table)) }
            XCTAssertEqual(try backend.rules(table: table, family: family), set)

            try backend.replaceRules([], table: table, family: family)
            XCTAssertFalse(save(family, table).contains("LVSCTL"))
            XCTAssertEqual(try backend.rules(table: table, family: family), [])
            if useRef { reset(ref: true) }
        }
    }

    /// Requirement 2: hand-written rules before and after the jump survive replaceRules and removal.
    func testForeignRulesSurvive() throws {
        let backend = IPTablesBackend()
        for family in [AddressFamily.inet, .inet6] {
            let dst = family == .inet ? v4 : v6
            let pristine = save(family, .mangle)
            XCTAssertEqual(ipt(family, ["-t", "mangle", "-A", "PREROUTING", "-p", "udp", "--dport", "53", "-j", "MARK", "--set-mark", "5"]), 0)
            XCTAssertEqual(ipt(family, ["-t", "mangle", "-N", "MINE"]), 0)
            XCTAssertEqual(ipt(family, ["-t", "mangle", "-A", "MINE", "-p", "tcp", "--dport", "25", "-m", "comment", "--comment", "lvsctl: not in our chain", "-j", "MARK", "--set-mark", "9"]), 0)
            let withHandRules = save(family, .mangle)

            try backend.replaceRules(rules(dst, .mark(1)), table: .mangle, family: family)
            // A rule after our jump, and one for the same owner comment outside our chain.
            XCTAssertEqual(ipt(family, ["-t", "mangle", "-A", "PREROUTING", "-p", "tcp", "--dport", "22", "-j", "MARK", "--set-mark", "6"]), 0)
            XCTAssertEqual(ipt(family, ["-t", "mangle", "-A", "PREROUTING", "-j", "MINE"]), 0)
            let second = [FirewallRule(owner: "bundle other", destination: dst, proto: .udp, ports: [PortRange(500)], action: .mark(2))]
            try backend.replaceRules(second, table: .mangle, family: family)
            XCTAssertEqual(try backend.rules(table: .mangle, family: family), second)
            let lines = save(family, .mangle).split(separator: "\n").map(String.init)
            let pre = lines.filter { $0.hasPrefix("-A PREROUTING") }
            XCTAssertEqual(pre.count, 4, "\(pre)")
            XCTAssertEqual(pre[1], "-A PREROUTING -m comment --comment lvsctl -j LVSCTL", "jump stays where it was")
            XCTAssertEqual(lines.filter { $0.hasPrefix("-A LVSCTL") }.count, 1)
            XCTAssertEqual(lines.filter { $0.hasPrefix("-A MINE") }.count, 1)

            try backend.replaceRules([], table: .mangle, family: family)
            XCTAssertEqual(ipt(family, ["-t", "mangle", "-D", "PREROUTING", "-p", "tcp", "--dport", "22", "-j", "MARK", "--set-mark", "6"]), 0)
            XCTAssertEqual(ipt(family, ["-t", "mangle", "-D", "PREROUTING", "-j", "MINE"]), 0)
            XCTAssertEqual(save(family, .mangle), withHandRules)
            // Removing again is a no-op.
            try backend.replaceRules([], table: .mangle, family: family)
            XCTAssertEqual(save(family, .mangle), withHandRules)
            reset(ref: false)
            XCTAssertEqual(save(family, .mangle), pristine)
        }
    }

    /// Unchanged content is not recommitted (counters survive); a foreign jump into LVSCTL keeps the chain alive.
    func testNoOpAndReferencedChain() throws {
        let backend = IPTablesBackend()
        let set = rules(v4, .mark(3))
        try backend.replaceRules(set, table: .mangle, family: .inet)
        // Give our first rule counters; a recommit would reset them.
        XCTAssertEqual(ipt(.inet, ["-t", "mangle", "-R", "LVSCTL", "1", "-c", "7", "700"] + Array(set[0].iptablesArguments.dropFirst(4))), 0)
        let before = captureProgram(tool(.inet, save: true), [tool(.inet, save: true), "-c", "-t", "mangle"])?.output ?? ""
        XCTAssertTrue(before.contains("[7:700]"), before)
        try backend.replaceRules(set, table: .mangle, family: .inet)
        let after = captureProgram(tool(.inet, save: true), [tool(.inet, save: true), "-c", "-t", "mangle"])?.output ?? ""
        XCTAssertTrue(after.contains("[7:700]"), "no-op replace must not recommit")

        XCTAssertEqual(ipt(.inet, ["-t", "mangle", "-A", "OUTPUT", "-j", "LVSCTL"]), 0)
        try backend.replaceRules([], table: .mangle, family: .inet)
        let s = save(.inet, .mangle)
        XCTAssertTrue(s.contains(":LVSCTL - [0:0]"), s)
        XCTAssertTrue(s.contains("-A OUTPUT -j LVSCTL"), s)
        XCTAssertFalse(s.contains("-A LVSCTL"), s)
        XCTAssertFalse(s.contains("-A PREROUTING"), s)
        XCTAssertEqual(try backend.rules(table: .mangle, family: .inet), [])
    }

    /// A held xtables lock makes replaceRules wait, then fail naming the lock file; nothing is written.
    func testLockHeldByAnotherProcess() throws {
        let path = "/run/lvsctl-fwtest-\(getpid()).lock"
        defer { unlink(path) }
        let fd = open(path, O_CREAT | O_RDONLY, 0o600)
        XCTAssertEqual(flock(fd, LOCK_EX), 0)
        let backend = IPTablesBackend(lockFile: path, lockTimeout: 0.2)
        XCTAssertThrowsError(try backend.replaceRules(rules(v4, .mark(1)), table: .mangle, family: .inet)) {
            XCTAssertEqual("\($0)", "mangle table: cannot take \(path): held by another process for 0.2 s")
        }
        XCTAssertFalse(save(.inet, .mangle).contains("LVSCTL"))
        close(fd)
        try backend.replaceRules(rules(v4, .mark(1)), table: .mangle, family: .inet)
        XCTAssertTrue(save(.inet, .mangle).contains("LVSCTL"))
    }

    /// Another writer (iptables-legacy -w, looping -A/-D in PREROUTING) while lvsctl rewrites a 300-rule chain.
    /// Sharing the xtables lock: every replaceRules lands and reads back exactly, with no EAGAIN.
    /// With lvsctl on a different lock file (a writer that ignores the lock): commits hit EAGAIN/EINVAL and are
    /// retried; replaceRules must not fail. (Lost updates are possible then - the kernel only compares entry
    /// counts - which is exactly why the lock exists; so only the final state is checked.)
    func testConcurrentWriter() throws {
        var set: [FirewallRule] = []
        for i in 0..<300 {
            set.append(FirewallRule(owner: "f\(i)", destination: IPAddress(bytes: [198, 18, 1, UInt8(i % 250)])!,
                                    proto: .tcp, ports: [PortRange(UInt16(1 + i))], action: .mark(UInt32(i))))
        }
        final class Flag: @unchecked Sendable { var stop = false; var runs = 0 }
        func withOtherWriter(_ body: () throws -> Void) rethrows -> Int {
            let flag = Flag()
            let other = Thread {
                let rule = ["-p", "udp", "--dport", "9", "-j", "MARK", "--set-mark", "1"]
                while !flag.stop {
                    runProgram("/usr/sbin/iptables-legacy", ["iptables-legacy", "-w", "-t", "mangle", "-A", "PREROUTING"] + rule)
                    runProgram("/usr/sbin/iptables-legacy", ["iptables-legacy", "-w", "-t", "mangle", "-D", "PREROUTING"] + rule)
                    flag.runs += 2
                    usleep(10_000)
                }
            }
            other.start()
            defer { flag.stop = true; while !other.isFinished { usleep(10_000) } }
            try body()
            return flag.runs
        }

        let shared = IPTablesBackend()
        var before = IPTablesBackend.commitRetries
        let runsShared = try withOtherWriter {
            for round in 0..<20 {
                set[0].action = .mark(UInt32(1000 + round))
                try shared.replaceRules(set, table: .mangle, family: .inet)
                XCTAssertEqual(try shared.rules(table: .mangle, family: .inet), set, "round \(round)")
            }
        }
        XCTAssertEqual(IPTablesBackend.commitRetries - before, 0)

        let separate = IPTablesBackend(lockFile: "/run/lvsctl-fwtest-alt-\(getpid()).lock")
        defer { unlink(separate.lockFile) }
        before = IPTablesBackend.commitRetries
        let runsSeparate = try withOtherWriter {
            for round in 0..<40 {
                set[0].action = .mark(UInt32(2000 + round))
                try separate.replaceRules(set, table: .mangle, family: .inet)
            }
        }
        let retries = IPTablesBackend.commitRetries - before
        print("CONCURRENT shared lock: 20 replaceRules, \(runsShared) iptables-legacy commands, 0 retries; "
              + "separate lock: 40 replaceRules, \(runsSeparate) iptables-legacy commands, \(retries) EAGAIN/EINVAL retries")
        set[0].action = .mark(1)
        try separate.replaceRules(set, table: .mangle, family: .inet)
        XCTAssertEqual(try separate.rules(table: .mangle, family: .inet), set)
        let jumps = save(.inet, .mangle).split(separator: "\n").filter { $0.hasPrefix("-A PREROUTING -m comment --comment lvsctl -j LVSCTL") }
        XCTAssertEqual(jumps.count, 1)
    }

    /// 1000 MARK rules written, read back, rewritten, left unchanged and removed through libiptc, each checked.
    /// With LVSCTL_FIREWALL_BENCH=1 it also times 1000 iptables-legacy invocations writing the same rules, for
    /// comparison: 1000 process starts (over ten minutes under user-mode Linux), so not part of make test.
    func testBenchmark1000MarkRules() throws {
        let n = 1000
        var set: [FirewallRule] = []
        for i in 0..<n {
            let dst = IPAddress(bytes: [198, 18, UInt8(i / 256), UInt8(i % 256)])!
            set.append(FirewallRule(owner: "bench \(i)", destination: dst, proto: .tcp,
                                    ports: [PortRange(80), PortRange(443)], action: .mark(UInt32(i + 1))))
        }
        let backend = IPTablesBackend()
        var t = monotonic()
        try backend.replaceRules(set, table: .mangle, family: .inet)
        let write = monotonic() - t
        t = monotonic()
        let back = try backend.rules(table: .mangle, family: .inet)
        let read = monotonic() - t
        XCTAssertEqual(back, set)
        var changed = set
        for i in changed.indices { changed[i].action = FirewallRule.Action.mark(UInt32(0x10000 + i)) }
        t = monotonic()
        try backend.replaceRules(changed, table: .mangle, family: .inet)
        let rewrite = monotonic() - t
        t = monotonic()
        try backend.replaceRules(changed, table: .mangle, family: .inet)
        let noop = monotonic() - t
        t = monotonic()
        try backend.replaceRules([], table: .mangle, family: .inet)
        let remove = monotonic() - t
        XCTAssertEqual(try backend.rules(table: .mangle, family: .inet), [])
        XCTAssertFalse(save(.inet, .mangle).contains("-A LVSCTL"))
        func ms(_ s: Double) -> String { String(Int((s * 1000).rounded())) + " ms" }
        guard ProcessInfo.processInfo.environment["LVSCTL_FIREWALL_BENCH"] == "1" else {
            print("BENCH \(n) MARK rules (multiport 80,443): libiptc one commit \(ms(write)); read back \(ms(read)); "
                  + "rewrite all \(ms(rewrite)); unchanged (no commit) \(ms(noop)); remove \(ms(remove))")
            return
        }

        t = monotonic()
        for args in FirewallRule.chainSetupArguments(table: .mangle) { ipt(.inet, args) }
        for r in set { XCTAssertEqual(ipt(.inet, r.iptablesArguments), 0) }
        let cli = monotonic() - t
        XCTAssertEqual(save(.inet, .mangle).split(separator: "\n").filter { $0.hasPrefix("-A LVSCTL") }.count, n)
        print("BENCH \(n) MARK rules (multiport 80,443): libiptc one commit \(ms(write)); read back \(ms(read)); "
              + "rewrite all \(ms(rewrite)); unchanged (no commit) \(ms(noop)); remove \(ms(remove)); "
              + "\(n) x iptables-legacy -A \(ms(cli))")
    }
}
