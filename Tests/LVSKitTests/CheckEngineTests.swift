import XCTest
#if canImport(Glibc)
import Glibc
#endif
import CCurl
@testable import LVSCore
@testable import LVSKit

/// The check engine without a network: exec checks run through it for real (pass, exit status, signal, missing
/// program, a hanging program killed at its deadline with its process group, %h/%p, 200 at once, shutdown, and a
/// round through CheckRunner on the system clock); the decisions of tcp, http, https and udp checks are tested as
/// the pure functions they are (URLs, status and body verdicts, curl errors in words). No test opens a socket.
final class CheckEngineTests: XCTestCase {
    // MARK: helpers

    static func exec(_ argv: [String], server: Int = 11, port: UInt16 = 80, portOverride: UInt16? = nil,
                     timeout: Double = 5) -> HealthCheck {
        M.check(server, kind: .exec(ExecCheck(argv: argv)), port: portOverride, serverPort: port, timeout: timeout)
    }

    /// Collects completions from the engine's thread.
    final class Results: @unchecked Sendable {
        private let box = Locked<[Int: CheckResult]>([:])
        private let calls = Locked<[Int: Int]>([:])
        func completion(_ i: Int) -> @Sendable (CheckResult) -> Void {
            { r in
                self.calls.withLock { $0[i, default: 0] += 1 }
                self.box.withLock { $0[i] = r }
            }
        }
        var all: [Int: CheckResult] { box.withLock { $0 } }
        var callCounts: [Int: Int] { calls.withLock { $0 } }
        /// Waits up to `seconds` for `n` results.
        func wait(for n: Int, seconds: Double) -> Bool {
            let end = Syscall.monotonicSeconds() + seconds
            while Syscall.monotonicSeconds() < end {
                if box.withLock({ $0.count }) >= n { return true }
                Syscall.sleep(seconds: 0.005)
            }
            return box.withLock { $0.count } >= n
        }
    }

    /// Runs `check` on `engine` and waits for its result (nil after `seconds`).
    func result(_ engine: CheckEngine, _ check: HealthCheck, deadlineIn: Double = 5,
                seconds: Double = 10) -> CheckResult? {
        let r = Results()
        engine.run(check, deadline: engine.clock.now() + deadlineIn, completion: r.completion(0))
        return r.wait(for: 1, seconds: seconds) ? r.all[0] : nil
    }

    /// The pids of processes whose argument vector is `argv`, from /proc.
    static func pids(withArguments argv: [String]) -> [pid_t] {
        let want = Array(argv.joined(separator: "\0").utf8) + [0]
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var out: [pid_t] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = pid_t(name) else { continue }
            if let bytes = try? readFile("/proc/\(pid)/cmdline"), bytes == want { out.append(pid) }
        }
        return out
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try Syscall.open(path, O_RDONLY | O_CLOEXEC).get()
        defer { Syscall.close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while case .success(let n) = buf.withUnsafeMutableBytes({ Syscall.read(fd, into: $0) }), n > 0 {
            out += buf[0..<n]
        }
        return out
    }

    /// True when process `pid` no longer exists, or is a zombie waiting for a parent that is not the test
    /// (a killed grandchild, reparented to init).
    static func isGone(_ pid: pid_t, allowZombie: Bool) -> Bool {
        if case .failure(let e) = Syscall.kill(pid, 0) { return e == .noSuchProcess }
        guard allowZombie, let stat = try? readFile("/proc/\(pid)/stat") else { return false }
        let text = String(decoding: stat, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return false }
        return text[text.index(after: close)...].trimmingPrefix(" ").first == "Z"
    }

    /// Waits up to `seconds` for `condition`.
    static func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Syscall.monotonicSeconds() + seconds
        while Syscall.monotonicSeconds() < end {
            if condition() { return true }
            Syscall.sleep(seconds: 0.01)
        }
        return condition()
    }

    /// A unique extra duration for `/bin/sleep 30 X` (sleep adds its arguments), so a test finds its own process.
    static func marker() -> String { "0.000\(getpid())\(Int.random(in: 1000...9999))" }

    // MARK: exec checks through the engine

    func testExitStatusDecides() throws {
        let engine = try CheckEngine()
        defer { engine.shutdown() }
        let pass = try XCTUnwrap(result(engine, Self.exec(["/bin/true"])))
        XCTAssertTrue(pass.passed)
        XCTAssertEqual(pass.detail, "exec /bin/true: exit status 0")
        XCTAssertNotNil(pass.latency)
        XCTAssertLessThan(pass.latency ?? 99, 5)
        let fail = try XCTUnwrap(result(engine, Self.exec(["/bin/false"])))
        XCTAssertFalse(fail.passed)
        XCTAssertEqual(fail.detail, "exec /bin/false: exit status 1")
        let three = try XCTUnwrap(result(engine, Self.exec(["/bin/sh", "-c", "exit 3"])))
        XCTAssertEqual(three.detail, "exec /bin/sh: exit status 3")
        let killed = try XCTUnwrap(result(engine, Self.exec(["/bin/sh", "-c", "kill -9 $$"])))
        XCTAssertFalse(killed.passed)
        XCTAssertEqual(killed.detail, "exec /bin/sh: killed by signal 9")
        let missing = try XCTUnwrap(result(engine, Self.exec(["/nonexistent/lvsctl-probe"])))
        XCTAssertFalse(missing.passed)
        XCTAssertEqual(missing.detail, "exec /nonexistent/lvsctl-probe: cannot run: no such file or directory")
    }

    func testProgramGetsServerAddressAndPortAndNothingElse() throws {
        let engine = try CheckEngine()
        defer { engine.shutdown() }
        let v4 = Self.exec(["/usr/bin/test", "%h:%p", "=", "198.51.100.7:8080"], server: 7, port: 8080)
        XCTAssertEqual(result(engine, v4)?.passed, true)
        let override = Self.exec(["/usr/bin/test", "%h %p %%", "=", "198.51.100.7 9000 %"], server: 7, port: 8080,
                                 portOverride: 9000)
        XCTAssertEqual(result(engine, override)?.passed, true)
        var v6 = Self.exec(["/usr/bin/test", "%h", "=", "2001:db8::7"])
        v6.server = Endpoint(address: IPAddress("2001:db8::7")!, port: 443)
        XCTAssertEqual(result(engine, v6)?.passed, true)
        let wrong = Self.exec(["/usr/bin/test", "%h", "=", "198.51.100.8"], server: 7)
        XCTAssertEqual(result(engine, wrong)?.detail, "exec /usr/bin/test: exit status 1")
        // stdin, stdout and stderr are /dev/null; no other descriptor is inherited; the environment is PATH only.
        let leaked = open("/dev/null", O_RDONLY)  // no O_CLOEXEC: posix_spawn's closefrom must close it
        XCTAssertGreaterThan(leaked, 2)
        defer { Syscall.close(leaked) }
        XCTAssertEqual(result(engine, Self.exec(["/usr/bin/test", "!", "-e", "/proc/self/fd/\(leaked)"]))?.passed, true)
        for fd in 0...2 {
            let null = Self.exec(["/usr/bin/test", "/proc/self/fd/\(fd)", "-ef", "/dev/null"])
            XCTAssertEqual(result(engine, null)?.passed, true, "fd \(fd)")
        }
        let env = Self.exec(["/bin/sh", "-c", "[ \"$PATH\" = /usr/sbin:/usr/bin:/sbin:/bin ] && [ -z \"$HOME\" ]"])
        XCTAssertEqual(result(engine, env)?.detail, "exec /bin/sh: exit status 0")
        // Its own process group (a check cannot signal the monitor's group).
        let group = Self.exec(["/bin/sh", "-c", "[ \"$(ps -o pgid= -p $$ | tr -d ' ')\" = $$ ]"])
        XCTAssertEqual(result(engine, group)?.detail, "exec /bin/sh: exit status 0")
    }

    func testHangingProgramIsKilledAtItsDeadlineWithItsGroup() throws {
        let engine = try CheckEngine()
        defer { engine.shutdown() }
        let argv = ["/bin/sleep", "30", Self.marker()]
        let r = Results()
        let t0 = Syscall.monotonicSeconds()
        engine.run(Self.exec(argv, timeout: 0.3), deadline: engine.clock.now() + 0.3, completion: r.completion(0))
        var pids: [pid_t] = []
        XCTAssertTrue(Self.eventually(0.3) { pids = Self.pids(withArguments: argv); return !pids.isEmpty })
        XCTAssertEqual(pids.count, 1)
        XCTAssertTrue(r.wait(for: 1, seconds: 2))
        let elapsed = Syscall.monotonicSeconds() - t0
        XCTAssertGreaterThanOrEqual(elapsed, 0.29)
        XCTAssertLessThan(elapsed, 1.0, "reported within ~1 s")
        XCTAssertEqual(r.all[0]?.detail, "timeout after 0.3 s")
        XCTAssertEqual(r.all[0]?.passed, false)
        for pid in pids {
            XCTAssertTrue(Self.eventually(2) { Self.isGone(pid, allowZombie: false) }, "pid \(pid) reaped")
        }

        // A shell that started a background child: the whole group is killed; the shell (the engine's child) is
        // reaped, the orphaned child at least dead.
        let file = "/tmp/lvsctl-engine-test-\(getpid())-\(Int.random(in: 0...999_999))"
        defer { _ = Syscall.unlink(file) }
        let shell = Self.exec(["/bin/sh", "-c", "/bin/sleep 30 & echo $$ $! > \(file); wait"], timeout: 0.3)
        let r2 = Results()
        engine.run(shell, deadline: engine.clock.now() + 0.3, completion: r2.completion(0))
        XCTAssertTrue(r2.wait(for: 1, seconds: 2))
        XCTAssertEqual(r2.all[0]?.detail, "timeout after 0.3 s")
        let written = String(decoding: try Self.readFile(file), as: UTF8.self)
        let both = written.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
        XCTAssertEqual(both.count, 2, written)
        if both.count == 2 {
            XCTAssertTrue(Self.eventually(2) { Self.isGone(both[0], allowZombie: false) }, "the shell is reaped")
            XCTAssertTrue(Self.eventually(2) { Self.isGone(both[1], allowZombie: true) }, "its child is killed")
        }
    }

    func testProgramsLeftBehindByAPassingCheckAreKilled() throws {
        let engine = try CheckEngine()
        defer { engine.shutdown() }
        let file = "/tmp/lvsctl-engine-test-\(getpid())-\(Int.random(in: 0...999_999))"
        defer { _ = Syscall.unlink(file) }
        let check = Self.exec(["/bin/sh", "-c", "/bin/sleep 30 & echo $! > \(file)"])
        XCTAssertEqual(result(engine, check)?.detail, "exec /bin/sh: exit status 0")
        let text = String(decoding: try Self.readFile(file), as: UTF8.self)
        let pid = try XCTUnwrap(text.split(separator: "\n").first.flatMap { pid_t($0) }, text)
        XCTAssertTrue(Self.eventually(2) { Self.isGone(pid, allowZombie: true) })
    }

    func testTwoHundredChecksAtOnceAllComplete() throws {
        let engine = try CheckEngine()
        defer { engine.shutdown() }
        let r = Results()
        let t0 = Syscall.monotonicSeconds()
        for i in 0..<200 {
            let check = Self.exec([i % 2 == 0 ? "/bin/true" : "/bin/false"], server: 1 + i % 250)
            engine.run(check, deadline: engine.clock.now() + 30, completion: r.completion(i))
        }
        XCTAssertTrue(r.wait(for: 200, seconds: 30))
        let all = r.all
        XCTAssertEqual(all.count, 200)
        for i in 0..<200 { XCTAssertEqual(all[i]?.passed, i % 2 == 0, "check \(i): \(all[i]?.detail ?? "none")") }
        XCTAssertEqual(Set(r.callCounts.values), [1], "each completion exactly once")
        print("200 exec checks: \(Syscall.monotonicSeconds() - t0) s")
    }

    func testAHangingCheckDelaysNoOther() throws {
        let engine = try CheckEngine()
        defer { engine.shutdown() }
        let r = Results()
        engine.run(Self.exec(["/bin/sleep", "30", Self.marker()]), deadline: engine.clock.now() + 20,
                   completion: r.completion(0))
        let t0 = Syscall.monotonicSeconds()
        engine.run(Self.exec(["/bin/true"]), deadline: engine.clock.now() + 20, completion: r.completion(1))
        XCTAssertTrue(r.wait(for: 1, seconds: 5))
        XCTAssertEqual(r.all[1]?.passed, true)
        XCTAssertNil(r.all[0])
        XCTAssertLessThan(Syscall.monotonicSeconds() - t0, 2)
    }

    func testShutdownStopsRunningChecksAndLaterRunsFailAtOnce() throws {
        let engine = try CheckEngine()
        let argv = ["/bin/sleep", "30", Self.marker()]
        let r = Results()
        engine.run(Self.exec(argv), deadline: engine.clock.now() + 20, completion: r.completion(0))
        var pids: [pid_t] = []
        XCTAssertTrue(Self.eventually(2) { pids = Self.pids(withArguments: argv); return !pids.isEmpty })
        engine.shutdown()
        XCTAssertEqual(r.all[0]?.detail, "exec /bin/sleep: check engine stopped")
        XCTAssertEqual(r.all[0]?.passed, false)
        for pid in pids { XCTAssertTrue(Self.isGone(pid, allowZombie: false), "pid \(pid) killed and reaped") }
        engine.shutdown()
        engine.run(Self.exec(["/bin/true"]), deadline: engine.clock.now() + 5, completion: r.completion(1))
        XCTAssertEqual(r.all[1]?.detail, "exec /bin/true: check engine stopped")
        XCTAssertEqual(r.callCounts, [0: 1, 1: 1])
    }

    func testReleasingTheEngineStopsIt() throws {
        let argv = ["/bin/sleep", "30", Self.marker()]
        let r = Results()
        var engine: CheckEngine? = try CheckEngine()
        engine?.run(Self.exec(argv), deadline: Syscall.monotonicSeconds() + 20, completion: r.completion(0))
        var pids: [pid_t] = []
        XCTAssertTrue(Self.eventually(2) { pids = Self.pids(withArguments: argv); return !pids.isEmpty })
        engine = nil
        XCTAssertEqual(r.all[0]?.detail, "exec /bin/sleep: check engine stopped")
        for pid in pids { XCTAssertTrue(Self.isGone(pid, allowZombie: false)) }
    }

    func testThroughCheckRunnerOnTheSystemClock() throws {
        let clock = SystemClock()
        let engine = try CheckEngine(clock: clock)
        defer { engine.shutdown() }
        let checks = [
            Self.exec(["/bin/true"], server: 11),
            Self.exec(["/bin/false"], server: 12),
            Self.exec(["/bin/sleep", "30", Self.marker()], server: 13, timeout: 0.3),
        ]
        let runner = CheckRunner(checks: checks, checker: engine, clock: clock)
        var changes: [StateChange] = []
        let t0 = clock.now()
        while !runner.firstRoundDone && clock.now() - t0 < 5 {
            changes += runner.step()
            Syscall.sleep(seconds: 0.01)
        }
        XCTAssertTrue(runner.firstRoundDone)
        XCTAssertLessThan(clock.now() - t0, 1.5)
        XCTAssertEqual(runner.statuses.map(\.state.health), [.up, .down, .down])
        XCTAssertEqual(Set(changes.map(\.description)), [
            "rs 198.51.100.11:80 of -t 192.0.2.10:80 up: exec /bin/true: exit status 0 (first check)",
            "rs 198.51.100.12:80 of -t 192.0.2.10:80 down: exec /bin/false: exit status 1 (first check)",
            "rs 198.51.100.13:80 of -t 192.0.2.10:80 down: exec: timeout after 0.3 s (first check)",
        ])
    }

    // MARK: pure decisions

    func testSubjects() {
        let web = HTTPCheck(path: "/health")
        XCTAssertEqual(CheckEngine.subject(of: M.check(11)), "tcp connect to port 80")
        XCTAssertEqual(CheckEngine.subject(of: M.check(11, kind: .http(web))), "http GET /health on port 80")
        XCTAssertEqual(CheckEngine.subject(of: M.check(11, kind: .https(HTTPCheck()), port: 443)),
                       "https GET / on port 443")
        XCTAssertEqual(CheckEngine.subject(of: M.check(11, kind: .udp(UDPCheck()), port: 53)), "udp on port 53")
        XCTAssertEqual(CheckEngine.subject(of: Self.exec(["/usr/local/bin/probe", "%h"])), "exec /usr/local/bin/probe")
    }

    func testURLs() {
        let plain = M.check(11, kind: .http(HTTPCheck(path: "/health")))
        XCTAssertEqual(CheckEngine.httpTarget(plain, HTTPCheck(path: "/health"), tls: false).url,
                       "http://198.51.100.11:80/health")
        XCTAssertNil(CheckEngine.httpTarget(plain, HTTPCheck(path: "/health"), tls: false).connectTo)
        var v6 = M.check(11, kind: .https(HTTPCheck()), port: 8443)
        v6.server = Endpoint(address: IPAddress("2001:db8::11")!, port: 443)
        XCTAssertEqual(CheckEngine.httpTarget(v6, HTTPCheck(), tls: true).url, "https://[2001:db8::11]:8443/")
        XCTAssertNil(CheckEngine.httpTarget(v6, HTTPCheck(), tls: true).connectTo)
        let named = HTTPCheck(path: "/a?b=c", host: "www.example.com")
        let t = CheckEngine.httpTarget(M.check(11, kind: .https(named), port: 443), named, tls: true)
        XCTAssertEqual(t.url, "https://www.example.com:443/a?b=c")
        XCTAssertEqual(t.connectTo, "www.example.com:443:198.51.100.11:443")
        let t6 = CheckEngine.httpTarget(v6, named, tls: true)
        XCTAssertEqual(t6.url, "https://www.example.com:8443/a?b=c")
        XCTAssertEqual(t6.connectTo, "www.example.com:8443:[2001:db8::11]:8443")
    }

    func testHTTPVerdicts() throws {
        let s = "http GET /health on port 80"
        func judge(_ o: HTTPCheck, _ status: Int, _ body: String = "") -> String {
            let regex = o.body.flatMap { try? Regex($0) }
            let v = CheckEngine.judgeHTTP(subject: s, options: o, status: status, body: Array(body.utf8), regex: regex)
            return (v.passed ? "pass: " : "fail: ") + v.detail
        }
        XCTAssertEqual(judge(HTTPCheck(), 200), "pass: \(s): status 200")
        XCTAssertEqual(judge(HTTPCheck(), 399), "pass: \(s): status 399")
        XCTAssertEqual(judge(HTTPCheck(), 503), "fail: \(s): status 503 (expected 200-399)")
        XCTAssertEqual(judge(HTTPCheck(expect: [200...200, 301...302]), 404),
                       "fail: \(s): status 404 (expected 200,301-302)")
        XCTAssertEqual(judge(HTTPCheck(expect: [200...200, 301...302]), 302), "pass: \(s): status 302")
        XCTAssertEqual(judge(HTTPCheck(body: "ok"), 200, "all ok\n"), "pass: \(s): status 200")
        XCTAssertEqual(judge(HTTPCheck(body: "ok"), 200, "down"), "fail: \(s): body did not match \"ok\"")
        XCTAssertEqual(judge(HTTPCheck(body: "^status: (up|ready)$"), 200, "x\nstatus: ready"),
                       "fail: \(s): body did not match \"^status: (up|ready)$\"", "^ and $ are the whole body's")
        XCTAssertEqual(judge(HTTPCheck(body: "(?m)^status: (up|ready)$"), 200, "x\nstatus: ready\n"),
                       "pass: \(s): status 200")
        XCTAssertEqual(judge(HTTPCheck(body: "ok"), 500, "ok"), "fail: \(s): status 500 (expected 200-399)",
                       "the status is judged first")
        let broken = CheckEngine.judgeHTTP(subject: s, options: HTTPCheck(body: "("), status: 200, body: [], regex: nil)
        XCTAssertEqual(broken.detail, "\(s): invalid --body regular expression \"(\"")
        XCTAssertFalse(broken.passed)
        // Bytes that are not UTF-8 do not stop a match elsewhere in the body.
        let bytes: [UInt8] = [0xff, 0xfe, 0x00] + Array("healthy".utf8)
        XCTAssertTrue(CheckEngine.matches(try Regex("healthy"), bytes))
    }

    func testUDPAndExitVerdicts() throws {
        let s = "udp on port 53"
        let o = UDPCheck(send: "ping", receive: "^pong")
        let regex = try Regex("^pong")
        XCTAssertEqual(CheckEngine.judgeUDP(subject: s, options: o, reply: Array("pong!".utf8), regex: regex).detail,
                       "udp on port 53: reply of 5 bytes")
        let bad = CheckEngine.judgeUDP(subject: s, options: o, reply: Array("ping".utf8), regex: regex)
        XCTAssertFalse(bad.passed)
        XCTAssertEqual(bad.detail, "udp on port 53: reply did not match \"^pong\"")
        XCTAssertTrue(CheckEngine.judgeUDP(subject: s, options: UDPCheck(), reply: [], regex: nil).passed)

        let e = "exec /usr/local/bin/probe"
        XCTAssertEqual(CheckEngine.judgeExit(subject: e, waitStatus: 0).passed, true)
        XCTAssertEqual(CheckEngine.judgeExit(subject: e, waitStatus: 0).detail, "\(e): exit status 0")
        XCTAssertEqual(CheckEngine.judgeExit(subject: e, waitStatus: 1 << 8).detail, "\(e): exit status 1")
        XCTAssertEqual(CheckEngine.judgeExit(subject: e, waitStatus: 255 << 8).passed, false)
        XCTAssertEqual(CheckEngine.judgeExit(subject: e, waitStatus: 9).detail, "\(e): killed by signal 9")
        XCTAssertEqual(CheckEngine.judgeExit(subject: e, waitStatus: 15 | 0x80).detail, "\(e): killed by signal 15",
                       "core dumped")
    }

    func testCurlErrorsInWords() {
        XCTAssertEqual(CheckEngine.curlFailure(CURLE_COULDNT_CONNECT, osErrno: ECONNREFUSED,
                                               message: "Failed to connect to 198.51.100.11 port 80 after 0 ms: x"),
                       "connection refused")
        XCTAssertEqual(CheckEngine.curlFailure(CURLE_COULDNT_CONNECT, osErrno: EHOSTUNREACH, message: ""),
                       "no route to host")
        XCTAssertEqual(CheckEngine.curlFailure(CURLE_COULDNT_CONNECT, osErrno: 0, message: "Failed to connect"),
                       "Failed to connect")
        XCTAssertEqual(CheckEngine.curlFailure(CURLE_PEER_FAILED_VERIFICATION, osErrno: 0,
                                               message: "SSL certificate problem: self-signed certificate"),
                       "certificate: SSL certificate problem: self-signed certificate")
        XCTAssertEqual(CheckEngine.curlFailure(CURLE_SSL_CONNECT_ERROR, osErrno: 0, message: "wrong version number"),
                       "tls handshake: wrong version number")
        XCTAssertEqual(CheckEngine.curlFailure(CURLE_GOT_NOTHING, osErrno: 0, message: "Empty reply from server"),
                       "empty reply from server")
        XCTAssertEqual(CheckEngine.curlFailure(CURLE_RECV_ERROR, osErrno: ECONNRESET, message: "Recv failure"),
                       "connection reset by peer")
        XCTAssertEqual(CheckEngine.curlFailure(CURLE_WEIRD_SERVER_REPLY, osErrno: 0, message: ""),
                       String(cString: lvs_curl_easy_strerror(CURLE_WEIRD_SERVER_REPLY)))
        XCTAssertEqual(CheckEngine.words(Errno(ECONNREFUSED)), "connection refused")
    }

    func testTimeoutsAndTheBodyLimit() {
        XCTAssertEqual(CheckEngine.timeoutMilliseconds(now: 10, deadline: 13), 3000)
        XCTAssertEqual(CheckEngine.timeoutMilliseconds(now: 10, deadline: 10.0001), 1)
        XCTAssertEqual(CheckEngine.timeoutMilliseconds(now: 10, deadline: 9), 1, "past the deadline: 1 ms, not 0")
        XCTAssertEqual(CheckEngine.timeoutMilliseconds(now: 0, deadline: 0.3), 300)

        let job = EngineJob(check: M.check(11), started: 0, deadline: 3, completion: { _ in })
        let dummy = UnsafeMutableRawPointer(bitPattern: 0x1000)!  // never handed to curl
        var chunk = [CChar](repeating: 0x61, count: 40_000)
        let kept = CurlTransfer(job: job, easy: dummy, subject: "http", http: HTTPCheck(body: "a"), regex: nil)
        XCTAssertEqual(kept.take(&chunk, 40_000), 40_000)
        XCTAssertEqual(kept.take(&chunk, 25_536), 25_536, "exactly the limit is not cut")
        XCTAssertFalse(kept.cut)
        XCTAssertEqual(kept.take(&chunk, 1), 0, "over the limit: cut")
        XCTAssertTrue(kept.cut)
        XCTAssertEqual(kept.body.count, CheckEngine.bodyLimit)
        let notKept = CurlTransfer(job: job, easy: dummy, subject: "http", http: HTTPCheck(), regex: nil)
        XCTAssertEqual(notKept.take(&chunk, 40_000), 40_000)
        XCTAssertEqual(notKept.take(&chunk, 40_000), 0)
        XCTAssertTrue(notKept.body.isEmpty, "without --body nothing is kept")
        XCTAssertEqual(notKept.received, CheckEngine.bodyLimit)
    }
}
