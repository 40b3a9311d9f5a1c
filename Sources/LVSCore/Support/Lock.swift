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

/// Why a file could not be written (``writeFileAtomically(_:_:mode:)``).
public struct FileError: Error, CustomStringConvertible, Sendable {
    /// The file that could not be opened or written: the temporary file, or the target when the rename failed.
    public var path: String
    /// What was being done, e.g. `write /etc/lvsctl.conf`.
    public var operation: String
    /// The errno of open, write, fsync or rename.
    public var errno: Int32
    /// Creates a file error.
    public init(path: String, operation: String, errno: Int32) {
        self.path = path; self.operation = operation; self.errno = errno
    }
    /// The message `writeFileAtomically` has always printed (it threw ``LockError`` before; the words are unchanged).
    public var description: String {
        if errno == EACCES || errno == EPERM { return "cannot open \(path): needs CAP_NET_ADMIN (run as root)" }
        return "\(operation): cannot open \(path): \(errnoText(errno))"
    }
}

/// Why ``withExclusiveFileLock(_:openFlags:timeout:failure:_:)`` could not take its lock.
enum FileLockFailure {
    /// `open(2)` failed.
    case open(Errno)
    /// `flock(2)` failed with something other than EWOULDBLOCK.
    case lock(Errno)
    /// Another process held the lock for the whole timeout.
    case timedOut(waited: Double)
}

/// The one flock loop of LVSCore: opens `path` (`openFlags` plus `O_NOFOLLOW | O_CLOEXEC`, created with mode 0600
/// when `openFlags` has `O_CREAT`), takes `flock(LOCK_EX | LOCK_NB)`, polling every 50 ms for at most `timeout`
/// seconds, runs `body`, and releases the lock. `failure` turns a failure into the caller's error.
func withExclusiveFileLock<T>(_ path: String, openFlags: Int32, timeout: Double,
                              failure: (FileLockFailure) -> Error, _ body: () throws -> T) throws -> T {
    let fd: Int32
    switch Syscall.open(path, openFlags | O_NOFOLLOW | O_CLOEXEC, 0o600) {
    case .success(let d): fd = d
    case .failure(let e): throw failure(.open(e))
    }
    defer { Syscall.close(fd) }   // closing the descriptor releases the lock in any case
    let t0 = Syscall.monotonicSeconds()
    while case .failure(let e) = Syscall.flock(fd, LOCK_EX | LOCK_NB) {
        guard e == .wouldBlock else { throw failure(.lock(e)) }
        let waited = Syscall.monotonicSeconds() - t0
        guard waited < timeout else { throw failure(.timedOut(waited: waited)) }
        Syscall.sleep(seconds: min(0.05, timeout - waited))
    }
    defer { _ = Syscall.flock(fd, LOCK_UN) }
    return try body()
}

/// Runs `body` holding `flock(LOCK_EX)` on `path`, waiting at most `timeout` seconds. The file is opened with
/// `O_NOFOLLOW` and created with mode 0600; a missing parent directory is created with mode 0700.
public func withFileLock<T>(_ path: String, timeout: Double, purpose: String, _ body: () throws -> T) throws -> T {
    if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
        _ = Syscall.mkdir(String(path[..<slash]), 0o700)
    }
    return try withExclusiveFileLock(path, openFlags: O_RDWR | O_CREAT, timeout: timeout, failure: {
        switch $0 {
        case .open(let e), .lock(let e): LockError(path: path, purpose: purpose, errno: e.rawValue, waited: 0)
        case .timedOut(let waited): LockError(path: path, purpose: purpose, errno: 0, waited: waited)
        }
    }, body)
}

/// Writes `text` to `path` atomically: a temporary file in the same directory (O_NOFOLLOW, `mode`), fsync,
/// rename over the target, fsync of the directory. A crash never leaves a truncated file. Throws ``FileError``.
public func writeFileAtomically(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
    try writeFileAtomically(path, bytes: Array(text.utf8), mode: mode)
}

/// ``writeFileAtomically(_:_:mode:)`` of bytes. `durable: false` skips the fsyncs: for a file rewritten often under
/// /run (tmpfs), where the rename alone keeps a reader from ever seeing half a file, even after `kill -9`.
public func writeFileAtomically(_ path: String, bytes: [UInt8], mode: mode_t = 0o644, durable: Bool = true) throws {
    try writeFileAtomically(path, mode: mode, durable: durable) { write in _ = bytes.withUnsafeBytes { write($0) } }
}

/// ``writeFileAtomically(_:bytes:mode:durable:)`` of contents written piece by piece: `contents` calls `write` with
/// each piece (false once a write failed: the file is then not renamed into place and the error is thrown).
public func writeFileAtomically(_ path: String, mode: mode_t = 0o644, durable: Bool = true,
                                contents: (_ write: (UnsafeRawBufferPointer) -> Bool) throws -> Void) throws {
    let dir: String = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    let tmp = path + ".tmp.\(Syscall.getpid())"
    let operation = "write \(path)"
    let fd: Int32
    switch Syscall.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) {
    case .success(let d): fd = d
    case .failure(let e): throw FileError(path: tmp, operation: operation, errno: e.rawValue)
    }
    var failure: Errno?
    do {
        try contents { piece in
            guard failure == nil else { return false }
            if !writeAll(fd, piece) { failure = .current }
            return failure == nil
        }
    } catch {
        Syscall.close(fd)
        _ = Syscall.unlink(tmp)
        throw error
    }
    if failure == nil {
        _ = Syscall.fchmod(fd, mode)
        if durable, case .failure(let e) = Syscall.fsync(fd) { failure = e }
    }
    Syscall.close(fd)
    if failure == nil, case .failure(let e) = Syscall.rename(tmp, path) { failure = e }
    if let e = failure {
        _ = Syscall.unlink(tmp)
        throw FileError(path: path, operation: operation, errno: e.rawValue)
    }
    if durable, case .success(let dfd) = Syscall.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) { _ = Syscall.fsync(dfd); Syscall.close(dfd) }
}
