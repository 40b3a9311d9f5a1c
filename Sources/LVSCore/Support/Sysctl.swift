#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The system calls `DirectRouting` makes, kept apart so the planning logic reads plainly.
public enum Sysctl {
    /// `/proc/sys/net/ipv4/conf/IF/NAME` of the current thread's network namespace.
    public static func path(_ interface: String, _ name: String) -> String { "/proc/sys/net/ipv4/conf/\(interface)/\(name)" }

    /// Reads `/proc/sys/net/ipv4/conf/IF/NAME` as an integer.
    public static func read(_ interface: String, _ name: String) throws -> Int {
        let p = path(interface, name)
        let fd: Int32
        switch Syscall.open(p, O_RDONLY | O_CLOEXEC) {
        case .success(let d): fd = d
        case .failure(let e): throw DRError("cannot read \(p): \(e)")
        }
        defer { Syscall.close(fd) }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = (try? buf.withUnsafeMutableBytes { Syscall.read(fd, into: $0) }.get()) ?? -1
        guard n > 0, let v = Int(String(decoding: buf[0..<n], as: UTF8.self).trimmingWhitespace) else {
            throw DRError("cannot read \(p)")
        }
        return v
    }

    /// Writes `VALUE` to `/proc/sys/net/ipv4/conf/IF/NAME`; needs CAP_NET_ADMIN.
    public static func write(_ interface: String, _ name: String, _ value: Int) throws {
        let p = path(interface, name)
        let fd: Int32
        switch Syscall.open(p, O_WRONLY | O_CLOEXEC | O_NOFOLLOW) {
        case .success(let d): fd = d
        case .failure(let e):
            throw DRError(e == .permissionDenied || e == .notPermitted ? "cannot write \(p): needs CAP_NET_ADMIN (run as root)" : "cannot write \(p): \(e)")
        }
        defer { Syscall.close(fd) }
        let text = Array("\(value)\n".utf8)
        switch text.withUnsafeBytes({ Syscall.write(fd, $0) }) {
        case .success(let n) where n == text.count: return
        case .success: throw DRError("cannot write \(p): \(Errno.current)")
        case .failure(let e): throw DRError("cannot write \(p): \(e)")
        }
    }
}
