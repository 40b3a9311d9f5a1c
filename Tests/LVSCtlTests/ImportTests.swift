import XCTest
@testable import lvsctl
@testable import LVSKit
@testable import LVSCore

/// `lvsctl import piranha`: every converted file loads with restore's own parser into the state the
/// conversion describes, commented-out lines load when uncommented, and the command's errors are usage errors.
final class ImportTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/piranha")

    func path(_ name: String) -> String { Self.dir.appendingPathComponent(name).path }

    func testConvertedFixturesLoadWithTheRestoreParser() throws {
        for f in ["lvs.cf", "nat.cf", "quirks.cf", "nanny.cf"] {
            let text = try String(contentsOfFile: path(f), encoding: .utf8)
            let c = try Piranha.convert(text, source: f)
            let (parsed, src, dr) = try ConfigFile.parse(name: f, text: c.text, base: ClusterConfig())
            // The check and sorry lines (nanny's health checks) load and are checked, one entry per line.
            let lines = c.text.split(separator: "\n")
            XCTAssertEqual(src.checks.count, lines.filter { $0.hasPrefix("check ") }.count, f)
            XCTAssertEqual(src.sorry.count, lines.filter { $0.hasPrefix("sorry ") }.count, f)
            XCTAssertGreaterThan(src.checks.count, 0, f)
            XCTAssertEqual(Set(src.checks.map { DestKey(service: $0.service, endpoint: $0.server) }),
                           Set(parsed.entries.flatMap { e in e.servers.map { DestKey(service: e.service.key, endpoint: $0.endpoint) } }),
                           "\(f): one check per real server")
            XCTAssertEqual(parsed.entries, c.config.entries, f)
            XCTAssertEqual(parsed.timeouts, c.config.timeouts, f)
            XCTAssertEqual(parsed.daemons, c.config.daemons, f)
            XCTAssertTrue(parsed.bundles.isEmpty && dr.isEmpty)
            XCTAssertTrue(Planner.diff(from: c.config, to: parsed).isEmpty, f)
            // Each command line loads on its own through the full grammar too (not only the fast path).
            for line in c.text.split(separator: "\n") where !line.hasPrefix("#") {
                let w = try ConfigFile.tokenize(line)
                if line.hasPrefix("check ") || line.hasPrefix("sorry ") {
                    // File-only lines: no command of their own, so the grammar alone reads them.
                    switch try Grammar.parse(w) {
                    case .check, .sorry: break
                    default: XCTFail(String(line))
                    }
                    continue
                }
                XCTAssertNotNil(argumentParserLine(try LVSCtl.parseAsRoot(Grammar.normalize(w))), String(line))
                XCTAssertEqual(try Grammar.parse(w), argumentParserLine(try LVSCtl.parseAsRoot(Grammar.normalize(w))), String(line))
            }
            // What `save` would write for the loaded state has the same commands (in save's sort order).
            let saved = LVSCtlFormat.render(parsed).split(separator: "\n").filter { !$0.hasPrefix("#") }
            let imported = c.text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("check ") && !$0.hasPrefix("sorry ") }
            XCTAssertEqual(Set(saved), Set(imported), f)
            XCTAssertGreaterThan(src.services.count, 0)
        }
    }

    func testCommentedOutLinesLoadWhenUncommented() throws {
        let c = try Piranha.convert(try String(contentsOfFile: path("lvs.cf"), encoding: .utf8), source: "lvs.cf")
        let uncommented = c.text.split(separator: "\n", omittingEmptySubsequences: false).map { l -> Substring in
            for p in ["# vs add ", "# rs add ", "# check ", "#   bundle add "] where l.hasPrefix(p) { return l.dropFirst(p.hasPrefix("#   ") ? 4 : 2) }
            return l
        }
        // The bundle hint has placeholders: fill them in, and drop the vs add line it replaces.
        let text = uncommented.map { $0.replacingOccurrences(of: "--ports PORTS", with: "--ports 80,443") }
            .filter { $0 != "vs add -f 80 -s rr -p 600" }.joined(separator: "\n")
        let (parsed, src, _) = try ConfigFile.parse(name: "uncommented", text: text, base: ClusterConfig())
        XCTAssertEqual(src.checks.count, 6, "with the checks of the inactive server web3 and of the inactive virtual smtp")
        XCTAssertEqual(parsed.entries.count, 3)
        XCTAssertEqual(parsed.entries[0].servers.count, 3)
        XCTAssertEqual(parsed.bundles.map(\.name), ["webmark"])
    }

    /// The commented-out lines of an inactive virtual without an address load once VIP is replaced by an address.
    func testPlaceholderLinesLoadWithAnAddress() throws {
        let c = try Piranha.convert(try String(contentsOfFile: path("quirks.cf"), encoding: .utf8), source: "quirks.cf")
        let lines = c.text.split(separator: "\n").filter { $0.contains("VIP:") }
        XCTAssertEqual(lines, ["# vs add -t VIP:443 -s rr -p 10", "# rs add -t VIP:443 -r 198.51.100.71:443 -m -w 1",
                               "# check -t VIP:443 -r 198.51.100.71:443 --type http --path / --expect 100-599 --interval 10 --timeout 10 --rise 18 --fall 1 --on-fail quiesce"])
        let text = lines.map { $0.dropFirst(2).replacingOccurrences(of: "VIP", with: "192.0.2.32") }.joined(separator: "\n")
        let (parsed, src, _) = try ConfigFile.parse(name: "vpn", text: text, base: ClusterConfig())
        XCTAssertEqual(src.checks.map(\.check.kind), [.http])
        XCTAssertEqual(parsed.entries.map(\.service.key.description), ["-t 192.0.2.32:443"])
        XCTAssertEqual(parsed.entries[0].service.timeout, 10)
        XCTAssertEqual(parsed.entries[0].servers.map(\.endpoint.description), ["198.51.100.71:443"])
    }

    func testCommandWritesTheFileAndReportsErrorsAsUsageErrors() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lvsctl-import-\(getpid()).conf").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        XCTAssertEqual(Entry.run(["import", "piranha", path("nat.cf"), "-o", out]), 0)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8),
                       try Piranha.convert(try String(contentsOfFile: path("nat.cf"), encoding: .utf8), source: path("nat.cf")).text)
        XCTAssertEqual(Entry.run(["import", "foo", path("nat.cf")]), 2)
        XCTAssertEqual(Entry.run(["import", "piranha", path("bad-weight.cf"), "-o", out]), 2)
        XCTAssertEqual(Entry.run(["import", "piranha", Self.dir.path]), 2)
        XCTAssertEqual(Entry.run(["import", "piranha", path("no-such.cf")]), 2)
        XCTAssertEqual(Entry.run(["import", "piranha"]), 2)
        do {
            try (LVSCtl.parseAsRoot(["import", "foo", "x"]) as? Import)?.run()
            XCTFail("no error")
        } catch let e as UsageError {
            XCTAssertEqual(e.description, "unknown import kind 'foo' (expected piranha)")
        }
        do {
            try (LVSCtl.parseAsRoot(["import", "piranha", path("bad-weight.cf")]) as? Import)?.run()
            XCTFail("no error")
        } catch let e as UsageError {
            XCTAssertEqual(e.description, "\(path("bad-weight.cf")):9: invalid weight '-3' (expected 0..65535)")
        }
    }
}
