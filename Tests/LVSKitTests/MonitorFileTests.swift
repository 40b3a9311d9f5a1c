import XCTest
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
@testable import LVSCore
@testable import LVSKit

/// From a file to the monitor's values and back: check and sorry lines as ``HealthCheck`` and ``SorryServer``, their
/// canonical text (what `save` writes while a monitor runs) read back to the same values, the table loaded before the
/// first round, and the configured weights `save` takes from the state file.
final class MonitorFileTests: XCTestCase {
    let text = """
    vs add -t 192.0.2.10:80 -s rr
    rs add -t 192.0.2.10:80 -r 198.51.100.11 -g -w 5
    rs add -t 192.0.2.10:80 -r 198.51.100.12 -g -w 3
    rs add -t 192.0.2.10:80 -r 198.51.100.13 -g -w 2
    bundle add web --vip 192.0.2.20 --ports 80,443 --mark 20
    rs add --bundle web -r 198.51.100.21 -g
    check -t 192.0.2.10:80 -r 198.51.100.11 --type http --path /health --expect 200,204-206 --interval 2 --fall 2 --body 'o k'
    check -t 192.0.2.10:80 -r 198.51.100.12 --type tcp --timeout 0.5 --on-fail remove --slow-start 30
    check --bundle web -r 198.51.100.21 --type https --port 443 --host www.example.com --insecure
    check -f 20 -r 198.51.100.21 --type exec --exec "/usr/lib/probe '%h x' %p"
    check -t 192.0.2.10:80 -r 198.51.100.11 --type udp --port 53 --send 'ping me' --receive '^pong'
    sorry -t 192.0.2.10:80 -r 203.0.113.5 -m -w 2

    """

    func monitor(_ t: String) throws -> MonitorConfig {
        let (c, s, dr) = try ConfigFile.parse(name: "f", text: t, base: ClusterConfig())
        return MonitorConfig(Loader.File(name: "f", desired: c, source: s, dr: dr))
    }

    func testValuesFromTheFile() throws {
        let m = try monitor(text)
        XCTAssertEqual(m.checks.count, 5)
        XCTAssertEqual(m.sorry.count, 1)
        let http = m.checks[0]
        XCTAssertEqual(http.kind, .http(HTTPCheck(path: "/health", expect: [200...200, 204...206], body: "o k")))
        XCTAssertNil(http.port, "the server's own port")
        XCTAssertEqual(http.target.description, "198.51.100.11:80")
        XCTAssertEqual(http.interval, 2); XCTAssertEqual(http.fall, 2); XCTAssertEqual(http.rise, 2)
        XCTAssertEqual(m.checks[1].onFail, .remove); XCTAssertEqual(m.checks[1].slowStart, 30)
        XCTAssertEqual(m.checks[2].target.description, "198.51.100.21:443")
        XCTAssertEqual(m.checks[3].kind, .exec(ExecCheck(argv: ["/usr/lib/probe", "%h x", "%p"])))
        XCTAssertEqual(m.sorry[0].server.weight, 2)
    }

    func testLinesReadBackToTheSameValues() throws {
        let m = try monitor(text)
        let base = text.split(separator: "\n").prefix(6).joined(separator: "\n") + "\n"
        let again = try monitor(base + m.lines.joined(separator: "\n") + "\n")
        XCTAssertEqual(again.checks, m.checks)
        XCTAssertEqual(again.sorry, m.sorry)
        XCTAssertEqual(m.lines[1], "check -t 192.0.2.10:80 -r 198.51.100.12:80 --type tcp --timeout 0.5 --on-fail remove --slow-start 30")
        XCTAssertEqual(m.lines.last, "sorry -t 192.0.2.10:80 -r 203.0.113.5:80 -m -w 2")
    }

    func testQuotedWordsReadBack() throws {
        for w in ["plain", "two words", "it's", "say \"hi\"", "both ' and \"", "#hash", ""] {
            XCTAssertEqual(try ConfigFile.tokenize(Substring("x " + quotedWord(w))), ["x", w], w)
        }
    }

    func testStartupConfigKeepsKernelWeightsOfCheckedServers() throws {
        let m = try monitor(text)
        let key = ServiceKey.address(.tcp, Endpoint(address: IPAddress("192.0.2.10")!, port: 80))
        var kernelService = m.config.entries[0]
        // .11 is in the kernel at weight 0 (quiesced by an earlier monitor), .12 and .13 are not there yet; the
        // sorry server is in the kernel.
        kernelService.servers = [m.config.entries[0].servers[0], RealServer(address: IPAddress("203.0.113.5")!, port: 80, weight: 2)]
        kernelService.servers[0].weight = 0
        let c = m.startupConfig(kernel: [kernelService])
        let servers = c.entries.first { $0.service.key == key }!.servers
        XCTAssertEqual(servers.map(\.endpoint.description), ["198.51.100.11:80", "198.51.100.13:80", "203.0.113.5:80"],
                       ".12 (remove on fail, not in the kernel) stays out; the sorry server in the kernel stays")
        XCTAssertEqual(servers.map(\.weight), [0, 2, 2], "kernel weight kept; .13 has no check: configured weight")
        let none = m.startupConfig(kernel: [])
        XCTAssertEqual(none.entries[0].servers.map(\.weight), [0, 2], "checked and new: weight 0; unchecked: configured")
    }

    func testSaveUsesConfiguredWeightsWithoutSorryServers() throws {
        var c = ClusterConfig()
        let svc = VirtualService(key: .address(.tcp, Endpoint(address: IPAddress("192.0.2.10")!, port: 80)))
        c.entries = [ServiceEntry(service: svc, servers: [
            RealServer(address: IPAddress("198.51.100.11")!, port: 80, weight: 0),
            RealServer(address: IPAddress("198.51.100.12")!, port: 80, weight: 7),
            RealServer(address: IPAddress("203.0.113.5")!, port: 80, weight: 1),
        ])]
        let state = MonitorStateFile(pid: 1, file: "f", netns: nil, started: "", updated: "", ready: true, checks: [], servers: [
            .init(service: "-t 192.0.2.10:80", server: "198.51.100.11:80", health: "down", present: true, weight: 0,
                  configured_weight: 5, reason: "down", sorry: false),
            .init(service: "-t 192.0.2.10:80", server: "203.0.113.5:80", health: "up", present: true, weight: 1,
                  configured_weight: 1, reason: "sorry", sorry: true),
        ], lines: [])
        let out = state.configured(c)
        XCTAssertEqual(out.entries[0].servers.map(\.weight), [5, 7], "configured weight; an unmonitored server as it is")
        XCTAssertEqual(out.entries[0].servers.count, 2, "the sorry server is not saved as a real server")
    }

    /// The state file's hand-written JSON is what JSONEncoder with sorted keys writes, byte for byte, and reads back
    /// to the same value: nil fields left out, strings escaped, whole and fractional numbers.
    func testStateFileEncoderMatchesJSONEncoder() throws {
        let state = MonitorStateFile(pid: 4242, file: "/etc/lvsctl/a b.conf", netns: "ns-1", started: "2026-12-02T08:00:00Z",
                                     updated: "2026-12-02T08:00:01.250Z", ready: true, checks: [
            .init(service: "-t 192.0.2.10:80", server: "198.51.100.11:80", target: "198.51.100.11:80", type: "http",
                  state: "down", since: "2026-12-02T08:00:00Z", passes: 0, failures: 3,
                  last_result: "http GET /a\"b\\c on port 80: body did not match \"\u{1}x\ty\n\"", last_passed: false,
                  last_time: "2026-12-02T08:00:01.000Z", latency_ms: 79.514, interval: 0.5, timeout: 3, rise: 2, fall: 3,
                  on_fail: "quiesce"),
            .init(service: "-f 1", server: "[2001:db8::1]:0", target: "[2001:db8::1]:443", type: "tcp", state: "unknown",
                  since: "2026-12-02T08:00:00Z", passes: 0, failures: 0, last_result: nil, last_passed: nil, last_time: nil,
                  latency_ms: nil, interval: 5, timeout: 1e-3, rise: 1, fall: 1, on_fail: "remove"),
        ], servers: [
            .init(service: "-t 192.0.2.10:80", server: "198.51.100.11:80", health: "down", present: true, weight: 0,
                  configured_weight: 5, reason: "down: timeout after 3 s", sorry: false, forwarding: "route",
                  upper_threshold: 100, lower_threshold: nil),
            .init(service: "-f 1", server: "203.0.113.5:0", health: "up", present: false, weight: 1,
                  configured_weight: 1, reason: "sorry server: a real server is up", sorry: true),
        ], lines: ["check -f 1 -r 2001:db8::1 --type tcp --port 443", "sorry -f 1 -r 203.0.113.5 -g"])
        var w = JSONBytes(capacity: 0)
        state.encode(into: &w)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), String(decoding: try enc.encode(state), as: UTF8.self))
        XCTAssertEqual(try JSONDecoder().decode(MonitorStateFile.self, from: Data(w.bytes)), state)
    }

    func testISOTime() {
        var times = ISOTimes()
        for t in [0, 1_796_000_000.25, 1_796_000_000.007, 1_796_000_000.999, 1_796_000_001.05] {
            XCTAssertEqual(times.format(t, millis: true), isoTime(t, millis: true))
            XCTAssertEqual(times.format(t), isoTime(t))
        }
        XCTAssertEqual(isoTime(0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(isoTime(1_796_000_000.25, millis: true), "2026-11-30T00:53:20.250Z")
        XCTAssertEqual(jsonString("a\"b\\\n\u{1}"), "\"a\\\"b\\\\\\n\\u0001\"")
    }
}

