import XCTest
@testable import LVSCore
@testable import LVSKit

/// `check` and `sorry` lines: parsed and checked like every other line, kept apart from the IPVS state.
final class CheckLineTests: XCTestCase {
    let base = """
    vs add -t 192.0.2.10:80 -s rr
    rs add -t 192.0.2.10:80 -r 198.51.100.11 -g -w 5
    rs add -t 192.0.2.10:80 -r 198.51.100.12 -g -w 5
    bundle add web --vip 192.0.2.20 --ports 80,443 --mark 20
    rs add --bundle web -r 198.51.100.21 -g

    """

    func parse(_ extra: String) throws -> (ClusterConfig, SourceMap) {
        let (c, s, _) = try ConfigFile.parse(name: "f", text: base + extra, base: ClusterConfig())
        return (c, s)
    }

    func error(_ extra: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do { _ = try parse(extra); XCTFail("accepted: \(extra)", file: file, line: line); return "" } catch { return "\(error)" }
    }

    func testGoodLines() throws {
        let (c, s) = try parse("""
        check -t 192.0.2.10:80 -r 198.51.100.11 --type http --path /health --expect 200,204 --interval 2 --fall 2
        check -t 192.0.2.10:80 -r 198.51.100.12 --type tcp --timeout 0.5 --on-fail remove --slow-start 30
        check --bundle web -r 198.51.100.21 --type https --port 443 --host www.example.com --insecure
        check --bundle web -r 198.51.100.21 --type tcp --port 80
        check -f 20 -r 198.51.100.21 --type exec --exec '/usr/lib/lvsctl/probe %h %p'
        check -t 192.0.2.10:80 -r 198.51.100.11 --type udp --port 53 --send ping --receive '^pong'
        sorry -t 192.0.2.10:80 -r 203.0.113.5 -m -w 1
        """)
        XCTAssertEqual(c, try parse("").0, "check and sorry lines leave the IPVS state alone")
        XCTAssertEqual(s.checks.count, 6)
        XCTAssertEqual(s.checks.map(\.line), [6, 7, 8, 9, 10, 11])
        let http = s.checks[0].check
        XCTAssertEqual(http.kind, .http); XCTAssertEqual(http.port, 80); XCTAssertEqual(http.path, "/health")
        XCTAssertEqual(http.expect, [200...200, 204...204]); XCTAssertEqual(http.interval, 2); XCTAssertEqual(http.fall, 2)
        XCTAssertEqual(http.rise, 2); XCTAssertEqual(http.timeout, 3)
        XCTAssertEqual(s.checks[1].check.timeout, 0.5); XCTAssertTrue(s.checks[1].check.remove); XCTAssertEqual(s.checks[1].check.slowStart, 30)
        XCTAssertEqual(s.checks[2].service, .fwmark(20, .inet)); XCTAssertEqual(s.checks[2].check.port, 443)
        XCTAssertEqual(s.checks[4].check.exec, ["/usr/lib/lvsctl/probe", "%h", "%p"])
        XCTAssertEqual(s.sorry.map(\.server.endpoint.description), ["203.0.113.5:80"])
        XCTAssertEqual(s.sorry[0].server.forwarding, .masquerade)
    }

    func testBadLinesNameTheLineAndTheValue() {
        let cases: [(String, String)] = [
            ("check -t 192.0.2.10:80 -r 198.51.100.11 --type ftp", "f:6: invalid check type 'ftp'"),
            ("check -t 192.0.2.10:80 -r 198.51.100.11", "f:6: Missing expected argument '--type <type>'"),
            ("check -t 192.0.2.10:80 -r 198.51.100.99 --type tcp", "f:6: real server '198.51.100.99' of -t 192.0.2.10:80 is not defined above this line"),
            ("check -t 192.0.2.11:80 -r 198.51.100.11 --type tcp", "f:6: service -t 192.0.2.11:80 is not defined above this line"),
            ("check --bundle web -r 198.51.100.21 --type tcp", "f:6: a check of fwmark service -f 20 needs --port"),
            ("check -t 192.0.2.10:80 -r 198.51.100.11 --type tcp --interval 0", "f:6: invalid check interval '0'"),
            ("check -t 192.0.2.10:80 -r 198.51.100.11 --type tcp --interval 1.2345", "f:6: invalid check interval '1.2345'"),
            ("check -t 192.0.2.10:80 -r 198.51.100.11 --type tcp --rise 0", "f:6: invalid rise '0'"),
            ("check -t 192.0.2.10:80 -r 198.51.100.11 --type tcp --on-fail drop", "f:6: invalid --on-fail 'drop'"),
            ("check -t 192.0.2.10:80 -r 198.51.100.11 --type tcp --path /x", "f:6: --path applies to http and https checks only, not tcp"),
            ("check -t 192.0.2.10:80 -r 198.51.100.11 --type http --insecure", "f:6: --insecure applies to https checks only, not http"),
            ("check -t 192.0.2.10:80 -r 198.51.100.11 --type http --expect 200-600", "f:6: invalid --expect '200-600'"),
            ("check -t 192.0.2.10:80 -r 198.51.100.11 --type http --body '('", "f:6: invalid --body regular expression '('"),
            ("check -t 192.0.2.10:80 -r 198.51.100.11 --type http --path 'a b'", "f:6: invalid check path 'a b'"),
            ("check -t 192.0.2.10:80 -r 198.51.100.11 --type udp --send x", "f:6: a udp check needs --receive REGEX"),
            ("check -t 192.0.2.10:80 -r 198.51.100.11 --type exec --exec 'probe %h'", "f:6: invalid --exec 'probe %h'"),
            ("check -t 192.0.2.10:80 -r 198.51.100.11 --type exec", "f:6: an exec check needs --exec"),
            ("sorry -t 192.0.2.10:80 -r 198.51.100.11", "f:6: sorry server 198.51.100.11:80 is a real server of -t 192.0.2.10:80"),
            ("sorry -t 192.0.2.10:80 -r 203.0.113.5\nsorry -t 192.0.2.10:80 -r 203.0.113.6", "f:7: -t 192.0.2.10:80 already has a sorry server at line 6"),
            ("sorry -t 192.0.2.10:80 -r 203.0.113.5 -w 70000", "f:6: invalid weight '70000'"),
        ]
        for (line, expected) in cases {
            let e = error(line)
            XCTAssertTrue(e.hasPrefix(expected), "\(line): \(e)")
        }
    }

    func testRestoreNotesTheLines() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lvsctl-check-\(getpid()).conf").path
        try (base + "check -t 192.0.2.10:80 -r 198.51.100.11 --type tcp\nsorry -t 192.0.2.10:80 -r 203.0.113.5\n").write(toFile: dir, atomically: true, encoding: .utf8)
        defer { unlink(dir) }
        XCTAssertEqual(try Loader.read(dir).monitorNote, "note: 2 check and sorry lines take effect under lvsctl monitor")
        try base.write(toFile: dir, atomically: true, encoding: .utf8)
        XCTAssertNil(try Loader.read(dir).monitorNote)
    }
}
