import XCTest
@testable import LVSCore
@testable import LVSKit

/// Test values shared by the monitor tests: one service -t 192.0.2.10:80 with real servers 198.51.100.N:80.
enum M {
    static let vip = ServiceKey.address(.tcp, Endpoint(address: IPAddress("192.0.2.10")!, port: 80))
    static let other = ServiceKey.address(.tcp, Endpoint(address: IPAddress("192.0.2.20")!, port: 80))
    static let fw = ServiceKey.fwmark(80, .inet)
    static func ep(_ n: Int, _ port: UInt16 = 80) -> Endpoint { Endpoint(address: IPAddress("198.51.100.\(n)")!, port: port) }
    static func rs(_ n: Int, weight: Int32, port: UInt16 = 80, fwd: ForwardingMethod = .masquerade) -> RealServer {
        RealServer(address: IPAddress("198.51.100.\(n)")!, port: port, forwarding: fwd, weight: weight)
    }
    static func ref(_ n: Int, _ service: ServiceKey = vip, port: UInt16 = 80) -> ServerRef {
        ServerRef(service: service, server: ep(n, port))
    }
    static func check(_ n: Int, _ service: ServiceKey = vip, kind: CheckKind = .tcp, port: UInt16? = nil,
                      serverPort: UInt16 = 80, interval: Double = 5, timeout: Double = 3, rise: Int = 2, fall: Int = 3,
                      onFail: FailAction = .quiesce, slowStart: Double = 0) -> HealthCheck {
        HealthCheck(service: service, server: ep(n, serverPort), kind: kind, port: port, interval: interval,
                    timeout: timeout, rise: rise, fall: fall, onFail: onFail, slowStart: slowStart)
    }
    /// A state fed `results` (true = pass) at times 0, 1, 2, ...
    static func state(_ results: [Bool], rise: Int = 2, fall: Int = 3, detail: String = "connection refused") -> CheckState {
        var s = CheckState(since: 0)
        for (i, ok) in results.enumerated() {
            s.record(ok ? .pass() : .fail(detail), at: Double(i), rise: rise, fall: fall)
        }
        return s
    }
    /// The configured table: -t 192.0.2.10:80 with .11 (w 5), .12 (w 3), .13 (w 2); -t 192.0.2.20:80 with .21 (w 4).
    static var config: ClusterConfig {
        var c = ClusterConfig()
        c.entries = [
            ServiceEntry(service: VirtualService(key: vip, scheduler: "wrr"), servers: [rs(11, weight: 5), rs(12, weight: 3), rs(13, weight: 2)]),
        ]
        return c
    }
}

/// The per-check state machine (issue #19: first round decides, rise/fall afterwards) and the model's helpers.
final class MonitorStateTests: XCTestCase {
    func testFirstResultDecidesAtOnce() {
        var up = CheckState(since: 0)
        XCTAssertEqual(up.health, .unknown)
        XCTAssertEqual(up.record(.pass("connected"), at: 1, rise: 2, fall: 3), .unknown)
        XCTAssertEqual(up.health, .up)
        XCTAssertEqual(up.since, 1)
        XCTAssertFalse(up.recovered, "unknown -> up is not a recovery (no slow start)")

        var down = CheckState(since: 0)
        XCTAssertEqual(down.record(.fail("connection refused"), at: 1, rise: 2, fall: 3), .unknown)
        XCTAssertEqual(down.health, .down, "a server that fails its first check never gets traffic")
        XCTAssertEqual(down.lastResult?.detail, "connection refused")
        XCTAssertEqual(down.lastTime, 1)
    }

    func testFallThenRise() {
        var s = CheckState(since: 0)
        s.record(.pass(), at: 0, rise: 2, fall: 3)
        XCTAssertNil(s.record(.fail("a"), at: 5, rise: 2, fall: 3))
        XCTAssertNil(s.record(.fail("b"), at: 10, rise: 2, fall: 3))
        XCTAssertEqual(s.failures, 2)
        XCTAssertEqual(s.health, .up, "2 of 3 failures: still up")
        XCTAssertEqual(s.record(.fail("c"), at: 15, rise: 2, fall: 3), .up)
        XCTAssertEqual(s.health, .down)
        XCTAssertEqual(s.since, 15)
        // A pass between failures starts the count again.
        XCTAssertNil(s.record(.pass(), at: 20, rise: 2, fall: 3))
        XCTAssertNil(s.record(.fail("d"), at: 25, rise: 2, fall: 3))
        XCTAssertNil(s.record(.pass(), at: 30, rise: 2, fall: 3))
        XCTAssertEqual(s.health, .down)
        XCTAssertEqual(s.record(.pass(), at: 35, rise: 2, fall: 3), .down)
        XCTAssertEqual(s.health, .up)
        XCTAssertTrue(s.recovered, "down -> up is a recovery")
        XCTAssertEqual(s.since, 35)
        XCTAssertEqual(s.passes, 2)
    }

    func testRiseAndFallOfOneAndBelow() {
        var s = CheckState(since: 0)
        s.record(.pass(), at: 0, rise: 1, fall: 1)
        XCTAssertEqual(s.record(.fail("x"), at: 1, rise: 1, fall: 1), .up)
        XCTAssertEqual(s.record(.pass(), at: 2, rise: 0, fall: 0), .down, "rise 0 counts as 1")
    }

    func testServerHealthNeedsAllChecks() {
        XCTAssertEqual(Health.of([.up, .up]), .up)
        XCTAssertEqual(Health.of([.up, .down]), .down)
        XCTAssertEqual(Health.of([.up, .unknown]), .unknown)
        XCTAssertEqual(Health.of([.unknown, .down]), .down)
        XCTAssertEqual(Health.of([]), .up)
    }

    func testDefaultsOfIssue19() {
        let c = HealthCheck(service: M.vip, server: M.ep(11))
        XCTAssertEqual(c.interval, 5); XCTAssertEqual(c.timeout, 3); XCTAssertEqual(c.rise, 2); XCTAssertEqual(c.fall, 3)
        XCTAssertEqual(c.onFail, .quiesce); XCTAssertEqual(c.slowStart, 0); XCTAssertEqual(c.kind, .tcp)
        XCTAssertEqual(c.target, M.ep(11))
        let h = HTTPCheck()
        XCTAssertEqual(h.path, "/"); XCTAssertTrue(h.accepts(200)); XCTAssertTrue(h.accepts(399)); XCTAssertFalse(h.accepts(404))
        XCTAssertFalse(h.insecure)
        XCTAssertTrue(HTTPCheck(expect: [200...200, 301...302]).accepts(302))
        // A fwmark service's server has port 0; --port names the checked port.
        let f = M.check(11, M.fw, kind: .https(HTTPCheck(host: "www.example")), port: 443, serverPort: 0)
        XCTAssertEqual(f.target, M.ep(11, 443))
        XCTAssertEqual(f.kind.name, "https")
        // Timing options do not change a check's identity; kind options and the port do.
        XCTAssertEqual(M.check(11, interval: 1).id, M.check(11, interval: 9, fall: 7).id)
        XCTAssertNotEqual(M.check(11).id, M.check(11, port: 8080).id)
        XCTAssertNotEqual(M.check(11, kind: .http(HTTPCheck())).id, M.check(11, kind: .http(HTTPCheck(path: "/x"))).id)
    }

    func testExecArgumentsReplacePlaceholders() {
        let e = ExecCheck(argv: ["/usr/lib/check", "-H", "%h", "--port=%p", "100%%", "%x", "end%"])
        XCTAssertEqual(e.arguments(address: IPAddress("2001:db8::5")!, port: 8443),
                       ["/usr/lib/check", "-H", "2001:db8::5", "--port=8443", "100%", "%x", "end%"])
    }

    func testTimeoutResultAndSecondsText() {
        XCTAssertEqual(CheckResult.timeout(after: 3).detail, "timeout after 3 s")
        XCTAssertEqual(CheckResult.timeout(after: 0.5).detail, "timeout after 0.5 s")
        XCTAssertEqual(CheckResult.timeout(after: 2.25).latency, 2.25)
        XCTAssertFalse(CheckResult.timeout(after: 1).passed)
    }
}
