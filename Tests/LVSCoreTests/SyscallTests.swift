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
    }
}
