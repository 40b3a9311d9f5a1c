import LVSCore

// The state of one check: up or down with rise/fall counters, "unknown" until its first result. Pure values; the
// scheduler (Scheduler.swift) owns one per check and feeds it results. Times are in the monitor clock's seconds
// (``MonitorClock``, monotonic): a state file converts them to wall-clock time when it writes them.

/// The health of a check or a server.
public enum Health: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Not checked yet: the first result decides.
    case unknown
    /// Passing (or failed fewer than `fall` times in a row since it last was up).
    case up
    /// Failing (or passed fewer than `rise` times in a row since it last was down).
    case down
    /// `unknown`, `up` or `down`.
    public var description: String { rawValue }

    /// A server's health from its checks' health: up only while all are up, down while any is down, unknown
    /// otherwise (some not decided yet, none down). A server without checks is up.
    public static func of(_ checks: [Health]) -> Health {
        if checks.contains(.down) { return .down }
        return checks.allSatisfy { $0 == .up } ? .up : .unknown
    }
}

/// The outcome of one run of a check, as a checker reports it.
public struct CheckResult: Hashable, Sendable, CustomStringConvertible {
    /// True when the server answered as expected.
    public var passed: Bool
    /// What happened, in words, e.g. `http GET / on port 80: status 200` or `connect: connection refused`.
    public var detail: String
    /// Seconds the check took, when the checker measured it; nil lets the scheduler measure it.
    public var latency: Double?
    /// Creates a result.
    public init(passed: Bool, detail: String, latency: Double? = nil) {
        self.passed = passed; self.detail = detail; self.latency = latency
    }
    /// A pass.
    public static func pass(_ detail: String = "ok", latency: Double? = nil) -> CheckResult {
        CheckResult(passed: true, detail: detail, latency: latency)
    }
    /// A failure.
    public static func fail(_ detail: String, latency: Double? = nil) -> CheckResult {
        CheckResult(passed: false, detail: detail, latency: latency)
    }
    /// The failure of a run that did not complete by its deadline: `timeout after 3 s`.
    public static func timeout(after seconds: Double) -> CheckResult {
        CheckResult(passed: false, detail: "timeout after \(formatSeconds(seconds)) s", latency: seconds)
    }
    /// The detail.
    public var description: String { detail }
}

/// One check's state machine: the first result decides (pass: up, fail: down); afterwards an up check goes down
/// after `fall` failures in a row and a down check comes up after `rise` passes in a row.
public struct CheckState: Hashable, Sendable {
    /// Up, down, or unknown before the first result.
    public private(set) var health: Health = .unknown
    /// Passes in a row (0 after a failure).
    public private(set) var passes = 0
    /// Failures in a row (0 after a pass).
    public private(set) var failures = 0
    /// When ``health`` last changed (or when the state was created, while unknown).
    public private(set) var since: Double
    /// The last result, nil before the first.
    public private(set) var lastResult: CheckResult?
    /// When the last result came in.
    public private(set) var lastTime: Double?
    /// True when the check's last change to up came from down (a recovery, which slow start applies to), false
    /// when it came from unknown (the first round: the server was serving before the monitor started).
    public private(set) var recovered = false

    /// A state that is unknown since `since`.
    public init(since: Double) { self.since = since }

    /// The latency of the last result, when it has one.
    public var latency: Double? { lastResult?.latency }

    /// Records `result` at time `t`; returns the previous health when it changed, else nil. `rise` and `fall`
    /// below 1 count as 1.
    @discardableResult
    public mutating func record(_ result: CheckResult, at t: Double, rise: Int, fall: Int) -> Health? {
        lastResult = result
        lastTime = t
        if result.passed { passes += 1; failures = 0 } else { failures += 1; passes = 0 }
        let old = health
        switch health {
        case .unknown: health = result.passed ? .up : .down
        case .up: if failures >= max(1, fall) { health = .down }
        case .down: if passes >= max(1, rise) { health = .up }
        }
        guard health != old else { return nil }
        since = t
        recovered = old == .down && health == .up
        return old
    }
}

/// A check with its state: one row of `monitor status`.
public struct CheckStatus: Hashable, Sendable {
    /// The check.
    public var check: HealthCheck
    /// Its state.
    public var state: CheckState
    /// Creates a status.
    public init(check: HealthCheck, state: CheckState) { self.check = check; self.state = state }
}

/// Seconds as the log lines write them: `3`, `0.5`, `2.25`.
func formatSeconds(_ s: Double) -> String {
    if s.isFinite, s == s.rounded(), abs(s) < 1e15 { return String(Int64(s)) }
    let ms = (s * 1000).rounded() / 1000
    return ms == ms.rounded() && abs(ms) < 1e15 ? String(Int64(ms)) : "\(ms)"
}
