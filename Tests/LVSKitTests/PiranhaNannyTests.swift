import XCTest
@testable import LVSCore
@testable import LVSKit

/// `lvsctl import piranha`: nanny's health-check keys become `check` and `sorry` lines (after piranha's lvsd.c and
/// nanny.c, see PiranhaNanny.swift), and every converted file loads with restore's parser, check lines included.
final class PiranhaNannyTests: XCTestCase {
    /// A virtual `v` at 192.0.2.1 with `keys`, and one active server s1 (198.51.100.1, weight `weight`).
    func text(_ keys: String, network: String = "nat", weight: Int = 1, extraServer: String = "") -> String {
        """
        network = \(network)
        virtual v {
             active = 1
             address = 192.0.2.1
        \(keys)
             server s1 {
                 address = 198.51.100.1
                 active = 1
                 weight = \(weight)
             }
        \(extraServer)}

        """
    }

    /// Converts and loads the result with restore's parser: every check and sorry line parses and is checked.
    func convert(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> (Piranha.Conversion, SourceMap) {
        let c = try Piranha.convert(text, source: "lvs.cf")
        let (_, src, _) = try ConfigFile.parse(name: "converted", text: c.text, base: ClusterConfig())
        let lines = c.text.split(separator: "\n")
        XCTAssertEqual(src.checks.count, lines.filter { $0.hasPrefix("check ") }.count, file: file, line: line)
        XCTAssertEqual(src.sorry.count, lines.filter { $0.hasPrefix("sorry ") }.count, file: file, line: line)
        return (c, src)
    }

    /// The check lines of a conversion.
    func checks(_ c: Piranha.Conversion) -> [String] {
        c.text.split(separator: "\n").filter { $0.hasPrefix("check ") || $0.hasPrefix("# check ") }.map(String.init)
    }

    func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Piranha.ParseError? {
        do {
            _ = try Piranha.convert(text, source: "lvs.cf")
            XCTFail("no error for:\n\(text)", file: file, line: line)
        } catch let e as Piranha.ParseError {
            return e
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return nil
    }

    let timing = "--interval 10 --timeout 10 --rise 18 --fall 1 --on-fail remove"

    // MARK: - The check type

    func testHTTPSendAndExpectBecomeAnHTTPCheckWithTheClosestStatusCodes() throws {
        let get = #"     send = "GET /health HTTP/1.0\r\n\r\n""#
        let cases: [(String, String?, String)] = [
            (#"expect = "HTTP""#, "100-599", "any HTTP status"),
            (#"expect = "*""#, "100-599", "wanted any reply"),
            (#"expect = """#, "100-599", "wanted any reply"),
            (#"expect = "HTTP/1.1 200""#, "200", "status 200"),
            (#"expect = "HTTP/1.0 2""#, "200-299", "status 200-299"),
            (#"expect = "HTTP/1.1 30""#, "300-309", "status 300-309"),
            (#"expect = "HTTP/1.1 200 OK""#, "200", "the reason phrase \"OK\""),
            (#"expect = "HTTP/1.1 200 OK\r\nServer""#, "200", "the header lines after the status line"),
            ("expect = \"200 OK|301\"\n use_regex = 1", "200,301", "a status line matching"),
            ("expect = \"^HTTP/1\\\\.[01] [23]\"\n use_regex = 1", "200-399", "searched the regular expression"),
            (#"expect = "pong""#, nil, "which no HTTP status line does"),
            ("expect = \"Server: nginx\"\n use_regex = 1", nil, "which matches no HTTP status line"),
        ]
        for (keys, codes, note) in cases {
            let (c, src) = try convert(text(get + "\n     " + keys))
            let expectArg = codes.map { " --expect \($0)" } ?? ""
            XCTAssertEqual(checks(c), ["check -t 192.0.2.1:80 -r 198.51.100.1:80 --type http --path /health\(expectArg) \(timing)"], keys)
            XCTAssertTrue(c.text.contains(note), "\(keys): \(c.text)")
            XCTAssertEqual(c.ignored, [], keys)
            XCTAssertEqual(src.checks.first?.check.kind, .http)
            XCTAssertEqual(src.checks.first?.check.path, "/health")
        }
        // The version is said when expect names it; nothing more when it is only "HTTP".
        let v = try convert(text(get + "\n     expect = \"HTTP/1.1 200\"")).0
        XCTAssertTrue(v.text.contains("# note: not compared by lvsctl: the HTTP version (HTTP/1.1)\n"), v.text)
        XCTAssertFalse(try convert(text(get + "\n     expect = \"HTTP\"")).0.text.contains("not compared"))
    }

    func testHTTPRequestDetails() throws {
        let (c, src) = try convert(text(#"     send = "HEAD /s?q=1 HTTP/1.1\r\nHost: www.example.com:8080\r\nAccept: */*\r\n\r\n""# + "\n     expect = \"HTTP\""))
        XCTAssertEqual(checks(c), ["check -t 192.0.2.1:80 -r 198.51.100.1:80 --type http --path /s?q=1 --host www.example.com --expect 100-599 \(timing)"])
        XCTAssertEqual(src.checks[0].check.host, "www.example.com")
        for note in ["# note: nanny sent HEAD; lvsctl sends GET", "# note: the Host header's port is left out: lvsctl sends Host: www.example.com",
                     "# note: lvsctl sends its own request headers; not sent: Accept"] {
            XCTAssertTrue(c.text.contains(note + "\n"), note)
        }
        // Bare LF line ends are a request too; a request without its empty line, HTTP/0.9 or an absolute URL are not.
        XCTAssertEqual(try convert(text(#"     send = "GET / HTTP/1.0\n\n""# + "\n expect = \"HTTP\"")).1.checks[0].check.kind, .http)
        for send in [#"GET / HTTP/1.0\r\n"#, #"GET /\r\n\r\n"#, #"GET http://x/ HTTP/1.0\r\n\r\n"#, #"POST / HTTP/1.0\r\n\r\n"#] {
            let c = try convert(text("     send = \"\(send)\"\n     expect = \"HTTP\"")).0
            XCTAssertEqual(checks(c), ["check -t 192.0.2.1:80 -r 198.51.100.1:80 --type tcp \(timing)"], send)
            XCTAssertTrue(c.text.contains("lvsctl's tcp check only connects, so that conversation is not reproduced"), send)
        }
    }

    /// nanny's port-80 default (GET / expecting "HTTP"), a plain connect elsewhere, and a send without expect
    /// (nanny read no reply: a connect).
    func testDefaultsAndConnectChecks() throws {
        let d = try convert(text("")).0
        XCTAssertEqual(checks(d), ["check -t 192.0.2.1:80 -r 198.51.100.1:80 --type http --path / --expect 100-599 \(timing)"])
        XCTAssertTrue(d.text.contains("# note: no send, expect or send_program on port 80 (nanny's default check): nanny sent GET / and wanted a reply starting with \"HTTP\""))
        let regexDefault = try convert(text("     use_regex = 1")).0
        XCTAssertTrue(regexDefault.text.contains("on port 80 (nanny's default check, use_regex = 1 (line 5)): "), regexDefault.text)
        XCTAssertEqual(regexDefault.ignored, [])
        let tcp = try convert(text("     port = 3306\n     use_regex = 1")).0
        XCTAssertEqual(checks(tcp), ["check -t 192.0.2.1:3306 -r 198.51.100.1:3306 --type tcp \(timing)"])
        XCTAssertEqual(tcp.ignored.map(\.comment), ["# ignored: use_regex = 1 (line 6): no expect, so nanny matched nothing"])
        let sendOnly = try convert(text(#"     send = "GET / HTTP/1.0\r\n\r\n""# + "\n     use_regex = 1")).0
        XCTAssertEqual(checks(sendOnly), ["check -t 192.0.2.1:80 -r 198.51.100.1:80 --type tcp \(timing)"])
        XCTAssertTrue(sendOnly.text.contains("nanny sent the request and read no reply, so its check was a connect (--type tcp); for an HTTP check write --type http --path / instead"))
        XCTAssertEqual(sendOnly.ignored.map(\.key), ["use_regex"])
        let smtp = try convert(text("     port = 25\n     send = \"HELO x\\r\\n\"\n     expect = \"250\"")).0
        XCTAssertEqual(checks(smtp), ["check -t 192.0.2.1:25 -r 198.51.100.1:25 --type tcp \(timing)"])
        XCTAssertTrue(smtp.text.contains(#"nanny sent "HELO x\r\n" and wanted a reply starting with "250"; lvsctl's tcp check only connects, so that conversation is not reproduced (--type tcp): to keep it, run a script with an exec check"#), smtp.text)
        let banner = try convert(text("     port = 22\n     expect = \"^SSH-\"\n     use_regex = 1")).0
        XCTAssertTrue(banner.text.contains(#"nanny wanted a reply matching the regular expression "^SSH-"; lvsctl's tcp check only connects"#), banner.text)
    }

    func testSendProgramBecomesAnExecCheck() throws {
        let (c, src) = try convert(text("     send_program = \"/usr/lib/probe %h %p -x\"\n     expect = \"OK\"\n     send = \"x\"\n     use_regex = 1"))
        XCTAssertEqual(checks(c), ["check -t 192.0.2.1:80 -r 198.51.100.1:80 --type exec --exec '/usr/lib/probe %h %p -x' \(timing)"])
        XCTAssertEqual(src.checks[0].check.exec, ["/usr/lib/probe", "%h", "%p", "-x"])
        XCTAssertTrue(c.text.contains(#"nanny ran it without a shell and wanted its output to be "OK" (a run that failed or timed out counted as up); lvsctl runs it the same way but goes by its exit status, 0 = up"#))
        XCTAssertEqual(c.ignored.map(\.key), ["send", "use_regex"])
        // Without expect nanny failed every run; %h inside a word was not replaced by nanny (so it is escaped);
        // quotes are literal to nanny and stay so.
        let odd = try convert(text(#"     send_program = "/opt/check --url=http://%h/ 'a b' %h""#))
        XCTAssertEqual(odd.1.checks[0].check.exec, ["/opt/check", "--url=http://%%h/", "'a", "b'", "%h"])
        XCTAssertTrue(odd.0.text.contains("without expect nanny counted every run as failed"))
        XCTAssertTrue(odd.0.text.contains("nanny replaced %h and %p only as whole words"))
        XCTAssertEqual(ExecCheck(argv: odd.1.checks[0].check.exec).arguments(address: IPAddress("198.51.100.1")!, port: 80),
                       ["/opt/check", "--url=http://%h/", "'a", "b'", "198.51.100.1"])
        XCTAssertEqual(error(text(#"     send_program = "check-web %h""#))?.message,
                       "invalid send_program 'check-web %h': the program must be an absolute path (lvsctl runs it without a shell or PATH search)")
    }

    func testUDPChecks() throws {
        let u = "     protocol = udp\n     port = 53\n"
        let (c, src) = try convert(text(u + "     send = \"ping\"\n     expect = \"p.ng\""))
        XCTAssertEqual(checks(c), [#"check -u 192.0.2.1:53 -r 198.51.100.1:53 --type udp --send ping --receive ^p\.ng \#(timing)"#])
        XCTAssertEqual(src.checks[0].check.receive, #"^p\.ng"#)
        let re = try convert(text(u + "     send = \"-q\"\n     expect = \"^(ok|OK)\\r\"\n     use_regex = 1")).1
        XCTAssertEqual(re.checks[0].check.send, "-q")
        XCTAssertEqual(re.checks[0].check.receive, #"^(ok|OK)\r"#)
        XCTAssertEqual(try convert(text(u + "     send = \"ping\"")).1.checks[0].check.receive, "", "no expect: any reply")
        // Nothing to send, or a datagram with control characters: written commented out, with what to do.
        let none = try convert(text(u + "     expect = \"x\"")).0
        XCTAssertEqual(checks(none), ["# check -u 192.0.2.1:53 -r 198.51.100.1:53 --type udp --send TEXT --receive REGEX \(timing)"])
        XCTAssertTrue(none.text.contains("nanny sent nothing and waited for a reply, so its check could not pass"))
        let ctl = try convert(text(u + "     send = \"hi\\r\\n\"")).0
        XCTAssertEqual(checks(ctl), [#"# check -u 192.0.2.1:53 -r 198.51.100.1:53 --type udp --send hi\x0d\x0a --receive '' \#(timing)"#])
        XCTAssertEqual(error(text(u + "     send = \"x\"\n     expect = \"(\"\n     use_regex = 1"))?.line, 8)
    }

    // MARK: - Timing, failure, slow start

    func testTimeoutReentryAndQuiesce() throws {
        let c = try convert(text("     port = 81\n     timeout = 6\n     reentry = 15\n     quiesce_server = 1")).0
        XCTAssertEqual(checks(c), ["check -t 192.0.2.1:81 -r 198.51.100.1:81 --type tcp --interval 6 --timeout 6 --rise 2 --fall 1 --on-fail quiesce"])
        XCTAssertTrue(c.text.contains("# note: timeout = 6 (line 6): nanny checked every 6 s, waited up to 6 s for each answer, and took a server out at its first failure: --interval 6 --timeout 6 --fall 1\n"))
        XCTAssertTrue(c.text.contains("# note: reentry = 15 (line 7): a failed server came back after 15 / 6 = 2 passes in a row (rounded down, at least 1, as nanny counted): --rise 2\n"))
        XCTAssertTrue(c.text.contains("# note: quiesce_server = 1 (line 8): nanny set a failed server's weight to 0, keeping its connections: --on-fail quiesce\n"))
        func line(_ keys: String) throws -> String { try checks(convert(text("     port = 81\n" + keys)).0)[0] }
        XCTAssertTrue(try line("     quiesce_server = 0").hasSuffix("--on-fail remove"))
        XCTAssertTrue(try line("     reentry = 0").contains("--rise 18"), "0 is nanny's default, 180 s")
        XCTAssertTrue(try line("     timeout = 30\n     reentry = 10").contains("--rise 1 "), "at least 1")
        let capped = try convert(text("     port = 81\n     timeout = 1\n     reentry = 500")).0
        XCTAssertTrue(checks(capped)[0].contains("--rise 100 "))
        XCTAssertTrue(capped.text.contains("500 / 1 = 500 passes in a row; lvsctl allows at most 100: --rise 100 (about 100 s)"))
    }

    func testSlowStartAndWeightZero() throws {
        // nanny: weight >> 5 (at least 1), doubling every 20 / timeout rounds (each round above 20 s).
        func slow(_ w: Int, _ t: Int) throws -> String? {
            let l = try checks(convert(text("     port = 81\n     timeout = \(t)", weight: w)).0)[0]
            return l.range(of: "--slow-start ").map { String(l[$0.upperBound...]) }
        }
        XCTAssertNil(try slow(1, 10))
        XCTAssertEqual(try slow(2, 10), "20")
        XCTAssertEqual(try slow(3, 6), "36", "1, 2, 3: two doublings of 18 s")
        XCTAssertEqual(try slow(64, 10), "100", "2, 4, ... 64: five doublings")
        XCTAssertEqual(try slow(4, 30), "60", "above 20 s, each round doubles")
        let zero = try convert(text("     port = 81", weight: 0)).0
        XCTAssertTrue(zero.text.contains("# note: server s1 (line 6) has weight 0: nanny gave it weight 1 once its check passed; lvsctl keeps 0"))
        XCTAssertFalse(checks(zero)[0].contains("--slow-start"))
    }

    // MARK: - Ports, servers, sorry servers

    func testCheckedPorts() throws {
        // Direct routing: the server keeps the service port, nanny checked the server's own port.
        let dr = try convert(text("     port = 80\n     send = \"x\"", network: "direct", extraServer: """
             server s2 {
                 address = 198.51.100.2
                 active = 1
                 port = 8080
             }

        """)).0
        XCTAssertEqual(checks(dr), ["check -t 192.0.2.1:80 -r 198.51.100.1:80 --type tcp \(timing)",
                                    "check -t 192.0.2.1:80 -r 198.51.100.2:80 --type tcp --port 8080 \(timing)"])
        // fwmark: always the port; port 0: commented out with a note; exec needs none.
        let fw = "network = nat\nvirtual m {\n active = 1\n fwmark = 7\n port = 443\n%@ server s {\n address = 198.51.100.1\n active = 1\n }\n}\n"
        XCTAssertEqual(checks(try convert(fw.replacingOccurrences(of: "%@", with: "")).0),
                       ["check -f 7 -r 198.51.100.1:443 --type tcp --port 443 \(timing)"])
        XCTAssertEqual(checks(try convert(fw.replacingOccurrences(of: "%@", with: " send_program = \"/bin/true\"\n")).0),
                       ["check -f 7 -r 198.51.100.1:443 --type exec --exec /bin/true \(timing)"])
        // An exec check needs no port: a server port 0 is no problem for it.
        XCTAssertEqual(try convert(text("     port = 0\n     persistent = 60\n     send_program = \"/bin/true\"")).1.checks.count, 1)
        let p0 = try convert(text("     port = 0\n     persistent = 60")).0
        XCTAssertEqual(checks(p0), ["# check -t 192.0.2.1:0 -r 198.51.100.1:0 --type tcp \(timing)"])
        XCTAssertTrue(p0.text.contains("nanny checked port 0, which cannot answer; give the check a --port"))
    }

    func testInactiveServersGetCommentedChecksThatLoadWhenUncommented() throws {
        let c = try convert(text("     port = 81", extraServer: " server s2 {\n address = 198.51.100.2\n }\n")).0
        XCTAssertEqual(checks(c), ["check -t 192.0.2.1:81 -r 198.51.100.1:81 --type tcp \(timing)",
                                   "# check -t 192.0.2.1:81 -r 198.51.100.2:81 --type tcp \(timing)"])
        let uncommented = c.text.split(separator: "\n").map { l in
            l.hasPrefix("# rs add ") || l.hasPrefix("# check ") ? String(l.dropFirst(2)) : String(l)
        }.joined(separator: "\n")
        let (_, src, _) = try ConfigFile.parse(name: "uncommented", text: uncommented, base: ClusterConfig())
        XCTAssertEqual(src.checks.map(\.server.description), ["198.51.100.1:81", "198.51.100.2:81"])
    }

    func testSorryServer() throws {
        let (c, src) = try convert(text("     port = 81\n     sorry_server = 203.0.113.5", network: "direct"))
        XCTAssertTrue(c.text.contains("# note: sorry_server = 203.0.113.5 (line 6): lvsd added it (the virtual's port, -g, weight 1) while no real server was up\nsorry -t 192.0.2.1:81 -r 203.0.113.5:81 -g -w 1\n"))
        XCTAssertEqual(src.sorry.map(\.server), [RealServer(address: IPAddress("203.0.113.5")!, port: 81, forwarding: .directRoute, weight: 1)])
        // A sorry server that is one of the real servers: not a sorry server to lvsctl.
        let same = try convert(text("     port = 81\n     sorry_server = 198.51.100.1")).0
        XCTAssertEqual(same.ignored.map(\.key), ["sorry_server"])
        XCTAssertTrue(same.ignored[0].reason.contains("it is real server s1 (line 7) itself"))
        XCTAssertFalse(same.text.contains("\nsorry "))
        XCTAssertEqual(error(text("     sorry_server = 2001:db8::1"))?.message,
                       "sorry server 2001:db8::1 is ipv6 but virtual 'v' is ipv4; mixed families need network = tunnel")
    }

    func testLoadMonitorStaysIgnoredWithItsReason() throws {
        let c = try convert(text("     port = 81\n     load_monitor = rup")).0
        XCTAssertEqual(c.ignored.map(\.comment), ["# ignored: load_monitor = rup (line 6): nanny scaled the weights by the real servers' load average (rup over rsh/ssh); lvsctl monitor keeps the configured weights"])
    }

    // MARK: - Bad values

    func testBadNannyValuesNameLineAndValue() {
        let cases: [(String, Int, String)] = [
            ("     timeout = 0", 5, "invalid timeout '0' (expected 1..3600)"),
            ("     timeout = 3601", 5, "'3601'"),
            ("     timeout = soon", 5, "'soon'"),
            ("     reentry = -1", 5, "'-1'"),
            ("     reentry = 010", 5, "octal"),
            ("     quiesce_server = 2", 5, "invalid quiesce_server '2' (expected 0 or 1)"),
            ("     use_regex = yes", 5, "invalid use_regex 'yes'"),
            ("     send = a b", 5, "unexpected 'b' after send = a"),
            ("     expect =", 5, "expect needs a value"),
            ("     send_program = \"\"", 5, "send_program needs a program"),
            ("     send_program = \"bin/check %h\"", 5, "must be an absolute path"),
            ("     sorry_server = sorry.example.com", 5, "invalid sorry server address 'sorry.example.com'"),
            ("     sorry_server = 0.0.0.0", 5, "not a usable unicast address"),
            ("     send = \"GET / HTTP/1.0\\r\\n\\r\\n\"\n     expect = \"[\"\n     use_regex = 1", 6, "invalid expect '['"),
        ]
        for (keys, line, needle) in cases {
            guard let e = error(text(keys)) else { continue }
            XCTAssertEqual(e.line, line, "\(keys): \(e)")
            XCTAssertTrue(e.message.contains(needle), "\(keys): \(e.message)")
        }
        // Checked in inactive virtuals and in virtuals without servers too.
        XCTAssertEqual(error("virtual v {\n address = 192.0.2.1\n timeout = 0\n}\n")?.line, 3)
        XCTAssertEqual(error("virtual v {\n active = 1\n address = 192.0.2.1\n quiesce_server = 5\n}\n")?.line, 4)
    }

    func testEscapes() {
        XCTAssertEqual(Piranha.unescape(#"a\r\n\t\\\'\"\d"#), "a\r\n\t\\'\"\\d")
        XCTAssertEqual(Piranha.unescape(#"\"#), #"\"#, "one character: as written")
        XCTAssertEqual(Piranha.lvsctlWord("a'b\"c"), #"'a'"'"'b"c'"#)
        XCTAssertEqual(try ConfigFile.tokenize(Substring(Piranha.lvsctlWord("a'b\"c"))), ["a'b\"c"])
        XCTAssertEqual(try ConfigFile.tokenize(Substring(Piranha.lvsctlWord("#x"))), ["#x"])
        XCTAssertEqual(try ConfigFile.tokenize(Substring(Piranha.lvsctlWord(""))), [""])
    }
}
