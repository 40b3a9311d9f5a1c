#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The interface sysctls `DirectRouting` reads and writes (`/proc/sys/net/ipv4/conf/IF/NAME`), kept apart so the
/// planning logic reads plainly.
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

/// A failure reading or writing one IPVS sysctl (`/proc/sys/net/ipv4/vs/NAME`): the command exits 1.
public struct SysctlError: Error, CustomStringConvertible, Sendable {
    /// The knob, e.g. `expire_nodest_conn`.
    public var name: String
    /// `read` or `write`.
    public var operation: String
    /// The value being written (write only).
    public var value: String?
    /// The errno of open, read or write.
    public var errno: Int32
    /// Creates a sysctl error.
    public init(name: String, operation: String, value: String? = nil, errno: Int32) {
        self.name = name; self.operation = operation; self.value = value; self.errno = errno
    }
    /// What failed, in an admin's words.
    public var description: String {
        let key = "net.ipv4.vs.\(name)"
        switch (operation, errno) {
        case (_, ENOENT): return "the running kernel has no IPVS sysctl \(key)"
        case ("write", EACCES), ("write", EPERM):
            return "cannot set \(key): needs CAP_NET_ADMIN (run as root)"
        case ("write", EINVAL): return "the kernel refused \(key)=\(value ?? "") (invalid argument)"
        case ("write", _): return "cannot set \(key) to \(value ?? ""): \(errnoText(errno))"
        default: return "cannot read \(key): \(errnoText(errno))"
        }
    }
}

/// The IPVS sysctls of the current thread's network namespace: the files of `/proc/sys/net/ipv4/vs/` (`directory`
/// may name another folder holding files of the same form, for tests). Values are read as text; `sync_threshold`'s
/// two numbers come back separated by one space.
public struct IPVSSysctlDirectory: Sendable {
    /// The folder, `/proc/sys/net/ipv4/vs` by default.
    public var directory: String
    /// The kernel's folder (of whichever network namespace the reading thread is in).
    public static let kernel = IPVSSysctlDirectory(directory: "/proc/sys/net/ipv4/vs")
    /// A folder of knobs.
    public init(directory: String) { self.directory = directory }

    /// The knobs the running kernel has, sorted; nil when the folder does not exist (IPVS is not loaded).
    public func names() throws -> [String]? {
        switch Syscall.listDirectory(directory) {
        case .success(let n): return n.sorted()
        case .failure(.noSuchFileOrDirectory): return nil
        case .failure(let e): throw SysctlError(name: "*", operation: "read", errno: e.rawValue)
        }
    }

    /// True when the knob's file exists.
    public func exists(_ name: String) -> Bool { Syscall.access("\(directory)/\(name)", F_OK) }

    /// True when the file has a write permission bit (a global knob is 0444 outside the initial namespace).
    public func isWritable(_ name: String) -> Bool {
        guard case .success(let st) = Syscall.stat("\(directory)/\(name)") else { return false }
        return st.st_mode & 0o222 != 0
    }

    /// The knob's value, with runs of blanks (`sync_threshold` is `3<TAB>50`) turned into one space and the final
    /// newline removed.
    public func read(_ name: String) throws -> String {
        let fd: Int32
        switch Syscall.open("\(directory)/\(name)", O_RDONLY | O_CLOEXEC | O_NOFOLLOW) {
        case .success(let d): fd = d
        case .failure(let e): throw SysctlError(name: name, operation: "read", errno: e.rawValue)
        }
        defer { Syscall.close(fd) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 256)
        while true {
            switch buf.withUnsafeMutableBytes({ Syscall.read(fd, into: $0) }) {
            case .success(0): return String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
            case .success(let n): bytes += buf[0..<n]
            case .failure(let e): throw SysctlError(name: name, operation: "read", errno: e.rawValue)
            }
        }
    }

    /// Writes `value` and a newline to the knob in one write(2), as `sysctl -w` does; needs CAP_NET_ADMIN. The
    /// kernel checks the value itself and refuses what its handler does not accept (EINVAL).
    public func write(_ name: String, _ value: String) throws {
        let fd: Int32
        switch Syscall.open("\(directory)/\(name)", O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW) {
        case .success(let d): fd = d
        case .failure(let e): throw SysctlError(name: name, operation: "write", value: value, errno: e.rawValue)
        }
        defer { Syscall.close(fd) }
        let text = Array("\(value)\n".utf8)
        switch text.withUnsafeBytes({ Syscall.write(fd, $0) }) {
        case .success(let n) where n == text.count: return
        case .success: throw SysctlError(name: name, operation: "write", value: value, errno: EIO)
        case .failure(let e): throw SysctlError(name: name, operation: "write", value: value, errno: e.rawValue)
        }
    }
}
