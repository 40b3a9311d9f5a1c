#if canImport(Glibc)
import Glibc
#endif

/// Why a lock could not be taken.
public struct LockError: Error, CustomStringConvertible, Sendable {
    /// The lock file.
    public var path: String
    /// What the lock protects, in words.
    public var purpose: String
    /// The errno of open/flock, or 0 on timeout.
    public var errno: Int32
    /// Seconds waited.
    public var waited: Double
    /// Who holds the lock, or why it could not be opened.
    public var description: String {
        if errno == EACCES || errno == EPERM {
            // The lock lives under /run/lvsctl (root's, 0700): only root can take it.
            return "cannot open \(path): needs CAP_NET_ADMIN (run as root)"
        }
        return errno == 0 ? "\(purpose): \(path) is held by another process (waited \(Int(waited)) s)"
                          : "\(purpose): cannot open \(path): \(errnoText(errno))"
    }
}

/// Runs `body` holding `flock(LOCK_EX)` on `path`, waiting at most `timeout` seconds. The file is opened with
/// `O_NOFOLLOW` and created with mode 0600; a missing parent directory is created with mode 0700.
public func withFileLock<T>(_ path: String, timeout: Double, purpose: String, _ body: () throws -> T) throws -> T {
    if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
        _ = mkdir(String(path[..<slash]), 0o700)
    }
    let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw LockError(path: path, purpose: purpose, errno: errno, waited: 0) }
    defer { close(fd) }
    var t0 = timespec(); clock_gettime(CLOCK_MONOTONIC, &t0)
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
        guard errno == EWOULDBLOCK || errno == EINTR else { throw LockError(path: path, purpose: purpose, errno: errno, waited: 0) }
        var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t)
        let waited = Double(t.tv_sec - t0.tv_sec) + Double(t.tv_nsec - t0.tv_nsec) / 1e9
        if waited >= timeout { throw LockError(path: path, purpose: purpose, errno: 0, waited: waited) }
        usleep(50_000)
    }
    defer { flock(fd, LOCK_UN) }
    return try body()
}

/// Writes `text` to `path` atomically: a temporary file in the same directory (O_NOFOLLOW, `mode`), fsync,
/// rename over the target, fsync of the directory. A crash never leaves a truncated file.
public func writeFileAtomically(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
    let dir: String = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    let tmp = path + ".tmp.\(getpid())"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
    guard fd >= 0 else { throw LockError(path: tmp, purpose: "write \(path)", errno: errno, waited: 0) }
    var ok = true
    let bytes = Array(text.utf8)
    var off = 0
    while off < bytes.count {
        let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; ok = false; break }
        off += n
    }
    let e = errno
    if ok { fchmod(fd, mode); ok = fsync(fd) == 0 }
    close(fd)
    guard ok, rename(tmp, path) == 0 else {
        let err = ok ? errno : e
        unlink(tmp)
        throw LockError(path: path, purpose: "write \(path)", errno: err, waited: 0)
    }
    let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dfd >= 0 { fsync(dfd); close(dfd) }
}
