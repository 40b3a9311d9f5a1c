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
        _ = Syscall.mkdir(String(path[..<slash]), 0o700)
    }
    let fd: Int32
    switch Syscall.open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600) {
    case .success(let d): fd = d
    case .failure(let e): throw LockError(path: path, purpose: purpose, errno: e.rawValue, waited: 0)
    }
    defer { Syscall.close(fd) }
    let t0 = Syscall.monotonicSeconds()
    while case .failure(let e) = Syscall.flock(fd, LOCK_EX | LOCK_NB) {
        guard e == .wouldBlock else { throw LockError(path: path, purpose: purpose, errno: e.rawValue, waited: 0) }
        let waited = Syscall.monotonicSeconds() - t0
        if waited >= timeout { throw LockError(path: path, purpose: purpose, errno: 0, waited: waited) }
        Syscall.sleep(seconds: 0.05)
    }
    defer { _ = Syscall.flock(fd, LOCK_UN) }
    return try body()
}

/// Writes `text` to `path` atomically: a temporary file in the same directory (O_NOFOLLOW, `mode`), fsync,
/// rename over the target, fsync of the directory. A crash never leaves a truncated file.
public func writeFileAtomically(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
    let dir: String = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    let tmp = path + ".tmp.\(Syscall.getpid())"
    let fd: Int32
    switch Syscall.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) {
    case .success(let d): fd = d
    case .failure(let e): throw LockError(path: tmp, purpose: "write \(path)", errno: e.rawValue, waited: 0)
    }
    var failure: Errno?
    let bytes = Array(text.utf8)
    if !bytes.withUnsafeBytes({ writeAll(fd, $0) }) { failure = .current }
    if failure == nil {
        _ = Syscall.fchmod(fd, mode)
        if case .failure(let e) = Syscall.fsync(fd) { failure = e }
    }
    Syscall.close(fd)
    if failure == nil, case .failure(let e) = Syscall.rename(tmp, path) { failure = e }
    if let e = failure {
        _ = Syscall.unlink(tmp)
        throw LockError(path: path, purpose: "write \(path)", errno: e.rawValue, waited: 0)
    }
    if case .success(let dfd) = Syscall.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) { _ = Syscall.fsync(dfd); Syscall.close(dfd) }
}
