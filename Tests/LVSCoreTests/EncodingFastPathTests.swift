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
    }
}
