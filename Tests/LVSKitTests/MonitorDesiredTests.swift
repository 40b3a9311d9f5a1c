import XCTest
@testable import LVSCore
@testable import LVSKit

/// The desired table: quiesce and remove, all checks must pass, slow start, sorry servers, drained servers.
final class MonitorDesiredTests: XCTestCase {
    func weights(_ t: DesiredTable) -> [String] {
        t.services.flatMap { s in s.servers.map { "\($0.server.endpoint)=\($0.present ? String($0.server.weight) : "-")" } }
    }

    func testQuiesceKeepsAndRemoveDrops() {
        let checks = [
            CheckStatus(check: M.check(11), state: M.state([false])),
            CheckStatus(check: M.check(12, onFail: .remove), state: M.state([false])),
        ]
        let t = DesiredTable.compute(configured: M.config, checks: checks, now: 10)
        XCTAssertEqual(weights(t), ["198.51.100.11:80=0", "198.51.100.12:80=-", "198.51.100.13:80=2"])
        XCTAssertEqual(t.server(M.ref(11))?.reason, "down: connection refused")
        XCTAssertEqual(t.server(M.ref(12))?.health, .down)
        XCTAssertEqual(t.server(M.ref(13))?.reason, "no check", "a server without checks keeps its configured weight")
        // The configuration view holds the present servers only, with the other fields as configured.
        XCTAssertEqual(t.config.entries[0].servers.map(\.endpoint), [M.ep(11), M.ep(13)])
        XCTAssertEqual(t.config.entries[0].servers[0].forwarding, .masquerade)
        XCTAssertEqual(t.config.entries[0].service.scheduler, "wrr")
        XCTAssertNil(t.nextChange)
    }

    func testUpServersHaveTheirWeightAndUnknownOnesNone() {
        let checks = [
            CheckStatus(check: M.check(11), state: M.state([true])),
            CheckStatus(check: M.check(12, onFail: .remove), state: CheckState(since: 0)),
        ]
        let t = DesiredTable.compute(configured: M.config, checks: checks, now: 10)
        XCTAssertEqual(weights(t), ["198.51.100.11:80=5", "198.51.100.12:80=-", "198.51.100.13:80=2"])
        XCTAssertEqual(t.server(M.ref(12))?.reason, "not checked yet")
        XCTAssertEqual(t.server(M.ref(12))?.health, .unknown)
    }

    /// A bundle checked on 80 and 443: the server is up only while both pass.
    func testAllChecksOfAServerMustPass() {
        var c = ClusterConfig()
        c.entries = [ServiceEntry(service: VirtualService(key: M.fw), servers: [M.rs(11, weight: 4, port: 0, fwd: .directRoute)])]
        let http = M.check(11, M.fw, kind: .http(HTTPCheck()), port: 80, serverPort: 0)
        let https = M.check(11, M.fw, kind: .https(HTTPCheck()), port: 443, serverPort: 0)
        let both = DesiredTable.compute(configured: c, checks: [
            CheckStatus(check: http, state: M.state([true])), CheckStatus(check: https, state: M.state([true])),
        ], now: 1)
        XCTAssertEqual(weights(both), ["198.51.100.11:0=4"])
        let only443 = DesiredTable.compute(configured: c, checks: [
            CheckStatus(check: http, state: M.state([true, true, true])),
            CheckStatus(check: https, state: M.state([true, false, false, false], detail: "https GET / on port 443: certificate expired")),
        ], now: 5)
        XCTAssertEqual(weights(only443), ["198.51.100.11:0=0"])
        XCTAssertEqual(only443.server(ServerRef(service: M.fw, server: M.ep(11, 0)))?.reason,
                       "down: https GET / on port 443: certificate expired")
        // One of the checks removes: the server is removed while down.
        var removing = https
        removing.onFail = .remove
        let removed = DesiredTable.compute(configured: c, checks: [
            CheckStatus(check: http, state: M.state([true])), CheckStatus(check: removing, state: M.state([false])),
        ], now: 5)
        XCTAssertEqual(weights(removed), ["198.51.100.11:0=-"])
    }

    func testSlowStartClimbsFromOneAfterARecovery() {
        var c = ClusterConfig()
        c.entries = [ServiceEntry(service: VirtualService(key: M.vip), servers: [M.rs(11, weight: 10)])]
        let check = M.check(11, slowStart: 9)
        // Down at 0, passes at 1 and 2: up (recovered) since 2.
        let st = M.state([false, true, true])
        XCTAssertTrue(st.recovered)
        XCTAssertEqual(st.since, 2)
        func at(_ t: Double) -> (Int32, Double?, String) {
            let d = DesiredTable.compute(configured: c, checks: [CheckStatus(check: check, state: st)], now: t)
            return (d.services[0].servers[0].server.weight, d.nextChange, d.services[0].servers[0].reason)
        }
        // Weight 1 + floor(9 * e / 9): one step a second, the full weight at e = 9 (t = 11).
        XCTAssertEqual(at(2).0, 1); XCTAssertEqual(at(2).1, 3); XCTAssertEqual(at(2).2, "slow start: weight 1 of 10")
        XCTAssertEqual(at(2.5).0, 1)
        XCTAssertEqual(at(3).0, 2, "a step's own time has the new weight")
        XCTAssertEqual(at(6.5).0, 5); XCTAssertEqual(at(6.5).1, 7)
        XCTAssertEqual(at(10.99).0, 9); XCTAssertEqual(at(10.99).1, 11)
        XCTAssertEqual(at(11).0, 10); XCTAssertNil(at(11).1); XCTAssertEqual(at(11).2, "up")
        XCTAssertEqual(at(100).0, 10)
        // Every step's time gives its new weight (no wake-up that finds the old weight).
        var t = 2.0, w: Int32 = 1
        while let next = at(t).1 { t = next; let nw = at(t).0; XCTAssertGreaterThan(nw, w); w = nw }
        XCTAssertEqual(w, 10)
        // A first-round pass (unknown -> up) is no recovery: full weight at once.
        let first = DesiredTable.compute(configured: c, checks: [CheckStatus(check: check, state: M.state([true]))], now: 0)
        XCTAssertEqual(first.services[0].servers[0].server.weight, 10)
        XCTAssertNil(first.nextChange)
    }

    func testSlowStartWeightFunction() {
        XCTAssertEqual(DesiredTable.slowStartWeight(3, elapsed: 0, over: 10).weight, 1)
        XCTAssertEqual(DesiredTable.slowStartWeight(3, elapsed: 4.9, over: 10).weight, 1)
        XCTAssertEqual(DesiredTable.slowStartWeight(3, elapsed: 5, over: 10).weight, 2)
        XCTAssertEqual(DesiredTable.slowStartWeight(3, elapsed: 5, over: 10).nextStep, 10)
        XCTAssertEqual(DesiredTable.slowStartWeight(3, elapsed: 10, over: 10).weight, 3)
        XCTAssertEqual(DesiredTable.slowStartWeight(1, elapsed: 0, over: 10).weight, 1)
        XCTAssertEqual(DesiredTable.slowStartWeight(0, elapsed: 0, over: 10).weight, 0)
        XCTAssertEqual(DesiredTable.slowStartWeight(65535, elapsed: 1, over: 60).weight, 1 + 65534 / 60)
    }

    func testSorryServerInAndOut() {
        var c = ClusterConfig()
        c.entries = [ServiceEntry(service: VirtualService(key: M.vip), servers: [M.rs(11, weight: 5), M.rs(12, weight: 3)])]
        let sorry = [SorryServer(service: M.vip, server: M.rs(99, weight: 1)),
                     SorryServer(service: M.other, server: M.rs(98, weight: 1))]
        let monitor = MonitorConfig(config: c, checks: [M.check(11), M.check(12, onFail: .remove)], sorry: sorry)
        func table(_ a: Bool, _ b: Bool, drained: Set<ServerRef> = []) -> DesiredTable {
            DesiredTable.compute(monitor, checks: [
                CheckStatus(check: monitor.checks[0], state: M.state([a])),
                CheckStatus(check: monitor.checks[1], state: M.state([b])),
            ], drained: drained, now: 1)
        }
        XCTAssertEqual(weights(table(true, false)), ["198.51.100.11:80=5", "198.51.100.12:80=-", "198.51.100.99:80=-"])
        XCTAssertEqual(table(true, false).server(M.ref(99))?.reason, "sorry server: a real server is up")
        let none = table(false, false)
        XCTAssertEqual(weights(none), ["198.51.100.11:80=0", "198.51.100.12:80=-", "198.51.100.99:80=1"])
        XCTAssertEqual(none.server(M.ref(99))?.reason, "sorry server: no real server is up")
        XCTAssertEqual(none.server(M.ref(99))?.isSorry, true)
        XCTAssertEqual(weights(table(false, true)), ["198.51.100.11:80=0", "198.51.100.12:80=3", "198.51.100.99:80=-"])
        // Every up server drained: nothing serves, so the sorry server comes in.
        XCTAssertEqual(weights(table(true, false, drained: [M.ref(11)])), ["198.51.100.11:80=0", "198.51.100.12:80=-", "198.51.100.99:80=1"])
        // The sorry line of a service that is not configured is ignored; one naming a configured server too.
        XCTAssertEqual(DesiredTable.compute(configured: c, checks: [], sorry: [SorryServer(service: M.vip, server: M.rs(11, weight: 9))], now: 0)
                        .services[0].servers.map(\.server.weight), [5, 3])
    }

    func testDrainedServersHaveWeightZeroWhateverTheirChecks() {
        let drained: Set<ServerRef> = [M.ref(11), M.ref(12), M.ref(13)]
        let checks = [CheckStatus(check: M.check(11), state: M.state([true])),
                      CheckStatus(check: M.check(12, onFail: .remove), state: M.state([false]))]
        let t = DesiredTable.compute(configured: M.config, checks: checks, drained: drained, now: 1)
        XCTAssertEqual(weights(t), ["198.51.100.11:80=0", "198.51.100.12:80=-", "198.51.100.13:80=0"])
        XCTAssertEqual(t.server(M.ref(11))?.reason, "drained")
        XCTAssertEqual(t.server(M.ref(11))?.health, .up)
        XCTAssertEqual(t.server(M.ref(13))?.reason, "drained")
    }
}
