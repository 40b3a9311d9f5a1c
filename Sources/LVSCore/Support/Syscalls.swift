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

    /// The names in directory `path` (`opendir(3)`/`readdir(3)`), without `.` and `..`, in the order the
    /// directory lists them.
    public static func listDirectory(_ path: String) -> Result<[String], Errno> {
        guard let dir = Glibc.opendir(path) else { return .failure(.current) }
        defer { Glibc.closedir(dir) }
        var names: [String] = []
        while let entry = Glibc.readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names)
    }

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

    /// Raises the limit of open files (a monitor holds a socket per running check): to 65,536 when the hard limit
    /// is lower and the process may raise it (root: a plain shell or an old init leaves 4,096), else the soft
    /// limit to the hard one.
    public static func raiseOpenFileLimit() {
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return }
        let want: rlim_t = 65_536
        if r.rlim_max < want {
            var up = rlimit(rlim_cur: want, rlim_max: want)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &up) == 0 { return }
        }
        guard r.rlim_cur < r.rlim_max else { return }
        r.rlim_cur = r.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
    }

    /// Closes a TCP socket with a reset instead of a FIN (`SO_LINGER` on with a time of 0): no TIME_WAIT or
    /// LAST_ACK socket is left behind, so a checker that connects thousands of times a second keeps no dying
    /// sockets and no ephemeral ports in use.
    public static func closeWithReset(_ fd: Int32) {
        var l = linger(l_onoff: 1, l_linger: 0)
        _ = Glibc.setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        close(fd)
    }

    /// `getsockopt(SO_ERROR)`: the pending error of a socket (0: none), e.g. how a non-blocking connect ended.
    public static func socketError(_ fd: Int32) -> Int32 {
        var v: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        return Glibc.getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len) == 0 ? v : Glibc.errno
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

    /// `isatty(3)`: true when `fd` is a terminal.
    public static func isTerminal(_ fd: Int32) -> Bool { Glibc.isatty(fd) == 1 }

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

// MARK: health checks (lvsctl monitor)
//
// What the monitor's check engine (LVSKit/Monitor/Engine.swift) calls besides libcurl: its own thread, an epoll set
// of its own descriptors, connected UDP sockets, programs started in their own process groups and watched through
// pidfds, and the signal that ends such a group. pidfd_open(2) and posix_spawn_file_actions_addclosefrom_np come
// from CNetlink's shim (the Glibc module imports neither).

/// What a thread started by ``Syscall/startThread(_:)`` runs.
private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

extension Syscall {
    /// `connect(2)` of socket `fd` to `address` and `port` (a `sockaddr_in` or `sockaddr_in6`). Not retried on EINTR:
    /// an interrupted connect goes on in the background (a datagram socket's connect never blocks).
    public static func connect(_ fd: Int32, to address: IPAddress, port: UInt16) -> Result<Void, Errno> {
        func call<S>(_ sa: S) -> Result<Int32, Errno> {
            withUnsafePointer(to: sa) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                    valueOrErrno(retry: false) { Glibc.connect(fd, sp, socklen_t(MemoryLayout<S>.size)) }
                }
            }
        }
        if address.family == .inet {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: address.bytes) }
            return call(sin).map { _ in () }
        }
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: address.bytes) }
        return call(sin6).map { _ in () }
    }

    /// `poll(2)` of `fds` for up to `milliseconds` (-1: no limit), retried on EINTR: the number of ready descriptors.
    public static func poll(_ fds: inout [pollfd], milliseconds: Int32) -> Result<Int32, Errno> {
        let n = nfds_t(fds.count)
        return fds.withUnsafeMutableBufferPointer { b in valueOrErrno { Glibc.poll(b.baseAddress, n, milliseconds) } }
    }

    /// `epoll_create1(EPOLL_CLOEXEC)`: a new epoll set.
    public static func epollCreate() -> Result<Int32, Errno> {
        valueOrErrno(retry: false) { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    /// `epoll_ctl(EPOLL_CTL_ADD)`: watches `fd` in set `epfd` for `events`, given as poll(2) bits (`POLLIN`, ...: the
    /// same values as `EPOLLIN`, ...; errors and hang-ups are always reported), each event reported with `data`.
    public static func epollAdd(_ epfd: Int32, _ fd: Int32, events: Int16, data: UInt64) -> Result<Void, Errno> {
        var ev = epoll_event()
        ev.events = UInt32(UInt16(bitPattern: events))
        ev.data.u64 = data
        return valueOrErrno(retry: false) { epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) }.map { _ in () }
    }

    /// `epoll_wait(2)` on set `epfd` for at most `max` events and up to `milliseconds` (0: do not wait), retried on
    /// EINTR: each ready descriptor's `data` with its events as poll(2) bits (`POLLIN`, `POLLERR`, `POLLHUP`, ...).
    public static func epollWait(_ epfd: Int32, max: Int, milliseconds: Int32)
        -> Result<[(data: UInt64, events: UInt32)], Errno> {
        var evs = [epoll_event](repeating: epoll_event(), count: Swift.max(1, max))
        let n = Int32(evs.count)
        return evs.withUnsafeMutableBufferPointer { b in
            valueOrErrno { epoll_wait(epfd, b.baseAddress, n, milliseconds) }
        }.map { k in evs[0..<Int(k)].map { (data: $0.data.u64, events: $0.events) } }
    }

    /// `kill(2)`: sends `signal` to process `pid`, or to process group `-pid` when `pid` is negative.
    public static func kill(_ pid: pid_t, _ signal: Int32) -> Result<Void, Errno> {
        valueOrErrno(retry: false) { Glibc.kill(pid, signal) }.map { _ in () }
    }

    /// `pidfd_open(2)` (Linux 5.3): a close-on-exec descriptor of process `pid` that polls readable once it has ended.
    public static func pidfdOpen(_ pid: pid_t) -> Result<Int32, Errno> {
        valueOrErrno(retry: false) { lvs_pidfd_open(pid) }
    }

    /// `waitpid(pid, WNOHANG)`, retried on EINTR: the raw wait status once the child has ended, nil while it runs.
    public static func waitpidNoHang(_ pid: pid_t) -> Result<Int32?, Errno> {
        var status: Int32 = 0
        return valueOrErrno { Glibc.waitpid(pid, &status, WNOHANG) }.map { $0 == 0 ? nil : status }
    }

    /// `posix_spawn(3)` of the program `argv[0]` (an absolute path: no PATH search, no shell) with `argv` and
    /// `environment` (`NAME=value` strings), in a new process group of its own (its pid is the group's id), with
    /// stdin, stdout and stderr on /dev/null, every other descriptor closed, no signal blocked and every signal's
    /// action at its default. The error is the spawn's or the program's exec failure (e.g. ENOENT, EACCES).
    public static func spawnInNewProcessGroup(_ argv: [String], environment: [String]) -> Result<pid_t, Errno> {
        guard let path = argv.first else { return .failure(.invalidArgument) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        lvs_spawn_addclosefrom(&actions, 3)
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var cenv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for p in cenv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, &cargs, &cenv)
        return rc == 0 ? .success(pid) : .failure(Errno(rc))
    }

    /// `pthread_sigmask(SIG_BLOCK)` of every signal: the calling thread takes no asynchronous signal (the process's
    /// other threads do), so its waits are never interrupted.
    public static func blockSignalsOnThisThread() {
        var all = sigset_t()
        sigfillset(&all)
        _ = pthread_sigmask(SIG_BLOCK, &all, nil)
    }

    /// `pthread_create(3)`: a new joinable thread that runs `body` and ends.
    public static func startThread(_ body: @escaping () -> Void) -> Result<pthread_t, Errno> {
        let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { arg in
            guard let arg else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(arg).takeRetainedValue().body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            return .failure(Errno(rc))
        }
        return .success(thread)
    }

    /// `pthread_join(3)`: waits for `thread` to end.
    public static func joinThread(_ thread: pthread_t) { _ = pthread_join(thread, nil) }

    /// `pthread_detach(3)`: `thread` frees itself when it ends (it is never joined).
    public static func detachThread(_ thread: pthread_t) { _ = pthread_detach(thread) }

    /// `pthread_equal(pthread_self(), thread)`: true on `thread` itself.
    public static func isCurrentThread(_ thread: pthread_t) -> Bool { pthread_equal(pthread_self(), thread) != 0 }
}
