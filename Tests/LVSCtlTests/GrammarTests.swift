import XCTest
import ArgumentParser
@testable import lvsctl
@testable import LVSKit
@testable import LVSCore

/// The file grammar and the command line are one grammar: the options ArgumentParser declares for each command a
/// file may hold are exactly the grammar's (names, value names, flags), and malformed lines are refused by both
/// with the same message.
final class GrammarTests: XCTestCase {
    /// The options `--help` lists for `command`: name -> value name ("" for a flag).
    func helpOptions(_ command: ParsableCommand.Type) -> [String: String] {
        var out: [String: String] = [:]
        for line in command.helpMessage(columns: 400).split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("-") else { continue }
            // "-w, --weight <weight>  Help." or "-M, --netmask <netmask> Help." when the synopsis is long.
            var names: [String] = [], value = ""
            for tok in t.split(separator: " ") {
                if tok.hasPrefix("-") && value.isEmpty { names.append(String(tok.hasSuffix(",") ? tok.dropLast() : tok)); continue }
                if tok.hasPrefix("<") && value.isEmpty { value = String(tok.dropFirst().prefix { $0 != ">" }) }
                break
            }
            for n in names where n != "-h" && n != "--help" { out[n] = value }
        }
        return out
    }

    /// `rs drain` and `rs undrain` are not file lines, but their options come from the same table.
    func testDrainCommandsDeclareTheTablesOptions() {
        func table(_ groups: [[OptionDef]]) -> [String: String] {
            var out: [String: String] = [:]
            for d in groups.joined() { for n in d.names { out[n] = d.valueName ?? "" } }
            return out
        }
        let common = [Options.service, [Options.bundleTarget], Options.global]
        XCTAssertEqual(helpOptions(RS.Drain.self), table(common + [Options.drain]))
        XCTAssertEqual(helpOptions(RS.Undrain.self), table(common + [Options.undrain]))
    }

    func testEveryFileCommandDeclaresTheGrammarsOptions() throws {
        let commands: [String: ParsableCommand.Type] = [
            "vs add": VS.Add.self, "rs add": RS.Add.self, "bundle add": lvsctl.Bundle.Add.self,
            "timeout set": Timeout.Set.self, "daemon start": Daemon.Start.self, "dr setup": DR.Setup.self,
            "list": List.self, "restore": Restore.self, "apply": Apply.self, "save": Save.self,
            "bundle delete": lvsctl.Bundle.Delete.self, "bundle list": lvsctl.Bundle.List.self,
            "sysctl set": SysctlCommand.Set.self,
        ]
        XCTAssertEqual(Set(Grammar.commands.filter { !$0.fileOnly }.map(\.words)), Set(commands.keys))
        for c in Grammar.commands where !c.fileOnly {
            var grammar: [String: String] = [:]
            for d in c.options { for n in d.names { grammar[n] = d.valueName ?? "" } }
            let help = helpOptions(commands[c.words]!)
            XCTAssertFalse(help.isEmpty, c.words)
            XCTAssertEqual(help, grammar, c.words)
            let usage = commands[c.words]!.usageString()
            for p in c.positionals { XCTAssertTrue(usage.contains("<\(p)>"), "\(c.words): \(usage)") }
        }
    }

    /// Malformed lines: the grammar's message is ArgumentParser's, word for word.
    func testMalformedLinesGetArgumentParsersMessages() throws {
        let lines = [
            "vs add --bogus -t 192.0.2.1:80", "vs add -t 192.0.2.1:80 --schedular rr", "vs add -t 192.0.2.1:80 -gm",
            "rs add -t 192.0.2.1:80 -gm", "rs add -t 192.0.2.1:80", "bundle add web --ports 80 x", "daemon start",
            "vs add -t 192.0.2.1:80 -Z", "vs add -t 192.0.2.1:80 -s", "bundle add -x --vip 192.0.2.10 --ports 80",
            "bundle add web -x --vip 192.0.2.10 --ports 80", "bundle add --bogus web --vip 192.0.2.10",
            "vs add -t 192.0.2.1:80 -p 5 --ops=x", "bundle add w --vip 192.0.2.1 --ports 80 -gs rr",
            "rs add -t 192.0.2.1:80 -r", "rs add -r 198.51.100.1 -t", "timeout set --tcp", "dr setup --vip",
            "dr setup --vip 192.0.2.1 extra", "daemon start master backup", "rs add -t 192.0.2.1:80 -r 198.51.100.2 -x",
            "vs add -t 192.0.2.1:80 --tcp-servce 192.0.2.2:80", "dr setup --vip 192.0.2.1 --dry-run=yes",
            "list --stat", "list -t", "list -n x", "list --json=1", "list -nZ",
            "restore a b", "restore --flush", "restore --wait", "restore --dry-run=1 f",
            "apply", "apply a b", "apply --wait", "apply f --dry-run=1", "apply f --no-flush",
            "save a b", "save --format", "save --formt ipvsadm", "save -n",
            "bundle delete", "bundle delete a b", "bundle delete -x web", "bundle list x", "bundle list --jsn",
            "sysctl set", "sysctl set --bogus a=1", "sysctl set a=1 --netn x", "sysctl set -x",
        ]
        for l in lines {
            let w = l.split(separator: " ").map(String.init)
            var expected = ""
            do { _ = try LVSCtl.parseAsRoot(Grammar.normalize(w)); XCTFail("ArgumentParser accepts \(l)") } catch { expected = Entry.usageMessage(error) }
            let grammar: () throws -> Void = {
                if w[0] == "list" { _ = try Grammar.parseList(Array(w.dropFirst())) }
                else if w[0] == "restore" { _ = try Grammar.parseRestore(Array(w.dropFirst())) }
                else if w[0] == "apply" { _ = try Grammar.parseApply(Array(w.dropFirst())) }
                else if w[0] == "save" { _ = try Grammar.parseSave(Array(w.dropFirst())) }
                else if w.starts(with: ["bundle", "delete"]) { _ = try Grammar.parseBundleDelete(Array(w.dropFirst(2))) }
                else if w.starts(with: ["bundle", "list"]) { _ = try Grammar.parseBundleList(Array(w.dropFirst(2))) }
                else { _ = try Grammar.parse(w) }
            }
            XCTAssertThrowsError(try grammar(), l) { XCTAssertEqual("\($0)", expected, l) }
        }
    }

    /// `list`'s options give the spec ArgumentParser's `List` gives, and its conflicts the same messages.
    func testListSpecs() throws {
        for l in ["list", "list -n", "list --stats --exact", "list -t 192.0.2.1:80 --json", "list -f 5 -6 --nosort",
                  "list --rate -n", "list --resolve --thresholds", "list -n --tun-info --sort"] {
            let w = l.split(separator: " ").map(String.init)
            let ap = try XCTUnwrap(try LVSCtl.parseAsRoot(w) as? List)
            XCTAssertEqual(try Grammar.parseList(Array(w.dropFirst())), ap.spec, l)
        }
        for l in ["list --stats --rate", "list --sort --nosort", "list --resolve -n", "list --resolve --json"] {
            let w = l.split(separator: " ").map(String.init)
            var expected = ""
            do { _ = try LVSCtl.parseAsRoot(w); XCTFail(l) } catch { expected = Entry.usageMessage(error) }
            XCTAssertThrowsError(try Grammar.parseList(Array(w.dropFirst())).validate(), l) { XCTAssertEqual("\($0)", expected, l) }
        }
    }

    /// `restore`'s options give the spec ArgumentParser's `Restore` gives.
    func testRestoreSpecs() throws {
        for l in ["restore", "restore f.conf", "restore --no-flush f", "restore --dry-run", "restore - --wait 5",
                  "restore --wait 0.5 --no-flush --dry-run x", "restore -- -f"] {
            let w = l.split(separator: " ").map(String.init)
            let ap = try XCTUnwrap(try LVSCtl.parseAsRoot(w) as? Restore)
            XCTAssertEqual(try Grammar.parseRestore(Array(w.dropFirst())), ap.spec, l)
        }
        // A --wait ArgumentParser refuses is left to it (the fast path gives up).
        XCTAssertThrowsError(try Grammar.parseRestore(["--wait", "soon"]))
        XCTAssertNil(Entry.runWithoutParser(["restore", "--wait", "soon"]))
    }

    /// A `sysctl set` line reads the spec the command line reads.
    func testSysctlSetSpecs() throws {
        for l in ["sysctl set expire_nodest_conn=1", "sysctl set a=1 b=2 net.ipv4.vs.c=3", "sysctl set a=1 --netns x",
                  "sysctl set -- a=1"] {
            let w = l.split(separator: " ").map(String.init)
            let ap = try XCTUnwrap(try LVSCtl.parseAsRoot(w) as? SysctlCommand.Set)
            guard case .sysctl(let spec) = try Grammar.parse(w) else { return XCTFail(l) }
            XCTAssertEqual(spec, ap.spec, l)
        }
    }

    /// `apply` and `save` read the spec ArgumentParser's commands read.
    func testApplyAndSaveSpecs() throws {
        for l in ["apply f.conf", "apply --dry-run f", "apply f --wait 5", "apply --wait 0.5 --dry-run x", "apply -- -f"] {
            let w = l.split(separator: " ").map(String.init)
            let ap = try XCTUnwrap(try LVSCtl.parseAsRoot(w) as? Apply)
            XCTAssertEqual(try Grammar.parseApply(Array(w.dropFirst())), ap.spec, l)
        }
        for l in ["save", "save f.conf", "save --format ipvsadm", "save - --format lvsctl", "save --format nosuch x", "save -- -f"] {
            let w = l.split(separator: " ").map(String.init)
            let ap = try XCTUnwrap(try LVSCtl.parseAsRoot(w) as? Save)
            XCTAssertEqual(try Grammar.parseSave(Array(w.dropFirst())), ap.spec, l)
        }
        XCTAssertNil(Entry.runWithoutParser(["apply", "f", "--wait", "soon"]))
        for l in ["bundle delete web", "bundle delete -- -web"] {
            let w = l.split(separator: " ").map(String.init)
            let ap = try XCTUnwrap(try LVSCtl.parseAsRoot(w) as? lvsctl.Bundle.Delete)
            XCTAssertEqual(try Grammar.parseBundleDelete(Array(w.dropFirst(2))), ap.name, l)
        }
        for l in ["bundle list", "bundle list --json"] {
            let w = l.split(separator: " ").map(String.init)
            let ap = try XCTUnwrap(try LVSCtl.parseAsRoot(w) as? lvsctl.Bundle.List)
            XCTAssertEqual(try Grammar.parseBundleList(Array(w.dropFirst(2))), ap.output.json, l)
        }
    }

    /// Well-formed lines in every spelling ArgumentParser takes give the same spec values.
    func testSpellingsGiveTheSameSpecs() throws {
        let lines = [
            "vs add --tcp-service=192.0.2.1:80 --scheduler=rr -p", "rs add -t 192.0.2.1:80 -r 198.51.100.2 -gw 3",
            "rs add -t 192.0.2.1:80 -r 198.51.100.2 -w=3 -x 9", "rs add -r 198.51.100.2 -mw 4 -t 192.0.2.1:80",
            "bundle add web --vip 192.0.2.10 --vip=192.0.2.11 --ports 80,443 -o -s rr", "bundle add --ports 80 web --vip 192.0.2.1",
            "timeout set --tcp=900 --udp 5", "daemon start backup --syncid 3 --mcast-interface=eth1",
            "dr setup --vip 192.0.2.1 --method redirect --ports 80 --dry-run", "rs add -f 5 -6 -r [2001:db8::10] -i --tun-type gue --tun-port 6080",
            "vs add -t 192.0.2.1:80 -- ", "vs add -t 192.0.2.1:80 -t 192.0.2.2:80",
        ]
        for l in lines {
            let w = l.split(separator: " ").map(String.init)
            let reference = argumentParserLine(try LVSCtl.parseAsRoot(Grammar.normalize(w)))
            XCTAssertNotNil(reference, l)
            XCTAssertEqual(try Grammar.parse(w), reference, l)
        }
    }
}
