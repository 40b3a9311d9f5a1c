import XCTest
@testable import LVSCore

/// `IPVSRequest.encodedAttributes()` writes the common requests directly; it must give the same bytes as
/// encoding the attribute enum values.
final class EncodingFastPathTests: XCTestCase {
    func testDirectEncodingMatchesGeneric() {
        let v4 = IPAddress("192.0.2.10")!, v6 = IPAddress("2001:db8::10")!
        let r4 = IPAddress("198.51.100.2")!, r6 = IPAddress("2001:db8::2")!
        let keys: [ServiceKey] = [
            .address(.tcp, Endpoint(address: v4, port: 80)), .address(.udp, Endpoint(address: v6, port: 53)),
            .address(.sctp, Endpoint(address: v4, port: 0)), .fwmark(7, .inet), .fwmark(0xFFFF_FFFF, .inet6),
        ]
        var requests: [IPVSRequest] = []
        for k in keys {
            var s = VirtualService(key: k, scheduler: "wrr", flags: [.persistent], timeout: 300)
            requests += [.addService(s), .editService(s), .deleteService(k), .zero(k)]
            s.persistenceEngine = "sip"; s.flags = [.onePacket]; s.netmask = 0xFFFF_FF00
            requests += [.addService(s), .editService(s)]
            s.unknown = [RawAttribute(type: 30, payload: [1, 2, 3])]
            requests.append(.addService(s))
            let ds = [
                RealServer(address: r4, port: 8080, forwarding: .masquerade, weight: 3, upperThreshold: 9, lowerThreshold: 2),
                RealServer(address: r6, port: 80, forwarding: .tunnel, weight: 0, tunnelType: .gue, tunnelPort: 6080,
                           tunnelChecksum: .remoteChecksum),
                RealServer(address: r4, port: 80, forwarding: .directRoute, weight: 65535),
            ]
            for d in ds {
                requests += [.addDest(k, d), .editDest(k, d), .deleteDest(k, d.endpoint)]
                var u = d; u.unknown = [RawAttribute(type: 31, payload: [9])]
                requests.append(.addDest(k, u))
            }
        }
        for r in requests {
            XCTAssertEqual(r.encodedAttributes(), r.encodedAttributesGeneric(), "\(r)")
        }
        // The fixed-layout destination nest equals the one written attribute by attribute.
        for case .addDest(_, let d) in requests {
            var a = AttributeEncoder(), b = AttributeEncoder()
            IPVSRequest.putDest(d, &a); IPVSRequest.putDestByAttribute(d, &b)
            XCTAssertEqual(a.bytes, b.bytes, "\(d)")
        }
        // With the key cache the batch sender uses, in order and shuffled (the cache must follow key changes).
        var cache: (key: ServiceKey, bytes: [UInt8])?
        for r in requests + requests.reversed() + requests.shuffled() {
            XCTAssertEqual(r.encodedAttributes(keyCache: &cache), r.encodedAttributesGeneric(), "\(r)")
        }
    }

    func bytes(_ attrs: [CommandAttribute]) -> ArraySlice<UInt8> {
        var e = AttributeEncoder()
        for a in attrs { a.encode(&e) }
        return e.bytes[...]
    }

    func testDirectDecodingMatchesGeneric() throws {
        let st: [StatsAttribute] = [.conns(5), .inPackets(7), .outPackets(9), .inBytes(1 << 40), .outBytes(3), .cps(1),
                                    .inPPS(2), .outPPS(3), .inBPS(4), .outBPS(5), .other(RawAttribute(type: 20, payload: [1, 2, 3, 4]))]
        let a4: [UInt8] = [198, 51, 100, 2] + [UInt8](repeating: 0, count: 12)
        let a6 = IPAddress("2001:db8::2")!.bytes
        let dests: [[DestAttribute]] = [
            [.addr(a4), .port(8080), .fwdMethod(0), .weight(3), .upperThreshold(9), .lowerThreshold(2), .activeConns(4),
             .inactiveConns(5), .persistConns(6), .stats(st, flagged: false), .addrFamily(2), .stats64(st, flagged: false),
             .tunType(1), .tunPort(6080), .tunFlags(2)],
            [.addr(a6), .port(80), .fwdMethod(2), .weight(-1), .addrFamily(10)],
            [.addr(a4), .port(80), .fwdMethod(3), .weight(1)],                        // no family: the service's
            [.addr(a4), .port(80), .fwdMethod(3), .weight(1), .other(RawAttribute(type: 40, payload: [7]))],
            [.addr(a4), .port(80), .fwdMethod(3), .stats([.conns(1)], flagged: true)],
            [.addr(a4), .fwdMethod(9)],
        ]
        for d in dests {
            for fam in [AddressFamily.inet, .inet6] {
                let b = bytes([.dest(d, flagged: false)])
                let fast = try? IPVSDecode.dest(b, serviceFamily: fam), slow = try? IPVSDecode.destGeneric(b, serviceFamily: fam)
                XCTAssertEqual(fast, slow, "\(d)")
                if slow != nil { XCTAssertEqual(fast?.unknown, slow?.unknown) }
            }
        }
        let v4: [UInt8] = [192, 0, 2, 1] + [UInt8](repeating: 0, count: 12)
        let services: [[ServiceAttribute]] = [
            [.af(2), .protocol(6), .addr(v4), .port(80), .schedName("wlc"), .flags(flags: 0x3, mask: ~0), .timeout(300),
             .netmask(0xFFFF_FFFF), .stats(st, flagged: false), .peName("sip"), .stats64(st, flagged: false)],
            [.af(10), .fwmark(7), .schedName("rr"), .flags(flags: 0, mask: 0), .timeout(0), .netmask(128), .peName("")],
            [.af(2), .protocol(17), .addr(v4), .port(53), .schedName("sh"), .other(RawAttribute(type: 30, payload: [1]))],
            [.af(2), .protocol(99), .addr(v4), .port(53)],
            [.af(7), .fwmark(1)],
        ]
        for s in services {
            let b = bytes([.service(s, flagged: false)])
            XCTAssertEqual(try? IPVSDecode.service(b), try? IPVSDecode.serviceGeneric(b), "\(s)")
        }
        // two top-level attributes, truncated bytes: the generic decoder decides
        let two = bytes([.service(services[0], flagged: false), .timeoutTCP(1)])
        XCTAssertEqual(try? IPVSDecode.service(two), try? IPVSDecode.serviceGeneric(two))
        let cut = bytes([.dest(dests[0], flagged: false)]).dropLast(3)
        XCTAssertThrowsError(try IPVSDecode.dest(cut, serviceFamily: .inet))

        // stats: false (list without counters, save): everything but the counters, which are nil
        for d in dests {
            let b = bytes([.dest(d, flagged: false)])
            guard var slow = try? IPVSDecode.destGeneric(b, serviceFamily: .inet) else { continue }
            slow.stats = nil
            XCTAssertEqual(try IPVSDecode.dest(b, serviceFamily: .inet, stats: false), slow, "\(d)")
        }
        for s in services {
            let b = bytes([.service(s, flagged: false)])
            guard var slow = try? IPVSDecode.serviceGeneric(b) else { continue }
            slow.stats = nil
            XCTAssertEqual(try IPVSDecode.service(b, stats: false), slow, "\(s)")
        }
        XCTAssertNotNil(try IPVSDecode.service(bytes([.service(services[0], flagged: false)])).stats)
        XCTAssertNil(try IPVSDecode.service(bytes([.service(services[0], flagged: false)]), stats: false).stats)
        XCTAssertThrowsError(try IPVSDecode.dest(cut, serviceFamily: .inet, stats: false))
    }
}
