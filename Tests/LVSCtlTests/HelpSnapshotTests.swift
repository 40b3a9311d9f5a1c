import Foundation
import XCTest
import ArgumentParser
@testable import lvsctl
@testable import LVSKit

/// `--help` of every command and subcommand, compared with the snapshots in `Tests/Fixtures/help/`
/// (one file per command path: `lvsctl.txt`, `lvsctl-vs-add.txt`, ...), rendered at 80 columns the way
/// `lvsctl COMMAND --help` prints it when its output is not a terminal.
///
/// After changing help text on purpose, refresh the snapshots and review the diff:
///
///     UPDATE_SNAPSHOTS=1 swift test --filter HelpSnapshot
///     git diff Tests/Fixtures/help
final class HelpSnapshotTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/help")

    /// Every command in the tree under `lvsctl`, with its path of command names.
    static func commands() -> [(path: [String], type: ParsableCommand.Type)] {
        var out: [(path: [String], type: ParsableCommand.Type)] = []
        func walk(_ t: ParsableCommand.Type, _ path: [String]) {
            let p = path + [t._commandName]
            out.append((p, t))
            for s in t.configuration.subcommands { walk(s, p) }
        }
        walk(LVSCtl.self, [])
        return out
    }

    /// The help text of `type`, as the binary prints it (with a final newline).
    static func help(_ type: ParsableCommand.Type) -> String {
        LVSCtl.helpMessage(for: type, columns: 80) + "\n"
    }

    func testEveryCommandHasASnapshotAndMatchesIt() throws {
        let update = ProcessInfo.processInfo.environment["UPDATE_SNAPSHOTS"] == "1"
        let cmds = Self.commands()
        XCTAssertGreaterThan(cmds.count, 30, "the command tree walk found too few commands")
        var expectedFiles = Set<String>()
        for (path, type) in cmds {
            let name = path.joined(separator: "-") + ".txt"
            expectedFiles.insert(name)
            let file = Self.dir.appendingPathComponent(name)
            let now = Self.help(type)
            if update {
                try FileManager.default.createDirectory(at: Self.dir, withIntermediateDirectories: true)
                try now.write(to: file, atomically: true, encoding: .utf8)
                continue
            }
            guard let saved = try? String(contentsOf: file, encoding: .utf8) else {
                XCTFail("no snapshot \(name); run: UPDATE_SNAPSHOTS=1 swift test --filter HelpSnapshot")
                continue
            }
            if saved != now {
                let a = saved.split(separator: "\n", omittingEmptySubsequences: false)
                let b = now.split(separator: "\n", omittingEmptySubsequences: false)
                let i = (0..<min(a.count, b.count)).first(where: { a[$0] != b[$0] }) ?? min(a.count, b.count)
                XCTFail("""
                    \(path.joined(separator: " ")) --help differs from \(name) at line \(i + 1):
                      snapshot: \(i < a.count ? String(a[i]) : "<end>")
                      now:      \(i < b.count ? String(b[i]) : "<end>")
                    (if intended: UPDATE_SNAPSHOTS=1 swift test --filter HelpSnapshot)
                    """)
            }
        }
        // No stale snapshot for a command that no longer exists.
        let present = Set((try? FileManager.default.contentsOfDirectory(atPath: Self.dir.path)) ?? [])
            .filter { $0.hasSuffix(".txt") }
        if update {
            for stale in present.subtracting(expectedFiles) {
                try FileManager.default.removeItem(at: Self.dir.appendingPathComponent(stale))
            }
        } else {
            XCTAssertEqual(present.subtracting(expectedFiles).sorted(), [], "snapshots of commands that no longer exist")
        }
    }

    /// Issue #8: every command's help has a one-line summary and an example; commands with an ipvsadm
    /// counterpart name it (or say there is none).
    func testEveryCommandHasAnAbstractAnExampleAndAnIpvsadmEquivalent() {
        for (path, type) in Self.commands() {
            let c = type.configuration
            let name = path.joined(separator: " ")
            XCTAssertFalse(c.abstract.isEmpty, "\(name): no abstract")
            XCTAssertTrue(c.discussion.contains("Example: lvsctl"), "\(name): no 'Example: lvsctl ...' line")
            if path.count > 1 {
                XCTAssertTrue(c.discussion.contains("ipvsadm equivalent: ") || path[1] == "import" && c.discussion.contains("ipvsadm equivalent: none"),
                              "\(name): no 'ipvsadm equivalent:' line")
            }
        }
    }

    /// The snapshots are what the built binary prints (guards against helpMessage(for:) and the binary
    /// drifting apart, e.g. through terminal-width handling).
    func testBinaryPrintsTheSnapshot() throws {
        let bin = Self.dir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/lvsctl")
        guard FileManager.default.isExecutableFile(atPath: bin.path) else {
            throw XCTSkip("no .build/debug/lvsctl")
        }
        for path in [["vs", "add"], ["bundle"], ["dr", "setup"], []] {
            let p = Process()
            p.executableURL = bin
            p.arguments = path + ["--help"]
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            let type = Self.commands().first(where: { Array($0.path.dropFirst()) == path })!.type
            XCTAssertEqual(String(decoding: data, as: UTF8.self), Self.help(type), "lvsctl \(path.joined(separator: " ")) --help")
        }
    }
}
