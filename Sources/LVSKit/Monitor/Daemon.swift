#if canImport(Glibc)
import Glibc
#endif
import LVSCore

// `lvsctl monitor FILE`: the health-check daemon's loop. One thread owns all of its state (the check runner, the
// reconciler, the configuration); the checker runs checks on its own thread and wakes the loop through an eventfd.
// Signals are taken from a signalfd in the same poll, so there are no signal handlers and nothing runs concurrently
// with the loop but the checker.
//
// A cycle: take the check results, log each change of state (stderr, `--events`, `--on-change`); once every check
// has had its first result, compute the desired table and correct the kernel (the kernel is read back every second
// and after every change, so a hand edit is put back within a second; the namespace's drain state file, read again
// whenever it changes, keeps the servers `rs drain` drained at weight 0); write the state file when it changed
// (at most twice a second). SIGHUP re-reads FILE; SIGTERM and SIGINT end the loop with exit 0.

/// `monitor FILE` as typed.
public struct MonitorSpec: Equatable, Sendable {
    /// The configuration file.
    public var file: String
    /// Where to write events as JSON lines (`-`: standard output); nil for none.
    public var events: String?
    /// A program (with arguments, no shell) run on every change of state.
    public var onChange: String?
    /// On SIGTERM/SIGINT, put every quiesced or removed server back to its configured weight before exiting.
    public var restoreOnExit = false
    /// Seconds to wait for another lvsctl command's lock when loading the file.
    public var wait = 30.0
    /// The network namespace (for the state file's name).
    public var netns: String?
    /// Creates a spec.
    public init(file: String) { self.file = file }
}

/// The running daemon.
public final class MonitorDaemon {
    let spec: MonitorSpec
    let client: any IPVSControl
    let clock: any MonitorClock
    let checker: any Checker
    let log: (String) -> Void
    var monitor: MonitorConfig
    var runner: CheckRunner!
    var reconciler = Reconciler()
    var wakeFD: Int32 = -1
    var signalFD: Int32 = -1
    var eventsFD: Int32 = -1
    var onChangeArgv: [String] = []
    var children: Set<pid_t> = []
    var started = Syscall.realtimeSeconds()
    var statePath: String
    var lastDesired: DesiredTable?
    /// The configured servers by service, with their text (``stateEntries()``); nil after a (re)load.
    var configuredServers: [ServiceKey: [Endpoint: (server: RealServer, text: String)]]?
    /// Each check's fixed texts in the state file (``stateEntries()``), in the scheduler's order, for the runner's
    /// checks of generation ``checkTextsGeneration``.
    var checkTexts: [(service: String, server: String, target: String)] = []
    var checkTextsGeneration = -1
    /// Bumped whenever the runner's checks are replaced (a reload).
    var runnerGeneration = 0
    /// The position of each service in ``lastDesired``.
    var lastDesiredIndex: [ServiceKey: Int] = [:]
    /// Each monitored service as the reconciler last left it: a change of state corrects only the services whose
    /// desired servers differ from this (``quickReconcile(now:services:)``).
    var reconciled: [ServiceKey: DesiredService] = [:]
    var stateDirty = true
    var lastStateWrite = -1e9
    var ready = false
    var nextReconcile = 0.0
    /// Servers of the configuration before the last reload: while a new check of one of them is still unknown, the
    /// reconciler leaves it as it is instead of quiescing it.
    var servedBefore = Set<ServerRef>()
    var resultsWritten: UInt64 = 0
    var lockBusyLogged = false
    var lastCycle = -1e9
    var reconcileCost = 0.0
    var resultWriteGap = MonitorDaemon.resultWriteInterval
    var stateWriteGap = MonitorDaemon.stateWriteInterval
    /// The read-back interval last logged (logged when it first goes above 2 s, and each time it doubles).
    var readBackLogged = MonitorDaemon.reconcileInterval
    /// `LVSCTL_MONITOR_PROFILE=1`: every 10 s, one log line with the time the loop spent in each part of its work
    /// (for finding where a big monitor's CPU goes).
    let profiling = Syscall.getenv("LVSCTL_MONITOR_PROFILE") == "1"
    var profile: [String: (seconds: Double, count: Int)] = [:]
    var profileSince = 0.0
    /// Runs `body`, adding its duration to `part` when profiling.
    func timed<R>(_ part: String, _ body: () throws -> R) rethrows -> R {
        guard profiling else { return try body() }
        let t0 = clock.now()
        defer { profile[part, default: (0, 0)].seconds += clock.now() - t0; profile[part, default: (0, 0)].count += 1 }
        return try body()
    }
    func logProfile(now: Double) {
        guard profiling else { return }
        if profileSince == 0 { profileSince = now; return }
        guard now - profileSince >= 10 else { return }
        let parts = profile.sorted { $0.key < $1.key }.map { "\($0.key) \(formatSeconds(($0.value.seconds * 1000).rounded() / 1000)) s (\($0.value.count))" }
        log("monitor: profile: \(formatSeconds(((now - profileSince) * 10).rounded() / 10)) s: \(parts.joined(separator: ", ")); \(runner.scheduler.inFlight) in flight")
        profile = [:]
        profileSince = now
    }
    /// The drain state file of the namespace (`rs drain`): drained servers stay at weight 0 until undrained.
    var drain: DrainWatcher
    var drainErrorLogged = false

    /// Seconds between two readings of the kernel's table (on a table so big that a reading costs more than
    /// 1/``readBackShare`` of that, less often: see ``readBackShare``).
    public static let reconcileInterval = 1.0
    /// The whole table is read back at most once per this many times the cost of the last reading, so reading
    /// back takes at most 1 % of a CPU on any table (on a real director 1,000 servers read back in a few
    /// milliseconds: every second).
    public static let readBackShare = 100.0
    /// The shortest time between two cycles woken by check results (results are taken in batches).
    public static let batchInterval = 0.05
    /// The shortest time between two writes of the state file after a change of state, or 20 times the cost of
    /// the last write on a big table (``stateWriteShare``).
    public static let stateWriteInterval = 0.5
    /// While states keep changing, the state file is written at most once per this many times the cost of the last
    /// write: at most 5 % of a CPU (on a real director 10,000 checks are written in tens of milliseconds).
    public static let stateWriteShare = 20.0
    /// The shortest time between two writes of the state file for new results alone (last result, latency), or
    /// 100 times the cost of the last write: refreshing latencies takes at most 1 % of a CPU.
    public static let resultWriteInterval = 2.0

    /// A daemon for `spec` whose file has been read (`file`), on `client`, with `checker`. `log` takes one line
    /// (without newline) per event.
    public init(spec: MonitorSpec, file: Loader.File, client: any IPVSControl, checker: any Checker,
                clock: any MonitorClock = SystemClock(), log: @escaping (String) -> Void) throws {
        self.spec = spec
        self.client = client
        self.clock = clock
        self.checker = checker
        self.log = log
        self.monitor = MonitorConfig(file)
        self.statePath = monitorStatePath(netns: spec.netns)
        self.drain = DrainWatcher(path: drainStatePath(netns: spec.netns))
        if let c = spec.onChange {
            let argv = try ConfigFile.tokenize(Substring(c))
            guard let p = argv.first, p.hasPrefix("/") else {
                throw UsageError("invalid --on-change \(shown(c)) (the program is an absolute path; it runs without a shell)")
            }
            onChangeArgv = argv
        }
    }

    /// Blocks SIGHUP, SIGTERM and SIGINT in the calling thread and opens the loop's descriptors. Call before the
    /// checker starts its thread (threads inherit the signal mask), e.g. first thing in the command.
    public static func blockSignals() throws -> Int32 {
        switch Syscall.signalDescriptor([SIGHUP, SIGTERM, SIGINT]) {
        case .success(let fd): return fd
        case .failure(let e): throw SystemError("cannot take signals: \(e)")
        }
    }

    /// Loads the file as `apply` does (checked servers keep their kernel weight until checked), then runs the loop
    /// until SIGTERM or SIGINT. `signalFD` comes from ``blockSignals()``; `wakeFD` is the eventfd the checker's
    /// completions write to.
    public func run(signalFD: Int32, wakeFD: Int32, file: Loader.File) throws {
        self.signalFD = signalFD
        self.wakeFD = wakeFD
        signal(SIGPIPE, SIG_IGN)  // a closed --events pipe is an error to log, not the end of the daemon
        if let e = spec.events {
            if e == "-" { eventsFD = 1 } else {
                switch Syscall.open(e, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644) {
                case .success(let fd): eventsFD = fd
                case .failure(let err): throw SystemError("cannot open events file \(shown(e)): \(err)")
                }
            }
        }
        try load(file, reload: false)
        // A state file left by a killed monitor is replaced by this one's at once.
        writeState(force: true)
        notifySystemd("STATUS=checking")
        let wake = wakeFD
        runner = CheckRunner(checks: monitor.checks, checker: checker, clock: clock, wake: { Syscall.signalEvent(wake) })
        log("monitor: \(monitor.checks.count) check\(monitor.checks.count == 1 ? "" : "s") of \(monitor.config.entries.count) service\(monitor.config.entries.count == 1 ? "" : "s") from \(spec.file); first round started")
        while true {
            cycle()
            let now = clock.now()
            var until = [runner.nextWakeup, ready ? nextReconcile : nil, lastDesired?.nextChange,
                         stateDirty ? lastStateWrite + stateWriteGap : nil,
                         runner.results != resultsWritten ? lastStateWrite + resultWriteGap : nil].compactMap { $0 }.min()
            if !children.isEmpty { until = min(until ?? now + 1, now + 1) }
            // Checks come due one by one, spread over their interval: they are started in batches, at most one
            // cycle per `batchInterval` (a failed result still wakes the loop at once, through the eventfd).
            if let u = until { until = max(u, lastCycle + Self.batchInterval) }
            let readable: [Bool]
            switch Syscall.waitReadable([wakeFD, signalFD], timeout: until.map { max(0, $0 - now) }) {
            case .success(let r): readable = r
            case .failure(let e): throw SystemError("poll: \(e)")
            }
            if readable[0] {
                Syscall.clearEvent(wakeFD)
                // Completions come one by one; a cycle costs a pass over every check. Take them in batches: at most
                // one cycle per `batchInterval`, so a round of N checks costs O(N) cycles' worth, not O(N^2).
                // A failed result is taken at once: a server may be dying, and its quiescing should not wait.
                let since = clock.now() - lastCycle
                if since < Self.batchInterval && !readable[1] && !runner.failureWaiting {
                    Syscall.sleep(seconds: Self.batchInterval - since)
                }
            }
            if readable[1] {
                for s in Syscall.takeSignals(signalFD) {
                    switch s {
                    case SIGHUP: reload()
                    default:
                        shutdown(signal: s)
                        return
                    }
                }
            }
        }
    }

    /// One turn: results, state changes, reconcile, state file, reaping `--on-change` children.
    func cycle() {
        lastCycle = clock.now()
        logProfile(now: lastCycle)
        let changes = timed("step") { runner.step() }
        for c in changes {
            log(c.description)
            event(stateChange: c)
            runOnChange(c)
            stateDirty = true
        }
        let now = clock.now()
        var becameReady = false
        if runner.firstRoundDone {
            if !ready {
                ready = true
                becameReady = true
                nextReconcile = now
                let st = runner.statuses
                let up = Set(st.filter { $0.state.health == .up }.map(\.check.ref))
                let down = Set(st.filter { $0.state.health == .down }.map(\.check.ref))
                log("monitor: first round done: \(up.subtracting(down).count) server\(up.subtracting(down).count == 1 ? "" : "s") up, \(down.count) down")
                notifySystemd("READY=1\nSTATUS=monitoring")
            }
            // A change of state (or a slow-start step) is acted on at once, reading back only the services it
            // concerns; the whole table is read back every second.
            let stepDue = lastDesired?.nextChange.map { $0 <= now } ?? false
            if (!changes.isEmpty || stepDue) && now < nextReconcile {
                timed("quick") { quickReconcile(now: now, services: stepDue ? nil : Set(changes.map(\.check.service))) }
            }
            if now >= nextReconcile {
                let t0 = clock.now()
                timed("full") { reconcile(now: now) }
                reconcileCost = clock.now() - t0
                // Every second, or less often when a read-back costs more than 1 % of that.
                let gap = max(Self.reconcileInterval, Self.readBackShare * reconcileCost)
                nextReconcile = now + gap
                if gap > 2 * readBackLogged {
                    readBackLogged = gap
                    log("monitor: reading the table back takes \(Int((reconcileCost * 1000).rounded())) ms: every \(formatSeconds((gap * 10).rounded() / 10)) s")
                }
            }
        }
        // The state file says `ready` as soon as systemd hears READY=1 (not one write gap later: on a big table that
        // gap is many seconds).
        writeState(force: becameReady)
        reap()
    }

    /// Corrects the kernel towards the desired table.
    func reconcile(now: Double) {
        do {
            // Under lvsctl's lock, so a correction never interleaves with a restore, an apply, a bundle change or a
            // drain; when another command holds it, this round is skipped (the next one comes within a second). The
            // drain file is read under the lock too: `rs drain` records the server before it sets weight 0, so the
            // monitor sees either neither or both.
            let r: ReconcileResult
            do {
                r = try withLvsctlLock(wait: 0.2) { () throws -> ReconcileResult in
                    let desired = owned(now: now)
                    let r = try reconciler.reconcile(desired, client: client)
                    reconciled = Dictionary(desired.services.map { ($0.service.key, $0) }, uniquingKeysWith: { _, b in b })
                    return r
                }
                lockBusyLogged = false
            } catch let e as LockError where e.errno == 0 {
                if !lockBusyLogged { log("monitor: another lvsctl command holds the lock; corrections wait for it") }
                lockBusyLogged = true
                nextReconcile = now + 0.2
                return
            }
            report(r)
        } catch {
            log("monitor: cannot read or correct the table: \(error)")
        }
    }

    /// One log line and one event per correction made or refused.
    func report(_ r: ReconcileResult) {
        for c in r.applied {
            log(c.log)
            event(correction: c, failed: nil)
        }
        for f in r.failures {
            log(f.description)
            event(correction: f.correction, failed: "\(f.error)")
        }
    }

    /// Corrects the services whose desired servers changed since the last reconcile (a change of state), reading
    /// back only their real servers; `services` are the ones to compute again (nil: all, for a slow-start step).
    /// When one cannot be read, or the lock is busy, the full reconcile is brought forward instead.
    func quickReconcile(now: Double, services: Set<ServiceKey>?) {
        do {
            let r = try withLvsctlLock(wait: 0.2) { () throws -> ReconcileResult? in
                let desired = owned(now: now, only: services)
                var changed = Set<ServiceKey>()
                for s in desired.services where reconciled[s.service.key] != s { changed.insert(s.service.key) }
                guard !changed.isEmpty else { return nil }
                let r = try reconciler.reconcile(desired, only: changed, client: client)
                for s in desired.services where changed.contains(s.service.key) { reconciled[s.service.key] = s }
                return r
            }
            if let r { report(r) }
        } catch {
            // The lock is busy, or a service is gone (deleted by hand): the full reconcile handles both.
            nextReconcile = now
        }
    }

    /// The desired table now (drained servers included), without the servers the reconciler leaves alone after a
    /// reload.
    /// With `only`, just those services are computed (a change of state between two full reconciles: no pass over
    /// every check), and merged into ``lastDesired``.
    func owned(now: Double, only: Set<ServiceKey>? = nil) -> DesiredTable {
        refreshDrained()
        let statuses: [CheckStatus]
        let desired: DesiredTable
        if let only, var whole = lastDesired {
            lastDesired = nil  // `whole` holds the only reference: its services are replaced in place, not copied
            statuses = runner.statuses(of: only)
            var part = ClusterConfig()
            part.entries = monitor.config.entries.filter { only.contains($0.service.key) }
            desired = DesiredTable.compute(configured: part, checks: statuses, sorry: monitor.sorry.filter { only.contains($0.service) },
                                           drained: drain.drained, now: now)
            if lastDesiredIndex.count != whole.services.count {
                lastDesiredIndex = Dictionary(whole.services.indices.map { (whole.services[$0].service.key, $0) }, uniquingKeysWith: { a, _ in a })
            }
            for s in desired.services {
                guard let i = lastDesiredIndex[s.service.key] else { continue }
                if whole.services[i] != s { whole.services[i] = s; stateDirty = true }
            }
            // A step still due elsewhere is kept (at worst an early wake-up, which recomputes everything).
            if let n = desired.nextChange { whole.nextChange = min(whole.nextChange ?? n, n) }
            lastDesired = whole
        } else {
            statuses = runner.statuses
            desired = DesiredTable.compute(monitor, checks: statuses, drained: drain.drained, now: now)
            if desired != lastDesired { stateDirty = true }
            lastDesired = desired
            lastDesiredIndex = [:]
        }
        // After a reload, a server that was configured before and has a check not decided yet is left as it is.
        var owned = desired
        if !servedBefore.isEmpty {
            let undecided = Set(statuses.filter { $0.state.health == .unknown }.map(\.check.ref)).intersection(servedBefore)
            if undecided.isEmpty { if only == nil { servedBefore = [] } } else {
                for i in owned.services.indices {
                    let key = owned.services[i].service.key
                    owned.services[i].servers.removeAll { undecided.contains(ServerRef(service: key, server: $0.server.endpoint)) }
                }
            }
        }
        return owned
    }

    /// Reads the drain state file again if it changed, logging each server drained or undrained.
    func refreshDrained() {
        let (added, removed, error) = drain.refresh()
        if let e = error {
            if !drainErrorLogged { log("monitor: drain state: \(e); keeping the drained servers as they were") }
            drainErrorLogged = true
            return
        }
        drainErrorLogged = false
        for r in added.sorted() { log("\(r): drained (lvsctl rs drain): weight 0 until undrained") }
        for r in removed.sorted() { log("\(r): undrained (lvsctl rs undrain)") }
        if !added.isEmpty || !removed.isEmpty { stateDirty = true }
    }

    /// Applies `file` (first load, or a reload) with the checked servers' kernel weights kept.
    func load(_ file: Loader.File, reload: Bool) throws {
        let m = MonitorConfig(file)
        let kernel = try client.table(nil, stats: false)
        var f = file
        f.desired = m.startupConfig(kernel: kernel)
        try Loader.apply(f, client: client, dryRun: false, wait: spec.wait) { lines in
            for l in lines { log("monitor: \(reload ? "reload" : "load"): \(l)") }
        }
        monitor = m
        configuredServers = nil
    }

    /// SIGHUP: re-reads the file; a bad one is refused and the running configuration kept.
    func reload() {
        log("monitor: SIGHUP: reloading \(spec.file)")
        notifySystemd("RELOADING=1")
        defer { notifySystemd("READY=1\nSTATUS=monitoring") }
        let file: Loader.File
        do { file = try Loader.read(spec.file) } catch {
            log("monitor: reload refused, keeping the running configuration: \(error)")
            return
        }
        let oldConfig = monitor.config
        do { try load(file, reload: true) } catch {
            log("monitor: reload failed, keeping the running configuration: \(error)")
            return
        }
        let before = Set(oldConfig.entries.flatMap { e in e.servers.map { ServerRef(service: e.service.key, server: $0.endpoint) } })
        runner.update(checks: monitor.checks)
        runnerGeneration += 1
        servedBefore = before
        nextReconcile = clock.now()
        stateDirty = true
        log("monitor: reloaded: \(monitor.checks.count) check\(monitor.checks.count == 1 ? "" : "s") of \(monitor.config.entries.count) service\(monitor.config.entries.count == 1 ? "" : "s")")
    }

    /// SIGTERM/SIGINT: leaves the table as it is (or restores configured weights), removes the state file.
    func shutdown(signal: Int32) {
        let name = signal == SIGTERM ? "SIGTERM" : "SIGINT"
        notifySystemd("STOPPING=1")
        if spec.restoreOnExit {
            // Drained servers stay at 0: the drain is the administrator's, not the monitor's.
            let all = DesiredTable.compute(configured: monitor.config, checks: [], sorry: monitor.sorry, drained: drain.drained,
                                           now: clock.now())
            do {
                let r = try reconciler.reconcile(all, client: client)
                for c in r.applied { log("\(c.log) (--restore-on-exit)") }
                for f in r.failures { log(f.description) }
            } catch { log("monitor: --restore-on-exit: \(error)") }
        }
        _ = Syscall.unlink(statePath)
        log("monitor: \(name): exiting, table left \(spec.restoreOnExit ? "at the configured weights" : "as it is")")
        reap()
    }

    // MARK: state file, events, --on-change

    /// Wall-clock seconds for a monitor-clock time.
    func wall(_ t: Double) -> Double { Syscall.realtimeSeconds() - (clock.now() - t) }

    /// The state file's check and server entries, made one at a time as they are read (the monitor streams them
    /// into the file: a monitor of 10,000 checks holds no array of entries and no whole file in memory).
    func stateEntries() -> (checks: AnySequence<MonitorStateFile.Check>, servers: AnySequence<MonitorStateFile.Server>) {
        // The scheduler's slots themselves (no copy of every check's status); before the runner exists (the first
        // write at start), the configured checks, unknown.
        let slots = runner?.scheduler.slots
        let checks: [(check: HealthCheck, state: CheckState)] = slots == nil ? monitor.checks.map { ($0, CheckState(since: clock.now())) } : []
        let count = slots?.count ?? checks.count
        // The fixed texts of each check's entry are made once per configuration (runner generation), in the
        // scheduler's order; wall-clock times come from one reading of both clocks, each whole second formatted once.
        if checkTexts.count != count || checkTextsGeneration != runnerGeneration {
            let all: [HealthCheck] = slots.map { $0.map(\.check) } ?? checks.map(\.check)
            checkTexts = all.map { c in (c.service.option, c.server.description, c.target.description) }
            checkTextsGeneration = runnerGeneration
        }
        let texts = checkTexts
        let offset = Syscall.realtimeSeconds() - clock.now()
        var times = ISOTimes()
        func entry(_ i: Int, _ c: HealthCheck, _ st: CheckState) -> MonitorStateFile.Check {
            MonitorStateFile.Check(
                service: texts[i].service, server: texts[i].server, target: texts[i].target, type: c.kind.name,
                state: st.health.rawValue, since: times.format(st.since + offset), passes: st.passes, failures: st.failures,
                last_result: st.lastResult?.detail, last_passed: st.lastResult?.passed,
                last_time: st.lastTime.map { times.format($0 + offset, millis: true) },
                latency_ms: st.latency.map { ($0 * 1e6).rounded() / 1e3 },
                interval: c.interval, timeout: c.timeout, rise: c.rise, fall: c.fall, on_fail: c.onFail.rawValue)
        }
        let checkEntries: AnySequence<MonitorStateFile.Check>
        if let slots {
            checkEntries = AnySequence(slots.indices.lazy.map { entry($0, slots[$0].check, slots[$0].state) })
        } else {
            checkEntries = AnySequence(checks.indices.lazy.map { entry($0, checks[$0].check, checks[$0].state) })
        }
        let desired = lastDesired ?? DesiredTable.compute(monitor, checks: runner?.statuses ?? checks.map { CheckStatus(check: $0.check, state: $0.state) },
                                                          drained: drain.drained, now: clock.now())
        if configuredServers == nil {
            var c: [ServiceKey: [Endpoint: (server: RealServer, text: String)]] = [:]
            for e in monitor.config.entries { for d in e.servers { c[e.service.key, default: [:]][d.endpoint] = (d, d.endpoint.description) } }
            for s in monitor.sorry { c[s.service, default: [:]][s.server.endpoint] = (s.server, s.server.endpoint.description) }
            configuredServers = c
        }
        let configured = configuredServers ?? [:]
        let ready = ready
        let servers = desired.services.lazy.flatMap { s -> LazyMapSequence<[DesiredServer], MonitorStateFile.Server> in
            let option = s.service.key.option
            let conf = configured[s.service.key] ?? [:]
            return s.servers.lazy.map { d in
                let c = conf[d.server.endpoint]
                let base = c?.server ?? d.server
                return MonitorStateFile.Server(
                    service: option, server: c?.text ?? d.server.endpoint.description,
                    health: ready || d.isSorry ? d.health.rawValue : (d.health == .up ? "up" : "unknown"),
                    present: d.present, weight: d.server.weight, configured_weight: base.weight,
                    reason: d.reason, sorry: d.isSorry, forwarding: base.forwarding.jsonName,
                    upper_threshold: base.upperThreshold, lower_threshold: base.lowerThreshold)
            }
        }
        return (checkEntries, AnySequence(servers))
    }

    /// Writes the state file, streaming its entries (``stateEntries()``) into it.
    func writeStateFile() throws {
        let e = stateEntries()
        try MonitorStateFile.write(to: statePath, pid: Syscall.getpid(), file: spec.file, netns: spec.netns,
                                   started: isoTime(started), updated: isoTime(Syscall.realtimeSeconds(), millis: true),
                                   ready: ready, checks: e.checks, servers: e.servers, lines: monitor.lines)
    }

    func writeState(force: Bool) {
        let now = clock.now()
        let fresh = runner.map { $0.results != resultsWritten } ?? false
        guard force || (stateDirty && now - lastStateWrite >= stateWriteGap)
                || (fresh && now - lastStateWrite >= resultWriteGap) else { return }
        do {
            let results = runner?.results ?? 0
            let t0 = clock.now()
            try timed("state") { try writeStateFile() }
            let cost = clock.now() - t0
            resultWriteGap = max(Self.resultWriteInterval, 100 * cost)
            stateWriteGap = max(Self.stateWriteInterval, Self.stateWriteShare * cost)
            resultsWritten = results
            stateDirty = false
            lastStateWrite = now
        } catch {
            log("monitor: cannot write the state file: \(error)")
            lastStateWrite = now
        }
    }

    func event(stateChange c: StateChange) {
        guard eventsFD >= 0 else { return }
        var o = JSONLine()
        o.add("event", "state")
        o.add("time", isoTime(wall(c.time), millis: true))
        o.add("service", c.check.service.option)
        o.add("server", c.check.server.description)
        o.add("target", c.check.target.description)
        o.add("type", c.check.kind.name)
        o.add("old", c.old.rawValue)
        o.add("new", c.new.rawValue)
        o.add("detail", c.result.detail)
        o.add("passes", c.state.passes)
        o.add("failures", c.state.failures)
        if let l = c.result.latency { o.add("latency_ms", (l * 1e6).rounded() / 1e3) }
        o.add("message", c.description)
        writeEvent(o)
    }

    func event(correction c: Correction, failed: String?) {
        guard eventsFD >= 0 else { return }
        var o = JSONLine()
        o.add("event", "correction")
        o.add("time", isoTime(Syscall.realtimeSeconds(), millis: true))
        o.add("drift", c.drift)
        o.add("message", c.log)
        if let f = failed { o.add("error", f) }
        writeEvent(o)
    }

    func writeEvent(_ o: JSONLine) {
        let bytes = Array((o.text + "\n").utf8)
        if !bytes.withUnsafeBytes({ writeAll(eventsFD, $0) }) {
            log("monitor: --events \(spec.events ?? ""): \(Errno.current); no more events are written")
            if eventsFD > 2 { Syscall.close(eventsFD) }
            eventsFD = -1
        }
    }

    /// Runs `--on-change` for a state change, without a shell, with the change in `LVSCTL_*` variables.
    func runOnChange(_ c: StateChange) {
        guard let path = onChangeArgv.first else { return }
        var env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
        env += ["LVSCTL_EVENT=state", "LVSCTL_SERVICE=\(c.check.service.option)", "LVSCTL_SERVER=\(c.check.server)",
                "LVSCTL_TARGET=\(c.check.target)", "LVSCTL_CHECK=\(c.check.kind.name)", "LVSCTL_OLD=\(c.old)",
                "LVSCTL_NEW=\(c.new)", "LVSCTL_DETAIL=\(c.result.detail)", "LVSCTL_MESSAGE=\(c.description)"]
        switch spawnProgram(path, onChangeArgv, environment: env) {
        case .success(let pid): children.insert(pid)
        case .failure(let e): log("monitor: --on-change \(path): cannot start: \(e)")
        }
    }

    /// Reaps finished `--on-change` programs (only ours: the checker reaps its own).
    func reap() {
        children = children.filter { !Syscall.reapIfExited($0) }
    }

    /// Tells systemd (Type=notify) about the daemon's state, when it runs under it.
    func notifySystemd(_ text: String) { Syscall.notifySystemd(text) }
}

/// One JSON object written on one line, with its keys in the order added.
struct JSONLine {
    var parts: [String] = []
    mutating func add(_ k: String, _ v: String) { parts.append("\(jsonString(k)):\(jsonString(v))") }
    mutating func add(_ k: String, _ v: Int) { parts.append("\(jsonString(k)):\(v)") }
    mutating func add(_ k: String, _ v: Double) { parts.append("\(jsonString(k)):\(v)") }
    mutating func add(_ k: String, _ v: Bool) { parts.append("\(jsonString(k)):\(v)") }
    var text: String { "{" + parts.joined(separator: ",") + "}" }
}

/// A JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}
