import XCTest
@testable import LVSCore

/// Edge cases of the pure codec: malformed bytes throw a typed error and never trap; unknown attributes survive.
final class CodecEdgeTests: XCTestCase {
    func testMalformedAttributesThrow() {
        let cases: [(String, [UInt8])] = [
            ("length 3, too short for a header", [3, 0, 1, 0]),
            ("2 trailing bytes", [8, 0, 4, 0, 1, 0, 0, 0, 9, 9]),
            ("length beyond the buffer", [200, 0, 1, 0, 0, 0, 0, 0]),
            ("nested service with a bad address length", [12, 0, 1, 0x80, 8, 0, 3, 0, 1, 2, 3, 4]),
            ("u16 attribute of 4 bytes (af)", [16, 0, 1, 0x80, 8, 0, 1, 0, 2, 0, 0, 0, 4, 0, 0, 0]),
            ("flags of 4 bytes", [12, 0, 1, 0x80, 8, 0, 7, 0, 1, 0, 0, 0]),
        ]
        for (name, bytes) in cases {
            XCTAssertThrowsError(try IPVSDecode.commandAttributes(bytes[...]), name) { XCTAssertTrue($0 is DecodeError, name) }
        }
        // A service without a family, or with an unknown protocol, is a DecodeError too.
        var e = AttributeEncoder()
        CommandAttribute.service([.protocol(99), .addr([UInt8](repeating: 0, count: 16)), .port(80)]).encode(&e)
        XCTAssertThrowsError(try IPVSDecode.service(e.bytes[...])) { XCTAssertTrue($0 is DecodeError) }
        XCTAssertThrowsError(try NetlinkMessage.split([20, 0, 0, 0, 1, 2][...])) { XCTAssertTrue($0 is DecodeError) }
    }

    func testEveryTruncationOfAGoldenReplyThrowsOrDecodes() throws {
        // Every prefix of a real dump reply either decodes or throws DecodeError: no traps.
        let s = VirtualService(key: .address(.tcp, Endpoint(address: IPAddress("2001:db8::1")!, port: 443)), scheduler: "sh",
                               flags: [.persistent, .sched1], timeout: 60, netmask: 64, persistenceEngine: "sip")
        var e = AttributeEncoder()
        CommandAttribute.service(s.attributes() + [.stats64([.conns(1 << 40), .inBytes(7)])]).encode(&e)
        for n in 0...e.bytes.count {
            do { _ = try IPVSDecode.service(e.bytes[0..<n]) } catch is DecodeError {} catch { XCTFail("\(n): \(error)") }
        }
        XCTAssertEqual(try IPVSDecode.service(e.bytes[...]).stats?.connections, 1 << 40)
    }

    func testUnknownAttributesSurviveARoundTrip() throws {
        // A newer kernel's attribute 99 inside the service and at the top level.
        var e = AttributeEncoder()
        e.nested(1) { n in
            ServiceAttribute.af(2).encode(&n); ServiceAttribute.fwmark(80).encode(&n)
            n.put(99, [1, 2, 3])
        }
        e.u32(42, 7)
        let decoded = try IPVSDecode.commandAttributes(e.bytes[...])
        var again = AttributeEncoder()
        for a in decoded { a.encode(&again) }
        XCTAssertEqual(again.bytes, e.bytes)
        let svc = try IPVSDecode.service(e.bytes[...])
        XCTAssertEqual(svc.unknown, [RawAttribute(type: 99, payload: [1, 2, 3])])
    }

    func testWireDetails() {
        // IPv4 in a 16-byte field, zero-padded; ports big-endian; IPv4 netmask network order; IPv6 netmask a prefix.
        let k = ServiceKey.address(.udp, Endpoint(address: IPAddress("192.0.2.1")!, port: 53))
        var e = AttributeEncoder()
        for a in k.attributes { a.encode(&e) }
        XCTAssertEqual(Array(e.bytes[16..<40]), [20, 0, 3, 0, 192, 0, 2, 1] + [UInt8](repeating: 0, count: 12) + [6, 0, 4, 0])
        XCTAssertEqual(Array(e.bytes[40..<42]), [0, 53])
        XCTAssertEqual(Netmask.parse("255.255.255.0", family: .inet), 0x00FF_FFFF)
        XCTAssertEqual(Netmask.parse("24", family: .inet), 0x00FF_FFFF)
        XCTAssertEqual(Netmask.parse("64", family: .inet6), 64)
        XCTAssertNil(Netmask.parse("129", family: .inet6))
        XCTAssertEqual(ServiceFlags.parseSchedFlags("mh-fallback,mh-port"), .success([.sched1, .sched2]))
    }
}
