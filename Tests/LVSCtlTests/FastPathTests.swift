import XCTest
import ArgumentParser
@testable import lvsctl
@testable import LVSKit
@testable import LVSCore

/// The file grammar (with its byte-level fast path) gives the same configuration and the same errors as
/// ArgumentParser gives for the same lines typed as commands: the command line's path without ArgumentParser
/// (`Entry.runWithoutParser`) relies on it.
final class FastPathTests: XCTestCase {
    /// Each line parsed alone by ArgumentParser, in order, and added as the file parser adds it.
    func slowParse(_ lines: [String]) throws -> ClusterConfig {
        var c = ClusterConfig(); var src = SourceMap()
        for l in lines {
            var w = try ConfigFile.tokenize(Substring(l))
            if w.isEmpty { continue }
            if w[0] == "-A" { w = ["vs", "add"] + w.dropFirst() } else if w[0] == "-a" { w = ["rs", "add"] + w.dropFirst() }
            let cmd: ParsableCommand
            do { cmd = try LVSCtl.parseAsRoot(Grammar.normalize(w)) } catch { throw UsageError(Entry.usageMessage(error)) }
            var dr: [DRFileLine] = []
            try ConfigFile.add(try XCTUnwrap(argumentParserLine(cmd)), to: &c, source: &src, dr: &dr)
        }
        return c
    }

    func testSameConfiguration() throws {
        let lines = [
            "vs add -t 192.0.2.1:80 -s rr",
            "rs add -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 5",
            "rs add -t 192.0.2.1:80 -r 198.51.100.3 -g -w 00007",
            "rs add -t 192.0.2.1:80 -r 198.51.100.4:0080 -i -w 65535",
            "rs add\t-t 192.0.2.1:80   -r 198.51.100.5 # comment",
            "-A -u 192.0.2.2:53 -s sh -p",
            "-a -u 192.0.2.2:53 -r [2001:db8::2]:53 -i --tun-type ipip",
            "vs add -t 192.0.2.3:443 -s wlc -p 60 -M 24",
            "rs add -t 192.0.2.3:443 -r 203.0.113.9 -w 0",
            "bundle add web --vip 192.0.2.10 --ports 80,443 --mark 80 -s rr -p 60",
            "bundle add two --vip 192.0.2.11 --vip 192.0.2.12 --ports 8000:8010 --proto both",
            "rs add --bundle web -r 198.51.100.20 -g -w 2",
            "rs add -f 80 -r 198.51.100.21",
            "bundle add v6 --vip 2001:db8::10 --ports 443 --mark 0x10 --scheduler mh --sched-flags mh-port",
        ]
        let (fast, _, _) = try ConfigFile.parse(name: "t", text: lines.joined(separator: "\n"), base: ClusterConfig())
        let slow = try slowParse(lines)
        XCTAssertEqual(fast.entries, slow.entries)
        XCTAssertEqual(fast.bundles, slow.bundles)
        XCTAssertEqual(fast.entries.count, 6)
        XCTAssertEqual(fast.bundles.count, 3)
    }

    /// Services without a port (port 0) in both file formats: ipvsadm-save writes `ADDR:0`, hand-written files and
    /// scripts turned into files (samba ctdb's) leave the port out. Every path builds the same configuration.
    func testPortZeroServicesInFiles() throws {
        let lines = [
            "vs add -t 203.0.113.201 -p 1999999 -s lc",
            "rs add -t 203.0.113.201 -r 198.51.100.2 -g -w 1",
            "rs add -t 203.0.113.201 -r 198.51.100.3",
            "-A -u 203.0.113.201:0 -s lc -p 1999999",
            "-a -u 203.0.113.201:0 -r 198.51.100.2:0 -g -w 1",
            "-a -u 203.0.113.201 -r 198.51.100.3 -m -w 2",
            "vs add -t 2001:db8::1 -p 60 -s rr",
            "rs add -t 2001:db8::1 -r [2001:db8::2]:443 -m",
        ]
        let text = lines.joined(separator: "\n")
        let (fast, src, _) = try ConfigFile.parse(name: "t", text: text, base: ClusterConfig())
        XCTAssertEqual(fast.entries, try slowParse(lines).entries)
        XCTAssertEqual(try grammarOnlyParse(name: "t", text: text).0.entries, fast.entries)
        let vip = IPAddress("203.0.113.201")!
        XCTAssertEqual(fast.entries.map(\.service.key), [.address(.tcp, Endpoint(address: vip, port: 0)),
                                                         .address(.udp, Endpoint(address: vip, port: 0)),
                                                         .address(.tcp, Endpoint(address: IPAddress("2001:db8::1")!, port: 0))])
        XCTAssertEqual(fast.entries[0].servers.map(\.port), [0, 0])
        XCTAssertEqual(fast.entries[1].servers.map(\.endpoint.description), ["198.51.100.2:0", "198.51.100.3:0"])
        XCTAssertEqual(fast.entries[2].servers.map(\.port), [443])
        XCTAssertEqual(src.services[fast.entries[1].service.key], 4)
        // What save writes for them reads back the same (ipvsadm-save's ADDR:0 form).
        let saved = fast.entries.map { IPVSAdmFormat.save($0) }.joined()
        XCTAssertTrue(saved.hasPrefix("-A -t 203.0.113.201:0 -s lc -p 1999999\n-a -t 203.0.113.201:0 -r 198.51.100.2:0 -g -w 1\n"), saved)
        XCTAssertEqual(try ConfigFile.parse(name: "s", text: saved, base: ClusterConfig()).0.entries.map(\.service), fast.entries.map(\.service))
        // The same service twice, once with and once without ":0", is one service.
        XCTAssertThrowsError(try ConfigFile.parse(name: "t", text: "vs add -t 203.0.113.201 -p\n-A -t 203.0.113.201:0 -s lc -p 60\n", base: ClusterConfig())) {
            XCTAssertEqual("\($0)", "t:2: service -t 203.0.113.201:0 is defined twice")
        }
    }

    func testTokenizerAgrees() throws {
        for l in ["vs add -t 192.0.2.1:80", "  a\tb  #c", "a#b c", "#x", "", "a 'b c' \"d\"", "é x", "a\u{1}b"] {
            let fast = ConfigFile.tokenizePlainASCII(Substring(l))
            if let f = fast { XCTAssertEqual(f, try ConfigFile.tokenize(Substring(l)), l) }
        }
        XCTAssertNil(ConfigFile.tokenizePlainASCII("a 'b c'"))
        XCTAssertNil(ConfigFile.tokenizePlainASCII("a\u{1}b"))
        XCTAssertEqual(ConfigFile.tokenizePlainASCII("a#b c #d"), ["a#b", "c"])
    }

    func testIPv4Endpoints() {
        XCTAssertEqual(QuickLine.plainIPv4Endpoint("192.0.2.1:80")?.0, IPAddress("192.0.2.1"))
        XCTAssertEqual(QuickLine.plainIPv4Endpoint("192.0.2.1:80")?.1, 80)
        XCTAssertNotNil(QuickLine.plainIPv4Endpoint("0.0.0.0"))
        for bad in ["192.0.2.01:80", "192.0.2.256", "192.0.2", "192.0.2.1:", "192.0.2.1:65536", "192.0.2.1:123456",
                    "1.2.3.4.5", "192.0.2.1:8a", "[192.0.2.1]:80", "192.0.2.1%eth0", "2001:db8::1", "1234.0.0.1"] {
            XCTAssertNil(QuickLine.plainIPv4Endpoint(bad), bad)
        }
    }

    func testSameErrors() {
        let cases: [[String]] = [
            ["vs add -t 192.0.2.1:80", "rs add -t 192.0.2.1:80 -r 198.51.100.2 -w 70000"],
            ["vs add -t 192.0.2.1:80", "rs add -t 192.0.2.1:80 -r 224.0.0.1"],
            ["vs add -t 192.0.2.1:80", "rs add -t 192.0.2.1:80 -r 198.51.100.2 -g -m"],
            ["vs add -t 192.0.2.1:80", "rs add -t 192.0.2.1:80 -r 198.51.100.02"],
            ["vs add -t 255.255.255.255:80"],
            ["vs add -t 192.0.2.1"],
            ["vs add -t 192.0.2.1 -s lc"],
            ["vs add -t [2001:db8::1] -p"],
            ["vs add -t 192.0.2.1 -p", "rs add -t 192.0.2.1:0 -r 198.51.100.2 -w 70000"],
            ["vs add -t 192.0.2.1:80", "rs add -t 192.0.2.1:80 -r 198.51.100.2", "rs add -t 192.0.2.1:80 -r 198.51.100.2:80"],
            ["bundle add web --vip 192.0.2.10 --ports 0"],
            ["bundle add web --vip 192.0.2.10 --ports 80 --mark 1", "bundle add x --vip 192.0.2.11 --ports 81 --mark 1"],
            ["bundle add -x --vip 192.0.2.10 --ports 80"],
            ["bundle add web --vip 192.0.2.10"],
        ]
        for lines in cases {
            var fastError = "", slowError = ""
            do { _ = try ConfigFile.parse(name: "t", text: lines.joined(separator: "\n"), base: ClusterConfig()) } catch { fastError = "\(error)" }
            do { _ = try slowParse(lines) } catch let e as UsageError { slowError = e.description } catch { slowError = Entry.usageMessage(error) }
            XCTAssertFalse(fastError.isEmpty, "\(lines)")
            XCTAssertTrue(fastError.hasSuffix(slowError), "\(lines): fast \(fastError) / slow \(slowError)")
        }
    }

    /// The command-line path without ArgumentParser (`vs add`/`rs add` as rc.local lines, `bundle`, `save`, `apply`,
    /// `--version`) leaves every
    /// other form to the full grammar, and reports the same usage errors as the full command.
    func testCommandLineWithoutParser() throws {
        for args in [["vs", "add", "-t", "192.0.2.1:80", "--netns", "x"], ["rs", "add", "--bundle", "web", "-r", "198.51.100.2"],
                     ["vs", "add", "-s", "rr"], ["vs", "add", "-t", "192.0.2.1:80", "--help"], ["vs", "edit", "-t", "192.0.2.1:80"],
                     ["vs", "add", "--tcp-service=192.0.2.1:80"], ["vs", "add", "-t"], ["bundle", "add", "w", "--vip=192.0.2.1", "--ports", "80"],
                     ["bundle", "migrate", "--to", "nftables"], ["bundle", "list", "--netns", "x"], ["bundle", "delete", "--help"],
                     ["save", "--format=ipvsadm"], ["apply", "f", "--firewall", "nftables"],
                     ["--version", "x"], ["list", "--netns", "x"], ["list", "-h"], ["list", "--json=1"], ["zero"]] {
            XCTAssertNil(Entry.runWithoutParser(args), "\(args)")
        }
        for line in ["vs add -t 192.0.2.1:0 -s rr", "vs add -t 192.0.2.1 -s rr", "vs add -u 192.0.2.1", "vs add -t 192.0.2.1:80 -s rr -M 24", "rs add -t 192.0.2.1:80 -r 198.51.100.2 -w 70000",
                     "rs add -t 192.0.2.1:80 -r 224.0.0.1", "vs add -t 192.0.2.1:80 -b sh-port -s rr"] {
            let args = line.split(separator: " ").map(String.init)
            XCTAssertEqual(Entry.runWithoutParser(args), 2, line)
            // The full command refuses it too, with the message the file path gives (testSameErrors).
            XCTAssertThrowsError(try ConfigFile.add(try XCTUnwrap(argumentParserLine(try LVSCtl.parseAsRoot(args))), to: &emptyConfig, source: &emptySource, dr: &emptyDR), line)
        }
        // Refused before the firewall or the kernel is opened, on the path without ArgumentParser too.
        XCTAssertEqual(Entry.runWithoutParser(["bundle", "add", "web", "--vip", "192.0.2.10", "--ports", "0"]), 2)
        XCTAssertEqual(Entry.runWithoutParser(["save", "--format", "xml"]), 2)
    }
    var emptyConfig = ClusterConfig()
    var emptySource = SourceMap()
    var emptyDR: [DRFileLine] = []
}
