import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import LVSCore
@testable import LVSKit
import LVSTestSupport

/// `FakeIPVSKernel` answers with the kernel's errnos, and `Executor` (which takes `any IPVSControl`) rolls a
/// refused batch back so that the table is as before.
final class FakeIPVSKernelTests: XCTestCase {
    func key(_ last: Int, _ port: UInt16 = 80) -> ServiceKey {
        .address(.tcp, Endpoint(address: IPAddress("192.0.2.\(last)")!, port: port))
    }
    func server(_ last: Int, weight: Int32 = 1) -> RealServer {
        RealServer(address: IPAddress("198.51.100.\(last)")!, port: 80, forwarding: .masquerade, weight: weight)
    }
    func entry(_ k: ServiceKey, _ sched: String, _ servers: [RealServer]) -> ServiceEntry {
        ServiceEntry(service: VirtualService(key: k, scheduler: Scheduler(sched)), servers: servers)
    }

    func testKernelErrnosAndTheirWords() throws {
        let k = FakeIPVSKernel(entries: [entry(key(1), "rr", [server(2)])])
        func refusal(_ r: IPVSRequest) -> IPVSError? {
            do { try k.perform(r); return nil } catch { return error as? IPVSError }
        }
        XCTAssertEqual(refusal(.addService(VirtualService(key: key(1))))?.errno, EEXIST)
        XCTAssertEqual(refusal(.editService(VirtualService(key: key(9))))?.errno, ESRCH)
        XCTAssertEqual(refusal(.deleteService(key(9)))?.description, "delete service -t 192.0.2.9:80: no such service")
        XCTAssertEqual(refusal(.addDest(key(9), server(2)))?.errno, ESRCH)
        XCTAssertEqual(refusal(.addDest(key(1), server(2)))?.reason, "destination already exists")
        XCTAssertEqual(refusal(.editDest(key(1), server(3)))?.errno, ENOENT)
        XCTAssertEqual(refusal(.deleteDest(key(1), server(3).endpoint))?.reason, "no such destination")
        XCTAssertEqual(refusal(.addDest(key(1), server(4, weight: -1)))?.errno, ERANGE)
        XCTAssertEqual(refusal(.zero(key(9)))?.errno, ESRCH)
        XCTAssertEqual(refusal(.stopDaemon(.master))?.errno, ESRCH)
        XCTAssertNil(refusal(.editDest(key(1), server(2, weight: 5))))
        XCTAssertEqual(try k.destinations(of: key(1), stats: false).map(\.weight), [5])
        XCTAssertThrowsError(try k.table(key(9), stats: false)) { XCTAssertEqual("\($0)", "list -t 192.0.2.9:80: no such service") }
        XCTAssertThrowsError(try k.destinations(of: key(9), stats: false)) { XCTAssertEqual(($0 as? DumpError)?.errno, ESRCH) }
        // The protocol's defaults work on the fake as on IPVSClient.
        XCTAssertEqual(try k.table().count, 1)
        XCTAssertNotNil(try k.services().first?.stats)
        XCTAssertEqual(try k.runningState().timeouts, .kernelDefault)
    }

    func testExecutorAppliesAPlan() throws {
        var before = ClusterConfig()
        before.entries = [entry(key(1), "rr", [server(2), server(3)])]
        var after = ClusterConfig()
        after.entries = [entry(key(1), "wlc", [server(2, weight: 4)]), entry(key(5), "rr", [server(6)])]
        after.timeouts = Timeouts(tcp: 60, tcpFin: 120, udp: 300)
        let k = FakeIPVSKernel(before)
        let plan = Planner.diff(from: try k.runningState(), to: after)
        try Executor(client: k).run(plan, before: try k.runningState())
        XCTAssertEqual(k.state.entries, after.entries)
        XCTAssertEqual(k.state.timeouts, after.timeouts)
    }

    func testExecutorRollsARefusedBatchBack() throws {
        var before = ClusterConfig()
        before.entries = [entry(key(1), "rr", [server(2), server(3)]), entry(key(4), "sh", [server(5)])]
        var after = before
        after.entries[0].service.scheduler = "wlc"
        after.entries[0].servers = [server(2, weight: 7), server(8)]   // edit one, delete one, add one
        after.entries.remove(at: 1)                                      // delete a service with its server
        after.entries.append(entry(key(9), "rr", [server(10), server(11)]))
        let k = FakeIPVSKernel(before)
        let start = k.state
        let plan = Planner.diff(from: start, to: after)
        // The kernel refuses the last real server (no memory): everything before it must be undone.
        let victim = IPVSRequest.addDest(key(9), server(11))
        XCTAssertEqual(plan.last, victim)
        k.refuse = { $0 == victim ? ENOMEM : nil }
        XCTAssertThrowsError(try Executor(client: k).run(plan, before: start)) { e in
            guard let a = e as? ApplyError else { return XCTFail("\(e)") }
            XCTAssertTrue(a.rolledBack)
            XCTAssertEqual(a.underlying, IPVSError(request: victim, errno: ENOMEM))
        }
        XCTAssertEqual(k.state, start)
        XCTAssertGreaterThan(k.log.count, plan.count)   // the plan, then its undo
    }

    func testExecutorRollsBackWhenInterruptedBetweenChunks() throws {
        var after = ClusterConfig()
        after.entries = (1...4).map { entry(key($0), "rr", [server($0)]) }
        let k = FakeIPVSKernel()
        k.chunkSize = 3
        let start = k.state
        var chunks = 0
        XCTAssertThrowsError(try Executor(client: k).run(Planner.diff(from: start, to: after), before: start,
                                                         interrupted: { chunks += 1; return chunks == 1 })) { e in
            XCTAssertEqual((e as? InterruptedError)?.rolledBack, true)
        }
        XCTAssertEqual(k.state, start)
        XCTAssertEqual(k.log.count, 6)   // one chunk of three, then its three inverses
    }
}
