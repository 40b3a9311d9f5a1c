import XCTest
@testable import LVSCore
@testable import LVSKit

/// The allocation-free index sort gives exactly the order of a plain transcription of glibc's msort with
/// libipvs's comparators, including the wrapping comparisons that make ipvsadm's order non-numeric.
final class SortOrderTests: XCTestCase {
    // Reference: glibc msort and ipvs_cmp_services / ipvs_cmp_dests written out directly.
    func words(_ a: IPAddress) -> [UInt32] {
        stride(from: 0, to: a.bytes.count, by: 4).map { i in
            UInt32(a.bytes[i]) << 24 | UInt32(a.bytes[i + 1]) << 16 | UInt32(a.bytes[i + 2]) << 8 | UInt32(a.bytes[i + 3])
        }
    }
    func wrap(_ a: UInt32, _ b: UInt32) -> Int32 { Int32(bitPattern: a &- b) }
    func cmpAddr(_ a: IPAddress, _ b: IPAddress) -> Int32 {
        let wa = words(a), wb = words(b)
        for i in 0..<min(wa.count, wb.count) { let r = wrap(wa[i], wb[i]); if r != 0 { return r } }
        return 0
    }
    func cmpServices(_ x: ServiceEntry, _ y: ServiceEntry) -> Int32 {
        func parts(_ k: ServiceKey) -> (UInt32, UInt16, UInt16, IPAddress?, UInt16) {
            switch k {
            case .fwmark(let m, let f): return (m, f.rawValue, 6, nil, 0)
            case .address(let p, let e): return (0, e.address.family.rawValue, p.rawValue, e.address, e.port)
            }
        }
        let a = parts(x.service.key), b = parts(y.service.key)
        var r = wrap(a.0, b.0); if r != 0 { return r }
        r = Int32(a.1) - Int32(b.1); if r != 0 { return r }
        r = Int32(a.2) - Int32(b.2); if r != 0 { return r }
        if let aa = a.3, let ba = b.3 { r = cmpAddr(aa, ba); if r != 0 { return r } }
        return Int32(a.4) - Int32(b.4)
    }
    func msort<T>(_ a: [T], _ cmp: (T, T) -> Int32) -> [T] {
        if a.count <= 1 { return a }
        let l = msort(Array(a[..<(a.count / 2)]), cmp), r = msort(Array(a[(a.count / 2)...]), cmp)
        var out: [T] = [], i = 0, j = 0
        while i < l.count && j < r.count { if cmp(l[i], r[j]) <= 0 { out.append(l[i]); i += 1 } else { out.append(r[j]); j += 1 } }
        return out + l[i...] + r[j...]
    }

    func randomAddress(_ g: inout SystemRandomNumberGenerator, v6: Bool) -> IPAddress {
        // High first bytes make the wrapping subtraction disagree with numeric order.
        let first: [UInt8] = [1, 10, 127, 128, 192, 200, 255]
        var b = (0..<(v6 ? 16 : 4)).map { _ in UInt8.random(in: 0...255, using: &g) }
        b[0] = first.randomElement(using: &g)!
        return IPAddress(bytes: b)!
    }

    func testServicesAndDestsSortLikeIpvsadm() {
        var g = SystemRandomNumberGenerator()
        for round in 0..<40 {
            var entries: [ServiceEntry] = []
            for _ in 0..<(round * 7 % 97 + 1) {
                let key: ServiceKey
                switch Int.random(in: 0..<4, using: &g) {
                case 0: key = .fwmark(UInt32.random(in: 1...UInt32.max, using: &g), Bool.random(using: &g) ? .inet : .inet6)
                default:
                    let v6 = Bool.random(using: &g)
                    key = .address([.tcp, .udp, .sctp].randomElement(using: &g)!,
                                   Endpoint(address: randomAddress(&g, v6: v6), port: UInt16.random(in: 0...65535, using: &g)))
                }
                let servers = (0..<Int.random(in: 0..<9, using: &g)).map { _ in
                    RealServer(address: randomAddress(&g, v6: Bool.random(using: &g)), port: UInt16.random(in: 0...3, using: &g), forwarding: .directRoute)
                }
                entries.append(ServiceEntry(service: VirtualService(key: key), servers: servers))
            }
            let want = msort(entries, cmpServices).map { $0.service.key }
            XCTAssertEqual(IPVSAdmFormat.sortedServices(entries).map { $0.service.key }, want)
            for e in entries {
                let wantD = msort(e.servers) { x, y in let r = self.cmpAddr(x.address, y.address); return r != 0 ? r : Int32(x.port) - Int32(y.port) }
                XCTAssertEqual(IPVSAdmFormat.sortedDests(e.servers).map { $0.endpoint }, wantD.map { $0.endpoint })
            }
        }
    }
}
