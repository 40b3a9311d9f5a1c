import XCTest
@testable import LVSCore
#if canImport(Glibc)
import Glibc
#endif

/// A fake kernel for the dump path: answers each GET_SERVICE dump with the services it holds, each GET_DEST
/// dump with nothing, and can flag the first N service dumps `NLM_F_DUMP_INTR` (with a skewed, duplicated
/// result, as a dump racing a writer may return) or fail the first receive with ENOBUFS.
final class FakeDumpKernel: NetlinkTransport {
    let familyID: UInt16 = 0x22
    var services: [VirtualService]
    var interruptServiceDumps: Int
    var enobufsOnce: Bool
    /// Service dumps that silently skip the second service (no NLM_F_DUMP_INTR), as IPVS does under a writer.
    var skipSilently = 0
    private(set) var serviceDumps = 0
    /// Destination dumps (counted from 1) answered with ESRCH, as for a service deleted after the service dump.
    var vanishedDestDumps: Set<Int> = []
    private(set) var destDumps = 0
    private var queue: [[UInt8]] = []

    init(services: [VirtualService], interruptServiceDumps: Int = 0, enobufsOnce: Bool = false) {
        self.services = services; self.interruptServiceDumps = interruptServiceDumps; self.enobufsOnce = enobufsOnce
    }

    func send(_ bytes: UnsafeRawBufferPointer) throws {
        let msgs = try NetlinkMessage.split(ArraySlice(bytes))
        for m in msgs {
            let cmd = try m.genl().cmd
            var out = MessageWriter()
            if cmd == IPVSCommand.getService.rawValue {
                serviceDumps += 1
                let intr = serviceDumps <= interruptServiceDumps
                // An interrupted dump may repeat entries: send the first service twice.
                var list = intr ? [services[0]] + services : services
                if serviceDumps <= skipSilently { list.remove(at: 1) }
                for s in list {
                    var e = AttributeEncoder()
                    CommandAttribute.service(s.attributes()).encode(&e)
                    out.append(family: familyID, flags: intr ? [.multi, .dumpInterrupted] : [.multi], seq: m.seq,
                               cmd: IPVSCommand.newService.rawValue, version: 1, attributes: e.bytes)
                }
            }
            if cmd == IPVSCommand.getDest.rawValue {
                destDumps += 1
                if vanishedDestDumps.contains(destDumps) {
                    // NLMSG_ERROR: header, then struct nlmsgerr {int error; struct nlmsghdr msg}.
                    let words: [UInt32] = [36, UInt32(nlmsgError), m.seq, 0, UInt32(bitPattern: -ESRCH), 36, 0, m.seq, 0]
                    var err: [UInt8] = []
                    for v in words { for i in 0..<4 { err.append(UInt8((v >> (8 * UInt32(i))) & 0xff)) } }
                    queue.append(err)
                    continue
                }
            }
            var done = out.bytes
            // NLMSG_DONE: header + int 0.
            let hdr: [UInt32] = [20, UInt32(nlmsgDone) | UInt32(NetlinkFlags.multi.rawValue) << 16, m.seq, 0, 0]
            for v in hdr { for i in 0..<4 { done.append(UInt8((v >> (8 * UInt32(i))) & 0xff)) } }
            queue.append(done)
        }
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if enobufsOnce { enobufsOnce = false; throw NetlinkError(operation: "netlink receive", errno: ENOBUFS) }
        let b = queue.removeFirst()
        b.withUnsafeBytes { buffer.copyMemory(from: $0) }
        return b.count
    }
}

final class DumpRetryTests: XCTestCase {
    let svcs = (1...3).map { VirtualService(key: .address(.tcp, Endpoint(address: IPAddress("192.0.2.\($0)")!, port: 80)), scheduler: "rr") }

    func testCleanDumpIsReadOnce() throws {
        let k = FakeDumpKernel(services: svcs)
        let t = try IPVSClient(transport: k).table()
        XCTAssertEqual(t.map(\.service.key), svcs.map(\.key))
        XCTAssertEqual(k.serviceDumps, 2)  // the read and its confirming service dump
    }

    func testInterruptedDumpIsRetriedToAConsistentResult() throws {
        let k = FakeDumpKernel(services: svcs, interruptServiceDumps: 2)
        let t = try IPVSClient(transport: k).table()
        // The interrupted attempts returned the first service twice; the result has every entry exactly once.
        XCTAssertEqual(t.map(\.service.key), svcs.map(\.key))
        XCTAssertEqual(k.serviceDumps, 4)  // two interrupted, one clean, one confirming
    }

    func testSilentSkipIsCaughtByTheSecondServiceDump() throws {
        let k = FakeDumpKernel(services: svcs)
        k.skipSilently = 1
        let t = try IPVSClient(transport: k).table()
        // The second service dump supplies the skipped service (listed last; list and save sort afterwards).
        XCTAssertEqual(t.map(\.service.key), [svcs[0].key, svcs[2].key, svcs[1].key])
        XCTAssertEqual(k.serviceDumps, 2)  // the skipping read and the second dump, no full re-read
    }

    func testServiceDeletedDuringTheListingIsLeftOutWithoutRereadingTheTable() throws {
        let k = FakeDumpKernel(services: svcs)
        k.vanishedDestDumps = [2]  // the second service is gone by the time its real servers are asked for
        let t = try IPVSClient(transport: k).table()
        XCTAssertEqual(t.map(\.service.key), [svcs[0].key, svcs[2].key])
        XCTAssertEqual(k.serviceDumps, 2)  // no restart of the whole table
        XCTAssertEqual(k.destDumps, 3)
    }

    func testENOBUFSDuringADumpRestartsIt() throws {
        let k = FakeDumpKernel(services: svcs, enobufsOnce: true)
        let t = try IPVSClient(transport: k).table()
        XCTAssertEqual(t.map(\.service.key), svcs.map(\.key))
        XCTAssertEqual(k.serviceDumps, 3)  // lost messages, clean read, confirming dump
    }

    func testEndlessInterruptionGivesUpWithAClearError() {
        let k = FakeDumpKernel(services: svcs, interruptServiceDumps: 100)
        let c = IPVSClient(transport: k)
        c.dumpRetries = 3
        XCTAssertThrowsError(try c.table()) { e in
            XCTAssertTrue(e is IPVSDumpInterrupted)
            XCTAssertTrue("\(e)".contains("kept changing"))
        }
        XCTAssertEqual(k.serviceDumps, 4)
    }
}
