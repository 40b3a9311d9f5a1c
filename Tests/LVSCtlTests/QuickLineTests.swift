import XCTest
@testable import lvsctl
@testable import LVSKit
@testable import LVSCore

/// Restore's byte-level path (``QuickLine``) builds the same configuration, the same source map and the same
/// errors as the grammar alone (which FastPathTests compares with ArgumentParser).
final class QuickLineTests: XCTestCase {
    struct Outcome: Equatable {
        var entries: [ServiceEntry] = []
        var bundles: [MarkBundle] = []
        var services: [ServiceKey: Int] = [:]
        var entryIndex: [ServiceKey: Int] = [:]
        var dests: [String] = []
        var error = ""
    }

    func parse(_ text: String, quick: Bool) -> Outcome {
        var o = Outcome()
        do {
            let (c, src, _) = quick ? try ConfigFile.parse(name: "f", text: text, base: ClusterConfig())
                                    : try grammarOnlyParse(name: "f", text: text)
            o.entries = c.entries; o.bundles = c.bundles
            o.services = src.services; o.entryIndex = src.entryIndex
            o.dests = src.dests.map { "\($0.key.service) \($0.key.endpoint) \($0.line)" }
        } catch { o.error = "\(error)" }
        return o
    }

    /// The lines `save` and `ipvsadm-save` write take the quick path.
    func testTakesTheCommonLines() throws {
        var c = ClusterConfig(), src = SourceMap()
        for l in ["vs add -t 192.0.2.1:80 -s wlc", "rs add -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 1",
                  "-A -u 192.0.2.2:53 -s rr", "-a -u 192.0.2.2:53 -r 198.51.100.2:53 -g -w 0",
                  "lvsctl vs add -t 192.0.2.3:443", "rs add -t 192.0.2.3:443 -r 198.51.100.3",
                  "  virtual-server add\t--tcp-service 192.0.2.4:80 --scheduler a_b9  ",
                  "real-server add --tcp-service 192.0.2.4:80 --real-server 198.51.100.4:81 --masquerading --weight 65535"] {
            var bytes = Array(l.utf8)
            let took = bytes.withUnsafeMutableBufferPointer { QuickLine.add(UnsafeBufferPointer($0), to: &c, source: &src) }
            XCTAssertTrue(took, l)
        }
        XCTAssertEqual(c.entries.count, 4)
        XCTAssertEqual(c.entries[0].servers, [RealServer(address: IPAddress("198.51.100.1")!, port: 8080, forwarding: .masquerade)])
        // Direct routing uses the service port whatever the line says (ipvsadm's rule).
        XCTAssertEqual(c.entries[1].servers.first?.port, 53)
        XCTAssertEqual(c.entries[1].servers.first?.weight, 0)
        XCTAssertEqual(c.entries[3].service.scheduler.rawValue, "a_b9")
        XCTAssertEqual(c.entries[3].servers.first?.weight, 65535)
    }

    /// Lines the quick path must leave to the slower ones (errors and everything it does not parse itself).
    func testLeavesTheRest() {
        var c = ClusterConfig(), src = SourceMap()
        let setup = ["vs add -t 192.0.2.1:80"]
        for l in setup {
            var bytes = Array(l.utf8)
            _ = bytes.withUnsafeMutableBufferPointer { QuickLine.add(UnsafeBufferPointer($0), to: &c, source: &src) }
        }
        for l in ["vs add -t 192.0.2.1:80", "vs add -t 192.0.2.9:0 -p", "vs add -t 192.0.2.9:80 -s wlc -s rr", "vs add -t 192.0.2.9:80 -s WLC",
                  "vs add -f 1", "vs add -t 192.0.2.9:80 # c", "vs add -t '192.0.2.9:80'", "vs add -t 192.0.2.9:80 -p 60",
                  "rs add -t 192.0.2.5:80 -r 198.51.100.1", "rs add -t 192.0.2.1:80 -r 198.51.100.1 -i",
                  "rs add -t 192.0.2.1:80 -r 198.51.100.1 -w 65536", "rs add -t 192.0.2.1:80 -r 198.51.100.1 -x 5",
                  "rs add -t 192.0.2.1:80 -r 224.0.0.1", "rs add -t 192.0.2.1:80 -r 198.51.100.1 -g -m", "rs add -t 192.0.2.1:80",
                  "rs add -t 192.0.2.1:80 -r 198.51.100.1 -w", "vs edit -t 192.0.2.1:80", "vs add -t 192.0.2.9:80\r", ""] {
            var bytes = Array(l.utf8)
            let took = bytes.withUnsafeMutableBufferPointer { QuickLine.add(UnsafeBufferPointer($0), to: &c, source: &src) }
            XCTAssertFalse(took, l)
        }
        XCTAssertEqual(c.entries.count, 1)
        XCTAssertEqual(c.entries[0].servers, [])
    }

    /// A service without a port is port 0: its `vs add` line needs -p and takes the slower path; the `rs add` lines
    /// of such a service, once it is defined, are taken here with ipvsadm's port rules for a service port of 0.
    func testPortZeroService() throws {
        var c = ClusterConfig(), src = SourceMap()
        func quick(_ l: String) -> Bool {
            var bytes = Array(l.utf8)
            return bytes.withUnsafeMutableBufferPointer { QuickLine.add(UnsafeBufferPointer($0), to: &c, source: &src) }
        }
        for l in ["vs add -t 203.0.113.201", "-A -t 203.0.113.201:0 -s lc", "vs add -t 203.0.113.201 -p 60", "rs add -t 203.0.113.201 -r 198.51.100.2"] {
            XCTAssertFalse(quick(l), l)
        }
        let key = ServiceKey.address(.tcp, Endpoint(address: IPAddress("203.0.113.201")!, port: 0))
        c.entries.append(ServiceEntry(service: VirtualService(key: key, flags: .persistent, timeout: 60), servers: []))
        src.entryIndex[key] = 0
        XCTAssertFalse(quick("vs add -t 203.0.113.201"), "a vs line after an rs line of the same specifier")
        for l in ["rs add -t 203.0.113.201 -r 198.51.100.2", "-a -t 203.0.113.201:0 -r 198.51.100.3:8080 -m -w 2",
                  "rs add -t 203.0.113.201 -r 198.51.100.4:8080 -g"] {
            XCTAssertTrue(quick(l), l)
        }
        XCTAssertEqual(c.entries[0].servers.map(\.endpoint.description), ["198.51.100.2:0", "198.51.100.3:8080", "198.51.100.4:0"])
        // Whole files: both paths agree, errors included.
        for text in ["vs add -t 203.0.113.201 -p 1999999 -s lc\nrs add -t 203.0.113.201 -r 198.51.100.2 -g -w 1\n-a -t 203.0.113.201:0 -r 198.51.100.3 -m",
                     "-A -u 203.0.113.201:0 -s lc -p 1999999\n-a -u 203.0.113.201:0 -r 198.51.100.2:0 -g -w 1\n",
                     "vs add -t 203.0.113.201 -s lc\n", "rs add -t 203.0.113.201 -r 198.51.100.2\n",
                     "vs add -t 203.0.113.201 -p\nrs add -t 203.0.113.201 -r 198.51.100.2\nrs add -t 203.0.113.201:0 -r 198.51.100.2:99\n"] {
            let quick = parse(text, quick: true), slow = parse(text, quick: false)
            XCTAssertEqual(quick, slow, text)
        }
        XCTAssertEqual(parse("vs add -t 203.0.113.201 -s lc\n", quick: true).error, "f:1: port 0 of -t 203.0.113.201:0 needs persistence (-p)")
    }

    /// Thousands of random files built from good and bad pieces: both paths agree on every one.
    func testAgreesOnRandomFiles() {
        let heads = ["vs add", "rs add", "-A", "-a", "lvsctl vs add", "virtual-server add", "real-server add", "rs  add", "vs delete", "rs", ""]
        // Good values mostly, bad ones sometimes (each pick of `value` is bad one time in thirty).
        let goodServices = ["192.0.2.1:80", "192.0.2.2:65535", "192.0.2.1:0080", "192.0.2.3:443", "198.51.100.9:1"]
            + (10..<40).map { "203.0.113.\($0):\(1000 + $0)" }
        let badServices = ["192.0.2.1:0", "192.0.2.1", "192.0.2.01:80", "224.0.0.1:80", "0.0.0.0:80", "255.255.255.255:80",
                           "192.0.2.2:65536", "[2001:db8::1]:80", "192.0.2.1:8a", "-s"]
        let goodReals = ["198.51.100.1", "198.51.100.1:8080", "198.51.100.1:0", "198.51.100.2:80", "203.0.113.7"]
            + (10..<40).map { "198.51.100.\($0)" }
        let badReals = ["240.0.0.1", "198.51.100.256", "-w", "[2001:db8::2]", "127.0.0.1:99999"]
        let goodScheds = ["wlc", "rr", "a_b9", "fifteencharsxxx", "sh"]
        let badScheds = ["WLC", "sixteencharsxxxx", "-t", "a-b"]
        let goodWeights = ["0", "1", "65535", "00007", "12"]
        let badWeights = ["65536", "-1", "1x", "123456", "0x10"]
        var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
        func pick<T>(_ a: [T]) -> T {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return a[Int((rng >> 33) % UInt64(a.count))]
        }
        func value(_ good: [String], _ bad: [String]) -> String { pick(Array(0..<30)) == 0 ? pick(bad) : pick(good) }
        func service() -> String { value(goodServices, badServices) }
        func real() -> String { value(goodReals, badReals) }
        func line() -> String {
            var w = [pick(heads)]
            for _ in 0..<Int(pick([1, 2, 3, 4, 5])) {
                switch pick(Array(0..<14)) {
                case 0, 1: w.append("-t \(service())")
                case 2: w.append("-u \(service())")
                case 3: w.append("--tcp-service \(service())")
                case 4: w.append("-s \(value(goodScheds, badScheds))")
                case 5: w.append("--scheduler \(value(goodScheds, badScheds))")
                case 6, 7: w.append("-r \(real())")
                case 8: w.append("-w \(value(goodWeights, badWeights))")
                case 9: w.append(pick(["-g", "-m", "-i", "--gatewaying", "--masquerading"]))
                case 10: w.append(pick(["-p", "-p 60", "-x 5", "-f 1", "-6", "-o", "--weight 3"]))
                case 11: w.append(pick(["#c", "'x'", "\t"]))
                default: w.append("-t \(service()) -r \(real())")
                }
            }
            return w.joined(separator: " ")
        }
        var differ = 0, accepted = 0
        for _ in 0..<500 {
            var lines: [String] = []
            for _ in 0..<Int(pick([1, 2, 4, 8])) {
                // Mostly well-formed service + real server pairs, so that files get past their first lines.
                if pick(Array(0..<8)) == 0 { lines.append(line()) } else {
                    let s = service()
                    lines.append("\(pick(["vs add", "-A"])) -t \(s) -s \(value(goodScheds, badScheds))")
                    for _ in 0..<Int(pick([1, 2, 3])) {
                        lines.append("\(pick(["rs add", "-a"])) -t \(s) -r \(real()) \(pick(["-g", "-m", ""])) -w \(value(goodWeights, badWeights))")
                    }
                }
            }
            let text = lines.joined(separator: pick(["\n", "\r\n"]))
            let quick = parse(text, quick: true), slow = parse(text, quick: false)
            if quick != slow {
                differ += 1
                if differ <= 5 { XCTFail("paths differ on:\n\(text)\nquick: \(quick)\nslow: \(slow)") }
            }
            if quick.error.isEmpty && !quick.entries.isEmpty { accepted += 1 }
        }
        print("QuickLineTests: \(accepted) of 500 random files parse without error; both paths agree on all but \(differ)")
        XCTAssertEqual(differ, 0)
        XCTAssertGreaterThan(accepted, 120, "too few valid files: the comparison would prove little")
    }

    /// QuickLine spells the options it reads as byte literals (a table lookup per word cost 7 % of a restore); every
    /// spelling the grammar's table gives those options must take the quick path, so the two cannot drift apart.
    func testSpellsTheOptionsAsTheGrammarsTable() throws {
        func names(_ o: Opt, _ g: [OptionDef]) -> [String] { Options.def(o, in: g).names }
        for t in names(.tcp, Options.service) + names(.udp, Options.service) {
            for s in names(.scheduler, Options.settings) {
                var c = ClusterConfig(), src = SourceMap()
                var lines = ["vs add \(t) 192.0.2.1:80 \(s) rr"]
                for r in names(.realServer, Options.server) {
                    for w in names(.weight, Options.server) {
                        for f in names(.gatewaying, Options.server) + names(.masquerading, Options.server) {
                            lines.append("rs add \(t) 192.0.2.1:80 \(r) 198.51.100.\(lines.count) \(w) 2 \(f)")
                        }
                    }
                }
                for l in lines {
                    var bytes = Array(l.utf8)
                    let took = bytes.withUnsafeMutableBufferPointer { QuickLine.add(UnsafeBufferPointer($0), to: &c, source: &src) }
                    XCTAssertTrue(took, l)
                }
            }
        }
    }
}
