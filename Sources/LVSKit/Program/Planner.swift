import LVSCore
#if canImport(Glibc)
import Glibc
#endif

/// Turns a running and a desired state into IPVS requests, and requests into their inverses for rollback.
public enum Planner {
    /// Requests that make `current` equal to `desired` with the fewest changes: edits in place where the kernel
    /// allows (so live connections survive), deletes and adds otherwise.
    public static func diff(from current: ClusterConfig, to desired: ClusterConfig) -> [IPVSRequest] {
        var out: [IPVSRequest] = []
        var cur: [ServiceKey: ServiceEntry] = [:]
        for e in current.entries { cur[e.service.key] = e }
        let want = Set(desired.entries.map(\.service.key))
        for e in current.entries where !want.contains(e.service.key) { out.append(.deleteService(e.service.key)) }
        var destOps: [IPVSRequest] = []
        for e in desired.entries {
            let k = e.service.key
            if let c = cur[k] {
                if c.service.config != e.service.config { out.append(.editService(e.service)) }
                var have: [Endpoint: RealServer] = [:]
                for d in c.servers { have[d.endpoint] = d }
                let wantD = Set(e.servers.map(\.endpoint))
                for d in c.servers where !wantD.contains(d.endpoint) { destOps.append(.deleteDest(k, d.endpoint)) }
                for d in e.servers {
                    if let h = have[d.endpoint] {
                        if h.config != d.config { destOps.append(.editDest(k, d)) }
                    } else { destOps.append(.addDest(k, d)) }
                }
            } else {
                out.append(.addService(e.service))
                for d in e.servers { destOps.append(.addDest(k, d)) }
            }
        }
        out += destOps
        if let t = desired.timeouts, t != current.timeouts { out.append(.setTimeouts(t)) }
        for d in current.daemons where !desired.daemons.contains(where: { d.satisfies($0) }) { out.append(.stopDaemon(d.state)) }
        for d in desired.daemons where !current.daemons.contains(where: { $0.satisfies(d) }) { out.append(.startDaemon(d)) }
        return out
    }

    /// Requests that load `desired` after a flush (ipvsadm-restore's way).
    public static func load(_ desired: ClusterConfig, flush: Bool, current: ClusterConfig) -> [IPVSRequest] {
        var out: [IPVSRequest] = []
        // One allocation for the whole plan: growing it by doubling copied every request (large enum payloads)
        // about twice over, 2.4 % of a 1,000-service restore's instructions.
        var servers = 0
        for e in desired.entries { servers += e.servers.count }
        out.reserveCapacity(1 + desired.entries.count + servers + desired.daemons.count + 1 + current.daemons.count)
        if flush { out.append(.flush) }
        for e in desired.entries { out.append(.addService(e.service)) }
        for e in desired.entries { for d in e.servers { out.append(.addDest(e.service.key, d)) } }
        if let t = desired.timeouts, t != current.timeouts { out.append(.setTimeouts(t)) }
        for d in current.daemons where flush && !desired.daemons.contains(where: { d.satisfies($0) }) { out.append(.stopDaemon(d.state)) }
        for d in desired.daemons where !current.daemons.contains(where: { $0.satisfies(d) }) { out.append(.startDaemon(d)) }
        return out
    }

    /// The requests that undo `r`, given the state before it ran.
    public static func inverse(of r: IPVSRequest, before s: ClusterConfig) -> [IPVSRequest] {
        func entry(_ k: ServiceKey) -> ServiceEntry? { s.index(of: k).map { s.entries[$0] } }
        switch r {
        case .addService(let v): return [.deleteService(v.key)]
        case .editService(let v): return entry(v.key).map { [.editService($0.service)] } ?? []
        case .deleteService(let k):
            guard let e = entry(k) else { return [] }
            return [.addService(e.service)] + e.servers.map { .addDest(k, $0) }
        case .addDest(let k, let d): return [.deleteDest(k, d.endpoint)]
        case .editDest(let k, let d):
            return entry(k)?.servers.first { $0.endpoint == d.endpoint }.map { [.editDest(k, $0)] } ?? []
        case .deleteDest(let k, let ep):
            return entry(k)?.servers.first { $0.endpoint == ep }.map { [.addDest(k, $0)] } ?? []
        case .setTimeouts: return s.timeouts.map { [.setTimeouts($0)] } ?? []
        case .startDaemon(let d): return [.stopDaemon(d.state)]
        case .stopDaemon(let st): return s.daemons.filter { $0.state == st }.map { .startDaemon($0) }
        case .flush: return [.flush] + load(s, flush: false, current: s).filter { if case .setTimeouts = $0 { return false }; return true }
        case .zero: return []
        }
    }

    /// A readable line for a plan printout, in the lvsctl grammar.
    public static func describe(_ r: IPVSRequest) -> String {
        switch r {
        case .addService(let s): return "+ vs add " + LVSCtlFormat.serviceArguments(s)
        case .editService(let s): return "~ vs edit " + LVSCtlFormat.serviceArguments(s)
        case .deleteService(let k): return "- vs delete \(k)"
        case .addDest(let k, let d): return "+ rs add \(k) " + LVSCtlFormat.serverArguments(d)
        case .editDest(let k, let d): return "~ rs edit \(k) " + LVSCtlFormat.serverArguments(d)
        case .deleteDest(let k, let e): return "- rs delete \(k) -r \(e)"
        case .setTimeouts(let t): return "~ timeout set --tcp \(t.tcp) --tcpfin \(t.tcpFin) --udp \(t.udp)"
        case .startDaemon(let d): return "+ daemon start " + LVSCtlFormat.daemonArguments(d)
        case .stopDaemon(let s): return "- daemon stop \(s)"
        case .zero(let k): return "~ zero" + (k.map { " \($0)" } ?? "")
        case .flush: return "- clear"
        }
    }
}

/// A change that the kernel refused part-way; everything already done was undone (or, if not, says so).
public struct ApplyError: Error, CustomStringConvertible {
    /// The refusal.
    public var underlying: IPVSError
    /// The source line of the refused request, when known.
    public var line: String?
    /// True when the rollback itself succeeded.
    public var rolledBack: Bool
    /// Rollback requests the kernel refused, if any.
    public var rollbackFailures: [IPVSError] = []
    /// `FILE:LINE: ` (when known), the kernel refusal, and whether the rollback succeeded.
    public var description: String {
        var s = (line.map { "\($0): " } ?? "") + underlying.description
        s += rolledBack ? "; rolled back, nothing changed" : "; ROLLBACK INCOMPLETE: \(rollbackFailures.map(\.description).joined(separator: "; "))"
        return s
    }
}

/// An apply stopped by SIGINT or SIGTERM, after rolling back.
public struct InterruptedError: Error, CustomStringConvertible {
    /// True when the rollback succeeded.
    public var rolledBack: Bool
    /// Whether the interrupted apply was rolled back.
    public var description: String {
        rolledBack ? "interrupted; rolled back, nothing changed" : "interrupted; ROLLBACK INCOMPLETE"
    }
}

/// Runs a plan with rollback: validate-first callers hand over only well-formed requests.
public struct Executor {
    /// The client: an ``IPVSClient``, or a test's fake kernel (called once per batch, not per request).
    public let client: any IPVSControl
    /// Creates an executor.
    public init(client: any IPVSControl) { self.client = client }

    /// Sends `plan` pipelined; if the kernel refuses a request (or `interrupted()` turns true), undoes every
    /// request that succeeded, newest first, and throws. `lineOf` names the source line of a request index.
    public func run(_ plan: [IPVSRequest], before: ClusterConfig, lineOf: (Int) -> String? = { _ in nil },
                    interrupted: @escaping () -> Bool = { false }) throws {
        let r = try client.execute(plan, stopOnError: true, shouldStop: interrupted)
        if r.ok && r.sent == plan.count { return }
        let undo = r.succeeded.reversed().flatMap { Planner.inverse(of: plan[$0], before: before) }
        let u = try client.execute(undo, stopOnError: false)
        let rbFailures = u.failures.map { IPVSError(request: undo[$0.index], errno: $0.errno) }
        if let f = r.failures.first {
            throw ApplyError(underlying: IPVSError(request: plan[f.index], errno: f.errno), line: lineOf(f.index),
                             rolledBack: rbFailures.isEmpty, rollbackFailures: rbFailures)
        }
        throw InterruptedError(rolledBack: rbFailures.isEmpty)
    }
}
