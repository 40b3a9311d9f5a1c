import XCTest
@testable import lvsctl
@testable import LVSKit
@testable import LVSCore

/// In-process parsing tests: options become the right model values, and bad values are usage errors
/// (exit 2) naming the value, before any kernel access.
final class ParsingTests: XCTestCase {
    func service(_ args: [String]) throws -> VirtualService {
        let c = try LVSCtl.parseAsRoot(Grammar.normalize(args))
        return try XCTUnwrap(c as? VS.Add).model()
    }

    func usageError(_ args: [String], _ file: StaticString = #filePath, _ line: UInt = #line) -> String {
        do {
            let c = try LVSCtl.parseAsRoot(Grammar.normalize(args))
            if let v = c as? VS.Add { _ = try v.model() }
            else if let r = c as? RS.Add { _ = try r.model(for: try r.target.service.spec.requiredKey()) }
            else if let b = c as? lvsctl.Bundle.Add { _ = try b.spec.model() }
            else if let t = c as? Timeout.Set { _ = try t.spec.model() }
            else if let d = c as? Daemon.Start { _ = try d.spec.model() }
            XCTFail("no error for \(args)", file: file, line: line)
            return ""
        } catch let e as UsageError {
            return e.description
        } catch {
            return Entry.usageMessage(error)
        }
    }

    func testServiceOptions() throws {
        let s = try service(["vs", "add", "-t", "192.0.2.1:80", "-s", "rr", "-p", "300", "-M", "255.255.255.0"])
        XCTAssertEqual(s.key, .address(.tcp, Endpoint(address: IPAddress("192.0.2.1")!, port: 80)))
        XCTAssertEqual(s.scheduler, "rr")
        XCTAssertEqual(s.persistence, Persistence(timeout: 300, netmask: Netmask.ipv4Wire(prefix: 24)))
        // -p alone means 360 s, as in ipvsadm.
        XCTAssertEqual(try service(["vs", "add", "-f", "80", "-p"]).timeout, 360)
        XCTAssertEqual(try service(["vs", "add", "-f", "80", "-p", "-s", "rr"]).scheduler, "rr")
        let v6 = try service(["vs", "add", "-f", "1", "-6", "-p", "60", "-M", "64"])
        XCTAssertEqual(v6.key, .fwmark(1, .inet6)); XCTAssertEqual(v6.netmask, 64)
        let sh = try service(["vs", "add", "-t", "[2001:db8::1]:443", "-s", "sh", "-b", "sh-fallback,sh-port"])
        XCTAssertEqual(sh.flags, [.sched1, .sched2])
        XCTAssertEqual(try service(["vs", "add", "-u", "192.0.2.5:53", "-o"]).flags, .onePacket)
        XCTAssertEqual(try service(["vs", "add", "-t", "192.0.2.1:80"]).scheduler, "wlc")
        // Ports may be service names from /etc/services, as in ipvsadm.
        XCTAssertEqual(try service(["vs", "add", "-t", "192.0.2.1:https"]).key.port, 443)
        XCTAssertEqual(try service(["vs", "add", "-u", "[2001:db8::1]:domain"]).key.port, 53)
        XCTAssert(usageError(["vs", "add", "-t", "192.0.2.1:nosuchservice"]).contains("'nosuchservice'"))
        XCTAssert(usageError(["vs", "add", "-t", "192.0.2.1:ht;tp"]).contains("'ht;tp'"))
    }

    /// A service address without a port is port 0, as ipvsadm's parse_service reads it (samba ctdb's LVS script:
    /// `ipvsadm -A -t $VIP -p 1999999 -s lc`, `ipvsadm -D -t $VIP`); the kernel's rule stays: port 0 needs -p.
    func testServiceWithoutPortIsPortZero() throws {
        let vip = IPAddress("203.0.113.201")!
        let t = try service(["vs", "add", "-t", "203.0.113.201", "-p", "1999999", "-s", "lc"])
        XCTAssertEqual(t.key, .address(.tcp, Endpoint(address: vip, port: 0)))
        XCTAssertEqual(t.persistence, Persistence(timeout: 1_999_999, netmask: 0xFFFF_FFFF))
        XCTAssertEqual(t.scheduler, "lc")
        XCTAssertEqual(try service(["vs", "add", "-u", "203.0.113.201", "-p"]).key, .address(.udp, Endpoint(address: vip, port: 0)))
        XCTAssertEqual(try service(["vs", "add", "-t", "203.0.113.201:0", "-p"]).key, t.key, "the same service as ADDR:0")
        // A bare IPv6 address is port 0 too; in brackets it needs its port, as in ipvsadm.
        XCTAssertEqual(try service(["vs", "add", "--sctp-service", "2001:db8::1", "-p", "60"]).key,
                       .address(.sctp, Endpoint(address: IPAddress("2001:db8::1")!, port: 0)))
        XCTAssertEqual(usageError(["vs", "add", "-t", "[2001:db8::1]", "-p"]),
                       "virtual service '[2001:db8::1]' needs a port after ']' ([ADDR6]:PORT; a bare ADDR6 is port 0)")
        // Without persistence the kernel refuses port 0: said first, with the same message as for ADDR:0.
        XCTAssertEqual(usageError(["vs", "add", "-t", "203.0.113.201", "-s", "lc"]), "port 0 of -t 203.0.113.201:0 needs persistence (-p)")
        XCTAssertEqual(usageError(["vs", "add", "-t", "203.0.113.201", "-s", "lc"]), usageError(["vs", "add", "-t", "203.0.113.201:0", "-s", "lc"]))
        XCTAssertTrue(usageError(["vs", "add", "-t", "203.0.113.300", "-p"]).contains("'203.0.113.300'"))
        // The other commands that name a service read it the same way.
        let del = try XCTUnwrap(try LVSCtl.parseAsRoot(["vs", "delete", "-t", "203.0.113.201"]) as? VS.Delete)
        XCTAssertEqual(try del.service.spec.key(), t.key)
        let edit = try XCTUnwrap(try LVSCtl.parseAsRoot(["vs", "edit", "-u", "203.0.113.201", "-s", "rr"]) as? VS.Edit)
        XCTAssertEqual(try edit.service.spec.key(), .address(.udp, Endpoint(address: vip, port: 0)))
        let rsDel = try XCTUnwrap(try LVSCtl.parseAsRoot(["rs", "delete", "-t", "203.0.113.201", "-r", "198.51.100.2"]) as? RS.Delete)
        XCTAssertEqual(try rsDel.target.service.spec.key(), t.key)
        let rsEdit = try XCTUnwrap(try LVSCtl.parseAsRoot(["rs", "edit", "-t", "203.0.113.201", "-r", "198.51.100.2", "-w", "0"]) as? RS.Edit)
        XCTAssertEqual(try rsEdit.target.service.spec.key(), t.key)
        let list = try XCTUnwrap(try LVSCtl.parseAsRoot(["list", "-t", "203.0.113.201"]) as? List)
        XCTAssertEqual(try list.service.spec.key(required: false), t.key)
        // Real servers of a port-0 service: ipvsadm's port rules with a service port of 0.
        func rs(_ a: [String]) throws -> RealServer {
            let r = try XCTUnwrap(try LVSCtl.parseAsRoot(a) as? RS.Add)
            return try r.model(for: try r.target.service.spec.requiredKey())
        }
        XCTAssertEqual(try rs(["rs", "add", "-t", "203.0.113.201", "-r", "198.51.100.2"]).endpoint, Endpoint(address: IPAddress("198.51.100.2")!, port: 0))
        XCTAssertEqual(try rs(["rs", "add", "-t", "203.0.113.201", "-r", "198.51.100.2:8080", "-g"]).port, 0, "DR forces the service port")
        XCTAssertEqual(try rs(["rs", "add", "-t", "203.0.113.201", "-r", "198.51.100.2:8080", "-m"]).port, 8080)
        XCTAssertEqual(try rs(["rs", "add", "-u", "203.0.113.201", "-r", "198.51.100.2", "-m"]).port, 0)
    }

    func testRealServerPortRules() throws {
        func rs(_ a: [String]) throws -> RealServer {
            let r = try XCTUnwrap(try LVSCtl.parseAsRoot(a) as? RS.Add)
            return try r.model(for: try r.target.service.spec.requiredKey())
        }
        XCTAssertEqual(try rs(["rs", "add", "-t", "192.0.2.1:80", "-r", "198.51.100.2"]).port, 80)
        XCTAssertEqual(try rs(["rs", "add", "-t", "192.0.2.1:80", "-r", "198.51.100.2:8080", "-g"]).port, 80)  // DR forces the port
        XCTAssertEqual(try rs(["rs", "add", "-t", "192.0.2.1:80", "-r", "198.51.100.2:8080", "-m"]).port, 8080)
        XCTAssertEqual(try rs(["rs", "add", "-f", "80", "-r", "198.51.100.2"]).port, 0)
        let g = try rs(["rs", "add", "-t", "192.0.2.1:80", "-r", "198.51.100.2", "-i", "--tun-type", "gue", "--tun-port", "6080", "--tun-remcsum"])
        XCTAssertEqual(g.tunnelType, .gue); XCTAssertEqual(g.tunnelPort, 6080); XCTAssertEqual(g.tunnelChecksum, .remoteChecksum)
        let m = try rs(["rs", "add", "-t", "192.0.2.1:80", "-r", "2001:db8::2", "-i"])
        XCTAssertEqual(m.address.family, .inet6)
    }

    func testUsageErrorsNameTheValue() {
        let cases: [([String], String)] = [
            (["vs", "add", "-t", "192.0.2.1:99999"], "'99999'"),
            (["vs", "add", "-t", "192.0.2.1:0"], "needs persistence"),
            (["vs", "add", "-f", "0"], "'0'"),
            (["vs", "add", "-t", "192.0.2.1:80", "-M", "255.255.255.0"], "needs persistence"),
            (["vs", "add", "-t", "192.0.2.1:80", "-6"], "-6"),
            (["vs", "add", "-t", "192.0.2.1:80", "-s", "rr", "-b", "sh-port"], "'sh-port'"),
            (["vs", "add", "-t", "224.0.0.1:80"], "multicast"),
            (["vs", "add", "-t", "[::ffff:192.0.2.1]:80"], "IPv4-mapped"),
            (["rs", "add", "-t", "192.0.2.1:80", "-r", "198.51.100.2", "-w", "65536"], "'65536'"),
            (["rs", "add", "-t", "192.0.2.1:80", "-r", "198.51.100.2", "-x", "5", "-y", "9"], "lower threshold 9"),
            (["rs", "add", "-t", "192.0.2.1:80", "-r", "198.51.100.2", "--tun-type", "gue"], "-i"),
            (["rs", "add", "-t", "192.0.2.1:80", "-r", "2001:db8::2"], "mixed families"),
            (["bundle", "add", "w", "--vip", "192.0.2.1", "--ports", "90:80"], "reversed"),
            (["bundle", "add", "a b", "--vip", "192.0.2.1", "--ports", "80"], "'a b'"),
            (["timeout", "set", "--tcp", "-1"], "--tcp"),
            (["timeout", "set", "--tcp", "99999999"], "'99999999'"),
            (["daemon", "start", "leader"], "'leader'"),
        ]
        for (args, needle) in cases {
            let m = usageError(args)
            XCTAssertTrue(m.contains(needle), "\(args): \(m)")
            XCTAssertFalse(m.contains("\n"), "one line: \(m)")
        }
    }

    func testFastFileParserAgreesWithArgumentParser() throws {
        let lines = [
            "vs add -t 192.0.2.1:80 -s rr -p 300 -M 255.255.255.0",
            "rs add -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 5 -x 100 -y 10",
            "-A -u [2001:db8::1]:53 -s sh -b sh-port",
            "-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -i --tun-type gue --tun-port 6080 --tun-csum -w 2",
        ]
        let text = lines.joined(separator: "\n")
        let (fast, _, _) = try ConfigFile.parse(name: "t", text: text, base: ClusterConfig())
        // The same lines through the full grammar (an unknown-to-the-fast-path comment forces nothing; parse each).
        var slow = ClusterConfig(); var src = SourceMap()
        for l in lines {
            var w = try ConfigFile.tokenize(l[...])
            if w[0] == "-A" { w = ["vs", "add"] + w.dropFirst() } else if w[0] == "-a" { w = ["rs", "add"] + w.dropFirst() }
            var dr: [DRFileLine] = []
            try ConfigFile.add(try XCTUnwrap(argumentParserLine(try LVSCtl.parseAsRoot(w))), to: &slow, source: &src, dr: &dr)
        }
        XCTAssertEqual(fast.entries, slow.entries)
        XCTAssertEqual(fast.entries.count, 2)
    }

    func testFileErrorsNameFileAndLine() {
        XCTAssertThrowsError(try ConfigFile.parse(name: "f.conf", text: "vs add -t 192.0.2.1:80\nrs add -t 192.0.2.9:80 -r 198.51.100.2\n", base: ClusterConfig())) {
            XCTAssertTrue("\($0)".hasPrefix("f.conf:2: "), "\($0)")
        }
        XCTAssertThrowsError(try ConfigFile.parse(name: "f.conf", text: "vs add -t 192.0.2.1:80\r\nvs add -t 192.0.2.1:80\r\n", base: ClusterConfig())) {
            XCTAssertTrue("\($0)".contains("f.conf:2: service -t 192.0.2.1:80 is defined twice"), "\($0)")
        }
        XCTAssertNoThrow(try ConfigFile.parse(name: "f", text: "# comment\n\nvs add -t 192.0.2.1:80 # trailing", base: ClusterConfig()))
    }

    func testSavedFormatRoundTrips() throws {
        var c = ClusterConfig()
        let k = ServiceKey.address(.tcp, Endpoint(address: IPAddress("192.0.2.1")!, port: 80))
        c.entries = [ServiceEntry(service: VirtualService(key: k, scheduler: "wrr", flags: .persistent, timeout: 60),
                                  servers: [RealServer(address: IPAddress("198.51.100.2")!, port: 80, forwarding: .masquerade, weight: 3, upperThreshold: 9, lowerThreshold: 2)])]
        c.timeouts = Timeouts(tcp: 900, tcpFin: 120, udp: 300)
        c.daemons = [SyncDaemon(state: .master, interface: "eth0", syncID: 4)]
        let text = LVSCtlFormat.render(c, header: "test")
        let (back, _, _) = try ConfigFile.parse(name: "t", text: text, base: ClusterConfig())
        XCTAssertEqual(back.entries, c.entries)
        XCTAssertEqual(back.timeouts, c.timeouts)
        XCTAssertEqual(back.daemons, c.daemons)
        XCTAssertTrue(Planner.diff(from: c, to: back).isEmpty)
    }

    func testPlannerDiffAndInverse() {
        let k = ServiceKey.fwmark(80, .inet)
        let a = RealServer(address: IPAddress("198.51.100.2")!, port: 0), b = RealServer(address: IPAddress("198.51.100.3")!, port: 0)
        var cur = ClusterConfig(); cur.entries = [ServiceEntry(service: VirtualService(key: k, scheduler: "rr"), servers: [a])]
        var want = cur; want.entries[0].service.scheduler = "wrr"; want.entries[0].servers = [b]
        let plan = Planner.diff(from: cur, to: want)
        XCTAssertEqual(plan, [.editService(want.entries[0].service), .deleteDest(k, a.endpoint), .addDest(k, b)])
        XCTAssertEqual(plan.flatMap { Planner.inverse(of: $0, before: cur) },
                       [.editService(cur.entries[0].service), .addDest(k, a), .deleteDest(k, b.endpoint)])
    }
}
