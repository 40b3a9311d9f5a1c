import XCTest
@testable import LVSCore
#if canImport(Glibc)
import Glibc
#endif

final class SyscallTests: XCTestCase {
    func testErrnoDescriptionIsStrerror() {
        XCTAssertEqual(Errno.noSuchProcess.rawValue, ESRCH)
        XCTAssertEqual(Errno.noSuchProcess.description, String(cString: strerror(ESRCH)))
        XCTAssertEqual("\(Errno(ENOENT))", errnoText(ENOENT))
        XCTAssertEqual(Errno.wouldBlock, Errno.resourceTemporarilyUnavailable)  // the same number on Linux
    }

    func testRetryOnInterruptRetriesOnlyEINTR() {
        var calls = 0
        let r = retryOnInterrupt { () -> Int32 in
            calls += 1
            if calls < 3 { Errno.current = .interrupted; return -1 }
            return 7
        }
        XCTAssertEqual(r, 7)
        XCTAssertEqual(calls, 3)
        calls = 0
        let f = valueOrErrno { () -> Int32 in calls += 1; Errno.current = .permissionDenied; return -1 }
        XCTAssertEqual(calls, 1)
        XCTAssertEqual(f, .failure(.permissionDenied))
    }

    func testWrappersReportTypedErrors() throws {
        XCTAssertEqual(Syscall.open("/nonexistent/lvsctl-test", O_RDONLY | O_CLOEXEC), .failure(.noSuchFileOrDirectory))
        XCTAssertEqual(Syscall.unlink("/nonexistent/lvsctl-test").map { 0 }, .failure(.noSuchFileOrDirectory))
        let p = try Syscall.pipe().get()
        defer { Syscall.close(p.read) }
        let msg = Array("hello".utf8)
        XCTAssertEqual(msg.withUnsafeBytes { Syscall.write(p.write, $0) }, .success(5))
        Syscall.close(p.write)
        XCTAssertEqual(readToEnd(p.read), msg)
        XCTAssertGreaterThan(Syscall.monotonicSeconds(), 0)
        XCTAssertEqual(try Syscall.fstat(p.read).get().st_mode & S_IFMT, S_IFIFO)
        XCTAssertEqual(try Syscall.stat("/").get().st_mode & S_IFMT, S_IFDIR)
        XCTAssertEqual(Syscall.fstat(-1).map { _ in 0 }, .failure(.badFileDescriptor))
    }

    func testAtomicWriteThrowsFileErrorWithTheOldWords() {
        let p = "/nonexistent-lvsctl-dir/lvsctl.conf"
        XCTAssertThrowsError(try writeFileAtomically(p, "x")) { e in
            guard let f = e as? FileError else { return XCTFail("\(type(of: e))") }
            XCTAssertEqual(f.errno, ENOENT)
            XCTAssertEqual(f.path, p + ".tmp.\(getpid())")
            XCTAssertEqual("\(f)", "write \(p): cannot open \(p).tmp.\(getpid()): \(errnoText(ENOENT))")
        }
        XCTAssertEqual("\(FileError(path: "/etc/x", operation: "write /etc/x", errno: EACCES))",
                       "cannot open /etc/x: needs CAP_NET_ADMIN (run as root)")
    }

    func testXtablesLockTimesOutWhileAnotherDescriptorHoldsIt() throws {
        let path = "/tmp/lvsctl-synctest-lock.\(getpid())"
        defer { unlink(path) }
        try withFileLock(path, timeout: 1, purpose: "outer") {
            // flock locks belong to the open file description: a second open of the same file must wait.
            XCTAssertThrowsError(try withXtablesLock(path: path, timeout: 0.1, operation: "test") {}) { e in
                XCTAssertEqual("\(e)".contains("held by another process for 0.1 s"), true, "\(e)")
            }
            XCTAssertThrowsError(try withFileLock(path, timeout: 0, purpose: "inner") {}) { e in
                XCTAssertEqual((e as? LockError)?.errno, 0)
            }
        }
    }
}
