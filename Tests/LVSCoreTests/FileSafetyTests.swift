import XCTest
@testable import LVSCore
#if canImport(Glibc)
import Glibc
#endif

/// State, lock and config files: O_NOFOLLOW, the modes asked for, atomic replacement.
final class FileSafetyTests: XCTestCase {
    var dir = ""
    override func setUp() {
        var t = Array("/tmp/lvsctl-filesafety-XXXXXX".utf8CString)
        dir = String(cString: mkdtemp(&t)!)
    }
    override func tearDown() { _ = try? FileManager.default.removeItem(atPath: dir) }

    func mode(_ p: String) -> mode_t { var st = stat(); XCTAssertEqual(lstat(p, &st), 0); return st.st_mode & 0o7777 }

    func testAtomicWriteReplacesWithModeAndLeavesNoTemporary() throws {
        let p = dir + "/lvsctl.conf"
        try writeFileAtomically(p, "old\n")
        try writeFileAtomically(p, "vs add -t 192.0.2.1:80 -s rr\n")
        XCTAssertEqual(try String(contentsOfFile: p, encoding: .utf8), "vs add -t 192.0.2.1:80 -s rr\n")
        XCTAssertEqual(mode(p), 0o644)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["lvsctl.conf"])
        try writeFileAtomically(dir + "/state", "x", mode: 0o600)
        XCTAssertEqual(mode(dir + "/state"), 0o600)
    }

    func testAtomicWriteRefusesASymlinkPlantedAtItsTemporaryName() throws {
        let p = dir + "/lvsctl.conf", victim = dir + "/victim"
        FileManager.default.createFile(atPath: victim, contents: Data("keep".utf8))
        XCTAssertEqual(symlink(victim, p + ".tmp.\(getpid())"), 0)
        XCTAssertThrowsError(try writeFileAtomically(p, "new"))
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "keep")
    }

    func testLockFileIsCreated0600AndNeverFollowsASymlink() throws {
        let lock = dir + "/lock"
        try withFileLock(lock, timeout: 1, purpose: "test") {}
        XCTAssertEqual(mode(lock), 0o600)
        let link = dir + "/lock2", victim = dir + "/victim"
        FileManager.default.createFile(atPath: victim, contents: Data())
        XCTAssertEqual(symlink(victim, link), 0)
        XCTAssertThrowsError(try withFileLock(link, timeout: 1, purpose: "test") {}) { e in
            XCTAssertEqual((e as? LockError)?.errno, ELOOP)
        }
        XCTAssertThrowsError(try withXtablesLock(path: link, timeout: 1, operation: "test") {})
    }

    func testNoShellAnywhereInTheSources() throws {
        // External tools run through posix_spawn with argument vectors from fixed paths; no shell string.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources").standardized.path
        let files = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        XCTAssertFalse(files.isEmpty)
        for f in files {
            let text = try String(contentsOfFile: root + "/" + f, encoding: .utf8)
            for bad in ["\"/bin/sh\"", "\"/bin/bash\"", "\"sh\", \"-c\"", "popen("] {
                XCTAssertFalse(text.contains(bad), "\(f) contains \(bad)")
            }
            // libc system(3), not a method such as BundleStore.system().
            XCTAssertNil(text.range(of: #"(?<!func )(?<![.A-Za-z0-9_])system\("#, options: .regularExpression), "\(f) calls system(3)")
        }
    }
}
