import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import LVSCore
@testable import LVSKit
import LVSTestSupport

/// The reconciler against FakeIPVSKernel: state changes and drift corrected with one log line each, refusals
/// reported without stopping the others, unmonitored services and unowned fields left alone.
final class MonitorReconcileTests: XCTestCase {
    /// -t 192.0.2.10:80 (.11 w5 quiesce, .12 w3 remove, .13 w2 no check, sorry .99) and the unmonitored
    /// -t 192.0.2.20:80 with .21.
    let monitor = MonitorConfig(config: M.config, checks: [M.check(11), M.check(12, onFail: .remove)],
                                sorry: [SorryServer(service: M.vip, server: M.rs(99, weight: 1))])

    func kernel() -> FakeIPVSKernel {
        var s = M.config
        s.entries.append(ServiceEntry(service: VirtualService(key: M.other), servers: [M.rs(21, weight: 4)]))
        return FakeIPVSKernel(s)
    }

    /// .11 up or down, .12 up or down; `drain13` drains .13 (the server without a check), so that nothing serves.
    func desired(_ a: Bool, _ b: Bool, drain13: Bool = false) -> DesiredTable {
        DesiredTable.compute(monitor, checks: [
            CheckStatus(check: monitor.checks[0], state: M.state([a])),
            CheckStatus(check: monitor.checks[1], state: M.state([b])),
        ], drained: drain13 ? [M.ref(13)] : [], now: 1)
    }

    func weights(_ k: FakeIPVSKernel, _ key: ServiceKey = M.vip) -> [String] {
        k.entries.first { $0.service.key == key }?.servers.map { "\($0.address)=\($0.weight)" } ?? []
    }

    func testNothingToDoWhenTheKernelMatches() throws {
        let k = kernel()
        var r = Reconciler()
        XCTAssertEqual(try r.reconcile(desired(true, true), client: k).corrections, [])
        XCTAssertTrue(k.log.isEmpty)
    }

    func testStateChangesQuiesceRemoveAndBack() throws {
        let k = kernel()
        var r = Reconciler()
        _ = try r.reconcile(desired(true, true), client: k)
        // Both checked servers down and the third drained: nothing serves, the sorry server comes in.
        let down = try r.reconcile(desired(false, false, drain13: true), client: k)
        XCTAssertTrue(down.ok)
        XCTAssertEqual(down.corrections.map(\.log), [
            "rs 198.51.100.11:80 of -t 192.0.2.10:80: weight 5 -> 0 (down: connection refused)",
            "rs 198.51.100.13:80 of -t 192.0.2.10:80: weight 2 -> 0 (drained)",
            "rs 198.51.100.99:80 of -t 192.0.2.10:80: added with weight 1 (sorry server: no real server is up)",
            "rs 198.51.100.12:80 of -t 192.0.2.10:80: removed (down: connection refused)",
        ], "the sorry server comes in before the last server goes")
        XCTAssertEqual(down.corrections.map(\.drift), [false, false, false, false])
        XCTAssertEqual(weights(k), ["198.51.100.11=0", "198.51.100.13=0", "198.51.100.99=1"])
        // The edit keeps the kernel's other fields.
        XCTAssertEqual(k.entries[0].servers[0].forwarding, .masquerade)

        let up = try r.reconcile(desired(true, true), client: k)
        XCTAssertEqual(up.corrections.map(\.log), [
            "rs 198.51.100.11:80 of -t 192.0.2.10:80: weight 0 -> 5 (up)",
            "rs 198.51.100.12:80 of -t 192.0.2.10:80: added with weight 3 (up)",
            "rs 198.51.100.13:80 of -t 192.0.2.10:80: weight 0 -> 2 (no check)",
            "rs 198.51.100.99:80 of -t 192.0.2.10:80: removed (sorry server: a real server is up)",
        ])
        XCTAssertEqual(weights(k), ["198.51.100.11=5", "198.51.100.13=2", "198.51.100.12=3"])
        XCTAssertEqual(weights(k, M.other), ["198.51.100.21=4"], "the unmonitored service is untouched")
        XCTAssertFalse(k.log.contains { if case .addDest(M.other, _) = $0.request { return true }; return false })
    }

    /// A change of state corrects only the services it concerns, reading back only them; the memory of the others
    /// is kept, so a hand edit there is still told as drift by the next full reconcile.
    func testQuickReconcileTouchesOnlyTheNamedServices() throws {
        let k = kernel()
        var r = Reconciler()
        func both(_ a: Bool) -> DesiredTable {
            var d = desired(a, true)
            d.services.append(DesiredService(service: VirtualService(key: M.other), servers: [
                DesiredServer(server: M.rs(21, weight: 4), present: true, health: .up, reason: "no check"),
            ]))
            return d
        }
        _ = try r.reconcile(both(true), client: k)
        try k.perform(.editDest(M.other, M.rs(21, weight: 9)))
        let quick = try r.reconcile(both(false), only: [M.vip], client: k)
        XCTAssertEqual(quick.corrections.map(\.log), ["rs 198.51.100.11:80 of -t 192.0.2.10:80: weight 5 -> 0 (down: connection refused)"])
        XCTAssertEqual(weights(k, M.other), ["198.51.100.21=9"], "a service not named is not touched")
        let full = try r.reconcile(both(false), client: k)
        XCTAssertEqual(full.corrections.map(\.log), ["rs 198.51.100.21:80 of -t 192.0.2.20:80: corrected drift: weight 9 set by hand -> 4 (no check)"])
        XCTAssertEqual(weights(k, M.other), ["198.51.100.21=4"])
        // A named service deleted by hand cannot be read back: the quick path throws (the daemon then reconciles in full).
        try k.perform(.deleteService(M.vip))
        XCTAssertThrowsError(try r.reconcile(both(true), only: [M.vip], client: k))
        XCTAssertEqual(try r.reconcile(both(true), client: k).corrections.first?.log,
                       "vs -t 192.0.2.10:80: corrected drift: service deleted by hand, added again")
    }

    func testDriftIsCorrectedAndLogged() throws {
        let k = kernel()
        var r = Reconciler()
        _ = try r.reconcile(desired(true, false), client: k)
        XCTAssertEqual(weights(k), ["198.51.100.11=5", "198.51.100.13=2"])

        // A weight changed by hand (ipvsadm -e), with a threshold the monitor does not own.
        var hand = M.rs(11, weight: 7)
        hand.upperThreshold = 100
        try k.perform(.editDest(M.vip, hand))
        // A server without a check deleted by hand; the removed server added back by hand.
        try k.perform(.deleteDest(M.vip, M.ep(13)))
        try k.perform(.addDest(M.vip, M.rs(12, weight: 3)))
        // A server nobody configured, added by hand: not the monitor's.
        try k.perform(.addDest(M.vip, M.rs(50, weight: 1)))
        let fix = try r.reconcile(desired(true, false), client: k)
        XCTAssertEqual(fix.corrections.map(\.log), [
            "rs 198.51.100.11:80 of -t 192.0.2.10:80: corrected drift: weight 7 set by hand -> 5 (up)",
            "rs 198.51.100.13:80 of -t 192.0.2.10:80: corrected drift: deleted by hand, added again with weight 2 (no check)",
            "rs 198.51.100.12:80 of -t 192.0.2.10:80: corrected drift: added by hand, removed again (down: connection refused)",
        ])
        XCTAssertEqual(fix.corrections.map(\.drift), [true, true, true])
        XCTAssertEqual(weights(k), ["198.51.100.11=5", "198.51.100.50=1", "198.51.100.13=2"])
        XCTAssertEqual(k.entries[0].servers[0].upperThreshold, 100, "fields the monitor does not own are kept")

        // The whole service deleted by hand: added again, as configured, with the servers that should be there.
        try k.perform(.deleteService(M.vip))
        let back = try r.reconcile(desired(true, false), client: k)
        XCTAssertEqual(back.corrections.map(\.log), [
            "vs -t 192.0.2.10:80: corrected drift: service deleted by hand, added again",
            "rs 198.51.100.11:80 of -t 192.0.2.10:80: added with weight 5 (up)",
            "rs 198.51.100.13:80 of -t 192.0.2.10:80: added with weight 2 (no check)",
        ])
        XCTAssertEqual(k.entries.map(\.service.key), [M.other, M.vip])
        XCTAssertEqual(k.entries[1].service.scheduler, "wrr")
        XCTAssertEqual(weights(k), ["198.51.100.11=5", "198.51.100.13=2"])
        XCTAssertEqual(try r.reconcile(desired(true, false), client: k).corrections, [], "converged")
    }

    func testFirstReconcileIsNoDrift() throws {
        // A kernel left by a killed monitor: .11 at 0 and the sorry server in, though .11 is up now.
        let k = kernel()
        try k.perform(.editDest(M.vip, M.rs(11, weight: 0)))
        try k.perform(.addDest(M.vip, M.rs(99, weight: 1)))
        var r = Reconciler()
        let c = try r.reconcile(desired(true, true), client: k)
        XCTAssertEqual(c.corrections.map(\.log), [
            "rs 198.51.100.11:80 of -t 192.0.2.10:80: weight 0 -> 5 (up)",
            "rs 198.51.100.99:80 of -t 192.0.2.10:80: removed (sorry server: a real server is up)",
        ])
        XCTAssertFalse(c.corrections.contains(where: \.drift))
        // A monitored service missing at start is added, not as drift.
        let empty = FakeIPVSKernel()
        var r2 = Reconciler()
        XCTAssertEqual(try r2.reconcile(desired(true, true), client: empty).corrections.first?.log,
                       "vs -t 192.0.2.10:80: added (missing from the kernel)")
        XCTAssertEqual(empty.entries.first?.servers.count, 3)
    }

    func testARefusedRequestDoesNotStopTheOthers() throws {
        let k = kernel()
        var r = Reconciler()
        _ = try r.reconcile(desired(true, true), client: k)
        k.refuse = { req in
            if case .editDest(_, let d) = req, d.endpoint == M.ep(11) { return EPERM }
            return nil
        }
        let res = try r.reconcile(desired(false, false, drain13: true), client: k)
        XCTAssertEqual(res.corrections.count, 4)
        XCTAssertEqual(res.failures.count, 1)
        XCTAssertEqual(res.failures.first?.description,
                       "rs 198.51.100.11:80 of -t 192.0.2.10:80: weight 5 -> 0 (down: connection refused): failed: edit real server 198.51.100.11:80 of -t 192.0.2.10:80: needs CAP_NET_ADMIN (run as root)")
        XCTAssertEqual(res.applied.map(\.request), [.editDest(M.vip, M.rs(13, weight: 0)), .addDest(M.vip, M.rs(99, weight: 1)),
                                                    .deleteDest(M.vip, M.ep(12))])
        XCTAssertEqual(weights(k), ["198.51.100.11=5", "198.51.100.13=0", "198.51.100.99=1"])
        // Next cycle: tried again, as a state change (the monitor knows the kernel kept 5), not as drift.
        k.refuse = nil
        let again = try r.reconcile(desired(false, false, drain13: true), client: k)
        XCTAssertEqual(again.corrections.map(\.log), ["rs 198.51.100.11:80 of -t 192.0.2.10:80: weight 5 -> 0 (down: connection refused)"])
        XCTAssertTrue(again.ok)
    }

    func testAFailedServiceAddStillSendsTheRest() throws {
        let k = kernel()
        try k.perform(.deleteService(M.vip))
        k.refuse = { if case .addService = $0 { return ENOENT }; return nil }
        var r = Reconciler()
        let res = try r.reconcile(desired(true, true), client: k)
        // The service is refused; its servers then fail with ESRCH, each reported.
        XCTAssertEqual(res.failures.count, 4)
        XCTAssertEqual(weights(k, M.other), ["198.51.100.21=4"])
        k.refuse = nil
        let again = try r.reconcile(desired(true, true), client: k)
        XCTAssertEqual(again.corrections.first?.log, "vs -t 192.0.2.10:80: added (missing from the kernel)")
        XCTAssertTrue(again.ok)
    }

    func testPlanIsPureAndLeavesUnmonitoredServicesAlone() {
        var kernelTable = M.config.entries
        kernelTable.append(ServiceEntry(service: VirtualService(key: M.other), servers: [M.rs(21, weight: 0)]))
        let plan = Reconciler().plan(desired(true, true), kernel: kernelTable)
        XCTAssertEqual(plan, [])
    }
}
