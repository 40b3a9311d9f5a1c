import XCTest
@testable import LVSCore
@testable import LVSKit

/// The byte-level renderers of `list` and `save` (``TextBuffer``). The expected text is what ipvsadm 1.31's
/// printf formats give (`"%s  %s %s"` service lines, `"  -> %-28s %-7s %-6d %-10u %-10u\n"` destination lines,
/// `-Sn` lines); the kernel tests compare the same outputs with a live ipvsadm.
final class TextFormatTests: XCTestCase {
    func testDecimalsAndPadding() {
        var b = TextBuffer()
        b.decimal(UInt64(0)); b.append(byte: 32)
        b.decimal(UInt64(9)); b.append(byte: 32)
        b.decimal(UInt64(10)); b.append(byte: 32)
        b.decimal(UInt64.max); b.append(byte: 32)
        b.decimal(Int64.min); b.append(byte: 32)
        b.decimal(Int64(-42), left: 6); b.append("|")
        b.decimal(UInt64(7), right: 4); b.append("|")
        let s = b.count
        b.append("abcdef"); b.truncate(from: s, to: 3); b.pad(from: s, to: 5); b.append("|")
        XCTAssertEqual(b.string, "0 9 10 18446744073709551615 -9223372036854775808 -42   |   7|abc  |")
    }

    func testAddresses() {
        var b = TextBuffer()
        b.endpoint(Endpoint(address: IPAddress("0.0.0.0")!, port: 0)); b.append(byte: 32)
        b.endpoint(Endpoint(address: IPAddress("255.255.255.255")!, port: 65535)); b.append(byte: 32)
        b.endpoint(Endpoint(address: IPAddress("2001:db8::1")!, port: 443)); b.append(byte: 32)
        b.address(IPAddress("::ffff:192.0.2.1")!)
        XCTAssertEqual(b.string, "0.0.0.0:0 255.255.255.255:65535 [2001:db8::1]:443 ::ffff:192.0.2.1")
    }

    let v4 = ServiceEntry(
        service: VirtualService(key: .address(.tcp, Endpoint(address: IPAddress("192.0.2.1")!, port: 80)), scheduler: "rr",
                                flags: [.persistent], timeout: 300, netmask: 0x00FF_FFFF),
        servers: [
            { var d = RealServer(address: IPAddress("198.51.100.10")!, port: 8080, forwarding: .masquerade, weight: 65535)
              d.activeConnections = 12; d.inactiveConnections = 345; return d }(),
            RealServer(address: IPAddress("198.51.100.2")!, port: 80),
        ])
    let v6 = ServiceEntry(
        service: VirtualService(key: .address(.udp, Endpoint(address: IPAddress("2001:db8::1")!, port: 53)), scheduler: "sh",
                                flags: [.sched1, .sched2, .onePacket]),
        servers: [{ var d = RealServer(address: IPAddress("2001:db8::2")!, port: 53, forwarding: .tunnel, weight: 0,
                                       tunnelType: .gue, tunnelPort: 6080, tunnelChecksum: .checksum)
                    d.activeConnections = UInt32.max; return d }()])
    let mark = ServiceEntry(service: VirtualService(key: .fwmark(0x8000_0000, .inet6), scheduler: "wlc", flags: [.persistent],
                                                    timeout: 60, netmask: 64), servers: [])

    func testListStandard() {
        XCTAssertEqual(IPVSAdmFormat.list(v4, columns: .standard, exact: false),
                       "TCP  192.0.2.1:80 rr persistent 300 mask 255.255.255.0\n"
                       + "  -> 198.51.100.2:80              Route   1      0          0         \n"
                       + "  -> 198.51.100.10:8080           Masq    65535  12         345       \n")
        XCTAssertEqual(IPVSAdmFormat.list(v6, columns: .standard, exact: false),
                       "UDP  [2001:db8::1]:53 sh (sh-fallback,sh-port) ops\n"
                       + "  -> [2001:db8::2]:53             Tunnel  0      4294967295 0         \n")
        XCTAssertEqual(IPVSAdmFormat.list(mark, columns: .standard, exact: false), "FWM  -2147483648 IPv6 wlc persistent 60 mask 64\n")
        // --nosort keeps the kernel's order.
        XCTAssertTrue(IPVSAdmFormat.list(v4, columns: .standard, exact: false, sorted: false)
            .contains("345       \n  -> 198.51.100.2:80 "))
    }

    func testSaveLines() {
        XCTAssertEqual(IPVSAdmFormat.save(v4),
                       "-A -t 192.0.2.1:80 -s rr -p 300 -M 255.255.255.0\n"
                       + "-a -t 192.0.2.1:80 -r 198.51.100.2:80 -g -w 1\n"
                       + "-a -t 192.0.2.1:80 -r 198.51.100.10:8080 -m -w 65535\n")
        XCTAssertEqual(IPVSAdmFormat.save(v6),
                       "-A -u [2001:db8::1]:53 -s sh -o -b sh-fallback,sh-port\n"
                       + "-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -i -w 0 --tun-type gue --tun-port 6080 --tun-csum\n")
        XCTAssertEqual(IPVSAdmFormat.save(mark), "-A -f 2147483648 -6 -s wlc -p 60 -M 64\n")
        var c = ClusterConfig()
        c.entries = [v6, v4]
        var t = v4.servers[0]
        t.upperThreshold = 100; t.lowerThreshold = 10
        c.entries[1].servers[0] = t
        XCTAssertEqual(LVSCtlFormat.render(c),
                       "vs add -t 192.0.2.1:80 -s rr -p 300 -M 255.255.255.0\n"
                       + "rs add -t 192.0.2.1:80 -r 198.51.100.2:80 -g -w 1\n"
                       + "rs add -t 192.0.2.1:80 -r 198.51.100.10:8080 -m -w 65535 -x 100 -y 10\n"
                       + "vs add -u [2001:db8::1]:53 -s sh -o -b sh-fallback,sh-port\n"
                       + "rs add -u [2001:db8::1]:53 -r [2001:db8::2]:53 -i -w 0 --tun-type gue --tun-port 6080 --tun-csum\n")
    }

    func testLargeNumbers() {
        // ipvsadm's print_largenum: "%8lluK" above 10^8, and "%*llu" of width len+1 with --exact.
        XCTAssertEqual(IPVSAdmFormat.largeNumber(123_456_789, false), "  123456K")
        XCTAssertEqual(IPVSAdmFormat.largeNumber(123_456_789, true), " 123456789")
        XCTAssertEqual(IPVSAdmFormat.largeNumber(42, false), "       42")
    }
}
