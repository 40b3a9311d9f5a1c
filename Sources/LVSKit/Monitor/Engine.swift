#if canImport(Glibc)
import Glibc
#endif
import CCurl
import LVSCore

// The check engine: the monitor's real ``Checker``. Every check runs on one background thread, the engine's, so
// thousands run at once on one thread and a slow or hanging server delays no other check:
// - http and https checks are transfers of one libcurl multi handle;
// - tcp checks are the engine's own non-blocking connects, udp checks its own non-blocking connected sockets;
// - exec checks are programs started with posix_spawn (no shell) in process groups of their own, watched through
//   pidfds.
// The engine's own sockets and pidfds, and an eventfd that wakes it when a run is queued or the engine stops, are in
// one epoll set (epoll also reports a socket's error: a udp check's ICMP port unreachable). While no http or https
// transfer runs, the engine waits in `epoll_wait` alone and curl is not called at all (tcp checks cost their own
// system calls and nothing more); while one runs, `curl_multi_poll` waits for curl's sockets with the epoll set as
// its one extra descriptor.
//
// Threading. ``CheckEngine/run(_:deadline:completion:)`` (any thread) only appends the run to the mailbox under its
// lock and wakes the engine; the engine thread owns everything else (curl handles, sockets, processes, compiled
// regular expressions) and is the only one to touch it. Completions are called on the engine thread, outside the
// lock, exactly once per run: they must return quickly (the scheduler's only appends to its inbox).
//
// Deadlines. curl gets `deadline - now` as its timeout; udp and exec checks are given up at their deadline (an exec
// check's process group is killed with SIGKILL and reaped once it has ended). A run that reaches its deadline is
// reported as `timeout after N s`, N its nominal timeout; the scheduler counts it as that anyway.
//
// libcurl is not linked: the first engine created loads it (`lvs_curl_load`, see Sources/CCurl/shim.h), so no other
// lvsctl command loads it and the ~30 libraries it needs.

/// `curl_global_init`, once per process (a global's initializer runs once, thread-safely); only after
/// `lvs_curl_load` has loaded libcurl.
private let curlGlobalInit: CURLcode = lvs_curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// The monitor's checker: tcp, http and https through libcurl, udp through its own sockets, exec through
/// posix_spawn, all on one background thread (see the comment at the top of Engine.swift).
public final class CheckEngine: Checker, Sendable {
    /// The clock deadlines are given in (the scheduler's).
    public let clock: any MonitorClock
    let mailbox: EngineMailbox
    private let thread: pthread_t
    private let stopped = Locked<Bool>(false)

    /// The most of an http body the engine reads (64 KiB): `--body` is matched against it, and a longer body is not
    /// read further.
    public static let bodyLimit = 65_536
    /// The User-Agent of http and https checks.
    public static let userAgent = "lvsctl-monitor"
    /// The environment of exec checks (their arguments carry the server; nothing of the daemon's environment leaks).
    public static let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]

    /// Starts the engine's thread. `clock` must be the one the deadlines passed to ``run(_:deadline:completion:)``
    /// come from. With `http: true` (the configuration has http or https checks) libcurl is loaded now (lvsctl does
    /// not link it: see Sources/CCurl/shim.h), and a missing libcurl is an error at start; otherwise it is loaded by
    /// the first http or https check, if one ever comes (a reload), so a monitor of tcp, udp and exec checks never
    /// maps it (about 9 MiB). Throws a ``SystemError`` when libcurl cannot be loaded or set up, or the thread cannot
    /// be started.
    public init(clock: any MonitorClock = SystemClock(), http: Bool = true) throws {
        let multi = http ? try Self.curlMulti() : nil
        let epoll: Int32, wake: Int32
        switch Syscall.epollCreate() {
        case .success(let fd): epoll = fd
        case .failure(let e):
            if let multi { lvs_curl_multi_cleanup(multi) }
            throw SystemError("health checks: epoll_create1: \(e)")
        }
        switch Syscall.eventfd().flatMap({ fd in Syscall.epollAdd(epoll, fd, events: Int16(POLLIN), data: EngineLoop.wakeID).map { fd } }) {
        case .success(let fd): wake = fd
        case .failure(let e):
            if let multi { lvs_curl_multi_cleanup(multi) }
            Syscall.close(epoll)
            throw SystemError("health checks: eventfd: \(e)")
        }
        let mailbox = EngineMailbox(wake: wake)
        let loop = EngineLoop(clock: clock, mailbox: mailbox, multi: multi, epoll: epoll)
        switch Syscall.startThread({ loop.run() }) {
        case .success(let t): thread = t
        case .failure(let e):
            loop.closeHandles()
            throw SystemError("health checks: cannot start the check thread: \(e)")
        }
        self.clock = clock
        self.mailbox = mailbox
    }

    /// Queues `check` for the engine's thread and returns at once; `completion` is called exactly once, on the
    /// engine's thread, with the result (at once, here, after ``shutdown()``).
    public func run(_ check: HealthCheck, deadline: Double, completion: @escaping @Sendable (CheckResult) -> Void) {
        runAll([(check, deadline, completion)])
    }

    /// Queues every run at once (one lock, one wakeup); see ``run(_:deadline:completion:)``.
    public func runAll(_ runs: [(HealthCheck, Double, @Sendable (CheckResult) -> Void)]) {
        let now = clock.now()
        let jobs = runs.map { EngineJob(check: $0.0, started: now, deadline: $0.1, completion: $0.2) }
        if !mailbox.post(jobs) {
            for j in jobs { j.completion(.fail("\(Self.subject(of: j.check)): check engine stopped", latency: 0)) }
        }
    }

    /// Stops the engine: completes every queued and running check as failed (`check engine stopped`), kills the
    /// process groups of running exec checks and reaps them (waiting up to 2 s for them to end), frees the curl
    /// handles and ends the thread. The first call returns once the thread has ended (called from a completion, on
    /// the engine's thread, it returns at once and the thread ends after that completion); later calls do nothing.
    public func shutdown() {
        let first = stopped.withLock { s -> Bool in
            defer { s = true }
            return !s
        }
        guard first else { return }
        mailbox.stop()
        if Syscall.isCurrentThread(thread) { Syscall.detachThread(thread) } else { Syscall.joinThread(thread) }
    }

    /// Stops the engine (``shutdown()``).
    deinit { shutdown() }

    /// Loads libcurl (once per process) and makes a multi handle for http and https checks.
    static func curlMulti() throws -> UnsafeMutableRawPointer {
        var error = [CChar](repeating: 0, count: 512)
        guard lvs_curl_load(&error, error.count) == 0 else {
            let why = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw SystemError("lvsctl monitor needs libcurl (libcurl4) for http and https checks: \(why)")
        }
        guard curlGlobalInit == CURLE_OK else {
            let why = String(cString: lvs_curl_easy_strerror(curlGlobalInit))
            throw SystemError("health checks: curl_global_init failed: \(why)")
        }
        guard let multi = lvs_curl_multi_init() else { throw SystemError("health checks: curl_multi_init failed") }
        // Every check has a connection of its own: no HTTP/2 multiplexing onto another check's connection.
        _ = lvs_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_NOTHING))
        return multi
    }

    /// True: the engine bounds every run by its timeout from when its thread really starts it, and reports the
    /// latency it measured (see ``Checker/boundsItsRuns``).
    public var boundsItsRuns: Bool { true }
}

// MARK: pure decisions (what a run's outcome means, in words)

extension CheckEngine {
    /// What a result's detail starts with: `tcp connect to port 80`, `http GET /health on port 80`, `udp on port 53`,
    /// `exec /usr/local/bin/probe`.
    static func subject(of check: HealthCheck) -> String {
        let port = check.target.port
        switch check.kind {
        case .tcp: return "tcp connect to port \(port)"
        case .http(let h): return "http GET \(h.path) on port \(port)"
        case .https(let h): return "https GET \(h.path) on port \(port)"
        case .udp: return "udp on port \(port)"
        case .exec(let e): return "exec \(e.argv.first ?? "")"
        }
    }

    /// The URL of an http or https check and its CURLOPT_CONNECT_TO entry. Without `--host` the URL names the
    /// server's address (IPv6 in brackets) and there is no entry. With `--host` the URL names the host, so it is the
    /// Host header, the TLS server name and the name the certificate must carry, and the entry
    /// `HOST:PORT:ADDR:PORT` sends the connection to the server's address. (CURLOPT_CONNECT_TO rather than
    /// CURLOPT_RESOLVE: RESOLVE entries go into the multi handle's DNS cache, which all its transfers share, so two
    /// servers checked with the same --host and port at once would both be connected to one of them.)
    static func httpTarget(_ check: HealthCheck, _ options: HTTPCheck, tls: Bool) -> (url: String, connectTo: String?) {
        let t = check.target
        let scheme = tls ? "https" : "http"
        guard let host = options.host else {
            return ("\(scheme)://\(t.address.bracketed):\(t.port)\(options.path)", nil)
        }
        return ("\(scheme)://\(host):\(t.port)\(options.path)", "\(host):\(t.port):\(t.address.bracketed):\(t.port)")
    }

    /// Expected status codes as `--expect` writes them: `200-399`, `200,301-302`.
    static func expectText(_ ranges: [ClosedRange<Int>]) -> String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }

    /// The verdict on an http or https answer: the status must be expected, then the body (its first
    /// ``bodyLimit`` bytes, as UTF-8) must match `--body` when given. `regex` is `--body` compiled (nil when it does
    /// not compile, which the grammar prevents).
    static func judgeHTTP(subject: String, options: HTTPCheck, status: Int, body: [UInt8],
                          regex: Regex<AnyRegexOutput>?) -> (passed: Bool, detail: String) {
        guard options.accepts(status) else {
            return (false, "\(subject): status \(status) (expected \(expectText(options.expect)))")
        }
        if let pattern = options.body {
            guard let regex else { return (false, "\(subject): invalid --body regular expression \"\(pattern)\"") }
            guard matches(regex, body) else { return (false, "\(subject): body did not match \"\(pattern)\"") }
        }
        return (true, "\(subject): status \(status)")
    }

    /// The verdict on a udp reply: it must match `--receive` when given (`regex` is it compiled, nil when it does not
    /// compile).
    static func judgeUDP(subject: String, options: UDPCheck, reply: [UInt8],
                         regex: Regex<AnyRegexOutput>?) -> (passed: Bool, detail: String) {
        if let pattern = options.receive {
            guard let regex else { return (false, "\(subject): invalid --receive regular expression \"\(pattern)\"") }
            guard matches(regex, reply) else { return (false, "\(subject): reply did not match \"\(pattern)\"") }
        }
        return (true, "\(subject): reply of \(reply.count) bytes")
    }

    /// True when `regex` matches somewhere in `bytes` read as UTF-8 (invalid sequences become U+FFFD).
    static func matches(_ regex: Regex<AnyRegexOutput>, _ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        return (try? regex.firstMatch(in: text)) != nil
    }

    /// The verdict on an exec check's wait status: exit status 0 passes; `exit status N`, `killed by signal N`.
    static func judgeExit(subject: String, waitStatus: Int32) -> (passed: Bool, detail: String) {
        let signal = waitStatus & 0x7f
        if signal == 0 {
            let code = (waitStatus >> 8) & 0xff
            return (code == 0, "\(subject): exit status \(code)")
        }
        return (false, "\(subject): killed by signal \(signal)")
    }

    /// Why a curl transfer failed, in words: `connection refused` (from the connect's errno), `certificate: ...`,
    /// `tls handshake: ...`, `empty reply from server`, else curl's own message (its error buffer, or
    /// `curl_easy_strerror`). `message` is the transfer's CURLOPT_ERRORBUFFER text, `osErrno` CURLINFO_OS_ERRNO.
    static func curlFailure(_ code: CURLcode, osErrno: Int32, message: String) -> String {
        let said = message.isEmpty ? String(cString: lvs_curl_easy_strerror(code)) : message
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR, CURLE_RECV_ERROR:
            return osErrno != 0 ? words(Errno(osErrno)) : said
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_CRL_BADFILE:
            return "certificate: \(said)"
        case CURLE_SSL_CONNECT_ERROR:
            return "tls handshake: \(said)"
        case CURLE_GOT_NOTHING:
            return "empty reply from server"
        default:
            return said
        }
    }

    /// An errno as the log lines say it: `strerror` with a lower-case first letter (`connection refused`).
    static func words(_ e: Errno) -> String {
        let s = e.description
        guard let first = s.first else { return s }
        return first.lowercased() + s.dropFirst()
    }

    /// The curl timeout of a run: whole milliseconds from `now` to `deadline`, rounded up, at least 1.
    static func timeoutMilliseconds(now: Double, deadline: Double) -> Int {
        let ms = ((deadline - now) * 1000).rounded(.up)
        return ms >= 1 ? Int(min(ms, 86_400_000)) : 1
    }
}

// MARK: the engine's thread

/// One run: queued by ``CheckEngine/run(_:deadline:completion:)``, started and completed by the engine's thread.
struct EngineJob: Sendable {
    /// The check.
    var check: HealthCheck
    /// When `run` was called (clock time): latencies are measured from it.
    var started: Double
    /// When the scheduler counts the run as timed out.
    var deadline: Double
    /// Called exactly once with the result.
    var completion: @Sendable (CheckResult) -> Void
}

/// The one object shared between `run` callers and the engine's thread: the queue of runs not yet started and the
/// stop flag, under one lock, and the engine's wake eventfd, written only under the lock and only while the engine
/// has not stopped (the engine closes it after it takes the queue for the last time, with the flag set, under the
/// same lock).
final class EngineMailbox: @unchecked Sendable {
    struct State {
        var queue: [EngineJob] = []
        var stopping = false
    }
    let wake: Int32
    private let state = Locked(State())

    init(wake: Int32) { self.wake = wake }

    /// Queues `jobs` and wakes the engine (when the queue was empty: otherwise a wakeup is pending); false once the
    /// engine is stopping.
    func post(_ jobs: [EngineJob]) -> Bool {
        state.withLock { s in
            guard !s.stopping else { return false }
            let wasEmpty = s.queue.isEmpty
            if wasEmpty { s.queue = jobs } else { s.queue.append(contentsOf: jobs) }  // no copy of the runs when it can
            if wasEmpty && !jobs.isEmpty { Syscall.signalEvent(wake) }
            return true
        }
    }

    /// Sets the stop flag and wakes the engine.
    func stop() {
        state.withLock { s in
            guard !s.stopping else { return }
            s.stopping = true
            Syscall.signalEvent(wake)
        }
    }

    /// Moves every queued run to the end of `pending` (when `pending` is empty, the arrays are swapped: no run is
    /// copied), and returns the stop flag.
    func take(into pending: inout [EngineJob]) -> Bool {
        state.withLock { s in
            if pending.isEmpty { swap(&s.queue, &pending) } else {
                pending.append(contentsOf: s.queue)
                s.queue.removeAll(keepingCapacity: true)
            }
            return s.stopping
        }
    }
}

/// An http, https or tcp check in the multi handle.
final class CurlTransfer {
    let job: EngineJob
    let easy: UnsafeMutableRawPointer
    let subject: String
    /// The http options; nil for a tcp check.
    let http: HTTPCheck?
    /// `--body` compiled.
    let regex: Regex<AnyRegexOutput>?
    /// The body kept (only when `--body` is given), at most ``CheckEngine/bodyLimit`` bytes.
    var body: [UInt8] = []
    /// Body bytes received.
    var received = 0
    /// True once the body went over the limit and the transfer was cut there.
    var cut = false
    /// CURLOPT_ERRORBUFFER.
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// CURLOPT_CONNECT_TO, when `--host` is given.
    var connectTo: UnsafeMutablePointer<curl_slist>?

    init(job: EngineJob, easy: UnsafeMutableRawPointer, subject: String, http: HTTPCheck?,
         regex: Regex<AnyRegexOutput>?) {
        self.job = job; self.easy = easy; self.subject = subject; self.http = http; self.regex = regex
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        errorBuffer.deallocate()
        if let connectTo { lvs_curl_slist_free_all(connectTo) }
    }

    /// The write callback's work: keeps up to ``CheckEngine/bodyLimit`` bytes; over the limit, cuts the transfer
    /// (returns less than given, which curl ends with CURLE_WRITE_ERROR).
    func take(_ data: UnsafeMutablePointer<CChar>?, _ count: Int) -> Int {
        let room = CheckEngine.bodyLimit - received
        let keep = min(room, count)
        if keep > 0, http?.body != nil, let data {
            body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: keep))
        }
        received += keep
        if count > room { cut = true; return 0 }
        return count
    }
}

/// curl's CURLOPT_WRITEFUNCTION: hands the data to the transfer (CURLOPT_WRITEDATA, unretained: the engine keeps
/// the transfer alive while curl has it).
private let curlWrite: curl_write_callback = { data, size, count, user in
    guard let user else { return 0 }
    return Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue().take(data, size * count)
}

/// A tcp or udp check's socket or an exec check's process, in the engine's epoll set.
final class OwnProbe {
    enum Kind {
        case tcp
        case udp(UDPCheck, Regex<AnyRegexOutput>?)
        case exec
    }
    let job: EngineJob
    let subject: String
    let kind: Kind
    /// The socket, or the pidfd (-1 without one, or when epoll refused it: the process is then polled with
    /// WNOHANG).
    var fd: Int32
    /// The exec check's pid, which is also its process group's id.
    let pid: pid_t
    /// True once the completion was called (an exec check killed at its deadline stays until it is reaped).
    var reported = false

    init(job: EngineJob, subject: String, kind: Kind, fd: Int32, pid: pid_t = 0) {
        self.job = job; self.subject = subject; self.kind = kind; self.fd = fd; self.pid = pid
    }
}

/// The engine's probes by id, their epoll data: a slab whose ids are reused (no hashing per check), each use of an id
/// with its own epoch, so a stale deadline entry (the probe done, its id given to another) is told apart. Id 0 is
/// the wake eventfd's and never a probe's. An id is reused only when a run is started, never while the engine handles
/// the events of one `epoll_wait` (whose ids are all still current).
struct ProbeTable {
    private var slots: [OwnProbe?] = [nil]
    private var epochs: [UInt32] = [0]
    private var free: [Int] = []
    /// Probes held.
    private(set) var count = 0

    /// Holds `p`; returns its id and the id's epoch.
    mutating func insert(_ p: OwnProbe) -> (id: UInt64, epoch: UInt32) {
        let i: Int
        if let f = free.popLast() { i = f } else {
            slots.append(nil)
            epochs.append(0)
            i = slots.count - 1
        }
        slots[i] = p
        count += 1
        return (UInt64(i), epochs[i])
    }

    /// The probe of `id`, if held.
    subscript(id: UInt64) -> OwnProbe? {
        let i = Int(truncatingIfNeeded: id)
        return i > 0 && i < slots.count ? slots[i] : nil
    }

    /// The probe of `id` if the id is still in the use `epoch` was given for.
    func probe(_ id: UInt64, epoch: UInt32) -> OwnProbe? {
        let i = Int(truncatingIfNeeded: id)
        return i > 0 && i < slots.count && epochs[i] == epoch ? slots[i] : nil
    }

    /// Forgets the probe of `id`; the id may be given again.
    mutating func remove(_ id: UInt64) {
        let i = Int(truncatingIfNeeded: id)
        guard i > 0, i < slots.count, slots[i] != nil else { return }
        slots[i] = nil
        epochs[i] &+= 1
        free.append(i)
        count -= 1
    }

    /// Every probe held.
    var all: [OwnProbe] { slots.compactMap { $0 } }
}

/// The engine's thread and everything it owns. Created by ``CheckEngine``'s initializer, then touched only by the
/// thread (``run()``), which frees it all when it stops.
final class EngineLoop {
    let clock: any MonitorClock
    let mailbox: EngineMailbox
    /// The curl multi handle, made by the first http or https check when the engine started without one.
    var multi: UnsafeMutableRawPointer?
    let epoll: Int32
    /// The epoll data of the wake eventfd (probes are numbered from 1).
    static let wakeID: UInt64 = 0
    /// The transfers in the multi handle, by easy handle.
    var transfers: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    /// The tcp and udp sockets and exec processes, by their epoll data.
    var probes = ProbeTable()
    /// Runs taken from the mailbox and not started yet (from `pendingHead` on).
    var pending: [EngineJob] = []
    var pendingHead = 0
    /// The most runs started in one turn of the loop.
    static let startBatch = 64
    /// The probes by deadline (an entry whose probe is gone or reported is stale and skipped).
    var deadlines = TimeHeap()
    /// Exec probes without a pidfd (a kernel before 5.3): polled with WNOHANG every 50 ms.
    var polled = Set<UInt64>()
    /// `--body` and `--receive` patterns compiled, nil for one that does not compile.
    var regexes: [String: Regex<AnyRegexOutput>?] = [:]
    /// ``tcpText(_:)``'s strings by port.
    var tcpTexts: [UInt16: (subject: String, connected: String)] = [:]
    /// The receive buffer of udp replies.
    var buffer = [UInt8](repeating: 0, count: 65_536)

    init(clock: any MonitorClock, mailbox: EngineMailbox, multi: UnsafeMutableRawPointer?, epoll: Int32) {
        self.clock = clock
        self.mailbox = mailbox
        self.multi = multi
        self.epoll = epoll
    }

    /// The thread's body: until the engine stops, start queued runs, let curl work, finish what ended, give up what
    /// is past its deadline, and wait for the next of these.
    func run() {
        Syscall.blockSignalsOnThisThread()
        while true {
            if mailbox.take(into: &pending) {
                stop(Array(pending[pendingHead...]))
                return
            }
            // Runs are started a batch at a time, with the sockets that became ready read in between: a burst of
            // thousands (the first round, or the checks that came due during a pause of the daemon's loop) is spread
            // over the loop's turns instead of leaving every connect unread until the last one is started.
            let end = min(pending.count, pendingHead + Self.startBatch)
            for i in pendingHead..<end { start(pending[i]) }
            pendingHead = end
            if pendingHead == pending.count {
                pending.removeAll(keepingCapacity: true)
                pendingHead = 0
            } else if pendingHead > 4096 && pendingHead * 2 > pending.count {
                pending.removeFirst(pendingHead)
                pendingHead = 0
            }
            if !transfers.isEmpty, let multi {
                var running: Int32 = 0
                _ = lvs_curl_multi_perform(multi, &running)
                finishTransfers()
            }
            // Ready sockets first, deadlines after: when the engine falls behind (thousands of checks a second on a
            // slow machine), a connect that completed in time but was not read yet is not taken for a timeout.
            wait()
            expire(now: clock.now())
        }
    }

    func complete(_ job: EngineJob, _ passed: Bool, _ detail: String) {
        job.completion(CheckResult(passed: passed, detail: detail, latency: max(0, clock.now() - job.started)))
    }

    func timedOut(_ job: EngineJob) {
        job.completion(.timeout(after: max(CheckScheduler.minimumSeconds, job.check.timeout)))
    }

    func regex(_ pattern: String?) -> Regex<AnyRegexOutput>? {
        guard let pattern else { return nil }
        if let r = regexes[pattern] { return r }
        let r = try? Regex(pattern)
        regexes[pattern] = .some(r)
        return r
    }

    func start(_ job: EngineJob) {
        // A run queued while the engine was busy (a burst after a pause of the daemon's loop) gets its whole timeout
        // from now, and its latency is counted from now: the wait was the monitor's, not the server's.
        var job = job
        job.started = clock.now()
        job.deadline = max(job.deadline, job.started + max(CheckScheduler.minimumSeconds, job.check.timeout))
        switch job.check.kind {
        case .tcp: startTCP(job)
        case .http(let h): startCurl(job, http: h, tls: false)
        case .https(let h): startCurl(job, http: h, tls: true)
        case .udp(let u): startUDP(job, u)
        case .exec(let e): startExec(job, e)
        }
    }

    // MARK: http, https

    func startCurl(_ job: EngineJob, http: HTTPCheck, tls: Bool) {
        let subject = CheckEngine.subject(of: job.check)
        if multi == nil {
            do { multi = try CheckEngine.curlMulti() } catch { return complete(job, false, "\(subject): \(error)") }
        }
        guard let multi, let easy = lvs_curl_easy_init() else {
            return complete(job, false, "\(subject): curl_easy_init failed")
        }
        let t = CurlTransfer(job: job, easy: easy, subject: subject, http: http, regex: regex(http.body))
        func long(_ o: CURLoption, _ v: Int) { _ = lvs_curl_easy_setopt_long(easy, o, v) }
        func string(_ o: CURLoption, _ v: String) { _ = lvs_curl_easy_setopt_string(easy, o, v) }
        let target = CheckEngine.httpTarget(job.check, http, tls: tls)
        let url = target.url
        if let c = target.connectTo {
            t.connectTo = lvs_curl_slist_append(nil, c)
            _ = lvs_curl_easy_setopt_pointer(easy, CURLOPT_CONNECT_TO, t.connectTo)
        }
        long(CURLOPT_HTTPGET, 1)
        long(CURLOPT_PATH_AS_IS, 1)
        long(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1)
        if tls {
            long(CURLOPT_SSL_VERIFYPEER, http.insecure ? 0 : 1)
            long(CURLOPT_SSL_VERIFYHOST, http.insecure ? 0 : 2)
            // A full handshake every time: the certificate is checked on every run.
            long(CURLOPT_SSL_SESSIONID_CACHE, 0)
        }
        string(CURLOPT_URL, url)
        string(CURLOPT_PROTOCOLS_STR, "http,https")
        string(CURLOPT_PROXY, "")
        string(CURLOPT_NOPROXY, "*")
        string(CURLOPT_USERAGENT, CheckEngine.userAgent)
        long(CURLOPT_NOSIGNAL, 1)
        long(CURLOPT_FOLLOWLOCATION, 0)
        long(CURLOPT_FRESH_CONNECT, 1)
        long(CURLOPT_FORBID_REUSE, 1)
        long(CURLOPT_TIMEOUT_MS, CheckEngine.timeoutMilliseconds(now: clock.now(), deadline: job.deadline))
        _ = lvs_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, t.errorBuffer)
        _ = lvs_curl_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION, curlWrite)
        _ = lvs_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, Unmanaged.passUnretained(t).toOpaque())
        let rc = lvs_curl_multi_add_handle(multi, easy)
        guard rc == CURLM_OK else {
            lvs_curl_easy_cleanup(easy)
            return complete(job, false, "\(subject): \(String(cString: lvs_curl_multi_strerror(rc)))")
        }
        transfers[easy] = t
    }

    /// Completes every transfer curl reports done.
    func finishTransfers() {
        guard let multi else { return }
        var left: Int32 = 0
        var done: [(UnsafeMutableRawPointer, CURLcode)] = []
        while let m = lvs_curl_multi_info_read(multi, &left) {
            guard m.pointee.msg == CURLMSG_DONE, let easy = m.pointee.easy_handle else { continue }
            done.append((easy, m.pointee.data.result))
        }
        for (easy, code) in done {
            guard let t = transfers.removeValue(forKey: easy) else { continue }
            var status = 0, osErrno = 0
            _ = lvs_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            _ = lvs_curl_easy_getinfo_long(easy, CURLINFO_OS_ERRNO, &osErrno)
            let message = String(cString: t.errorBuffer)
            _ = lvs_curl_multi_remove_handle(multi, easy)
            lvs_curl_easy_cleanup(easy)
            if code == CURLE_OK || (code == CURLE_WRITE_ERROR && t.cut) {
                guard let http = t.http else {
                    complete(t.job, true, "\(t.subject): connected")
                    continue
                }
                let v = CheckEngine.judgeHTTP(subject: t.subject, options: http, status: status, body: t.body,
                                              regex: t.regex)
                complete(t.job, v.passed, v.detail)
            } else if code == CURLE_OPERATION_TIMEDOUT {
                timedOut(t.job)
            } else {
                let why = CheckEngine.curlFailure(code, osErrno: Int32(truncatingIfNeeded: osErrno), message: message)
                complete(t.job, false, "\(t.subject): \(why)")
            }
        }
    }

    // MARK: tcp

    /// A tcp check: a non-blocking connect in the engine's epoll set (writable: connected or refused, read from
    /// SO_ERROR), the socket closed at once either way. No libcurl: nothing is kept open after the check.
    func startTCP(_ job: EngineJob) {
        let target = job.check.target
        let subject = tcpSubject(port: target.port)
        let family = target.address.family == .inet ? AF_INET : AF_INET6
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd: Int32
        switch Syscall.socket(family, type, 0) {
        case .success(let s): fd = s
        case .failure(let e): return complete(job, false, "\(subject): socket: \(CheckEngine.words(e))")
        }
        switch Syscall.connect(fd, to: target.address, port: target.port) {
        case .success:
            Syscall.closeWithReset(fd)
            return complete(job, true, tcpConnected(port: target.port))
        case .failure(let e) where e.rawValue == EINPROGRESS:
            break
        case .failure(let e):
            Syscall.close(fd)
            return complete(job, false, "\(subject): \(CheckEngine.words(e))")
        }
        watch(OwnProbe(job: job, subject: subject, kind: .tcp, fd: fd), events: Int16(POLLOUT))
    }

    /// Adds a probe's descriptor to the epoll set and its deadline to the heap. When epoll refuses the descriptor
    /// it is closed, and the run is completed as failed, or with `pollIfRefused` (an exec check's pidfd) the probe
    /// is polled instead (`polled`), as is a probe without a descriptor.
    func watch(_ p: OwnProbe, events: Int16, pollIfRefused: Bool = false) {
        let (id, epoch) = probes.insert(p)
        if p.fd >= 0, case .failure(let e) = Syscall.epollAdd(epoll, p.fd, events: events, data: id) {
            Syscall.close(p.fd)
            guard pollIfRefused else {
                probes.remove(id)
                return complete(p.job, false, "\(p.subject): epoll: \(CheckEngine.words(e))")
            }
            p.fd = -1
        }
        if p.fd < 0 { polled.insert(id) }
        deadlines.push(p.job.deadline, slot: Int(truncatingIfNeeded: id), epoch: epoch)
    }

    /// Forgets a probe (its descriptor closed by the caller).
    func forget(_ id: UInt64) {
        probes.remove(id)
        if !polled.isEmpty { polled.remove(id) }
    }

    /// `tcp connect to port P` and `...: connected`, made once per port (a monitor makes thousands of tcp checks a
    /// second, most of them to a few ports).
    func tcpSubject(port: UInt16) -> String { tcpText(port).subject }
    func tcpConnected(port: UInt16) -> String { tcpText(port).connected }
    func tcpText(_ port: UInt16) -> (subject: String, connected: String) {
        if let t = tcpTexts[port] { return t }
        let subject = "tcp connect to port \(port)"
        let t = (subject, "\(subject): connected")
        if tcpTexts.count < 4096 { tcpTexts[port] = t }
        return t
    }

    /// A tcp check's socket is writable: the connect ended. Without EPOLLERR or EPOLLHUP it is connected; else
    /// SO_ERROR says why not.
    func finishTCP(_ p: OwnProbe, events: UInt32) {
        let e = events & UInt32(POLLERR | POLLHUP) == 0 ? 0 : Syscall.socketError(p.fd)
        if e == 0 { complete(p.job, true, tcpConnected(port: p.job.check.target.port)) } else {
            complete(p.job, false, "\(p.subject): \(CheckEngine.words(Errno(e)))")
        }
    }

    // MARK: udp

    func startUDP(_ job: EngineJob, _ options: UDPCheck) {
        let subject = CheckEngine.subject(of: job.check)
        let target = job.check.target
        let family = target.address.family == .inet ? AF_INET : AF_INET6
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd: Int32
        switch Syscall.socket(family, type, 0) {
        case .success(let s): fd = s
        case .failure(let e): return complete(job, false, "\(subject): socket: \(CheckEngine.words(e))")
        }
        let payload = Array((options.send ?? "").utf8)
        if case .failure(let e) = Syscall.connect(fd, to: target.address, port: target.port) {
            Syscall.close(fd)
            return complete(job, false, "\(subject): \(CheckEngine.words(e))")
        }
        if case .failure(let e) = payload.withUnsafeBytes({ Syscall.send(fd, $0) }) {
            Syscall.close(fd)
            return complete(job, false, "\(subject): \(CheckEngine.words(e))")
        }
        watch(OwnProbe(job: job, subject: subject, kind: .udp(options, regex(options.receive)), fd: fd), events: Int16(POLLIN))
    }

    /// Reads a udp check's reply (or its error) once its socket is ready; true when the check is done.
    func readUDP(_ p: OwnProbe, _ options: UDPCheck, _ regex: Regex<AnyRegexOutput>?) -> Bool {
        let r = buffer.withUnsafeMutableBytes { Syscall.recv(p.fd, into: $0) }
        switch r {
        case .success(let n):
            let reply = Array(buffer[0..<n])
            let v = CheckEngine.judgeUDP(subject: p.subject, options: options, reply: reply, regex: regex)
            complete(p.job, v.passed, v.detail)
        case .failure(let e) where e == .wouldBlock:
            return false
        case .failure(let e):
            complete(p.job, false, "\(p.subject): \(CheckEngine.words(e))")
        }
        return true
    }

    // MARK: exec

    func startExec(_ job: EngineJob, _ options: ExecCheck) {
        let subject = CheckEngine.subject(of: job.check)
        let target = job.check.target
        let argv = options.arguments(address: target.address, port: target.port)
        let pid: pid_t
        switch Syscall.spawnInNewProcessGroup(argv, environment: CheckEngine.environment) {
        case .success(let p): pid = p
        case .failure(let e): return complete(job, false, "\(subject): cannot run: \(CheckEngine.words(e))")
        }
        // Watched through its pidfd; polled without one (a kernel before 5.3) or when epoll refuses it.
        let fd = (try? Syscall.pidfdOpen(pid).get()) ?? -1
        watch(OwnProbe(job: job, subject: subject, kind: .exec, fd: fd, pid: pid), events: Int16(POLLIN), pollIfRefused: true)
    }

    /// Reaps an exec check's process if it has ended and reports its exit unless already reported; true when it is
    /// gone. `ended` says its pidfd is readable (it has ended and is a zombie): what is left of its process group is
    /// killed first, so nothing it started in the background outlives the check. That is safe only before the reap,
    /// while the zombie keeps its pid, the group's id, from being reused; without a pidfd (`ended` false) the reap
    /// is only tried and leftovers are not killed.
    func reap(_ p: OwnProbe, ended: Bool) -> Bool {
        if ended { _ = Syscall.kill(-p.pid, SIGKILL) }
        switch Syscall.waitpidNoHang(p.pid) {
        case .success(nil):
            return false
        case .success(let status?):
            if !p.reported {
                let v = CheckEngine.judgeExit(subject: p.subject, waitStatus: status)
                complete(p.job, v.passed, v.detail)
            }
        case .failure(let e):
            // ECHILD: reaped by someone else (SIGCHLD ignored in the process?); its status is lost.
            if !p.reported {
                complete(p.job, false, "\(p.subject): exit status unknown (waitpid: \(CheckEngine.words(e)))")
            }
        }
        p.reported = true
        return true
    }

    // MARK: waiting

    /// Gives up the udp and exec checks whose deadline has passed: a udp socket is closed, an exec check's process
    /// group is killed (the process is reaped once it has ended). curl times out its own transfers.
    func expire(now: Double) {
        while let top = deadlines.top, top.time <= now {
            deadlines.pop()
            let id = UInt64(truncatingIfNeeded: top.slot)
            guard let p = probes.probe(id, epoch: top.epoch), !p.reported else { continue }
            switch p.kind {
            case .tcp, .udp:
                Syscall.close(p.fd)
                forget(id)
            case .exec:
                _ = Syscall.kill(-p.pid, SIGKILL)
                p.reported = true
            }
            timedOut(p.job)
        }
    }

    /// Waits for curl's sockets, the epoll set, a wakeup or the next deadline, then handles the engine's own
    /// descriptors that are ready.
    func wait() {
        let now = clock.now()
        // Stale entries (probes done) at the top would wake the loop early for nothing: drop them first.
        while let top = deadlines.top,
              probes.probe(UInt64(truncatingIfNeeded: top.slot), epoch: top.epoch).map({ $0.reported }) ?? true {
            deadlines.pop()
        }
        var ms = 1000
        if let top = deadlines.top { ms = min(ms, CheckEngine.timeoutMilliseconds(now: now, deadline: top.time)) }
        if !polled.isEmpty { ms = min(ms, 50) }
        if pendingHead < pending.count { ms = 0 }  // more runs to start: only look at what is ready
        let ready: [(data: UInt64, events: UInt32)]
        if transfers.isEmpty {
            // No curl transfer: one epoll_wait is the whole wait.
            switch Syscall.epollWait(epoll, max: min(probes.count + 1, 1024), milliseconds: Int32(ms)) {
            case .success(let r): ready = r
            case .failure: Syscall.sleep(seconds: 0.01); return
            }
        } else {
            guard let multi else { return }
            var extra = curl_waitfd(fd: epoll, events: Int16(CURL_WAIT_POLLIN), revents: 0)
            if lvs_curl_multi_poll(multi, &extra, 1, Int32(ms), nil) != CURLM_OK { Syscall.sleep(seconds: 0.01) }
            guard extra.revents != 0 else { return pollProcesses() }
            switch Syscall.epollWait(epoll, max: min(probes.count + 1, 1024), milliseconds: 0) {
            case .success(let r): ready = r
            case .failure: return pollProcesses()
            }
        }
        for (id, events) in ready {
            if id == Self.wakeID { Syscall.clearEvent(mailbox.wake); continue }
            guard let p = probes[id] else { continue }
            switch p.kind {
            case .tcp:
                finishTCP(p, events: events); Syscall.closeWithReset(p.fd); forget(id)
            case .udp(let options, let regex):
                if readUDP(p, options, regex) { Syscall.close(p.fd); forget(id) }
            case .exec:
                if reap(p, ended: true) { Syscall.close(p.fd); forget(id) }
            }
        }
        pollProcesses()
    }

    /// Reaps the exec checks without a pidfd that have ended.
    func pollProcesses() {
        for id in polled {
            if let p = probes[id], reap(p, ended: false) { forget(id) }
        }
    }

    // MARK: stopping

    /// The end of the thread: completes `queued` and everything running as stopped, kills and reaps the exec
    /// checks' processes (up to 2 s), frees every handle.
    func stop(_ queued: [EngineJob]) {
        for j in queued { complete(j, false, "\(CheckEngine.subject(of: j.check)): check engine stopped") }
        for (easy, t) in transfers {
            _ = lvs_curl_multi_remove_handle(multi, easy)
            lvs_curl_easy_cleanup(easy)
            complete(t.job, false, "\(t.subject): check engine stopped")
        }
        transfers = [:]
        let all = probes.all
        for p in all {
            if case .exec = p.kind { _ = Syscall.kill(-p.pid, SIGKILL) }
            if !p.reported { complete(p.job, false, "\(p.subject): check engine stopped") }
            p.reported = true
            switch p.kind { case .tcp, .udp: Syscall.close(p.fd); case .exec: break }
        }
        var left = all.filter { if case .exec = $0.kind { return true } else { return false } }
        probes = ProbeTable()
        polled = []
        let end = clock.now() + 2
        while !left.isEmpty {
            left = left.filter { p in
                guard reap(p, ended: false) else { return true }  // its group was killed above
                if p.fd >= 0 { Syscall.close(p.fd) }
                return false
            }
            let remaining = end - clock.now()
            guard !left.isEmpty, remaining > 0 else { break }
            var fds = left.filter { $0.fd >= 0 }.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if fds.count == left.count {
                let ms = CheckEngine.timeoutMilliseconds(now: 0, deadline: remaining)
                _ = Syscall.poll(&fds, milliseconds: Int32(ms))
            } else {
                Syscall.sleep(seconds: 0.01)
            }
        }
        for p in left where p.fd >= 0 { Syscall.close(p.fd) }
        closeHandles()
    }

    /// Frees the multi handle and closes the epoll set and the wake eventfd.
    func closeHandles() {
        if let multi { lvs_curl_multi_cleanup(multi) }
        Syscall.close(epoll)
        Syscall.close(mailbox.wake)
    }
}
