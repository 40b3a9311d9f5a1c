// The one file of LVSCore that makes plain system calls (in the manner of apple/swift-system's Syscalls.swift):
// a typed errno, the one retry-on-EINTR loop, and thin wrappers that return `Result<_, Errno>`. libnl, libiptc
// and libnftables calls stay with their wrappers (Netlink/, Firewall/); everything else goes through here.
import CNetlink  // lvs_setns_net: setns(2), which the Glibc module does not import
#if canImport(Glibc)
import Glibc
#endif

/// A positive `errno` value, typed; its description is the `strerror` text.
public struct Errno: Error, Hashable, Sendable, RawRepresentable, CustomStringConvertible {
    /// The errno number.
    public var rawValue: Int32
    /// Wraps an errno number.
    @inlinable public init(rawValue: Int32) { self.rawValue = rawValue }
    /// Wraps an errno number.
    @inlinable public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's `errno`.
    public static var current: Errno {
        get { Errno(Glibc.errno) }
        set { Glibc.errno = newValue.rawValue }
    }

    /// `strerror(rawValue)`, e.g. "No such process".
    public var description: String { errnoText(rawValue) }

    /// `EPERM`.
    public static var notPermitted: Errno { Errno(EPERM) }
    /// `ENOENT`.
    public static var noSuchFileOrDirectory: Errno { Errno(ENOENT) }
    /// `ESRCH` (IPVS: no such service, or no sync daemon).
    public static var noSuchProcess: Errno { Errno(ESRCH) }
    /// `EINTR`.
    public static var interrupted: Errno { Errno(EINTR) }
    /// `EIO`.
    public static var ioError: Errno { Errno(EIO) }
    /// `EBADF`.
    public static var badFileDescriptor: Errno { Errno(EBADF) }
    /// `EAGAIN` (the same number as `EWOULDBLOCK` on Linux).
    public static var resourceTemporarilyUnavailable: Errno { Errno(EAGAIN) }
    /// `EWOULDBLOCK`.
    public static var wouldBlock: Errno { Errno(EWOULDBLOCK) }
    /// `ENOMEM`.
    public static var noMemory: Errno { Errno(ENOMEM) }
    /// `EACCES`.
    public static var permissionDenied: Errno { Errno(EACCES) }
    /// `EBUSY`.
    public static var resourceBusy: Errno { Errno(EBUSY) }
    /// `EEXIST`.
    public static var fileExists: Errno { Errno(EEXIST) }
    /// `ENODEV`.
    public static var noSuchDevice: Errno { Errno(ENODEV) }
    /// `EINVAL`.
    public static var invalidArgument: Errno { Errno(EINVAL) }
    /// `ERANGE`.
    public static var outOfRange: Errno { Errno(ERANGE) }
    /// `ENOPROTOOPT`.
    public static var protocolNotAvailable: Errno { Errno(ENOPROTOOPT) }
    /// `EOPNOTSUPP`.
    public static var notSupported: Errno { Errno(EOPNOTSUPP) }
    /// `EAFNOSUPPORT`.
    public static var addressFamilyNotSupported: Errno { Errno(EAFNOSUPPORT) }
    /// `EADDRNOTAVAIL`.
    public static var addressNotAvailable: Errno { Errno(EADDRNOTAVAIL) }
    /// `ENOBUFS` (netlink: the socket's receive buffer overflowed).
    public static var noBufferSpace: Errno { Errno(ENOBUFS) }
}

/// The text of an errno (`strerror`).
public func errnoText(_ e: Int32) -> String { String(cString: strerror(e)) }

/// Runs `body` (a system call returning -1 with `errno` on failure) until it does not fail with EINTR. The one
/// EINTR loop of LVSCore: every call below that can be interrupted goes through it.
@inline(__always)
func retryOnInterrupt<T: FixedWidthInteger>(_ body: () -> T) -> T {
    while true {
        let r = body()
        if r != -1 || Glibc.errno != EINTR { return r }
    }
}

/// `body`'s result, or the `errno` it left when it returned -1 (retried on EINTR first when `retry`).
@inline(__always)
func valueOrErrno<T: FixedWidthInteger>(retry: Bool = true, _ body: () -> T) -> Result<T, Errno> {
    let r = retry ? retryOnInterrupt(body) : body()
    return r == -1 ? .failure(.current) : .success(r)
}

// `flock` and `stat` name both a function and a struct; at file scope (outside ``Syscall``) the call resolves.
private func systemFlock(_ fd: Int32, _ operation: Int32) -> Int32 { flock(fd, operation) }
private func systemStat(_ path: String, _ st: inout Glibc.stat) -> Int32 { stat(path, &st) }
private func systemFstat(_ fd: Int32, _ st: inout Glibc.stat) -> Int32 { fstat(fd, &st) }
private func systemEventfd() -> Int32 { eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK)) }
private func systemSignalfd(_ set: inout sigset_t) -> Int32 { signalfd(-1, &set, Int32(SFD_CLOEXEC | SFD_NONBLOCK)) }

/// Thin wrappers for the system calls LVSCore makes. Each keeps the C call's meaning; interruptible calls are
/// retried on EINTR; failures come back as the typed ``Errno`` (and `errno` stays set, for callers that read it).
public enum Syscall {
    /// `open(2)`; `O_CLOEXEC` is the caller's to pass. Not retried: Linux restarts an interrupted open itself
    /// (SA_RESTART) or the caller sees EINTR as for any other failure, as before.
    public static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Result<Int32, Errno> {
        valueOrErrno(retry: false) { Glibc.open(path, flags, mode) }
    }

    /// `close(2)`. Never retried: on Linux the descriptor is gone even when close reports EINTR.
    public static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// `read(2)` into `buffer`, retried on EINTR: the number of bytes read, 0 at the end.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        valueOrErrno { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// `write(2)` of `buffer`, retried on EINTR: the number of bytes written (may be short).
    public static func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        valueOrErrno { Glibc.write(fd, buffer.baseAddress, buffer.count) }
    }

    /// `send(2)`, retried on EINTR.
    public static func send(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, flags: Int32 = 0) -> Result<Int, Errno> {
        valueOrErrno { Glibc.send(fd, buffer.baseAddress, buffer.count, flags) }
    }

    /// `recv(2)`, retried on EINTR (with `MSG_TRUNC` the datagram's full length).
    public static func recv(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, flags: Int32 = 0) -> Result<Int, Errno> {
        valueOrErrno { Glibc.recv(fd, buffer.baseAddress, buffer.count, flags) }
    }

    /// `fsync(2)`.
    public static func fsync(_ fd: Int32) -> Result<Void, Errno> {
        valueOrErrno { Glibc.fsync(fd) }.map { _ in () }
    }

    /// `fchmod(2)`.
    public static func fchmod(_ fd: Int32, _ mode: mode_t) -> Result<Void, Errno> {
        valueOrErrno { Glibc.fchmod(fd, mode) }.map { _ in () }
    }

    /// `flock(2)`, retried on EINTR (a blocking `LOCK_EX` interrupted by a signal tries again).
    public static func flock(_ fd: Int32, _ operation: Int32) -> Result<Void, Errno> {
        valueOrErrno { systemFlock(fd, operation) }.map { _ in () }
    }

    /// `stat(2)`.
    public static func stat(_ path: String) -> Result<Glibc.stat, Errno> {
        var st = Glibc.stat()
        return valueOrErrno(retry: false) { systemStat(path, &st) }.map { _ in st }
    }

    /// `fstat(2)`.
    public static func fstat(_ fd: Int32) -> Result<Glibc.stat, Errno> {
        var st = Glibc.stat()
        return valueOrErrno(retry: false) { systemFstat(fd, &st) }.map { _ in st }
    }

    /// `access(2)`: true when `path` allows `mode` (`F_OK`, `X_OK`, ...).
    public static func access(_ path: String, _ mode: Int32) -> Bool { Glibc.access(path, mode) == 0 }

    /// `mkdir(2)`.
    public static func mkdir(_ path: String, _ mode: mode_t) -> Result<Void, Errno> {
        valueOrErrno(retry: false) { Glibc.mkdir(path, mode) }.map { _ in () }
    }

    /// `rename(2)`.
    public static func rename(_ from: String, _ to: String) -> Result<Void, Errno> {
        valueOrErrno(retry: false) { Glibc.rename(from, to) }.map { _ in () }
    }

    /// `unlink(2)`.
    public static func unlink(_ path: String) -> Result<Void, Errno> {
        valueOrErrno(retry: false) { Glibc.unlink(path) }.map { _ in () }
    }

    /// `pipe(2)`: the read and write ends.
    public static func pipe() -> Result<(read: Int32, write: Int32), Errno> {
        var fds: [Int32] = [0, 0]
        return valueOrErrno(retry: false) { Glibc.pipe(&fds) }.map { _ in (fds[0], fds[1]) }
    }

    /// `waitpid(2)`, retried on EINTR: the raw wait status.
    public static func waitpid(_ pid: pid_t, options: Int32 = 0) -> Result<Int32, Errno> {
        var status: Int32 = 0
        return valueOrErrno { Glibc.waitpid(pid, &status, options) }.map { _ in status }
    }

    // MARK: the monitor's event loop (lvsctl monitor)

    /// `eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)`: a counter other threads write to wake a loop that polls it.
    public static func eventfd() -> Result<Int32, Errno> {
        valueOrErrno(retry: false) { systemEventfd() }
    }

    /// Adds 1 to an eventfd (a wake-up); never blocks.
    public static func signalEvent(_ fd: Int32) {
        var one: UInt64 = 1
        _ = valueOrErrno { Glibc.write(fd, &one, 8) }
    }

    /// Resets an eventfd to 0 (the wake-ups are taken).
    public static func clearEvent(_ fd: Int32) {
        var v: UInt64 = 0
        _ = valueOrErrno { Glibc.read(fd, &v, 8) }
    }

    /// Blocks `signals` in the calling thread (threads it creates afterwards inherit the mask) and returns a
    /// `signalfd` that reads them: a loop polls it instead of running a handler.
    public static func signalDescriptor(_ signals: [Int32]) -> Result<Int32, Errno> {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        let r = pthread_sigmask(SIG_BLOCK, &set, nil)
        if r != 0 { return .failure(Errno(r)) }
        return valueOrErrno(retry: false) { systemSignalfd(&set) }
    }

    /// The signal numbers waiting on a `signalfd` (empty when none).
    public static func takeSignals(_ fd: Int32) -> [Int32] {
        var out: [Int32] = []
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        while case .success(let n) = valueOrErrno({ Glibc.read(fd, &info, size) }), n == size {
            out.append(Int32(info.ssi_signo))
        }
        return out
    }

    /// `poll(2)` for readability of `fds`, at most `timeout` seconds (nil: no limit), retried on EINTR with the
    /// time left: which of them are readable (none on timeout).
    public static func waitReadable(_ fds: [Int32], timeout: Double?) -> Result<[Bool], Errno> {
        var p = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let end = timeout.map { monotonicSeconds() + max(0, $0) }
        while true {
            let ms = end.map { Int32(min(Double(Int32.max), max(0, (($0 - monotonicSeconds()) * 1000).rounded(.up)))) } ?? -1
            let r = Glibc.poll(&p, nfds_t(p.count), ms)
            if r >= 0 { return .success(p.map { $0.revents != 0 }) }
            if Glibc.errno != EINTR { return .failure(.current) }
        }
    }

    /// `clock_gettime(CLOCK_REALTIME)` in seconds since the epoch.
    public static func realtimeSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// `waitpid(pid, WNOHANG)`: true when the child has ended (and is reaped now) or is not ours to wait for.
    public static func reapIfExited(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        let r = retryOnInterrupt { Glibc.waitpid(pid, &status, WNOHANG) }
        return r != 0
    }

    /// `sd_notify(3)` without libsystemd: sends `text` to `$NOTIFY_SOCKET` when systemd set one (Type=notify);
    /// does nothing otherwise. Errors are ignored, as sd_notify's callers do.
    public static func notifySystemd(_ text: String) {
        guard var path = getenv("NOTIFY_SOCKET"), path.count > 1 else { return }
        if path.hasPrefix("@") { path = "\0" + path.dropFirst() }  // an abstract socket
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { return }
        withUnsafeMutableBytes(of: &addr.sun_path) { p in for (i, b) in bytes.enumerated() { p[i] = b } }
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { Glibc.close(fd) }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        var msg = Array(text.utf8)
        _ = withUnsafePointer(to: &addr) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                retryOnInterrupt { Glibc.sendto(fd, &msg, msg.count, Int32(MSG_NOSIGNAL), sa, len) }
            }
        }
    }

    /// `kill(pid, 0)`: true when a process with this ID exists (ours or not).
    public static func processExists(_ pid: pid_t) -> Bool {
        pid > 0 && (Glibc.kill(pid, 0) == 0 || Glibc.errno == EPERM)
    }

    /// `socket(2)`.
    public static func socket(_ domain: Int32, _ type: Int32, _ proto: Int32) -> Result<Int32, Errno> {
        valueOrErrno(retry: false) { Glibc.socket(domain, type, proto) }
    }

    /// `setsockopt(2)` with an `Int32` value.
    public static func setsockopt(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Result<Void, Errno> {
        var v = value
        return valueOrErrno(retry: false) { Glibc.setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) }
            .map { _ in () }
    }

    /// `getsockopt(2)` of a `UInt64` value (e.g. `SO_NETNS_COOKIE`).
    public static func getsockoptUInt64(_ fd: Int32, _ level: Int32, _ name: Int32) -> Result<UInt64, Errno> {
        var v: UInt64 = 0
        var len = socklen_t(MemoryLayout<UInt64>.size)
        return valueOrErrno(retry: false) { Glibc.getsockopt(fd, level, name, &v, &len) }.map { _ in v }
    }

    /// `setns(fd, CLONE_NEWNET)`: moves the calling thread into the network namespace open at `fd`.
    public static func setNetworkNamespace(_ fd: Int32) -> Result<Void, Errno> {
        valueOrErrno(retry: false) { lvs_setns_net(fd) }.map { _ in () }
    }

    /// `getpid(2)`.
    public static func getpid() -> pid_t { Glibc.getpid() }

    /// `getenv(3)`: the variable's value, nil when unset.
    public static func getenv(_ name: String) -> String? { Glibc.getenv(name).map { String(cString: $0) } }

    /// `clock_gettime(CLOCK_MONOTONIC)` in seconds.
    public static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// `usleep(3)` for `seconds` (sub-microsecond parts are dropped).
    public static func sleep(seconds: Double) { _ = usleep(useconds_t(max(0, seconds) * 1_000_000)) }

    /// `usleep(3)`.
    public static func sleep(microseconds: Int) { _ = usleep(useconds_t(max(0, microseconds))) }
}
