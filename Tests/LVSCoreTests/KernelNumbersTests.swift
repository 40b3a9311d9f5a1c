import XCTest
import CNetlink
@testable import LVSCore

/// The IPVS numbers LVSCore uses are those of `linux/ip_vs.h`, and the fast decoder treats attribute types it
/// does not know as the generic decoder does.
final class KernelNumbersTests: XCTestCase {
    /// `IPVSCommand`'s raw values are literals (Swift enum raw values must be): each equals the header's constant.
    func testCommandsEqualTheHeader() {
        let pairs: [(IPVSCommand, Int)] = [
            (.newService, Int(IPVS_CMD_NEW_SERVICE)), (.setService, Int(IPVS_CMD_SET_SERVICE)),
            (.delService, Int(IPVS_CMD_DEL_SERVICE)), (.getService, Int(IPVS_CMD_GET_SERVICE)),
            (.newDest, Int(IPVS_CMD_NEW_DEST)), (.setDest, Int(IPVS_CMD_SET_DEST)),
            (.delDest, Int(IPVS_CMD_DEL_DEST)), (.getDest, Int(IPVS_CMD_GET_DEST)),
            (.newDaemon, Int(IPVS_CMD_NEW_DAEMON)), (.delDaemon, Int(IPVS_CMD_DEL_DAEMON)),
            (.getDaemon, Int(IPVS_CMD_GET_DAEMON)), (.setConfig, Int(IPVS_CMD_SET_CONFIG)),
            (.getConfig, Int(IPVS_CMD_GET_CONFIG)), (.setInfo, Int(IPVS_CMD_SET_INFO)),
            (.getInfo, Int(IPVS_CMD_GET_INFO)), (.zero, Int(IPVS_CMD_ZERO)), (.flush, Int(IPVS_CMD_FLUSH)),
        ]
        for (c, n) in pairs { XCTAssertEqual(Int(c.rawValue), n, "\(c)") }
        XCTAssertEqual(Int(IPVSFamily.version), Int(IPVS_GENL_VERSION))
        XCTAssertEqual(IPVSFamily.name, IPVS_GENL_NAME)
    }

    /// The constants keep the numbers the golden captures were made with.
    func testAttributeNumbersAreTheKernelABI() {
        XCTAssertEqual([IPVSAttr.Command.service, IPVSAttr.Command.dest, IPVSAttr.Command.daemon,
                        IPVSAttr.Command.timeoutTCP, IPVSAttr.Command.timeoutTCPFin, IPVSAttr.Command.timeoutUDP], Array(1...6))
        XCTAssertEqual([IPVSAttr.Service.af, IPVSAttr.Service.protocol, IPVSAttr.Service.addr, IPVSAttr.Service.port,
                        IPVSAttr.Service.fwmark, IPVSAttr.Service.schedName, IPVSAttr.Service.flags, IPVSAttr.Service.timeout,
                        IPVSAttr.Service.netmask, IPVSAttr.Service.stats, IPVSAttr.Service.peName, IPVSAttr.Service.stats64],
                       Array(1...12))
        XCTAssertEqual([IPVSAttr.Dest.addr, IPVSAttr.Dest.port, IPVSAttr.Dest.fwdMethod, IPVSAttr.Dest.weight,
                        IPVSAttr.Dest.upperThreshold, IPVSAttr.Dest.lowerThreshold, IPVSAttr.Dest.activeConns,
                        IPVSAttr.Dest.inactiveConns, IPVSAttr.Dest.persistConns, IPVSAttr.Dest.stats, IPVSAttr.Dest.addrFamily,
                        IPVSAttr.Dest.stats64, IPVSAttr.Dest.tunType, IPVSAttr.Dest.tunPort, IPVSAttr.Dest.tunFlags], Array(1...15))
        XCTAssertEqual([IPVSAttr.Daemon.state, IPVSAttr.Daemon.mcastInterface, IPVSAttr.Daemon.syncID, IPVSAttr.Daemon.syncMaxLen,
                        IPVSAttr.Daemon.mcastGroup, IPVSAttr.Daemon.mcastGroup6, IPVSAttr.Daemon.mcastPort,
                        IPVSAttr.Daemon.mcastTTL], Array(1...8))
        XCTAssertEqual([IPVSAttr.Stats.conns, IPVSAttr.Stats.inPackets, IPVSAttr.Stats.outPackets, IPVSAttr.Stats.inBytes,
                        IPVSAttr.Stats.outBytes, IPVSAttr.Stats.cps, IPVSAttr.Stats.inPPS, IPVSAttr.Stats.outPPS,
                        IPVSAttr.Stats.inBPS, IPVSAttr.Stats.outBPS], Array(1...10))
        XCTAssertEqual([IPVSAttr.Info.version, IPVSAttr.Info.connTabSize], [1, 2])
    }

    func bytes(_ attrs: [CommandAttribute]) -> ArraySlice<UInt8> {
        var e = AttributeEncoder()
        for a in attrs { a.encode(&e) }
        return e.bytes[...]
    }

    /// A dump reply with attribute types this version does not know (a newer kernel's): the fast decoder's cold path
    /// decodes it (no generic fallback), keeping the unknown attributes with their flags, and gives the generic
    /// decoder's model. (The walkers of the common path still return nil for it, so that path costs what it did.)
    func testUnknownAttributeTypesStayOnTheFastPath() throws {
        let newSvc = IPVSAttr.Service.stats64 + 1, newDest = IPVSAttr.Dest.tunFlags + 1
        let v4: [UInt8] = [192, 0, 2, 1] + [UInt8](repeating: 0, count: 12)
        let a4: [UInt8] = [198, 51, 100, 2] + [UInt8](repeating: 0, count: 12)
        let services: [[CommandAttribute]] = [
            [.service([.af(2), .protocol(6), .addr(v4), .port(80), .schedName("wlc"),
                       .other(RawAttribute(type: newSvc, payload: [1, 2, 3])),
                       .flags(flags: 0, mask: ~0), .timeout(0), .netmask(~0),
                       .other(RawAttribute(type: newSvc + 1, flags: nlaFlagNested, payload: [4, 0, 1, 0]))], flagged: false)],
            [.service([.af(2), .fwmark(9), .other(RawAttribute(type: 0, payload: []))], flagged: false)],
            // an unknown top-level attribute beside the service
            [.other(RawAttribute(type: IPVSAttr.Command.timeoutUDP + 1, payload: [5, 5, 5, 5])),
             .service([.af(2), .fwmark(3), .schedName("rr")], flagged: false)],
        ]
        for attrs in services {
            let b = bytes(attrs)
            let fast = try XCTUnwrap(FastDecode.serviceWithUnknown(b), "\(attrs)")
            let slow = try IPVSDecode.serviceGeneric(b)
            XCTAssertEqual(fast, slow)
            XCTAssertEqual(fast.unknown, slow.unknown)
            XCTAssertEqual(try IPVSDecode.service(b), slow)
            XCTAssertEqual(FastDecode.serviceKey(b) ?? FastDecode.serviceKeyWithUnknown(b), slow.key)
            XCTAssertEqual(try IPVSDecode.serviceKey(b), slow.key)
            var noStats = slow; noStats.stats = nil
            XCTAssertEqual(FastDecode.serviceWithUnknown(b, stats: false), noStats)
        }
        XCTAssertEqual(FastDecode.serviceWithUnknown(bytes(services[0])).map { $0.unknown.map(\.type) }, [newSvc, newSvc + 1])
        XCTAssertEqual(try XCTUnwrap(FastDecode.serviceWithUnknown(bytes(services[0]))).unknown.last?.flags, nlaFlagNested)

        let dest: [CommandAttribute] = [.dest([.addrFamily(2), .addr(a4), .port(80), .fwdMethod(0), .weight(1),
                                               .other(RawAttribute(type: newDest, payload: [1])), .tunType(0)], flagged: false)]
        let b = bytes(dest)
        for fam in [AddressFamily.inet, .inet6] {
            let fast = try XCTUnwrap(FastDecode.destWithUnknown(b, serviceFamily: fam))
            let slow = try IPVSDecode.destGeneric(b, serviceFamily: fam)
            XCTAssertEqual(fast, slow)
            XCTAssertEqual(fast.unknown, [RawAttribute(type: newDest, payload: [1])])
            XCTAssertEqual(try IPVSDecode.dest(b, serviceFamily: fam), slow)
        }
        // Still the generic decoder's call: a second known top-level attribute, or a known one of the wrong size.
        XCTAssertNil(FastDecode.serviceWithUnknown(bytes(services[2] + [.timeoutTCP(1)])))
        XCTAssertNil(FastDecode.destWithUnknown(bytes([.dest([.addr(a4), .other(RawAttribute(type: IPVSAttr.Dest.port, payload: [1])),
                                                              .other(RawAttribute(type: newDest, payload: [1]))])]), serviceFamily: .inet))
        // A reply without unknown attributes is not the cold path's.
        XCTAssertNil(FastDecode.destWithUnknown(bytes([.dest([.addr(a4), .port(80)])]), serviceFamily: .inet))
    }
}
