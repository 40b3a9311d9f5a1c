import XCTest
@testable import LVSCore
@testable import LVSKit

/// `lvsctl import piranha`: Piranha's lvs.cf grammar (after piranha's lvsconfig.c) and its conversion to the
/// lvsctl format (after what piranha's lvsd and nanny passed to ipvsadm). Fixtures: Tests/Fixtures/piranha/.
/// That the output loads with lvsctl's restore parser is checked in LVSCtlTests/ImportTests.swift.
final class PiranhaTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/piranha")

    func fixture(_ name: String) throws -> String {
        try String(contentsOf: Self.dir.appendingPathComponent(name), encoding: .utf8)
    }

    func convert(_ text: String) throws -> Piranha.Conversion { try Piranha.convert(text, source: "lvs.cf") }

    /// The error for `text`, or a failure when it converts.
    func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Piranha.ParseError? {
        do {
            _ = try convert(text)
            XCTFail("no error for:\n\(text)", file: file, line: line)
        } catch let e as Piranha.ParseError {
            return e
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return nil
    }

    let ip = { (s: String) in IPAddress(s)! }

    // MARK: - Whole fixtures, output compared exactly

    func testDirectRoutingFixtureOutputExactly() throws {
        let c = try Piranha.convert(try fixture("lvs.cf"), source: "lvs.cf")
        XCTAssertEqual(c.text, try fixture("lvs.expected.conf"))
    }

    func testNATFixtureOutputExactly() throws {
        let c = try Piranha.convert(try fixture("nat.cf"), source: "nat.cf")
        XCTAssertEqual(c.text, try fixture("nat.expected.conf"))
    }

    func testQuirksFixtureOutputExactly() throws {
        let c = try Piranha.convert(try fixture("quirks.cf"), source: "quirks.cf")
        XCTAssertEqual(c.text, try fixture("quirks.expected.conf"))
    }

    func testNannyFixtureOutputExactly() throws {
        let c = try Piranha.convert(try fixture("nanny.cf"), source: "nanny.cf")
        XCTAssertEqual(c.text, try fixture("nanny.expected.conf"))
    }

    func testDirectRoutingFixtureModel() throws {
        let c = try convert(try fixture("lvs.cf"))
        XCTAssertEqual(c.config.entries.count, 2, "the inactive virtual smtp is skipped")
        let http = c.config.entries[0], mark = c.config.entries[1]
        XCTAssertEqual(http.service.key, .address(.tcp, Endpoint(address: ip("192.0.2.10"), port: 80)))
        XCTAssertEqual(http.service.scheduler, "wlc")
        XCTAssertEqual(http.service.persistence, Persistence(timeout: 300, netmask: Netmask.ipv4Wire(prefix: 24)))
        XCTAssertEqual(http.servers, [RealServer(address: ip("198.51.100.11"), port: 80, forwarding: .directRoute, weight: 1),
                                      RealServer(address: ip("198.51.100.12"), port: 80, forwarding: .directRoute, weight: 2)],
                       "web3 is inactive and not added")
        XCTAssertEqual(mark.service.key, .fwmark(80, .inet))
        XCTAssertEqual(mark.service.scheduler, "rr")
        XCTAssertEqual(mark.service.persistence, Persistence(timeout: 600, netmask: 0xFFFF_FFFF))
        XCTAssertEqual(mark.servers.map(\.weight), [1, 3])
        XCTAssertEqual(mark.servers.map(\.port), [80, 80], "nanny gave ipvsadm RIP:PORT; ipvsadm keeps it for fwmark services")
        XCTAssertEqual(c.config.timeouts, Timeouts(tcp: 900, tcpFin: 120, udp: 300))
        XCTAssertEqual(c.config.daemons, [SyncDaemon(state: .master, interface: "eth1", syncID: 7)])
        XCTAssertTrue(c.text.contains("\n# daemon on the standby router. On the standby, use instead: daemon start backup --mcast-interface eth1 --syncid 7\n"))
        XCTAssertTrue(c.text.contains("\n# inactive virtual smtp skipped (line 78: active = 0); piranha's lvsd did not load it\n# vs add -t 192.0.2.12:25 -s lc\n"))
        XCTAssertTrue(c.text.contains("\n# rs add -t 192.0.2.10:80 -r 198.51.100.13:80 -g -w 1\n"), "inactive server emitted commented out")
        XCTAssertTrue(c.text.contains("#   bundle add webmark --vip 192.0.2.11 --ports PORTS --mark 80 -s rr -p 600\n"))
    }

    func testEveryIgnoredKeyIsReportedWithItsLine() throws {
        let c = try convert(try fixture("lvs.cf"))
        let expected: [(String, Int)] = [
            ("serial_no", 3), ("primary", 4), ("service", 5), ("backup_active", 6), ("backup", 7), ("heartbeat", 8),
            ("heartbeat_port", 9), ("keepalive", 10), ("deadtime", 11), ("debug_level", 13), ("monitor_links", 14),
            ("address (interface)", 23), ("vip_nmask", 24), ("load_monitor", 31),
            ("address (interface)", 55), ("vip_nmask", 56), ("protocol", 63),
            ("address (interface)", 80),  // of the inactive virtual smtp, reported too
        ]
        XCTAssertEqual(c.ignored.map(\.key), expected.map(\.0))
        XCTAssertEqual(c.ignored.map(\.line), expected.map(\.1))
        // Each appears in the output as its comment, exactly once.
        for i in c.ignored {
            XCTAssertEqual(c.text.components(separatedBy: i.comment + "\n").count, 2, i.comment)
        }
        XCTAssertEqual(c.ignored.first { $0.key == "load_monitor" }?.comment,
                       "# ignored: load_monitor = none (line 31): nanny read no load average (none); lvsctl monitor keeps the configured weights too")
        // The health-check keys became check and sorry lines.
        XCTAssertTrue(c.text.contains(#"# note: send = "GET / HTTP/1.0\r\n\r\n" (line 28), expect = "HTTP" (line 29), use_regex = 0 (line 30): "#), c.text)
        XCTAssertTrue(c.text.contains("\ncheck -t 192.0.2.10:80 -r 198.51.100.11:80 --type http --path / --expect 100-599 --interval 6 --timeout 6 --rise 2 --fall 1 --on-fail remove\n"))
        XCTAssertTrue(c.text.contains("\nsorry -f 80 -r 203.0.113.5:80 -g -w 1\n"))
    }

    func testNATFixtureModel() throws {
        let c = try convert(try fixture("nat.cf"))
        let dns = c.config.entries[0], intra = c.config.entries[1]
        XCTAssertEqual(dns.service.key, .address(.udp, Endpoint(address: ip("192.0.2.20"), port: 53)))
        XCTAssertEqual(dns.servers, [RealServer(address: ip("198.51.100.31"), port: 53, forwarding: .masquerade, weight: 5),
                                     RealServer(address: ip("198.51.100.32"), port: 5353, forwarding: .masquerade, weight: 0)])
        // No port key: piranha's default 80; pmask 255.255.255.255 is the full mask (no -M).
        XCTAssertEqual(intra.service.key, .address(.tcp, Endpoint(address: ip("192.0.2.21"), port: 80)))
        XCTAssertEqual(intra.service.persistence, Persistence(timeout: 60, netmask: 0xFFFF_FFFF))
        XCTAssertEqual(intra.servers.map(\.port), [8080])
        XCTAssertNil(c.config.timeouts)
        XCTAssertEqual(c.config.daemons, [])
        XCTAssertEqual(Set(c.ignored.map(\.key)), ["service", "primary", "backup_active", "heartbeat", "heartbeat_port", "keepalive",
                                                   "deadtime", "nat_router", "nat_nmask", "address (interface)"])
    }

    // MARK: - Key by key

    func testNetworkChoosesForwardingAndDefaultsToNAT() throws {
        let v = "virtual a {\n active = 1\n address = 192.0.2.1\n server s {\n address = 198.51.100.1\n active = 1\n }\n}\n"
        XCTAssertEqual(try convert(v).config.entries[0].servers[0].forwarding, .masquerade)
        XCTAssertTrue(try convert(v).text.contains("piranha's default is nat"))
        XCTAssertEqual(try convert("network = direct\n" + v).config.entries[0].servers[0].forwarding, .directRoute)
        let tun = try convert("network = tunnel\n" + v)
        XCTAssertEqual(tun.config.entries[0].servers[0].forwarding, .tunnel)
        XCTAssertTrue(tun.text.contains("rs add -t 192.0.2.1:80 -r 198.51.100.1:80 -i -w 1 --tun-type ipip\n"))
    }

    func testMissingActiveMeansInactiveAsInPiranha() throws {
        let c = try convert("virtual a {\n address = 192.0.2.1\n server s {\n address = 198.51.100.1\n }\n}\n")
        XCTAssertEqual(c.config.entries, [])
        XCTAssertTrue(c.text.contains("# inactive virtual a skipped (line 1: no 'active = 1')"))
        let s = try convert("virtual a {\n active = 1\n address = 192.0.2.1\n server s {\n address = 198.51.100.1\n }\n}\n")
        XCTAssertEqual(s.config.entries[0].servers, [])
        XCTAssertTrue(s.text.contains("# inactive server s (line 4): piranha did not add it"))
        // Piranha's own sample: an inactive virtual with no address parses (piranha fails only when starting it).
        let sample = try convert("virtual vpn443 {\n port = 443\n persistent = 10\n scheduler = rr\n}\n")
        XCTAssertEqual(sample.config.entries, [])
        XCTAssertTrue(sample.text.hasSuffix("# inactive virtual vpn443 skipped (line 1: no 'active = 1'; no 'address', written VIP below); piranha's lvsd did not load it\n# vs add -t VIP:443 -s rr -p 10\n"), sample.text)
    }

    /// An inactive virtual without an address is written commented out like the others, `VIP` standing for the
    /// address, with its servers, notes and the keys it does not convert (which count in the note on stderr).
    func testInactiveVirtualWithoutAddressKeepsEverything() throws {
        let text = """
            network = direct
            virtual vpn {
                 protocol = udp
                 port = 1194
                 persistent = 30
                 pmask = 255.255.255.0
                 scheduler = sh
                 quiesce_server = 1
                 expect = "OK"
                 server gw1 {
                     address = 198.51.100.71
                     active = 1
                     weight = 4
                 }
                 server gw2 {
                     address = 198.51.100.72
                 }
            }

            """
        let c = try convert(text)
        XCTAssertEqual(c.config.entries, [])
        XCTAssertEqual(c.ignored, [], "quiesce_server and expect became the (commented-out) check lines")
        let body = c.text.components(separatedBy: "\n\n").last ?? ""
        XCTAssertEqual(body, """
            # inactive virtual vpn skipped (line 2: no 'active = 1'; no 'address', written VIP below); piranha's lvsd did not load it
            # vs add -u VIP:1194 -s sh -p 30 -M 255.255.255.0
            # rs add -u VIP:1194 -r 198.51.100.71:1194 -g -w 4
            # # inactive server gw2 (line 15): piranha did not add it; remove the '# ' below to add it
            # # rs add -u VIP:1194 -r 198.51.100.72:1194 -g -w 1
            # # Health checks for lvsctl monitor, from nanny's settings:
            # # note: protocol udp, expect = "OK" (line 9): nanny sent nothing and waited for a reply, so its check could not pass (lvsctl needs a datagram to send too)
            # # note: no 'timeout': nanny's default, a check every 10 s taking up to 10 s, a server out at its first failure: --interval 10 --timeout 10 --fall 1
            # # note: no 'reentry': nanny's default 180 s: a failed server came back after 180 / 10 = 18 passes in a row (rounded down, at least 1, as nanny counted): --rise 18
            # # note: quiesce_server = 1 (line 8): nanny set a failed server's weight to 0, keeping its connections: --on-fail quiesce
            # # note: nanny brought a server in at weight/32 (at least 1) and doubled it about every 20 s up to its weight: --slow-start of 20 s per doubling (lvsctl climbs linearly, and only after a recovery)
            # # note: write the datagram and the reply your service gives (--send TEXT --receive REGEX) and remove the '# ' below
            # # check -u VIP:1194 -r 198.51.100.71:1194 --type udp --send TEXT --receive REGEX --interval 10 --timeout 10 --rise 18 --fall 1 --on-fail quiesce --slow-start 40
            # # inactive server gw2 (line 15): remove the '# ' below with its rs add line above
            # # check -u VIP:1194 -r 198.51.100.72:1194 --type udp --send TEXT --receive REGEX --interval 10 --timeout 10 --rise 18 --fall 1 --on-fail quiesce

            """)
        // With no port either, piranha's default 80 is said; an IPv6 server gives the placeholder its family.
        let bare = try convert("network = tunnel\nvirtual v {\n server s {\n address = 2001:db8::5\n active = 1\n }\n}\n")
        XCTAssertTrue(bare.text.contains("piranha's lvsd did not load it\n# (no 'port' key: piranha's default, 80)\n# vs add -t VIP:80 -s wlc\n# rs add -t VIP:80 -r [2001:db8::5]:80 -i -w 1 --tun-type ipip\n"), bare.text)
        // Bad values in it are still errors, as piranha's parser finds them.
        XCTAssertEqual(error("virtual v {\n port = 80\n scheduler = nope\n}\n")?.line, 3)
        // An active virtual without an address stays an error.
        XCTAssertEqual(error("virtual v {\n active = 1\n port = 80\n}\n")?.message, "virtual 'v' has no address (and no fwmark)")
    }

    /// lvsconfig.c copies the virtual's port into a server when it reaches `server NAME {`: a `port` after the
    /// server blocks does not reach them (NAT and fwmark services; direct routing and tunnelling use the service
    /// port anyway). The conversion follows piranha and says so in a `# note:` line.
    func testPortAfterServerBlocksFollowsPiranha() throws {
        func conv(_ network: String, _ head: String) throws -> Piranha.Conversion {
            try convert("network = \(network)\nvirtual a {\n active = 1\n\(head) server s1 {\n address = 198.51.100.1\n active = 1\n }\n server s2 {\n address = 198.51.100.2\n active = 1\n port = 8443\n }\n port = 8080\n}\n")
        }
        let nat = try conv("nat", " address = 192.0.2.1\n")
        XCTAssertEqual(nat.config.entries[0].service.key.port, 8080)
        XCTAssertEqual(nat.config.entries[0].servers.map(\.port), [80, 8443], "s1 keeps the default 80; s2 has its own port")
        XCTAssertTrue(nat.text.contains("vs add -t 192.0.2.1:8080 -s wlc\n# note: port = 8080 (line 14) comes after server s1 (line 5), so as in piranha s1 keeps the virtual's port at that line: 80 (the default); add 'port = 8080' to its block to change it\nrs add -t 192.0.2.1:8080 -r 198.51.100.1:80 -m -w 1\nrs add -t 192.0.2.1:8080 -r 198.51.100.2:8443 -m -w 1\n"), nat.text)
        XCTAssertEqual(nat.text.components(separatedBy: "# note: port").count, 2, "one note, for s1 only")
        // An earlier port key is the one the servers got.
        let earlier = try conv("nat", " address = 192.0.2.1\n port = 81\n")
        XCTAssertEqual(earlier.config.entries[0].servers.map(\.port), [81, 8443])
        XCTAssertTrue(earlier.text.contains("s1 keeps the virtual's port at that line: 81 (line 5); add 'port = 8080'"), earlier.text)
        // Before the servers, the port reaches them: no note.
        let before = try convert("virtual a {\n active = 1\n address = 192.0.2.1\n port = 8080\n server s1 {\n address = 198.51.100.1\n active = 1\n }\n}\n")
        XCTAssertEqual(before.config.entries[0].servers.map(\.port), [8080])
        XCTAssertFalse(before.text.contains("# note: port"))
        // Direct routing: ipvsadm gives every server the service port, so the order does not matter and no note.
        let dr = try conv("direct", " address = 192.0.2.1\n")
        XCTAssertEqual(dr.config.entries[0].servers.map(\.port), [8080, 8080])
        XCTAssertFalse(dr.text.contains("# note: port"))
        // A fwmark service keeps the servers' ports as nanny gave them.
        let fw = try conv("nat", " fwmark = 7\n")
        XCTAssertEqual(fw.config.entries[0].servers.map(\.port), [80, 8443])
        XCTAssertTrue(fw.text.contains("# note: port = 8080 (line 14) comes after server s1 (line 5)"), fw.text)
    }

    /// Keys read at a value that changes no option leave a `# note:` line rather than nothing.
    func testKeysAtTheirOffValueLeaveANote() throws {
        let c = try convert("syncdaemon = 0\nvirtual a {\n active = 1\n address = 192.0.2.1\n fwmark = 0\n persistent = 0\n}\nvirtual b {\n active = 1\n address = 192.0.2.2\n pmask = 255.255.255.255\n persistent = 60\n}\n")
        XCTAssertEqual(c.ignored, [])
        XCTAssertEqual(c.config.daemons, [])
        XCTAssertNil(c.config.entries[0].service.persistence)
        XCTAssertEqual(c.config.entries[1].service.persistence, Persistence(timeout: 60, netmask: 0xFFFF_FFFF))
        for note in ["# note: syncdaemon = 0 (line 1): piranha started no sync daemon, so no 'daemon start' line.",
                     "# note: fwmark = 0 (line 5): 0 is no firewall mark, so the service is the address and port\n# note: persistent = 0 (line 6): 0 is no persistence, as in piranha (no -p)\nvs add -t 192.0.2.1:80 -s wlc\n",
                     "# note: pmask = 255.255.255.255 (line 11): the whole address, the default with -p, so no -M\nvs add -t 192.0.2.2:80 -s wlc -p 60\n"] {
            XCTAssertTrue(c.text.contains(note), "\(note)\n---\n\(c.text)")
        }
    }

    /// Every key of every fixture leaves a trace in the output: its line is named (`# ignored:`, `# note:`, an
    /// inactive block) or its value is in a command it became.
    func testEveryKeyReadLeavesATrace() throws {
        for f in ["lvs.cf", "nat.cf", "quirks.cf", "nanny.cf"] {
            let doc = try Piranha.parse(try fixture(f))
            let text = try convert(try fixture(f)).text
            var settings = doc.globals
            for b in doc.blocks {
                settings += b.settings
                for sb in b.servers { settings += sb.settings }
                }
            func rendered(_ s: Piranha.Setting) -> [String] {
                let v = s.words.first ?? ""
                switch s.key {
                case "address": return [v]
                case "port": return [":\(v) ", ":\(Piranha.portNames[v].map(String.init) ?? v) "]
                case "scheduler": return ["-s \(v)"]
                case "persistent": return ["-p \(v)"]
                case "pmask": return ["-M \(v)"]
                case "protocol": return [v == "udp" ? "-u " : "-t "]
                case "weight": return ["-w \(v)"]
                case "fwmark": return ["-f \(v)"]
                case "tcp_timeout": return ["--tcp \(v)"]
                case "tcpfin_timeout": return ["--tcpfin \(v)"]
                case "udp_timeout": return ["--udp \(v)"]
                case "syncd_iface": return ["--mcast-interface \(v)"]
                case "syncd_id": return ["--syncid \(v)"]
                case "active": return ["vs add", "rs add"]
                default: return []
                }
            }
            for s in settings where !text.contains("(line \(s.line))") && !text.contains("(line \(s.line):") {
                XCTAssertTrue(rendered(s).contains { text.contains($0) }, "\(f):\(s.line): \(s.key) = \(s.raw) leaves no trace")
            }
        }
    }

    func testPersistenceAndNetmask() throws {
        func svc(_ body: String) throws -> VirtualService {
            try convert("virtual a {\n active = 1\n address = 192.0.2.1\n\(body)}\n").config.entries[0].service
        }
        XCTAssertNil(try svc("persistent = 0\n").persistence)
        XCTAssertEqual(try svc("persistent = 0x3c\n").timeout, 60, "strtol base 0 reads hex, as piranha")
        XCTAssertEqual(try svc("persistent = 30\n pmask = 255.255.0.0\n").netmask, Netmask.ipv4Wire(prefix: 16))
        let noP = try convert("virtual a {\n active = 1\n address = 192.0.2.1\n pmask = 255.255.0.0\n}\n")
        XCTAssertNil(noP.config.entries[0].service.persistence)
        XCTAssertEqual(noP.ignored.map(\.key), ["pmask"])
        XCTAssertEqual(try svc("port = 0\n persistent = 60\n").key.port, 0)
        XCTAssertEqual(try svc("port = https\n").key.port, 443)
    }

    func testTimeoutsAndSyncDaemonDefaults() throws {
        let c = try convert("udp_timeout = 60\nsyncdaemon = 1\n")
        XCTAssertEqual(c.config.timeouts, Timeouts(tcp: 0, tcpFin: 0, udp: 60), "0 = unchanged, as piranha's ipvsadm --set")
        XCTAssertTrue(c.text.contains("\ntimeout set --tcp 0 --tcpfin 0 --udp 60\n"))
        XCTAssertEqual(c.config.daemons, [SyncDaemon(state: .master, interface: "eth0", syncID: 0)], "piranha's defaults")
        let off = try convert("syncdaemon = 0\nsyncd_iface = eth3\nsyncd_id = 4\n")
        XCTAssertEqual(off.config.daemons, [])
        XCTAssertEqual(off.ignored.map(\.key), ["syncd_iface", "syncd_id"])
        XCTAssertTrue(off.text.contains("# note: syncdaemon = 0 (line 1): piranha started no sync daemon, so no 'daemon start' line.\n"))
    }

    func testNATFwmarkUsesThePortAsPiranhaDidAndSaysSo() throws {
        let c = try convert("network = nat\nvirtual m {\n active = 1\n fwmark = 5\n port = 443\n server s {\n address = 198.51.100.1\n active = 1\n }\n}\n")
        XCTAssertEqual(c.config.entries[0].servers[0].port, 443)
        XCTAssertTrue(c.text.contains("# NAT to a fwmark service: as in piranha, connections go to port 443"))
        XCTAssertTrue(c.text.contains("--vip VIP --ports PORTS --mark 5"), "no address: placeholder VIP in the bundle hint")
    }

    func testDirectRoutingServerPortIsReported() throws {
        let c = try convert("network = direct\nvirtual a {\n active = 1\n address = 192.0.2.1\n server s {\n address = 198.51.100.1\n active = 1\n port = 8080\n }\n}\n")
        XCTAssertEqual(c.config.entries[0].servers[0].port, 80)
        XCTAssertEqual(c.ignored.map(\.key), ["port"])
        XCTAssertEqual(c.ignored[0].line, 8)
    }

    func testDuplicateKeysLastWinsAndTheFirstIsReported() throws {
        let c = try convert("virtual a {\n active = 1\n address = 192.0.2.1\n port = 81\n port = 82\n}\n")
        XCTAssertEqual(c.config.entries[0].service.key.port, 82)
        XCTAssertEqual(c.ignored, [Piranha.IgnoredKey(key: "port", value: "81", line: 4, reason: "overridden by line 5 (the last value wins, as in piranha)")])
    }

    func testFailoverBlocksAndUnknownKeysAreReported() throws {
        let c = try convert("service = fos\nfrobnicate = 1\nfailover ftp {\n address = 192.0.2.9 eth0:1\n start_cmd = \"/etc/init.d/vsftpd start\"\n}\n")
        XCTAssertEqual(c.ignored.map(\.key), ["service", "frobnicate", "failover ftp { ... }"])
        XCTAssertTrue(c.ignored[0].reason.contains("fos"))
        XCTAssertEqual(c.ignored[1].reason, "not a piranha lvs.cf key lvsctl knows; not converted")
        XCTAssertEqual(c.ignored[2].comment, "# ignored: failover ftp { ... } (line 3): a failover service (fos, lines 3-6) is not IPVS; not converted")
    }

    // MARK: - Syntax

    func testSyntaxVariants() throws {
        // CRLF, tabs, key=value without blanks, quoted values with blanks, comment lines and trailing comments.
        let text = "# comment\r\nnetwork=direct\r\n\tvirtual a {\r\n\tactive =1 # on\r\n\taddress= 192.0.2.1\teth0:1\r\n\tsend = 'GET / HTTP/1.0'\r\n}\r\n"
        let c = try convert(text)
        XCTAssertEqual(c.config.entries[0].service.key, .address(.tcp, Endpoint(address: ip("192.0.2.1"), port: 80)))
        XCTAssertEqual(c.ignored.map(\.line), [5])
        XCTAssertTrue(c.text.contains("# note: send = 'GET / HTTP/1.0' (line 6): nanny sent \"GET / HTTP/1.0\" and read no reply"), c.text)
        let doc = try Piranha.parse("a = \"x # y\" z\n")
        XCTAssertEqual(doc.globals[0].words, ["x # y", "z"])
        XCTAssertEqual(try Piranha.parse("").globals, [])
    }

    func testOutputIsOneCommandOrCommentPerLine() throws {
        for f in ["lvs.cf", "nat.cf", "quirks.cf", "nanny.cf"] {
            for line in try convert(try fixture(f)).text.split(separator: "\n") {
                XCTAssertTrue(line.hasPrefix("#") || line.hasPrefix("vs add ") || line.hasPrefix("rs add ")
                              || line.hasPrefix("timeout set ") || line.hasPrefix("daemon start ")
                              || line.hasPrefix("check ") || line.hasPrefix("sorry "), String(line))
                XCTAssertFalse(line.unicodeScalars.contains { $0.value < 32 }, String(line))
            }
        }
        // A control character inside a reported value is escaped in its comment.
        let c = try convert("virtual a {\n active = 1\n address = 192.0.2.1\n expect = \"a\tb\"\n}\n")
        XCTAssertTrue(c.text.contains(#"# note: expect = "a\x09b" (line 4): "#), c.text)
    }

    // MARK: - Bad input: the line and the value

    func testBadInputNamesLineAndValue() {
        let v = "virtual a {\n active = 1\n address = 192.0.2.1\n"
        let cases: [(String, Int, String)] = [
            ("network = bridge\n", 1, "'bridge'"),
            ("network\n", 1, "expected 'KEY = VALUE'"),
            ("network =\n", 1, "network needs a value"),
            ("network = nat direct\n", 1, "'direct'"),
            ("tcp_timeout = 99999999\n", 1, "'99999999'"),
            ("tcp_timeout = -1\n", 1, "'-1'"),
            ("syncdaemon = 1\nsyncd_id = 256\n", 2, "'256'"),
            ("syncdaemon = yes\n", 1, "'yes' (expected 0 or 1)"),
            ("syncdaemon = 1\nsyncd_iface = a/b\n", 2, "'a/b'"),
            ("}\n", 1, "'}' without"),
            ("server s {\n}\n", 1, "outside a virtual"),
            ("virtual a {\n server s {\n server t {\n }\n }\n}\n", 3, "inside server 's' (line 2)"),
            ("= 5\n", 1, "expected 'KEY = VALUE'"),
            ("=5\n", 1, "expected 'KEY = VALUE'"),
            ("virtual a\n", 1, "expected 'virtual NAME {'"),
            ("virtual a {\nvirtual b {\n}\n}\n", 2, "is a '}' missing?"),
            ("virtual a {\n active = 1\n", 1, "not closed"),
            ("send = \"abc\n", 1, "unterminated quote"),
            ("a = b\u{1}\n", 1, "control character"),
            (v + " port = 70000\n}\n", 4, "'70000'"),
            (v + " port = gopherish\n}\n", 4, "'gopherish'"),
            (v + " port = 0\n}\n", 4, "needs persistence"),
            (v + " port = 080\n}\n", 4, "octal"),
            (v + " protocol = sctp\n}\n", 4, "'sctp'"),
            (v + " scheduler = fastest\n}\n", 4, "'fastest'"),
            (v + " persistent = 2678401\n}\n", 4, "'2678401'"),
            (v + " persistent = 60\n pmask = 255.0.255.0\n}\n", 5, "'255.0.255.0'"),
            (v + " active = 2\n}\n", 4, "'2'"),
            (v + " fwmark = 4294967296\n}\n", 4, "'4294967296'"),
            ("virtual a {\n active = 1\n}\n", 1, "has no address"),
            ("virtual a {\n active = 1\n address = www.example.com eth0:1\n}\n", 3, "'www.example.com'"),
            ("virtual a {\n active = 1\n address = 224.0.0.1\n}\n", 3, "not a usable unicast"),
            ("virtual a {\n active = 1\n address = 192.0.2.1 eth0 extra\n}\n", 3, "'extra'"),
            (v + " server s {\n active = 1\n }\n}\n", 4, "has no address"),
            (v + " server s {\n address = 198.51.100.1\n active = 1\n weight = 65536\n }\n}\n", 7, "'65536'"),
            (v + " server s {\n address = 2001:db8::1\n active = 1\n }\n}\n", 5, "mixed families"),
            (v + " server s {\n address = 198.51.100.1\n active = 1\n }\n server t {\n address = 198.51.100.1\n active = 1\n }\n}\n",
             8, "same real server"),
            (v + "}\n" + v + "}\n", 5, "same service -t 192.0.2.1:80 as virtual 'a' (line 1)"),
        ]
        for (text, line, needle) in cases {
            guard let e = error(text) else { continue }
            XCTAssertEqual(e.line, line, "\(text): \(e)")
            XCTAssertTrue(e.message.contains(needle), "\(text): \(e.message)")
            XCTAssertFalse(e.message.contains("\n"), e.message)
        }
    }

    func testBadFixtures() throws {
        for (f, line, needle) in [("bad-weight.cf", 9, "'-3'"), ("bad-unclosed.cf", 2, "virtual 'web' is not closed"),
                                  ("bad-network.cf", 2, "'bridge'")] {
            guard let e = error(try fixture(f)) else { continue }
            XCTAssertEqual(e.line, line, f)
            XCTAssertTrue(e.message.contains(needle), "\(f): \(e.message)")
        }
    }

    /// Random byte edits of the fixtures never trap: each converts or throws a ParseError.
    func testMutatedInputNeverTraps() throws {
        var rng = SplitMix(seed: 0x5eed)
        let alphabet = Array("{}=#\"' \t\n\r0123456789abcdefvirtualserveradresport.:-x\u{0}\u{7f}é")
        for f in ["lvs.cf", "nat.cf", "quirks.cf", "nanny.cf"] {
            let base = Array(try fixture(f))
            for _ in 0..<400 {
                var t = base
                for _ in 0..<(1 + Int(rng.next() % 6)) {
                    let i = Int(rng.next() % UInt64(t.count))
                    switch rng.next() % 3 {
                    case 0: t[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                    case 1: t.remove(at: i)
                    default: t.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
                    }
                }
                do { _ = try convert(String(t)) } catch is Piranha.ParseError {} catch { XCTFail("\(error)") }
            }
        }
    }
}

/// A small deterministic PRNG for the mutation test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
