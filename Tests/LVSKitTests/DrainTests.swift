import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import LVSCore
@testable import LVSKit
import LVSTestSupport

/// `rs drain` without a kernel: which entries of the connection table belong to a server (by kind), the drain state
/// file and what `save` and the monitor take from it, and the wait loop on a fake clock. The kernel side is
/// Tests/Kernel/t-drain.sh.
final class DrainTests: XCTestCase {
    // /proc/net/ip_vs_conn as Linux 6.1 writes it (`ip_vs_conn_seq_show`: `%-3s %08X %04X %08X %04X %08X %04X %-11s
    // %7u`, IPv6 addresses as `%pI6`), the layout read back from `ipvsadm -Lnc` runs in the VM.
    // 192.0.2.100 (C0000264) is the client, 192.0.2.10 (C000020A) the VIP, 192.0.2.11/.12 (C000020B/C) the real
    // servers; 0050 = 80, 01BB = 443.
    static let table = """
    Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
    TCP C0000264 D2F0 C000020A 0050 C000020B 0050 ESTABLISHED     898
    TCP C0000264 D2F1 C000020A 0050 C000020B 0050 TIME_WAIT       110
    TCP C0000264 D2F2 C000020A 0050 C000020B 0050 FIN_WAIT         98
    TCP C0000264 D2F3 C000020A 0050 C000020B 0050 SYN_RECV         55
    TCP C0000200 0000 C000020A 0050 C000020B 0050 NONE            300
    TCP C0000264 D2F6 C000020A 0050 C000020C 0050 ESTABLISHED     898
    TCP C0000264 D2F7 C000020A 01BB C000020B 01BB ESTABLISHED     898
    TCP C0000264 D2F8 C000020A 0050 C000020B 1F90 ESTABLISHED     898
    UDP C0000264 D2F4 C000020A 0050 C000020B 0050 UDP             280
    UDP C0000264 D2F9 C000020A 0035 C000020B 0035 UDP             280
    IP  C0000264 0000 00000051 0000 C000020B 0000 ASSURED         120
    IP  C0000264 0000 00000052 0000 C000020B 0000 NONE            120
    TCP C0000264 D2F5 C0000214 0050 C000020B 0050 ESTABLISHED     898
    TCP 2001:0db8:0000:0000:0000:0000:0000:0064 D2FA 2001:0db8:0000:0000:0000:0000:0000:0010 0050 2001:0db8:0000:0000:0000:0000:0000:0011 0050 CLOSE_WAIT       50
    UDP C0000264 13C4 C000020A 13C4 C000020B 13C4 UDP             170 sip 1234@client
    """
    let conns = ConnectionTable.parse(table)

    func ep(_ s: String) -> Endpoint {
        let (a, p) = try! Endpoint.parse(s)
        return Endpoint(address: a, port: p ?? 0)
    }
    func tcp(_ s: String) -> ServiceKey { .address(.tcp, ep(s)) }
    func udp(_ s: String) -> ServiceKey { .address(.udp, ep(s)) }
    func count(_ server: String, of key: ServiceKey, services: Set<ServiceKey> = []) -> DrainCounts {
        DrainCounter.count(conns, server: ep(server), of: key, services: services)
    }

    func testTheFixtureParses() {
        XCTAssertEqual(conns.count, 15)
        XCTAssertEqual(conns.filter(\.isTemplate).count, 3)
    }

    func testTCPServiceCountsEstablishedClosingAndItsTemplate() {
        // ESTABLISHED and SYN_RECV are active (as the kernel counts them), TIME_WAIT and FIN_WAIT inactive; the
        // template of the client network; other servers, other ports and the UDP entries are not this server's.
        let n = count("192.0.2.11:80", of: tcp("192.0.2.10:80"))
        XCTAssertEqual(n, DrainCounts(active: 2, inactive: 2, udp: 0, templates: 1))
        XCTAssertEqual(n.total, 5)
        XCTAssertEqual(n.description, "2 active, 2 inactive, 1 persistence template")
        XCTAssertEqual(count("192.0.2.12:80", of: tcp("192.0.2.10:80")), DrainCounts(active: 1))
        XCTAssertEqual(count("192.0.2.11:443", of: tcp("192.0.2.10:443")), DrainCounts(active: 1))
        XCTAssertEqual(count("192.0.2.13:80", of: tcp("192.0.2.10:80")).description, "no connections")
        // A server on another port (NAT to 8080) is another server of the same service.
        XCTAssertEqual(count("192.0.2.11:8080", of: tcp("192.0.2.10:80")), DrainCounts(active: 1))
    }

    func testUDPEntriesCountThoughNeverActive() {
        let n = count("192.0.2.11:80", of: udp("192.0.2.10:80"))
        XCTAssertEqual(n, DrainCounts(udp: 1))
        XCTAssertEqual(n.description, "1 UDP flow")
        XCTAssertEqual(count("192.0.2.11:53", of: udp("192.0.2.10:53")).description, "1 UDP flow")
        // A line with persistence-engine columns (sip) is read too.
        XCTAssertEqual(count("192.0.2.11:5060", of: udp("192.0.2.10:5060")), DrainCounts(udp: 1))
        XCTAssertEqual(DrainCounts(udp: 2, templates: 2).description, "2 UDP flows, 2 persistence templates")
    }

    func testPortZeroServiceTakesEveryPort() {
        // A persistent port-0 service: connections keep the client's port, whatever the server's.
        // (The template of the :80 service is not this service's: a port-0 service's templates carry port 0.)
        XCTAssertEqual(count("192.0.2.11:0", of: tcp("192.0.2.10:0")), DrainCounts(active: 4, inactive: 2))
    }

    func testFwmarkServiceCountsItsTemplatesAndConnectionsNotOfAnAddressService() {
        let services: Set<ServiceKey> = [tcp("192.0.2.10:80"), tcp("192.0.2.10:443"), udp("192.0.2.10:80"), udp("192.0.2.10:53"),
                                         udp("192.0.2.10:5060"), .fwmark(81, .inet), .fwmark(82, .inet)]
        // Mark 81's template (state ASSURED, client port 0) and the connection to 192.0.2.20:80, which no address
        // service holds: the other connections to .11 went through the address services.
        XCTAssertEqual(count("192.0.2.11:0", of: .fwmark(81, .inet), services: services), DrainCounts(active: 1, templates: 1))
        XCTAssertEqual(count("192.0.2.11:0", of: .fwmark(82, .inet), services: services), DrainCounts(active: 1, templates: 1))
        XCTAssertEqual(count("192.0.2.11:0", of: .fwmark(83, .inet), services: services), DrainCounts(active: 1))
        // Without the kernel's services every connection to the server counts (the wait errs on the long side).
        XCTAssertEqual(count("192.0.2.11:0", of: .fwmark(81, .inet)), DrainCounts(active: 5, inactive: 2, udp: 3, templates: 1))
        XCTAssertEqual(count("192.0.2.12:0", of: .fwmark(81, .inet), services: services), DrainCounts())
        XCTAssertEqual(count("192.0.2.11:0", of: .fwmark(81, .inet6), services: services), DrainCounts(), "another family")
        XCTAssertEqual(DrainCounter.mark(IPAddress("0.0.0.81")!), 81)
        XCTAssertEqual(DrainCounter.mark(IPAddress("0:51::")!), 81)
        XCTAssertNil(DrainCounter.mark(IPAddress("0:51::1")!))
    }

    func testIPv6() {
        XCTAssertEqual(count("[2001:db8::11]:80", of: tcp("[2001:db8::10]:80")), DrainCounts(inactive: 1))
        XCTAssertEqual(count("[2001:db8::11]:80", of: tcp("[2001:db8::10]:443")), DrainCounts())
    }

    func testKernelCounters() {
        var d = RealServer(address: IPAddress("192.0.2.11")!, port: 80)
        d.activeConnections = 2; d.inactiveConnections = 3; d.persistentConnections = 1
        XCTAssertEqual(DrainCounts(kernel: d).description, "2 active, 3 inactive, 1 persistence template")
    }

    // MARK: the state file

    func tmp() -> String {
        let dir = NSTemporaryDirectory() + "lvsctl-drain-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        addTeardownBlock { _ = try? FileManager.default.removeItem(atPath: dir) }
        return dir + "/run/drain.json"
    }

    func testServiceKeysReadBackFromTheirOptionForm() {
        for k in [tcp("192.0.2.10:80"), udp("[2001:db8::10]:53"), .address(.sctp, ep("192.0.2.10:0")), .fwmark(80, .inet),
                  .fwmark(4_294_967_295, .inet6)] {
            XCTAssertEqual(ServiceKey(option: k.option), k, k.option)
        }
        for bad in ["", "-t", "-x 192.0.2.1:80", "-t 192.0.2.1:80 -6", "-f 0", "-f 1 -7", "-t nonsense"] {
            XCTAssertNil(ServiceKey(option: bad), bad)
        }
    }

    func testFileRoundTripAndRemovalWhenEmpty() throws {
        let path = tmp()
        XCTAssertEqual(try DrainStateFile.read(path), DrainStateFile(), "no file: nothing drained")
        let a = ServerRef(service: tcp("192.0.2.10:80"), server: ep("192.0.2.11:80"))
        let b = ServerRef(service: .fwmark(81, .inet6), server: ep("[2001:db8::11]:0"))
        var f = DrainStateFile()
        f.servers = [.init(ref: a, weight: 5, since: "2026-12-02T05:01:02Z"), .init(ref: b, weight: 1, since: "2026-12-02T05:01:03Z")]
        try f.write(path)
        let back = try DrainStateFile.read(path)
        XCTAssertEqual(back, f)
        XCTAssertEqual(back.refs, [a, b])
        XCTAssertEqual(back.record(a)?.weight, 5)
        XCTAssertEqual(back.servers.first?.service, "-t 192.0.2.10:80")
        XCTAssertEqual(back.servers.first?.server, "192.0.2.11:80")
        f.remove(a); f.remove(b)
        XCTAssertNil(f.remove(a))
        try f.write(path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "no drained server: no file")
        try f.write(path)  // and again: nothing to remove
        try "{\"schema\": 1}".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DrainStateFile.read(path)) { XCTAssertEqual("\($0)", "\(path) is not an lvsctl drain state file") }
    }

    func testSaveWritesTheRecordedWeight() {
        let key = tcp("192.0.2.10:80")
        var c = ClusterConfig()
        c.entries = [ServiceEntry(service: VirtualService(key: key), servers: [
            RealServer(address: IPAddress("192.0.2.11")!, port: 80, weight: 0),
            RealServer(address: IPAddress("192.0.2.12")!, port: 80, weight: 0),
        ])]
        let f = DrainStateFile(servers: [.init(ref: ServerRef(service: key, server: ep("192.0.2.11:80")), weight: 5, since: ""),
                                         .init(ref: ServerRef(service: key, server: ep("192.0.2.13:80")), weight: 2, since: "")])
        XCTAssertEqual(f.configured(c).entries[0].servers.map(\.weight), [5, 0], "drained: its weight; a server at 0 by hand stays 0")
        XCTAssertEqual(f.configured(c).entries[0].servers.count, 2, "a record of a server not in the kernel adds nothing")
        XCTAssertEqual(DrainStateFile().configured(c), c)
    }

    func testTheMonitorRereadsTheFileWhenItChanges() throws {
        let path = tmp()
        var w = DrainWatcher(path: path)
        var r = w.refresh()
        XCTAssertEqual(r.drained, []); XCTAssertNil(r.error)
        let a = ServerRef(service: tcp("192.0.2.10:80"), server: ep("192.0.2.11:80"))
        let b = ServerRef(service: tcp("192.0.2.10:80"), server: ep("192.0.2.12:80"))
        try DrainStateFile(servers: [.init(ref: a, weight: 5, since: "")]).write(path)
        r = w.refresh()
        XCTAssertEqual(r.drained, [a]); XCTAssertEqual(r.undrained, [])
        XCTAssertEqual(w.drained, [a])
        r = w.refresh()
        XCTAssertEqual(r.drained, [], "unchanged: not read again")
        try DrainStateFile(servers: [.init(ref: b, weight: 3, since: "")]).write(path)
        r = w.refresh()
        XCTAssertEqual(r.drained, [b]); XCTAssertEqual(r.undrained, [a])
        try "not json".write(toFile: path, atomically: true, encoding: .utf8)
        r = w.refresh()
        XCTAssertNotNil(r.error)
        XCTAssertEqual(w.drained, [b], "a bad file keeps the set as it was")
        try DrainStateFile().write(path)
        r = w.refresh()
        XCTAssertEqual(r.undrained, [b]); XCTAssertEqual(w.drained, [])
    }

    // MARK: the wait

    /// The wait on a fake clock: each look costs 0.01 s, each pause advances the clock.
    func run(_ looks: [DrainCounts?], timeout: Double?, signalAt: Int? = nil) throws -> (DrainOutcome, [Double], [Double]) {
        var t = 100.0, i = 0, pauses: [Double] = [], seen: [Double] = []
        let o = try Drain.wait(timeout: timeout, interval: 0.5, now: { t }, look: {
            defer { i += 1 }
            t += 0.01
            return looks[min(i, looks.count - 1)]
        }, pause: { s in
            pauses.append((s * 1000).rounded() / 1000)
            t += s
            return pauses.count == signalAt ? SIGINT : nil
        }, progress: { _, e in seen.append((e * 100).rounded() / 100) })
        return (o, pauses, seen)
    }

    func testWaitEndsWhenNothingIsLeft() throws {
        let (o, pauses, seen) = try run([DrainCounts(active: 2), DrainCounts(inactive: 1), DrainCounts()], timeout: nil)
        guard case .drained(let s) = o else { return XCTFail("\(o)") }
        XCTAssertEqual(s, 1.03, accuracy: 1e-9)
        XCTAssertEqual(pauses, [0.5, 0.5])
        XCTAssertEqual(seen, [0.01, 0.52, 1.03])
    }

    func testWaitTimesOutWithTheCountsLeft() throws {
        let left = DrainCounts(active: 1, templates: 1)
        let (o, pauses, _) = try run([left], timeout: 1.2)
        XCTAssertEqual(o, .timedOut(left, seconds: 1.2))
        XCTAssertEqual(pauses.last, 0.17, "the last pause ends at the timeout")
        // --timeout 0: one look.
        let (o0, p0, _) = try run([left], timeout: 0)
        XCTAssertEqual(o0, .timedOut(left, seconds: 0))
        XCTAssertEqual(p0, [])
        guard case .drained(let s) = try run([DrainCounts()], timeout: 0).0 else { return XCTFail("not drained") }
        XCTAssertEqual(s, 0.01, accuracy: 1e-9)
    }

    func testWaitStopsOnASignalOrWhenTheServerIsGone() throws {
        XCTAssertEqual(try run([DrainCounts(udp: 1)], timeout: nil, signalAt: 2).0, .interrupted(signal: SIGINT, DrainCounts(udp: 1)))
        XCTAssertEqual(try run([DrainCounts(udp: 1), nil], timeout: nil).0, .gone)
    }

    // MARK: drain and undrain on a fake kernel

    func testDrainRecordsAndUndrainPutsTheWeightBack() throws {
        let path = tmp()
        setenv("LVSCTL_DRAIN_STATE", path, 1)
        setenv("LVSCTL_MONITOR_STATE", path + ".monitor", 1)  // no monitor runs
        defer { unsetenv("LVSCTL_DRAIN_STATE"); unsetenv("LVSCTL_MONITOR_STATE") }
        let key = tcp("192.0.2.10:80")
        let k = FakeIPVSKernel(entries: [ServiceEntry(service: VirtualService(key: key), servers: [
            RealServer(address: IPAddress("198.51.100.11")!, port: 80, forwarding: .masquerade, weight: 5),
            RealServer(address: IPAddress("198.51.100.12")!, port: 80, forwarding: .masquerade, weight: 3),
        ])])
        func weight(_ a: String) -> Int32? { k.entries[0].servers.first { $0.address == IPAddress(a)! }?.weight }
        let ref = ServerRef(service: key, server: ep("198.51.100.11:80"))
        // -r without a port: the service's.
        let s = try Drain.start(ServerSpec(realServer: "198.51.100.11"), of: key, client: k, netns: nil, remove: false)
        XCTAssertEqual(s, Drain.Started(ref: ref, weight: 5, already: false))
        XCTAssertEqual(weight("198.51.100.11"), 0)
        XCTAssertEqual(k.entries[0].servers[0].forwarding, .masquerade, "only the weight changes")
        XCTAssertEqual(try DrainStateFile.read(path).record(ref)?.weight, 5)
        // Again: the record keeps 5, not the 0 it has now.
        XCTAssertEqual(try Drain.start(ServerSpec(realServer: "198.51.100.11:80"), of: key, client: k, netns: nil, remove: false).already, true)
        XCTAssertEqual(try DrainStateFile.read(path).servers.map(\.weight), [5])
        XCTAssertEqual(try Drain.look(ref, client: k, services: [], connections: { ConnectionTable.parse(Self.table) }), DrainCounts())
        XCTAssertEqual(try Drain.undrain(ServerSpec(realServer: "198.51.100.11"), of: key, client: k, netns: nil), .restored(weight: 5))
        XCTAssertEqual(weight("198.51.100.11"), 5)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertThrowsError(try Drain.undrain(ServerSpec(realServer: "198.51.100.11"), of: key, client: k, netns: nil)) {
            XCTAssertEqual("\($0)", "rs 198.51.100.11:80 of -t 192.0.2.10:80 is not drained")
        }
        // Missing server or service: refused, nothing recorded.
        XCTAssertThrowsError(try Drain.start(ServerSpec(realServer: "198.51.100.13"), of: key, client: k, netns: nil, remove: false)) {
            XCTAssertEqual("\($0)", "rs drain -t 192.0.2.10:80: no real server 198.51.100.13")
        }
        XCTAssertThrowsError(try Drain.start(ServerSpec(realServer: "198.51.100.11"), of: tcp("192.0.2.10:81"), client: k, netns: nil, remove: false)) {
            XCTAssertEqual("\($0)", "rs drain -t 192.0.2.10:81: no such service")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        // --remove: deleted once drained, the record dropped.
        _ = try Drain.start(ServerSpec(realServer: "198.51.100.12"), of: key, client: k, netns: nil, remove: true)
        try Drain.finish(ServerRef(service: key, server: ep("198.51.100.12:80")), client: k, netns: nil, remove: true)
        XCTAssertNil(weight("198.51.100.12"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        // A record whose server was deleted behind lvsctl's back: undrain drops it, exit 1.
        _ = try Drain.start(ServerSpec(realServer: "198.51.100.11"), of: key, client: k, netns: nil, remove: false)
        try k.perform(.deleteDest(key, ep("198.51.100.11:80")))
        XCTAssertNil(try Drain.look(ref, client: k, services: [], connections: { [] }), "gone")
        XCTAssertThrowsError(try Drain.undrain(ServerSpec(realServer: "198.51.100.11"), of: key, client: k, netns: nil)) {
            XCTAssertEqual("\($0)", "rs 198.51.100.11:80 of -t 192.0.2.10:80 is no longer in the kernel; its drain record was dropped")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
