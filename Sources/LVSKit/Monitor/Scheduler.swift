#if canImport(Glibc)
import Glibc
#endif
import LVSCore

// The check scheduler: which checks are due, running them through a ``Checker``, bounding each by its timeout, and
// feeding the results into each check's state machine (CheckState.swift).
//
// Threading model. All mutable monitor state (``CheckScheduler``: every check's slot, state and in-flight run)
// has one owner, the thread or serial loop that calls ``CheckRunner/step()``; nothing else reads or writes it.
// Checkers run checks however they like (a libcurl multi handle on its own thread, a process reaper, a test's
// script) and call their completion from any thread; a completion only appends (run token, result, clock time)
// to the runner's inbox under a mutex and calls the runner's `wake` hook, and the owner takes the whole inbox at
// its next step. The inbox is the only shared object and its lock is held only to append or to swap the array,
// so there is no data race by construction and no check can block another.
//
// Rules:
// - First round: every check is due at once when the scheduler starts (and a check added by a reload at once when
//   it is added). Afterwards each check is due `interval` seconds after its previous run was due (or started, when
//   that start was a whole interval late); a check still running when it is due starts again as soon as that run
//   ends (never two runs of one check at a time). The owner may start due checks a little late, in batches.
// - Every run has a deadline, `timeout` seconds after its start. A run that has not completed by its deadline
//   counts as failed, `timeout after N s`, whatever the checker does; its late completion, if it ever comes, is
//   dropped. A checker that bounds its runs itself (`Checker.boundsItsRuns`: the check engine, which counts the
//   timeout from when its thread really starts a run) is trusted with the latency it measured, and a run of it is
//   given up only `lateness` after the deadline: when the engine falls behind, checks are late, not failed. `Checker.run` must return at once (start the work, do not wait for it): the scheduler starts all due
//   checks in one go and never waits for one.
// - Results change the state as CheckState.swift says; each change of a check's health is one ``StateChange``.

/// The monitor's time source: seconds on a monotonic clock. Tests use a fake one.
public protocol MonitorClock: Sendable {
    /// Now, in seconds (any origin; only differences and comparisons matter).
    func now() -> Double
}

/// `CLOCK_MONOTONIC`, through LVSCore's `Syscall.monotonicSeconds()`.
public struct SystemClock: MonitorClock {
    /// The system's monotonic clock.
    public init() {}
    /// `clock_gettime(CLOCK_MONOTONIC)` in seconds.
    public func now() -> Double { Syscall.monotonicSeconds() }
}

/// Runs one check against its server (tcp connect, http GET, a program ...). The real checkers are elsewhere.
public protocol Checker {
    /// Starts `check` and returns at once; calls `completion` exactly once, from any thread, with the result.
    /// `deadline` is the ``MonitorClock`` time by which the scheduler counts the run as timed out: the checker
    /// should give up by then too (a completion after it is dropped).
    func run(_ check: HealthCheck, deadline: Double, completion: @escaping @Sendable (CheckResult) -> Void)
    /// True when the checker bounds every run by the check's timeout itself, counted from when it really starts
    /// the run, and reports the latency it measured: the scheduler then judges a result by that latency and gives
    /// up on a run only ``CheckScheduler/lateness`` after its deadline. A checker that falls behind (thousands of
    /// runs queued at once after a pause of the daemon's loop) then delays checks instead of failing them.
    /// Default false: the scheduler's deadline is the bound.
    var boundsItsRuns: Bool { get }
    /// Starts several checks at once (one hand-over to the checker's thread instead of one per check); each run is
    /// (check, deadline, completion) as for ``run(_:deadline:completion:)``.
    func runAll(_ runs: [(HealthCheck, Double, @Sendable (CheckResult) -> Void)])
}

extension Checker {
    /// False: the scheduler's deadline bounds every run.
    public var boundsItsRuns: Bool { false }
    /// ``run(_:deadline:completion:)`` for each run, in order.
    public func runAll(_ runs: [(HealthCheck, Double, @Sendable (CheckResult) -> Void)]) {
        for (c, d, f) in runs { run(c, deadline: d, completion: f) }
    }
}

/// One run of a check that the scheduler started.
public struct CheckRun: Hashable, Sendable {
    /// Identifies the run (a late completion of an earlier run of the same check has another token).
    public var token: UInt64
    /// The check.
    public var check: HealthCheck
    /// When it started.
    public var started: Double
    /// When it times out: `started + timeout`.
    public var deadline: Double
    /// When it was due (at or before `started`): the next run is due one interval after this, so a run started a
    /// little late (the loop takes due checks in batches) does not push every later one back.
    public var due: Double = 0
}

/// A change of a check's health: one log line, one JSON event, one `--on-change` run.
public struct StateChange: Hashable, Sendable, CustomStringConvertible {
    /// The check.
    public var check: HealthCheck
    /// The health before.
    public var old: Health
    /// The health after.
    public var new: Health
    /// The result that changed it.
    public var result: CheckResult
    /// The check's state after the change (counters, since when).
    public var state: CheckState
    /// When (clock time).
    public var time: Double

    /// The log line: `rs 192.0.2.11:80 of -f 80 down: http GET / on port 80: connection refused (3 of 3 failed)`.
    /// The server is named with the checked port, so two checks of one server (80 and 443) are told apart; the
    /// detail is prefixed with the kind (`tcp: timeout after 3 s`) unless it starts with it.
    public var description: String {
        let counts: String
        switch (old, new) {
        case (.unknown, _): counts = "first check"
        case (_, .down): counts = "\(state.failures) of \(max(1, check.fall)) failed"
        default: counts = "\(state.passes) of \(max(1, check.rise)) passed"
        }
        let name = check.kind.name
        let detail = result.detail.hasPrefix(name + " ") || result.detail.hasPrefix(name + ":") ? result.detail : "\(name): \(result.detail)"
        return "rs \(check.target) of \(check.service) \(new): \(detail) (\(counts))"
    }
}

/// The checks with their states and schedule. A value with no locks and no threads: its owner calls it from one
/// thread (see the threading model above); ``CheckRunner`` is that owner in the daemon.
///
/// Cost. A monitor of thousands of checks steps many times a second, so nothing per step scans every check: the
/// due times of idle checks and the deadlines of running ones are in two min-heaps (``TimeHeap``), a step pops only
/// what is due, and the number of checks still unknown is counted. A heap entry carries its slot's `epoch`, bumped
/// whenever the slot's run starts or ends; an entry whose epoch is not its slot's is stale and dropped when it comes
/// to the top (each heap's top is kept valid after every change, so ``nextWakeup`` is exact).
public struct CheckScheduler: Sendable {
    struct Slot: Sendable {
        var check: HealthCheck
        var state: CheckState
        var nextDue: Double
        /// The running run's token; 0 while the check is idle. Its start and deadline follow (it was due at
        /// `min(started, nextDue)`: `nextDue` changes only when a run ends).
        var token: UInt64 = 0
        var started = 0.0
        var deadline = 0.0
        var epoch: UInt32 = 0
        var isRunning: Bool { token != 0 }
    }
    var slots: [Slot] = []
    var index: [HealthCheck.ID: Int] = [:]
    /// The slots of each service, in configuration order.
    var byService: [ServiceKey: [Int]] = [:]
    /// A run's token is its slot (high 32 bits) and a serial number (low 32 bits, never 0), so a completion finds
    /// its slot without a lookup. A reload that moves a running check to another slot records the run here.
    var moved: [UInt64: Int] = [:]
    var serial: UInt32 = 0
    /// Checks running now.
    public private(set) var inFlight = 0
    /// Idle checks by due time.
    var due = TimeHeap()
    /// Running checks by deadline.
    var deadlines = TimeHeap()
    /// Checks whose health is still unknown.
    var unknown = 0
    /// The checker bounds its runs itself (``Checker/boundsItsRuns``): results are judged by their latency, and a
    /// run is given up only ``lateness`` after its deadline.
    public var checkerBoundsRuns = false
    /// Results recorded so far (completions and timeouts): a state file writer tells from it that something new came in.
    public private(set) var results: UInt64 = 0

    /// The shortest interval and timeout accepted (the grammar refuses less; this only prevents a busy loop).
    public static let minimumSeconds = 0.001
    /// Above this many checks, their rounds are spread over the interval after the first (see ``finish(_:_:at:)``).
    public static let spreadAbove = 64
    /// With a checker that bounds its runs, how long after its deadline a run that has not completed is given up:
    /// ten timeouts, at least 30 s. The checker ends every run it started within its timeout; what waits longer
    /// is queued behind a backlog (more checks a second than the machine can make), and is late, not failed: the
    /// rounds slip until the checker keeps up, as keepalived's do. This bound only catches a lost run.
    public static func lateness(timeout: Double) -> Double { max(30, 10 * timeout) }

    /// A scheduler whose checks are all due at `now` (the first round) and unknown.
    public init(checks: [HealthCheck], now: Double) { update(checks: checks, now: now) }

    /// Replaces the checks (a reload): a check whose ``HealthCheck/ID`` is kept keeps its state, schedule and
    /// running check (with its new timing from its next run); a new check is unknown and due at `now`; a removed
    /// check is forgotten (its running check's completion is dropped). Duplicate IDs: the last one counts.
    public mutating func update(checks: [HealthCheck], now: Double) {
        var newSlots: [Slot] = []
        var newIndex: [HealthCheck.ID: Int] = [:]
        newSlots.reserveCapacity(checks.count)
        for c in checks {
            if let j = newIndex[c.id] { newSlots[j].check = c; continue }
            newIndex[c.id] = newSlots.count
            if let i = index[c.id] {
                var s = slots[i]
                s.check = c
                newSlots.append(s)
            } else {
                newSlots.append(Slot(check: c, state: CheckState(since: now), nextDue: now))
            }
        }
        slots = newSlots
        index = newIndex
        byService = [:]
        for i in slots.indices { byService[slots[i].check.service, default: []].append(i) }
        moved = [:]
        inFlight = 0
        due = TimeHeap()
        deadlines = TimeHeap()
        unknown = 0
        for i in slots.indices {
            if slots[i].state.health == .unknown { unknown += 1 }
            if slots[i].isRunning {
                let token = slots[i].token
                if Self.slot(of: token) != i { moved[token] = i }
                inFlight += 1
                deadlines.push(cutoff(i), slot: i, epoch: slots[i].epoch)
            } else {
                due.push(slots[i].nextDue, slot: i, epoch: slots[i].epoch)
            }
        }
    }

    /// The runs to start at `now`: every check that is due and not running, in configuration order. They count as
    /// running from `now`, with deadline `now + timeout`.
    public mutating func startDue(now: Double) -> [CheckRun] {
        var ready: [Int] = []
        while let top = due.top, top.time <= now {
            due.pop()
            if isCurrent(top) && !slots[top.slot].isRunning { ready.append(top.slot) }
        }
        ready.sort()
        var out: [CheckRun] = []
        out.reserveCapacity(ready.count)
        for i in ready {
            serial &+= 1
            if serial == 0 { serial = 1 }
            let token = UInt64(truncatingIfNeeded: i) << 32 | UInt64(serial)
            slots[i].token = token
            slots[i].started = now
            slots[i].deadline = now + max(Self.minimumSeconds, slots[i].check.timeout)
            slots[i].epoch &+= 1
            inFlight += 1
            deadlines.push(cutoff(i), slot: i, epoch: slots[i].epoch)
            var r = CheckRun(token: token, check: slots[i].check, started: now, deadline: slots[i].deadline)
            r.due = min(now, slots[i].nextDue)
            out.append(r)
        }
        cleanTops()
        return out
    }

    /// The slot a token was made for (its high 32 bits).
    static func slot(of token: UInt64) -> Int { Int(truncatingIfNeeded: token >> 32) }

    /// The slot whose run `token` is, if that run is still running.
    func runningSlot(_ token: UInt64) -> Int? {
        let i = Self.slot(of: token)
        if i < slots.count, slots[i].token == token { return i }
        if !moved.isEmpty, let j = moved[token], slots[j].token == token { return j }
        return nil
    }

    /// Records the result of run `token` that came in at `t`; returns the state change, if any. A result for a run
    /// that is no longer running (timed out, or its check removed) is dropped; one that came in after the run's
    /// deadline counts as the timeout. A result without latency gets `t - started`.
    @discardableResult
    public mutating func complete(token: UInt64, result: CheckResult, at t: Double) -> StateChange? {
        guard token != 0, let i = runningSlot(token) else { return nil }
        let started = slots[i].started, deadline = slots[i].deadline
        var res = result
        if checkerBoundsRuns, let latency = result.latency {
            // Judged by the checker's own measure from its real start: a run it started late is not a timeout.
            if latency > deadline - started + 0.001 && result.passed { res = .timeout(after: deadline - started) }
            let change = finish(i, res, at: t)
            cleanTops()
            return change
        }
        if t > deadline { res = .timeout(after: deadline - started) } else if res.latency == nil { res.latency = max(0, t - started) }
        let change = finish(i, res, at: min(t, deadline))
        cleanTops()
        return change
    }

    /// Fails, as `timeout after N s`, every run whose deadline is at or before `now`; returns the state changes in
    /// configuration order.
    public mutating func expire(now: Double) -> [StateChange] {
        var late: [Int] = []
        while let top = deadlines.top, top.time <= now {
            deadlines.pop()
            if isCurrent(top), slots[top.slot].isRunning { late.append(top.slot) }
        }
        guard !late.isEmpty else { return [] }
        late.sort()
        var out: [StateChange] = []
        for i in late where slots[i].isRunning {
            let s = slots[i]
            if let c = finish(i, .timeout(after: s.deadline - s.started), at: s.deadline) { out.append(c) }
        }
        cleanTops()
        return out
    }

    /// When slot `i`'s run is given up: its deadline, or a lateness after it with a checker that bounds its runs.
    func cutoff(_ i: Int) -> Double {
        slots[i].deadline + (checkerBoundsRuns ? Self.lateness(timeout: slots[i].check.timeout) : 0)
    }

    /// True when a heap entry still stands for its slot's pending event.
    func isCurrent(_ e: TimeHeap.Entry) -> Bool { e.slot < slots.count && slots[e.slot].epoch == e.epoch }

    /// Drops stale entries from the heaps' tops, so ``nextWakeup`` reads a real event.
    mutating func cleanTops() {
        while let top = due.top, !isCurrent(top) || slots[top.slot].isRunning { due.pop() }
        while let top = deadlines.top, !isCurrent(top) || !slots[top.slot].isRunning { deadlines.pop() }
    }

    mutating func finish(_ i: Int, _ result: CheckResult, at t: Double) -> StateChange? {
        guard slots[i].isRunning else { return nil }
        results &+= 1
        if !moved.isEmpty { moved[slots[i].token] = nil }
        let runStarted = slots[i].started, runDue = min(runStarted, slots[i].nextDue)
        slots[i].token = 0
        inFlight -= 1
        slots[i].epoch &+= 1
        let interval = max(Self.minimumSeconds, slots[i].check.interval)
        // One interval after it was due; after it started when it started a whole interval late (a long pause of the
        // loop: no burst of runs to catch up).
        var next = runDue + interval
        if next <= runStarted { next = runStarted + interval }
        // Many checks started together in the first round would stay in phase, every round a burst of N starts that
        // delays the last ones towards their deadline. Past `spreadAbove` checks, each one's second run is put off by
        // its own fraction of an interval (i x the golden ratio, mod 1), which spreads the rounds evenly after it.
        if slots[i].state.health == .unknown && slots.count > Self.spreadAbove {
            let phase = (Double(i) * 0.618_033_988_749_895).truncatingRemainder(dividingBy: 1)
            next += phase * interval
        }
        slots[i].nextDue = next
        due.push(next, slot: i, epoch: slots[i].epoch)
        let rise = slots[i].check.rise, fall = slots[i].check.fall
        guard let old = slots[i].state.record(result, at: t, rise: rise, fall: fall) else { return nil }
        if old == .unknown { unknown -= 1 }
        return StateChange(check: slots[i].check, old: old, new: slots[i].state.health, result: result,
                           state: slots[i].state, time: t)
    }

    /// The next time something is due: the earliest deadline of a running check or start of an idle one (nil
    /// without checks). The owner should step again then, or earlier when a completion wakes it.
    public var nextWakeup: Double? {
        switch (due.top?.time, deadlines.top?.time) {
        case (let a?, let b?): return min(a, b)
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (nil, nil): return nil
        }
    }

    /// Every check with its state, in configuration order.
    public var statuses: [CheckStatus] { slots.map { CheckStatus(check: $0.check, state: $0.state) } }
    /// The checks of the services `keys` with their states, in configuration order (without a pass over every check).
    public func statuses(of keys: Set<ServiceKey>) -> [CheckStatus] {
        keys.flatMap { byService[$0] ?? [] }.sorted().map { CheckStatus(check: slots[$0].check, state: slots[$0].state) }
    }
    /// The state of one check, if configured.
    public func state(of id: HealthCheck.ID) -> CheckState? { index[id].map { slots[$0].state } }
    /// True once every check has had its first result (no check unknown): the daemon's first reconcile waits for it.
    public var firstRoundDone: Bool { unknown == 0 }
}

/// A binary min-heap of (time, slot, epoch): the scheduler's due times and deadlines.
struct TimeHeap: Sendable {
    struct Entry: Sendable {
        var time: Double
        var slot: Int
        var epoch: UInt32
    }
    private(set) var entries: [Entry] = []

    /// The earliest entry.
    var top: Entry? { entries.first }
    /// Entries held (stale ones included).
    var count: Int { entries.count }

    mutating func push(_ time: Double, slot: Int, epoch: UInt32) {
        let e = Entry(time: time, slot: slot, epoch: epoch)
        entries.append(e)
        // Sift up with a hole: parents move down, the new entry is written once.
        entries.withUnsafeMutableBufferPointer { a in
            var i = a.count - 1
            while i > 0 {
                let p = (i - 1) / 2
                guard time < a[p].time else { break }
                a[i] = a[p]
                i = p
            }
            a[i] = e
        }
    }

    /// Removes the earliest entry.
    mutating func pop() {
        guard !entries.isEmpty else { return }
        let last = entries.removeLast()
        guard !entries.isEmpty else { return }
        // Sift the last entry down from the root with a hole: smaller children move up, it is written once.
        entries.withUnsafeMutableBufferPointer { a in
            let n = a.count
            var i = 0
            while true {
                let l = 2 * i + 1
                guard l < n else { break }
                var m = l
                if l + 1 < n && a[l + 1].time < a[l].time { m = l + 1 }
                guard a[m].time < last.time else { break }
                a[i] = a[m]
                i = m
            }
            a[i] = last
        }
    }
}

/// The owner of a ``CheckScheduler`` in a running monitor: starts due checks on a ``Checker``, collects their
/// completions from any thread through its inbox, enforces deadlines and reports state changes. Not thread-safe
/// itself: call it from one thread (see the threading model above); only the completions it hands out are.
public final class CheckRunner {
    /// The clock.
    public let clock: any MonitorClock
    /// The checker.
    public let checker: any Checker
    /// The checks and their states.
    public private(set) var scheduler: CheckScheduler
    let inbox: Inbox

    /// A runner for `checks`, all due at once (the first round). `wake` is called, from the completing thread,
    /// after each completion is queued: the daemon's loop uses it to stop waiting (e.g. write to an eventfd).
    public init(checks: [HealthCheck], checker: any Checker, clock: any MonitorClock,
                wake: @escaping @Sendable () -> Void = {}) {
        self.clock = clock
        self.checker = checker
        self.scheduler = CheckScheduler(checks: checks, now: clock.now())
        self.scheduler.checkerBoundsRuns = checker.boundsItsRuns
        self.inbox = Inbox(clock: clock, wake: wake)
    }

    /// One turn of the loop: takes the completions that came in, times out runs past their deadline, starts the
    /// checks that are due, and takes the completions those delivered at once. Returns the state changes in the
    /// order they happened.
    @discardableResult
    public func step() -> [StateChange] {
        var changes = drain()
        let now = clock.now()
        changes += scheduler.expire(now: now)
        let inbox = inbox
        let runs = scheduler.startDue(now: now).map { r -> (HealthCheck, Double, @Sendable (CheckResult) -> Void) in
            let token = r.token
            return (r.check, r.deadline, { result in inbox.post(token, result) })
        }
        if !runs.isEmpty { checker.runAll(runs) }
        changes += drain()
        return changes
    }

    /// Replaces the checks (a reload; see ``CheckScheduler/update(checks:now:)``). New checks start at the next step.
    public func update(checks: [HealthCheck]) { scheduler.update(checks: checks, now: clock.now()) }

    /// The next time ``step()`` has work without a completion (nil without checks).
    public var nextWakeup: Double? { scheduler.nextWakeup }
    /// Every check with its state, in configuration order.
    public var statuses: [CheckStatus] { scheduler.statuses }
    /// The checks of the services `keys` with their states.
    public func statuses(of keys: Set<ServiceKey>) -> [CheckStatus] { scheduler.statuses(of: keys) }
    /// True when a failed result is waiting in the inbox: the daemon takes it at once instead of batching.
    public var failureWaiting: Bool { inbox.failureWaiting }
    /// True once every check has had its first result.
    public var firstRoundDone: Bool { scheduler.firstRoundDone }
    /// Results recorded so far.
    public var results: UInt64 { scheduler.results }

    /// The completions taken from the inbox (kept between steps for its capacity: it is swapped with the inbox's).
    var batch: [Inbox.Completion] = []

    func drain() -> [StateChange] {
        var out: [StateChange] = []
        batch.removeAll(keepingCapacity: true)
        inbox.take(&batch)
        for c in batch {
            if let s = scheduler.complete(token: c.token, result: c.result, at: c.time) { out.append(s) }
        }
        return out
    }
}

/// Completions waiting for the owner: the one object shared between threads.
final class Inbox: Sendable {
    struct Completion: Sendable { var token: UInt64; var result: CheckResult; var time: Double }
    struct Queue: Sendable {
        var completions: [Completion] = []
        var failures = 0
    }
    private let queue = Locked(Queue())
    private let clock: any MonitorClock
    private let wake: @Sendable () -> Void
    init(clock: any MonitorClock, wake: @escaping @Sendable () -> Void) { self.clock = clock; self.wake = wake }
    /// Queues a completion (any thread), timed now, and wakes the owner, when the queue was empty: otherwise the
    /// wake of the completion that made it non-empty is still pending (the owner takes the whole queue at once), and
    /// one wake system call per check would cost more than the check's own bookkeeping.
    func post(_ token: UInt64, _ result: CheckResult) {
        let time = clock.now()
        let first = queue.withLock { q -> Bool in
            q.completions.append(Completion(token: token, result: result, time: time))
            if !result.passed { q.failures += 1 }
            return q.completions.count == 1
        }
        if first { wake() }
    }
    /// True when a failed result is queued (a server may be dying: its owner should not wait for a batch).
    var failureWaiting: Bool { queue.withLock { $0.failures > 0 } }
    /// Takes every queued completion (the owner) into `batch`, which must be empty: the two arrays are swapped,
    /// so neither is reallocated as the monitor runs.
    func take(_ batch: inout [Completion]) {
        queue.withLock { q in
            swap(&q.completions, &batch)
            q.failures = 0
        }
    }
}

/// A value behind a `pthread_mutex_t`, for the few objects threads share (Sendable when its value is).
final class Locked<Value> {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value
    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }
    /// Runs `body` with the value, under the lock.
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

extension Locked: @unchecked Sendable where Value: Sendable {}
