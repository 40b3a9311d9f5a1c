import Foundation
import XCTest
@testable import LVSCore
@testable import LVSKit

/// The IPVS sysctls: the knob table and its rules, `sysctl set` lines in files, save's rendering, and planning and
/// writing with rollback. Knobs are files in a temporary folder standing in for /proc/sys/net/ipv4/vs (nothing
/// here touches /proc/sys); Tests/Kernel/t-sysctl.sh runs the same against the real kernel.
final class SysctlTests: XCTestCase {
    /// `ls /proc/sys/net/ipv4/vs` with every IPVS module loaded, in a fresh namespace of Debian's 6.1 kernel
    /// (user-mode Linux 6.1.176), with each value (sync_qlen_max depends on the memory).
    static let linux61: [String: String] = [
        "am_droprate": "10", "amemthresh": "1024", "backup_only": "0", "cache_bypass": "0", "conn_reuse_mode": "1",
        "conntrack": "0", "debug_level": "0", "drop_entry": "0", "drop_packet": "0", "expire_nodest_conn": "0",
        "expire_quiescent_template": "0", "ignore_tunneled": "0", "lblc_expiration": "86400", "lblcr_expiration": "86400",
        "nat_icmp_send": "0", "pmtu_disc": "1", "run_estimation": "1", "schedule_icmp": "0", "secure_tcp": "0",
        "sloppy_sctp": "0", "sloppy_tcp": "0", "snat_reroute": "1", "sync_persist_mode": "0", "sync_ports": "1",
        "sync_qlen_max": "15853", "sync_refresh_period": "0", "sync_retries": "0", "sync_sock_size": "0",
        "sync_threshold": "3\t50", "sync_version": "1",
    ]

    var dir: URL!
    var knobs: IPVSSysctlDirectory { IPVSSysctlDirectory(directory: dir.path) }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("lvsctl-sysctl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (k, v) in Self.linux61 { try put(k, v) }
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func put(_ name: String, _ value: String) throws {
        try (value + "\n").write(to: dir.appendingPathComponent(name), atomically: false, encoding: .utf8)
    }
    func get(_ name: String) throws -> String {
        try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
    }

    // MARK: the table

    func testTheTableCoversLinux61AndItsDefaultsPassTheirRules() {
        for (name, value) in Self.linux61 {
            guard let k = IPVSSysctl.named(name) else { XCTFail("\(name) is not in the table"); continue }
            XCTAssertFalse(k.explanation.isEmpty, name)
            if let d = k.defaultValue {
                XCTAssertEqual(k.rule.canonical(d), d, "\(name): the default passes its own rule")
                XCTAssertFalse(k.differs(kernel: value.replacingOccurrences(of: "\t", with: " "), from: d), "\(name): 6.1's value is the default")
            } else {
                XCTAssertNotNil(k.defaultNote, name)
            }
        }
        XCTAssertEqual(Set(IPVSSysctl.all.map(\.name)).count, IPVSSysctl.all.count, "names are unique")
        XCTAssertEqual(Set(IPVSSysctl.all.map(\.name)).subtracting(Self.linux61.keys), ["est_cpulist", "est_nice"])
        for k in IPVSSysctl.all { XCTAssertFalse(k.explanation.contains("\n"), "\(k.name): one line") }
    }

    /// Each rule, with its edge cases.
    func testRules() {
        func ok(_ name: String, _ values: [String: String], file: StaticString = #filePath, line: UInt = #line) {
            let r = IPVSSysctl.named(name)!.rule
            for (v, want) in values { XCTAssertEqual(r.canonical(v), want, "\(name)=\(v)", file: file, line: line) }
        }
        func refused(_ name: String, _ values: [String], file: StaticString = #filePath, line: UInt = #line) {
            let r = IPVSSysctl.named(name)!.rule
            for v in values { XCTAssertNil(r.canonical(v), "\(name)=\(v) is refused", file: file, line: line) }
        }
        ok("expire_nodest_conn", ["0": "0", "1": "1"])
        refused("expire_nodest_conn", ["2", "-1", "", "yes", "01", " 1", "1.0"])
        ok("conn_reuse_mode", ["0": "0", "3": "3", "2": "2"])
        refused("conn_reuse_mode", ["4", "-1", "x"])
        ok("drop_entry", ["0": "0", "1": "1", "2": "2", "3": "3"])
        refused("drop_packet", ["4", "-1"])
        ok("sync_ports", ["1": "1", "2": "2", "4": "4", "64": "64"])
        refused("sync_ports", ["0", "3", "6", "128", "-2"])
        ok("sync_threshold", ["3 50": "3 50", "3,50": "3 50", "3\t50": "3 50", "0 0": "0 0", "7 0": "7 0", "49 50": "49 50"])
        refused("sync_threshold", ["50 3", "50 50", "3", "3 50 7", "-1 50", "3 -50", "a b", ""])
        ok("am_droprate", ["1": "1", "2147483647": "2147483647"])
        refused("am_droprate", ["0", "2147483648", "-5"])
        refused("amemthresh", ["0"])
        ok("est_nice", ["-20": "-20", "19": "19", "0": "0"])
        refused("est_nice", ["-21", "20", "--1"])
        ok("est_cpulist", ["": "", "0-3,8": "0-3,8", "all": "all", "0,1-N:1/2": "0,1-N:1/2"])
        refused("est_cpulist", ["0-3 8", "x"])
        ok("sync_retries", ["3": "3"]); refused("sync_retries", ["4"])
        ok("sync_version", ["0": "0", "1": "1"]); refused("sync_version", ["2"])
        ok("sync_persist_mode", ["1": "1"]); refused("sync_persist_mode", ["2"])
        ok("lblc_expiration", ["60": "60"]); refused("lblc_expiration", ["0", "2147484"])
        ok("debug_level", ["12": "12"]); refused("debug_level", ["13"])
        ok("sync_qlen_max", ["100000": "100000"]); refused("sync_qlen_max", ["0"])
        ok("sync_sock_size", ["0": "0", "1048576": "1048576"]); refused("sync_sock_size", ["-1"])
    }

    /// The kernel's value means the wanted one: any non-zero boolean is on; defense modes 1 and 2 are both automatic.
    func testKernelValuesThatMeanTheSame() {
        let b = IPVSSysctl.named("expire_nodest_conn")!, d = IPVSSysctl.named("drop_entry")!, t = IPVSSysctl.named("sync_threshold")!
        XCTAssertFalse(b.differs(kernel: "5", from: "1"))
        XCTAssertTrue(b.differs(kernel: "5", from: "0"))
        XCTAssertTrue(b.differs(kernel: "0", from: "1"))
        XCTAssertFalse(d.differs(kernel: "2", from: "1"))
        XCTAssertTrue(d.differs(kernel: "2", from: "3"))
        XCTAssertFalse(t.differs(kernel: "3 50", from: "3 50"))
        XCTAssertTrue(t.differs(kernel: "3 50", from: "4 50"))
    }

    // MARK: sysctl set NAME=VALUE

    func testSpecs() throws {
        XCTAssertEqual(try SysctlSpec(settings: ["expire_nodest_conn=1", "net.ipv4.vs.sync_threshold=3,40", "net/ipv4/vs/sloppy_tcp=1"]).model(),
                       [SysctlSetting(name: "expire_nodest_conn", value: "1"), SysctlSetting(name: "sync_threshold", value: "3 40"),
                        SysctlSetting(name: "sloppy_tcp", value: "1")])
        XCTAssertEqual(try SysctlSpec(settings: ["est_cpulist="]).model(), [SysctlSetting(name: "est_cpulist", value: "")])
        let bad: [([String], String)] = [
            ([], "give at least one NAME=VALUE, e.g. expire_nodest_conn=1"),
            (["expire_nodest_conn"], "invalid sysctl setting 'expire_nodest_conn' (expected NAME=VALUE, e.g. expire_nodest_conn=1)"),
            (["=1"], "invalid sysctl setting '=1' (expected NAME=VALUE, e.g. expire_nodest_conn=1)"),
            (["nosuch_knob=1"], "unknown IPVS sysctl 'nosuch_knob' (lvsctl sysctl show lists them)"),
            (["net.ipv4.conf.all.arp_ignore=1"], "unknown IPVS sysctl 'net.ipv4.conf.all.arp_ignore' (lvsctl sysctl show lists them)"),
            (["expire_nodest_conn=2"], "invalid value '2' for expire_nodest_conn (expected 0 or 1)"),
            (["conn_reuse_mode=4"], "invalid value '4' for conn_reuse_mode (expected 0..3)"),
            (["sync_ports=3"], "invalid value '3' for sync_ports (expected a power of two, 1..64)"),
            (["sync_threshold=50 3"], "invalid value '50 3' for sync_threshold (expected 'THRESHOLD PERIOD' with THRESHOLD < PERIOD, or PERIOD 0)"),
            (["expire_nodest_conn=1", "net.ipv4.vs.expire_nodest_conn=0"], "sysctl expire_nodest_conn is given twice"),
        ]
        for (words, message) in bad {
            XCTAssertThrowsError(try SysctlSpec(settings: words).model(), "\(words)") { XCTAssertEqual("\($0)", message) }
        }
    }

    func testSettingWordsQuoteBlanks() {
        XCTAssertEqual(SysctlSetting(name: "expire_nodest_conn", value: "1").word, "expire_nodest_conn=1")
        XCTAssertEqual(SysctlSetting(name: "sync_threshold", value: "3 50").word, "'sync_threshold=3 50'")
        XCTAssertEqual(SysctlSetting(name: "est_cpulist", value: "").word, "'est_cpulist='")
        XCTAssertEqual(SysctlChange(name: "expire_nodest_conn", from: "0", to: "1").description, "~ sysctl expire_nodest_conn 0 -> 1")
        XCTAssertEqual(SysctlChange(name: "sync_threshold", from: "3 50", to: "4 50").description, "~ sysctl sync_threshold '3 50' -> '4 50'")
    }

    // MARK: files

    func testFileLines() throws {
        let text = """
            sysctl set expire_nodest_conn=1 net.ipv4.vs.expire_quiescent_template=1
            # a comment
            sysctl set 'sync_threshold=3 100'
            lvsctl sysctl set conn_reuse_mode=0
            """
        let (c, src, _) = try ConfigFile.parse(name: "f.conf", text: text, base: ClusterConfig())
        XCTAssertEqual(c.sysctls, ["expire_nodest_conn": "1", "expire_quiescent_template": "1", "sync_threshold": "3 100", "conn_reuse_mode": "0"])
        XCTAssertEqual(src.line(ofSysctl: "sync_threshold"), "f.conf:3")
        XCTAssertEqual(src.line(ofSysctl: "expire_quiescent_template"), "f.conf:1")
        let bad: [(String, String)] = [
            ("sysctl set expire_nodest_conn=1\nsysctl set expire_nodest_conn=0", "f.conf:2: sysctl expire_nodest_conn is already set at line 1"),
            ("vs add -t 192.0.2.1:80\nsysctl set sync_ports=3", "f.conf:2: invalid value '3' for sync_ports (expected a power of two, 1..64)"),
            ("sysctl set bogus=1", "f.conf:1: unknown IPVS sysctl 'bogus' (lvsctl sysctl show lists them)"),
            ("sysctl set", "f.conf:1: Missing expected argument '<settings> ...'"),
            ("sysctl set --tcp 5 a=1", "f.conf:1: Unknown option '--tcp'. Did you mean '--help'?"),
            ("sysctl show", "f.conf:1: 'sysctl show' cannot appear in a configuration file (allowed: \(Grammar.allowed))"),
        ]
        for (t, message) in bad {
            XCTAssertThrowsError(try ConfigFile.parse(name: "f.conf", text: t, base: ClusterConfig()), t) { XCTAssertEqual("\($0)", message) }
        }
    }

    /// save writes one `sysctl set` line per knob, in name order, after the timeouts; reading it back gives the same.
    func testSaveRenderingRoundTrips() throws {
        var c = ClusterConfig()
        c.timeouts = Timeouts(tcp: 900, tcpFin: 120, udp: 300)
        c.sysctls = ["sync_threshold": "3 100", "expire_nodest_conn": "1", "conn_reuse_mode": "0"]
        let text = LVSCtlFormat.render(c)
        XCTAssertEqual(text, """
            timeout set --tcp 900 --tcpfin 120 --udp 300
            sysctl set conn_reuse_mode=0
            sysctl set expire_nodest_conn=1
            sysctl set 'sync_threshold=3 100'

            """)
        XCTAssertEqual(try ConfigFile.parse(name: "-", text: text, base: ClusterConfig()).0, c)
        XCTAssertEqual(LVSCtlFormat.render(ClusterConfig()), "", "no sysctl lines when none differ")
    }

    /// What save takes from the kernel: the knobs that differ from their defaults, in lvsctl's form.
    func testSavedKnobs() throws {
        XCTAssertEqual(try Sysctls.saved(knobs).settings, [], "a fresh namespace saves nothing")
        try put("expire_nodest_conn", "1")
        try put("sync_threshold", "3\t100")
        try put("sloppy_tcp", "5")          // on: saved as 1
        try put("drop_entry", "2")          // automatic, as the kernel switched it: saved as 1
        try put("conn_reuse_mode", "7")     // the kernel took it; lvsctl's rule does not
        try put("sync_qlen_max", "99")      // no fixed default: never saved
        try put("some_future_knob", "1")    // unknown: never saved
        let (settings, notes) = try Sysctls.saved(knobs)
        XCTAssertEqual(settings.map(\.word), ["drop_entry=1", "expire_nodest_conn=1", "sloppy_tcp=1", "'sync_threshold=3 100'"])
        XCTAssertEqual(notes, ["sysctl conn_reuse_mode=7 is not saved: lvsctl accepts 0..3"])
        XCTAssertEqual(try Sysctls.saved(IPVSSysctlDirectory(directory: dir.path + "/none")).settings, [], "no IPVS: nothing")
    }

    // MARK: show, plan, write, roll back

    func testRows() throws {
        try put("expire_nodest_conn", "1")
        try put("some_future_knob", "7")
        let rows = try Sysctls.rows(knobs)
        XCTAssertEqual(rows.map(\.name), (Array(Self.linux61.keys) + ["some_future_knob"]).sorted())
        let r = Dictionary(uniqueKeysWithValues: rows.map { ($0.name, $0) })
        XCTAssertEqual(r["sync_threshold"]?.value, "3 50")
        XCTAssertEqual(r["expire_nodest_conn"]?.changed, true)
        XCTAssertEqual(r["conn_reuse_mode"]?.changed, false)
        XCTAssertNil(r["sync_qlen_max"]?.changed)
        XCTAssertNil(r["some_future_knob"]?.knob)
        XCTAssertEqual(try Sysctls.rows(knobs, names: ["net.ipv4.vs.sloppy_tcp", "expire_nodest_conn"]).map(\.name), ["sloppy_tcp", "expire_nodest_conn"])
        XCTAssertThrowsError(try Sysctls.rows(knobs, names: ["nosuch"])) { XCTAssertTrue($0 is UsageError, "\($0)") }
        XCTAssertThrowsError(try Sysctls.rows(knobs, names: ["est_nice"])) {
            XCTAssertEqual("\($0)", "the running kernel has no IPVS sysctl net.ipv4.vs.est_nice")
            XCTAssertFalse($0 is UsageError)
        }
        XCTAssertThrowsError(try Sysctls.rows(IPVSSysctlDirectory(directory: dir.path + "/none"))) { XCTAssertTrue($0 is SystemError) }
    }

    func testPlan() throws {
        try put("sloppy_tcp", "5")
        let want = try SysctlSpec(settings: ["expire_nodest_conn=1", "sloppy_tcp=1", "conn_reuse_mode=1", "sync_threshold=3,60"]).model()
        XCTAssertEqual(try Sysctls.plan(want, in: knobs).map(\.description),
                       ["~ sysctl expire_nodest_conn 0 -> 1", "~ sysctl sync_threshold '3 50' -> '3 60'"],
                       "only what differs; sloppy_tcp 5 is already on")
        XCTAssertEqual(try Sysctls.plan([], in: IPVSSysctlDirectory(directory: "/nonexistent")), [], "no settings: no I/O")
        // A knob the running kernel lacks: exit 1, naming it and the file line.
        let missing = try SysctlSpec(settings: ["est_nice=5"]).model()
        XCTAssertThrowsError(try Sysctls.plan(missing, in: knobs, lineOf: { $0 == "est_nice" ? "f.conf:4" : nil })) {
            XCTAssertTrue($0 is SystemError)
            XCTAssertEqual("\($0)", "f.conf:4: the running kernel has no IPVS sysctl net.ipv4.vs.est_nice")
        }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("lblcr_expiration"))
        XCTAssertThrowsError(try Sysctls.plan(try SysctlSpec(settings: ["lblcr_expiration=60"]).model(), in: knobs)) {
            XCTAssertEqual("\($0)", "the running kernel has no IPVS sysctl net.ipv4.vs.lblcr_expiration (load module ip_vs_lblcr first)")
        }
        // A read-only knob that would have to change (debug_level outside the initial namespace).
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: dir.appendingPathComponent("debug_level").path)
        XCTAssertEqual(try Sysctls.plan(try SysctlSpec(settings: ["debug_level=0"]).model(), in: knobs), [], "unchanged: fine")
        XCTAssertThrowsError(try Sysctls.plan(try SysctlSpec(settings: ["debug_level=3"]).model(), in: knobs)) {
            XCTAssertEqual("\($0)", "net.ipv4.vs.debug_level is read-only in this network namespace (a global knob: set it in the initial namespace)")
        }
    }

    func testSetWritesAllOrPutsBack() throws {
        let changes = try Sysctls.set(SysctlSpec(settings: ["expire_nodest_conn=1", "sync_threshold=3 60"]), in: knobs)
        XCTAssertEqual(changes.count, 2)
        XCTAssertEqual(try get("expire_nodest_conn"), "1\n")
        XCTAssertEqual(try get("sync_threshold"), "3 60\n")
        // Bad input: nothing written.
        XCTAssertThrowsError(try Sysctls.set(SysctlSpec(settings: ["sloppy_tcp=1", "conn_reuse_mode=9"]), in: knobs))
        XCTAssertEqual(try get("sloppy_tcp"), "0\n")
        // The kernel refuses the third write (here: the knob is a folder, EISDIR): the first two are put back.
        let undo = try Sysctls.execute([SysctlChange(name: "sloppy_tcp", from: "0", to: "1")], in: knobs)
        XCTAssertEqual(try get("sloppy_tcp"), "1\n")
        undo()
        XCTAssertEqual(try get("sloppy_tcp"), "0\n", "the undo restore and apply run when a later step fails")
        try FileManager.default.removeItem(at: dir.appendingPathComponent("sync_version"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sync_version"), withIntermediateDirectories: false)
        let plan = [SysctlChange(name: "sloppy_tcp", from: "0", to: "1"), SysctlChange(name: "sloppy_sctp", from: "0", to: "1"),
                    SysctlChange(name: "sync_version", from: "1", to: "0")]
        XCTAssertThrowsError(try Sysctls.execute(plan, in: knobs, lineOf: { "f.conf:\($0.count)" })) {
            XCTAssertTrue($0 is SystemError)
            XCTAssertEqual("\($0)", "f.conf:12: cannot set net.ipv4.vs.sync_version to 0: Is a directory; the sysctls already set were put back, nothing changed")
        }
        XCTAssertEqual(try get("sloppy_tcp"), "0\n")
        XCTAssertEqual(try get("sloppy_sctp"), "0\n")
    }
}
