import XCTest
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import LVSCore
@testable import LVSKit
import LVSTestSupport

/// A clock the test moves by hand.
final class FakeClock: MonitorClock {
    private let t = Locked<Double>(0)
    func now() -> Double { t.withLock { $0 } }
    func set(_ v: Double) { t.withLock { $0 = v } }
    func advance(_ d: Double) { t.withLock { $0 += d } }
}

/// A checker that answers from a script per checked endpoint (the last answer repeats).
final class ScriptedChecker: Checker {
    enum Answer {
        /// Completes at once, inside `run`.
        case now(CheckResult)
        /// Never completes (a hanging server); the completion is kept so a test can call it late.
        case hang
        /// Completes when the test calls ``deliver()``.
        case later(CheckResult)
    }
    var script: [Endpoint: [Answer]] = [:]
    /// (endpoint, clock time, deadline) of every run started.
    private(set) var started: [(Endpoint, Double, Double)] = []
    private(set) var hanging: [(Endpoint, @Sendable (CheckResult) -> Void)] = []
    private var pending: [(@Sendable (CheckResult) -> Void, CheckResult)] = []
    let clock: FakeClock
    init(clock: FakeClock) { self.clock = clock }

    func run(_ check: HealthCheck, deadline: Double, completion: @escaping @Sendable (CheckResult) -> Void) {
        started.append((check.target, clock.now(), deadline))
        var answers = script[check.target] ?? [.now(.pass("connected"))]
        let a = answers.count > 1 ? answers.removeFirst() : answers[0]
        script[check.target] = answers
        switch a {
        case .now(let r): completion(r)
        case .hang: hanging.append((check.target, completion))
        case .later(let r): pending.append((completion, r))
        }
    }
    /// Completes every `.later` run.
    func deliver() { let p = pending; pending = []; for (c, r) in p { c(r) } }
    func starts(_ e: Endpoint) -> [Double] { started.filter { $0.0 == e }.map(\.1) }
}

/// The scheduler with a fake clock and a scripted checker: first round, intervals, timeouts, no check delaying
/// another, late completions, reloads; and a run with real threads.
final class MonitorSchedulerTests: XCTestCase {
    func testFirstRoundStartsEveryCheckAtOnceAndDecides() {
        let clock = FakeClock()
        let checker = ScriptedChecker(clock: clock)
        checker.script[M.ep(12)] = [.now(.fail("connection refused"))]
        let runner = CheckRunner(checks: [M.check(11), M.check(12), M.check(13)], checker: checker, clock: clock)
        XCTAssertFalse(runner.firstRoundDone)
        XCTAssertEqual(runner.statuses.map(\.state.health), [.unknown, .unknown, .unknown])
        let changes = runner.step()
        XCTAssertEqual(checker.started.map(\.0), [M.ep(11), M.ep(12), M.ep(13)])
        XCTAssertEqual(checker.started.map(\.2), [3, 3, 3], "deadline = start + timeout")
        XCTAssertTrue(runner.firstRoundDone)
        XCTAssertEqual(runner.statuses.map(\.state.health), [.up, .down, .up])
        XCTAssertEqual(changes.map(\.description), [
            "rs 198.51.100.11:80 of -t 192.0.2.10:80 up: tcp: connected (first check)",
            "rs 198.51.100.12:80 of -t 192.0.2.10:80 down: tcp: connection refused (first check)",
            "rs 198.51.100.13:80 of -t 192.0.2.10:80 up: tcp: connected (first check)",
        ])
        XCTAssertEqual(changes.map(\.old), [.unknown, .unknown, .unknown])
        XCTAssertEqual(runner.nextWakeup, 5)
    }

    /// Past 64 checks, the second round is spread over the interval, and every later run of a check comes one
    /// interval after its previous one.
    func testManyChecksAreSpreadOverTheIntervalAfterTheFirstRound() {
        let clock = FakeClock()
        let checker = ScriptedChecker(clock: clock)
        let checks = (0..<200).map { M.check(1 + $0 % 250, serverPort: UInt16(1000 + $0), interval: 1) }
        let runner = CheckRunner(checks: checks, checker: checker, clock: clock)
        for t in stride(from: 0.0, through: 3.0, by: 0.01) { clock.set(t); runner.step() }
        let starts = checks.map { checker.starts($0.target) }
        XCTAssertTrue(starts.allSatisfy { $0.first == 0 }, "the first round starts every check at once")
        var buckets = [Int](repeating: 0, count: 10)
        for s in starts { buckets[min(9, Int((s[1] - 1) * 10))] += 1 }
        XCTAssertTrue(buckets.allSatisfy { (15...25).contains($0) }, "second runs spread over [1, 2): \(buckets)")
        for s in starts { for k in 2..<s.count { XCTAssertEqual(s[k] - s[k - 1], 1, accuracy: 0.011) } }
    }

    func testEachCheckRunsEveryInterval() {
        let clock = FakeClock()
        let checker = ScriptedChecker(clock: clock)
        let runner = CheckRunner(checks: [M.check(11, interval: 5), M.check(12, interval: 2)], checker: checker, clock: clock)
        for t in stride(from: 0.0, through: 10.0, by: 0.5) { clock.set(t); runner.step() }
        XCTAssertEqual(checker.starts(M.ep(11)), [0, 5, 10])
        XCTAssertEqual(checker.starts(M.ep(12)), [0, 2, 4, 6, 8, 10])
    }

    func testFallAndRiseThroughTheScheduler() {
        let clock = FakeClock()
        let checker = ScriptedChecker(clock: clock)
        let refused = ScriptedChecker.Answer.now(.fail("connection refused"))
        checker.script[M.ep(11)] = [.now(.pass("connected")), refused, refused, refused, .now(.pass("connected"))]
        let runner = CheckRunner(checks: [M.check(11, interval: 1)], checker: checker, clock: clock)
        var log: [String] = []
        for t in 0...6 { clock.set(Double(t)); log += runner.step().map { "\($0.time) \($0)" } }
        XCTAssertEqual(log, [
            "0.0 rs 198.51.100.11:80 of -t 192.0.2.10:80 up: tcp: connected (first check)",
            "3.0 rs 198.51.100.11:80 of -t 192.0.2.10:80 down: tcp: connection refused (3 of 3 failed)",
            "5.0 rs 198.51.100.11:80 of -t 192.0.2.10:80 up: tcp: connected (2 of 2 passed)",
        ])
        XCTAssertEqual(runner.statuses[0].state.since, 5)
    }

    /// One server hangs: its check fails by its timeout, and the other server's checks run on time meanwhile.
    func testAHangingCheckTimesOutAndDelaysNoOther() {
        let clock = FakeClock()
        let checker = ScriptedChecker(clock: clock)
        checker.script[M.ep(11)] = [.hang]
        let runner = CheckRunner(checks: [M.check(11, interval: 5, timeout: 3, fall: 1), M.check(12, interval: 1)],
                                 checker: checker, clock: clock)
        var changes = runner.step()
        XCTAssertEqual(changes.map(\.check.server), [M.ep(12)], "the quick server is decided at once")
        XCTAssertEqual(runner.statuses.map(\.state.health), [.unknown, .up])
        XCTAssertEqual(runner.scheduler.inFlight, 1)
        XCTAssertEqual(runner.nextWakeup, 1)
        for t in [1.0, 2.0, 2.999] { clock.set(t); XCTAssertEqual(runner.step(), []) }
        clock.set(3)
        changes = runner.step()
        XCTAssertEqual(changes.map(\.description), ["rs 198.51.100.11:80 of -t 192.0.2.10:80 down: tcp: timeout after 3 s (first check)"])
        XCTAssertEqual(changes.first?.time, 3)
        XCTAssertEqual(runner.statuses[0].state.latency, 3)
        XCTAssertTrue(runner.firstRoundDone)
        // The hanging check's late completion is dropped.
        checker.hanging.first?.1(.pass("finally"))
        clock.set(3.5)
        XCTAssertEqual(runner.step(), [])
        XCTAssertEqual(runner.statuses[0].state.health, .down)
        XCTAssertEqual(runner.statuses[0].state.lastResult?.detail, "timeout after 3 s")
        for t in stride(from: 4.0, through: 10.0, by: 1) { clock.set(t); runner.step() }
        XCTAssertEqual(checker.starts(M.ep(12)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "never delayed by the hanging one")
        XCTAssertEqual(checker.starts(M.ep(11)), [0, 5, 10])
    }

    func testTimeoutLongerThanIntervalRunsOneAtATime() {
        let clock = FakeClock()
        let checker = ScriptedChecker(clock: clock)
        checker.script[M.ep(11)] = [.hang]
        let runner = CheckRunner(checks: [M.check(11, interval: 1, timeout: 2.5)], checker: checker, clock: clock)
        for t in stride(from: 0.0, through: 6.0, by: 0.5) { clock.set(t); runner.step() }
        XCTAssertEqual(checker.starts(M.ep(11)), [0, 2.5, 5], "restarted as soon as the timed-out run ends")
    }

    func testCompletionsAfterTheDeadlineCountAsTimeouts() {
        let clock = FakeClock()
        let checker = ScriptedChecker(clock: clock)
        checker.script[M.ep(11)] = [.hang]
        checker.script[M.ep(12)] = [.later(.pass("in time"))]
        let runner = CheckRunner(checks: [M.check(11, timeout: 2), M.check(12, timeout: 2)], checker: checker, clock: clock)
        runner.step()
        clock.set(1.25)
        checker.deliver()
        clock.set(1.75)
        // 12 completed in time, its latency measured by the scheduler at the completion (1.25), not at the step.
        XCTAssertEqual(runner.step().map(\.description), ["rs 198.51.100.12:80 of -t 192.0.2.10:80 up: tcp: in time (first check)"])
        XCTAssertEqual(runner.statuses[1].state.latency, 1.25)
        clock.set(2)
        XCTAssertEqual(runner.step().map(\.description), ["rs 198.51.100.11:80 of -t 192.0.2.10:80 down: tcp: timeout after 2 s (first check)"])

        // A result that comes in after its deadline but before the owner's step is the timeout.
        var s = CheckScheduler(checks: [M.check(13, timeout: 2)], now: 0)
        let run = s.startDue(now: 0)
        XCTAssertEqual(run.count, 1)
        let change = s.complete(token: run[0].token, result: .pass(), at: 2.5)
        XCTAssertEqual(change?.new, .down)
        XCTAssertEqual(change?.result.detail, "timeout after 2 s")
        XCTAssertEqual(change?.time, 2)
        XCTAssertNil(s.complete(token: run[0].token, result: .pass(), at: 2.6), "a second completion is dropped")
    }

    /// With a checker that bounds its runs itself (the engine), a result is judged by the latency the checker
    /// measured from its real start: a run it started late (it fell behind) still passes, a run that never
    /// completes is given up a lateness after its deadline, and a pass slower than the timeout is a timeout.
    func testACheckerThatBoundsItsRunsIsJudgedByItsLatency() {
        final class Bounding: Checker {
            var completions: [HealthCheck.ID: @Sendable (CheckResult) -> Void] = [:]
            func run(_ check: HealthCheck, deadline: Double, completion: @escaping @Sendable (CheckResult) -> Void) {
                completions[check.id] = completion
            }
            var boundsItsRuns: Bool { true }
        }
        let clock = FakeClock()
        let checker = Bounding()
        let checks = [M.check(11, timeout: 2, fall: 1), M.check(12, timeout: 2, fall: 1), M.check(13, timeout: 2, fall: 1)]
        let runner = CheckRunner(checks: checks, checker: checker, clock: clock)
        runner.step()
        XCTAssertEqual(runner.nextWakeup, 2 + CheckScheduler.lateness(timeout: 2))
        clock.set(3)
        checker.completions[checks[0].id]?(.pass("connected", latency: 0.5))   // started late, answered in 0.5 s
        checker.completions[checks[1].id]?(.pass("connected", latency: 2.5))   // slower than its timeout
        let changes = runner.step()
        XCTAssertEqual(changes.map(\.new), [.up, .down])
        XCTAssertEqual(changes.map(\.result.detail), ["connected", "timeout after 2 s"])
        let late = 2 + CheckScheduler.lateness(timeout: 2)
        clock.set(late - 0.001)
        XCTAssertEqual(runner.step(), [], "a run queued behind a backlog is late, not failed")
        clock.set(late)
        XCTAssertEqual(runner.step().map(\.description), ["rs 198.51.100.13:80 of -t 192.0.2.10:80 down: tcp: timeout after 2 s (first check)"])
    }

    func testReloadKeepsTheStateOfUnchangedChecks() {
        let clock = FakeClock()
        let checker = ScriptedChecker(clock: clock)
        checker.script[M.ep(12)] = [.now(.fail("refused"))]
        let runner = CheckRunner(checks: [M.check(11), M.check(12)], checker: checker, clock: clock)
        runner.step()
        clock.set(2)
        // 11 gets new timing (same identity), 12 goes, 13 comes.
        runner.update(checks: [M.check(11, interval: 1, fall: 1), M.check(13)])
        XCTAssertEqual(runner.statuses.map(\.check.server), [M.ep(11), M.ep(13)])
        XCTAssertEqual(runner.statuses.map(\.state.health), [.up, .unknown])
        XCTAssertEqual(runner.statuses[0].check.fall, 1)
        XCTAssertFalse(runner.firstRoundDone)
        runner.step()
        XCTAssertEqual(checker.starts(M.ep(13)), [2], "a new check starts at once")
        XCTAssertEqual(checker.starts(M.ep(11)), [0], "a kept check keeps its schedule")
        XCTAssertTrue(runner.firstRoundDone)
        // Duplicate identities: the last line counts.
        let s = CheckScheduler(checks: [M.check(11, fall: 2), M.check(11, fall: 4)], now: 0)
        XCTAssertEqual(s.statuses.map(\.check.fall), [4])
    }

    /// A reload that moves running checks to other slots: a run started before it still completes its own check
    /// (a run's token names its old slot), and the late completion of a removed check's run is dropped.
    func testReloadMovesRunningChecks() {
        let clock = FakeClock()
        let checker = ScriptedChecker(clock: clock)
        checker.script[M.ep(11)] = [.hang]
        checker.script[M.ep(12)] = [.hang]
        let a = M.check(11, fall: 1), b = M.check(12, fall: 1)
        let runner = CheckRunner(checks: [a, b], checker: checker, clock: clock)
        runner.step()
        XCTAssertEqual(runner.scheduler.inFlight, 2)
        clock.set(1)
        runner.update(checks: [M.check(13), b, a])
        XCTAssertEqual(runner.scheduler.inFlight, 2, "both runs go on in their new slots")
        let done = Dictionary(uniqueKeysWithValues: checker.hanging.map { ($0.0, $0.1) })
        done[M.ep(12)]?(.fail("connection refused"))
        let changes = runner.step()
        XCTAssertEqual(changes.map(\.check.server), [M.ep(12), M.ep(13)], "12 fails, then 13 passes its first check")
        XCTAssertEqual(runner.statuses.map(\.state.health), [.up, .down, .unknown])
        XCTAssertEqual(runner.scheduler.inFlight, 1)
        runner.update(checks: [M.check(13), b])
        XCTAssertEqual(runner.scheduler.inFlight, 0)
        done[M.ep(11)]?(.pass("connected"))
        XCTAssertEqual(runner.step(), [], "the removed check's late completion is dropped")
        XCTAssertEqual(runner.statuses.map(\.state.health), [.up, .down])
    }

    /// The heap gives its entries back in time order, pushes and pops interleaved, ties and all.
    func testTimeHeapOrder() {
        var heap = TimeHeap()
        var model: [Double] = []
        var rng = SystemRandomNumberGenerator()
        for round in 0..<2_000 {
            if round % 3 == 2, let top = heap.top {
                XCTAssertEqual(top.time, model.min())
                model.remove(at: model.firstIndex(of: top.time)!)
                heap.pop()
            } else {
                let t = Double(Int.random(in: 0..<500, using: &rng)) / 4
                heap.push(t, slot: round, epoch: 0)
                model.append(t)
            }
        }
        var out: [Double] = []
        while let top = heap.top { out.append(top.time); heap.pop() }
        XCTAssertEqual(out, model.sorted())
        XCTAssertEqual(heap.count, 0)
    }

    func testNoChecks() {
        let clock = FakeClock()
        let runner = CheckRunner(checks: [], checker: ScriptedChecker(clock: clock), clock: clock)
        XCTAssertEqual(runner.step(), [])
        XCTAssertNil(runner.nextWakeup)
        XCTAssertTrue(runner.firstRoundDone)
    }

    /// The inbox wakes its owner once per batch: a completion that finds completions already queued adds no wake.
    func testInboxWakesOncePerBatch() {
        let woken = Locked<Int>(0)
        let clock = FakeClock()
        let inbox = Inbox(clock: clock, wake: { woken.withLock { $0 += 1 } })
        func take() -> [UInt64] {
            var batch: [Inbox.Completion] = []
            inbox.take(&batch)
            return batch.map(\.token)
        }
        for t in 1...3 { inbox.post(UInt64(t), .pass()) }
        XCTAssertEqual(woken.withLock { $0 }, 1)
        XCTAssertEqual(take(), [1, 2, 3])
        XCTAssertFalse(inbox.failureWaiting)
        clock.advance(2)
        inbox.post(4, .pass())
        inbox.post(5, .fail("refused"))
        XCTAssertEqual(woken.withLock { $0 }, 2)
        XCTAssertTrue(inbox.failureWaiting, "a failure is taken without waiting for a batch")
        var batch: [Inbox.Completion] = []
        inbox.take(&batch)
        XCTAssertEqual(batch.map(\.token), [4, 5])
        XCTAssertEqual(batch.map(\.time), [clock.now(), clock.now()], "a completion is timed when it is posted")
        XCTAssertFalse(inbox.failureWaiting)
        XCTAssertEqual(take(), [])
    }

    /// Thousands of checks with different intervals and timeouts against a fake clock: every check runs exactly
    /// on its schedule (the heaps give what a scan of every check would), and a step pops only what is due.
    func testManyChecksKeepTheirSchedule() {
        let clock = FakeClock()
        let checks = (1...2000).map { i in
            M.check(i % 250 + 1, serverPort: UInt16(1000 + i), interval: Double(1 + i % 3), timeout: 0.5)
        }
        let checker = ScriptedChecker(clock: clock)
        let runner = CheckRunner(checks: checks, checker: checker, clock: clock)
        for _ in 0..<1000 {
            runner.step()
            clock.advance(0.01)
        }
        let started = Dictionary(grouping: checker.started, by: \.0).mapValues { $0.map(\.1) }
        for c in checks {
            guard let s = started[c.target], s.count >= 3 else { return XCTFail("\(c.target): \(started[c.target] ?? [])") }
            // From the second run on (the first round is spread), every run starts one interval after the last.
            for (a, b) in zip(s.dropFirst(), s.dropFirst(2)) { XCTAssertEqual(b - a, c.interval, accuracy: 0.011) }
            XCTAssertGreaterThan(s.last ?? 0, clock.now() - c.interval - 0.011, "\(c.target) stopped being checked")
        }
        XCTAssertTrue(runner.firstRoundDone)
        XCTAssertEqual(runner.statuses(of: [M.vip]).map(\.check), checks, "every check is of one service, in order")
        XCTAssertEqual(runner.statuses(of: [M.other]).count, 0)
        XCTAssertEqual(runner.scheduler.inFlight, 0)
        XCTAssertLessThan(runner.scheduler.due.count + runner.scheduler.deadlines.count, 3 * checks.count)
    }

    /// Completions from many threads at once, a hanging check and the real clock: the owner collects them all
    /// through the inbox (run under TSan this proves the threading model), and the hanging check times out
    /// without holding the others back.
    func testCompletionsFromOtherThreads() {
        struct ThreadedChecker: Checker {
            func run(_ check: HealthCheck, deadline: Double, completion: @escaping @Sendable (CheckResult) -> Void) {
                if check.server.address == IPAddress("198.51.100.250") { return }   // hangs
                let n = Int(check.server.address.bytes[3])
                DispatchQueue.global().async {
                    usleep(useconds_t(100 * (n % 7)))
                    completion(n % 5 == 0 ? .fail("refused") : .pass("connected"))
                }
            }
        }
        let woken = Locked<Int>(0)
        let checks = (1...60).map { M.check($0, timeout: 5) } + [M.check(250, timeout: 0.05)]
        let clock = SystemClock()
        let runner = CheckRunner(checks: checks, checker: ThreadedChecker(), clock: clock, wake: { woken.withLock { $0 += 1 } })
        let start = clock.now()
        var changes: [StateChange] = []
        var quickDone: Double?
        while !runner.firstRoundDone && clock.now() - start < 5 {
            changes += runner.step()
            if quickDone == nil, runner.statuses.dropLast().allSatisfy({ $0.state.health != .unknown }) { quickDone = clock.now() - start }
            usleep(500)
        }
        XCTAssertTrue(runner.firstRoundDone)
        XCTAssertEqual(changes.count, 61)
        // One wake per completion that found the inbox empty: at least one, never more than the completions.
        XCTAssertTrue((1...60).contains(woken.withLock { $0 }), "\(woken.withLock { $0 }) wakes")
        let st = runner.statuses
        XCTAssertEqual(st.filter { $0.state.health == .down }.count, 12 + 1)
        XCTAssertEqual(st.last?.state.lastResult?.detail, "timeout after 0.05 s")
        XCTAssertLessThan(quickDone ?? 99, 0.05 + 1, "the quick checks did not wait for the hanging one")
        XCTAssertLessThan(clock.now() - start, 2)
    }
}
