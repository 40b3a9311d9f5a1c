import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import LVSCore
import LVSKit

/// `lvsctl monitor FILE | status | once FILE`: the health-check daemon and its two helpers.
struct Monitor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Health-check the real servers of a file and keep the table right: a dead server stops getting traffic.",
        discussion: """
        'lvsctl monitor FILE' applies FILE as 'apply' does, then runs its check lines: a server that fails is \
        quiesced (weight 0) or removed, and gets its weight back when it recovers; sorry lines stand in while no \
        server is up. It reads the kernel back every second and puts hand changes back.
        Example: lvsctl monitor /etc/lvsctl/lvsctl.conf
        ipvsadm equivalent: none (keepalived, ldirectord or Piranha's nanny; see Documentation/health-checks.md)
        """,
        subcommands: [Run.self, Status.self, Once.self],
        defaultSubcommand: Run.self)

    /// `lvsctl monitor [run] FILE`: the daemon, in the foreground.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run the monitor in the foreground (the default: 'lvsctl monitor FILE').",
            discussion: """
            SIGHUP re-reads FILE (a bad file is refused, the running configuration kept); SIGTERM and SIGINT exit 0 \
            and leave the table as it is. State changes are logged on stderr; the state is in \
            /run/lvsctl/monitor.json ('lvsctl monitor status').
            Example: lvsctl monitor /etc/lvsctl/lvsctl.conf --events /var/log/lvsctl-events.json
            ipvsadm equivalent: none
            """)
        @Argument(help: "The configuration file, with check and sorry lines.") var file: String
        @Option(name: .customLong("events"), help: "Also write every change as a JSON line to this file ('-': standard output).")
        var events: String?
        @Option(name: .customLong("on-change"), help: "Run 'PROGRAM ARG...' (no shell) on every change of state, with LVSCTL_* variables.")
        var onChange: String?
        @Flag(name: .customLong("restore-on-exit"), help: "On SIGTERM/SIGINT, put every quiesced server back to its configured weight first.")
        var restoreOnExit = false
        @Option(name: .customLong("wait"), help: "Seconds to wait for another lvsctl command to finish (default 30).")
        var wait: Double = 30
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let f = try Loader.read(file)
            var spec = MonitorSpec(file: file)
            spec.events = events
            spec.onChange = onChange
            spec.restoreOnExit = restoreOnExit
            spec.wait = wait
            spec.netns = global.netns
            if let e = events, e.isEmpty { throw UsageError("invalid --events '' (a file, or - for standard output)") }
            let signals = try MonitorDaemon.blockSignals()
            let client = try global.client()
            if let other = MonitorStateFile.running(netns: global.netns), other.pid != Syscall.getpid() {
                throw SystemError("a monitor already runs in this namespace (pid \(other.pid), file \(other.file))")
            }
            let wake: Int32
            switch Syscall.eventfd() {
            case .success(let fd): wake = fd
            case .failure(let e): throw SystemError("eventfd: \(e)")
            }
            Syscall.raiseOpenFileLimit()
            let engine = try CheckEngine(http: MonitorConfig(f).checks.contains(where: \.usesCurl))
            defer { engine.shutdown() }
            let daemon = try MonitorDaemon(spec: spec, file: f, client: client, checker: engine, log: monitorLog)
            try daemon.run(signalFD: signals, wakeFD: wake, file: f)
        }
    }

    /// `lvsctl monitor status [--json]`.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show the running monitor's checks and servers (from its state file).",
            discussion: "Exits 1 when no monitor runs in this namespace.\nExample: lvsctl monitor status --json\nipvsadm equivalent: none")
        @OptionGroup var output: OutputOptions
        @Option(name: .of(.netns, Options.global), help: .of(.netns, Options.global)) var netns: String?

        func run() throws {
            let path = monitorStatePath(netns: netns)
            let state = try MonitorStateFile.read(path)
            let running = state?.running ?? false
            if output.json {
                struct Doc: Encodable { var schema = jsonSchemaVersion; var running: Bool; var state: MonitorStateFile? }
                try printJSON(Doc(running: running, state: running ? state : nil))
                if !running { throw ExitCode(1) }
                return
            }
            guard let s = state, running else {
                if let s = state {
                    throw SystemError("no monitor runs: \(path) was left by pid \(s.pid), which has ended (last written \(s.updated))")
                }
                throw SystemError("no monitor runs in this namespace (no \(path))")
            }
            emit(Self.text(s))
        }

        static func text(_ s: MonitorStateFile) -> String {
            var out = "monitor pid \(s.pid), file \(s.file), started \(s.started), \(s.ready ? "ready" : "first round running")\n"
            if !s.checks.isEmpty {
                out += "\nChecks:\n"
                let rows = s.checks.map { c -> [String] in
                    var last = c.last_result ?? "-"
                    if let l = c.latency_ms { last += " (\(l) ms)" }
                    return [c.service, c.server, "\(c.type) \(c.target)", c.state, c.since, last]
                }
                out += table(["SERVICE", "SERVER", "CHECK", "STATE", "SINCE", "LAST RESULT"], rows)
            }
            if !s.servers.isEmpty {
                out += "\nServers:\n"
                let rows = s.servers.map { d -> [String] in
                    [d.service, d.server + (d.sorry ? " (sorry)" : ""), d.health,
                     d.present ? "\(d.weight) of \(d.configured_weight)" : "removed", d.reason]
                }
                out += table(["SERVICE", "SERVER", "HEALTH", "WEIGHT", "WHY"], rows)
            }
            return out
        }
    }

    /// `lvsctl monitor once FILE [--json]`.
    struct Once: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "once",
            abstract: "Run every check of FILE once and print the results; change nothing.",
            discussion: "Exits 0 when every check passes, 1 otherwise: for trying a check line before deploying it.\nExample: lvsctl monitor once /etc/lvsctl/lvsctl.conf\nipvsadm equivalent: none")
        @Argument(help: "The configuration file, with check lines.") var file: String
        @OptionGroup var output: OutputOptions
        @Option(name: .of(.netns, Options.global), help: .of(.netns, Options.global)) var netns: String?

        func run() throws {
            let f = try Loader.read(file)
            let m = MonitorConfig(f)
            if m.checks.isEmpty { throw UsageError("\(file) has no check lines") }
            if let n = netns {
                guard !n.isEmpty, !n.contains("/"), n != ".", n != "..", n.utf8.allSatisfy({ $0 >= 32 && $0 != 127 }) else {
                    throw UsageError("invalid network namespace name \(shown(n)) (a name under /run/netns)")
                }
                try enterNetworkNamespace(n)
            }
            let results = try runOnce(m.checks)
            if output.json {
                struct Row: Encodable {
                    var service, server, target, type: String
                    var passed: Bool
                    var detail: String
                    var latency_ms: Double?
                }
                struct Doc: Encodable { var schema = jsonSchemaVersion; var checks: [Row] }
                try printJSON(Doc(checks: results.map { c, r in
                    Row(service: c.service.option, server: c.server.description, target: c.target.description, type: c.kind.name,
                        passed: r.passed, detail: r.detail, latency_ms: r.latency.map { ($0 * 1e6).rounded() / 1e3 })
                }))
            } else {
                var out = ""
                for (c, r) in results {
                    let ms = r.latency.map { " (\(($0 * 1e6).rounded() / 1e3) ms)" } ?? ""
                    out += "\(r.passed ? "up  " : "down") rs \(c.target) of \(c.service): \(r.detail)\(ms)\n"
                }
                emit(out)
            }
            if results.contains(where: { !$0.1.passed }) { throw ExitCode(1) }
        }

        /// Runs each check once, concurrently, each bounded by its timeout.
        func runOnce(_ checks: [HealthCheck]) throws -> [(HealthCheck, CheckResult)] {
            let wake: Int32
            switch Syscall.eventfd() {
            case .success(let fd): wake = fd
            case .failure(let e): throw SystemError("eventfd: \(e)")
            }
            let engine = try CheckEngine(http: checks.contains(where: \.usesCurl))
            defer { engine.shutdown() }
            let clock = SystemClock()
            let runner = CheckRunner(checks: checks, checker: engine, clock: clock, wake: { Syscall.signalEvent(wake) })
            while true {
                runner.step()
                if runner.firstRoundDone { break }
                let now = clock.now()
                _ = Syscall.waitReadable([wake], timeout: runner.nextWakeup.map { max(0, $0 - now) } ?? 1)
                Syscall.clearEvent(wake)
            }
            return runner.statuses.map { s in (s.check, s.state.lastResult ?? .fail("no result")) }
        }
    }
}

/// One log line of the monitor on stderr: with the time in front unless systemd's journal (which adds its own) takes it.
func monitorLog(_ line: String) {
    let text = Syscall.getenv("JOURNAL_STREAM") == nil ? "\(isoTime(Syscall.realtimeSeconds())) \(line)\n" : line + "\n"
    _ = text.withCString { fputs($0, stderr) }
}

/// Columns padded to their widest cell, two spaces apart.
func table(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() where i < widths.count - 1 { widths[i] = max(widths[i], c.count) } }
    func line(_ r: [String]) -> String {
        r.enumerated().map { i, c in i == r.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }.joined(separator: "  ") + "\n"
    }
    return line(header) + rows.map(line).joined()
}
