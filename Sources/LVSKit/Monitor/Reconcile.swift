#if canImport(Glibc)
import Glibc
#endif
import LVSCore

// "The kernel is the truth": every cycle the daemon reads the table back and the reconciler corrects it towards the
// desired table (Desired.swift), one request and one log line per correction.
//
// What the monitor owns, and so corrects:
// - the existence of each monitored service (one deleted by hand is added again, as configured, with its servers);
// - the existence and the weight of each configured real server and sorry server of a monitored service.
// What it leaves alone: services that are not monitored; real servers of a monitored service that are neither
// configured nor sorry servers (added by hand); the other fields of a server that is in the kernel (forwarding,
// thresholds, tunnel: an edit sends the kernel's own values with only the weight changed); the settings of a
// service that exists (scheduler, persistence: `apply` and SIGHUP own those).
//
// Drift: the reconciler remembers what it last left each owned server at. A kernel value that differs from that
// memory was changed by someone else, and its correction is logged as drift ("set by hand"); a difference that only
// comes from a new desired value (a state change) is logged with its reason.

/// One request that corrects the kernel, with its log line.
public struct Correction: Hashable, Sendable, CustomStringConvertible {
    /// The request.
    public var request: IPVSRequest
    /// One line for the log, e.g. `rs 192.0.2.11:80 of -t 192.0.2.10:80: weight 5 -> 0 (down: connection refused)`.
    public var log: String
    /// True when it undoes a change made by someone else (a hand edit, `ipvsadm`), not a state change.
    public var drift: Bool
    /// Creates a correction.
    public init(request: IPVSRequest, log: String, drift: Bool) { self.request = request; self.log = log; self.drift = drift }
    /// The log line.
    public var description: String { log }
}

/// A correction the kernel refused.
public struct CorrectionFailure: Hashable, Sendable, CustomStringConvertible {
    /// The correction.
    public var correction: Correction
    /// The refusal.
    public var error: IPVSError
    /// Creates a failure.
    public init(correction: Correction, error: IPVSError) { self.correction = correction; self.error = error }
    /// `LOG LINE: failed: REFUSAL`.
    public var description: String { "\(correction.log): failed: \(error)" }
}

/// What one reconcile did.
public struct ReconcileResult: Hashable, Sendable {
    /// Every correction sent, in order.
    public var corrections: [Correction] = []
    /// The corrections the kernel refused (the others were applied).
    public var failures: [CorrectionFailure] = []
    /// Creates a result.
    public init(corrections: [Correction] = [], failures: [CorrectionFailure] = []) {
        self.corrections = corrections; self.failures = failures
    }
    /// The corrections the kernel accepted.
    public var applied: [Correction] {
        let bad = Set(failures.map(\.correction))
        return corrections.filter { !bad.contains($0) }
    }
    /// True when nothing was refused.
    public var ok: Bool { failures.isEmpty }
}

/// Compares the desired table of the monitored services with the kernel's and corrects the kernel, remembering
/// what it left each owned server at to tell drift from state changes. A value owned by the daemon's loop.
public struct Reconciler: Sendable {
    /// What the reconciler believes the kernel holds for a server it owns.
    enum Seen: Hashable, Sendable { case absent, weight(Int32) }
    /// Per owned server: what it was left at after the last reconcile.
    var memory: [ServerRef: Seen] = [:]
    /// The monitored services it last left present.
    var services: Set<ServiceKey> = []
    /// The desired table the memory was last rebuilt from, when every server was left as desired: a reconcile
    /// that sends nothing for the same table would rebuild the same memory, so it is skipped (the daemon
    /// reconciles every second; most rounds change nothing).
    var remembered: DesiredTable?

    /// A reconciler with no memory: its first corrections are never counted as drift.
    public init() {}

    /// The corrections that make `kernel` (as ``IPVSControl/table(_:stats:)`` returns it) hold `desired`:
    /// service adds first, then server adds and weight edits, then server deletes (so a sorry server comes in
    /// before the last real server goes).
    public func plan(_ desired: DesiredTable, kernel: [ServiceEntry]) -> [Correction] {
        var running: [ServiceKey: ServiceEntry] = [:]
        for e in kernel { running[e.service.key] = e }
        var serviceAdds: [Correction] = [], changes: [Correction] = [], deletes: [Correction] = []
        for s in desired.services {
            let key = s.service.key
            guard let k = running[key] else {
                let drift = services.contains(key)
                serviceAdds.append(Correction(
                    request: .addService(s.service),
                    log: drift ? "vs \(key): corrected drift: service deleted by hand, added again"
                               : "vs \(key): added (missing from the kernel)",
                    drift: drift))
                for d in s.servers where d.present {
                    let ref = ServerRef(service: key, server: d.server.endpoint)
                    changes.append(Correction(request: .addDest(key, d.server),
                                              log: "\(ref): added with weight \(d.server.weight) (\(d.reason))", drift: false))
                }
                continue
            }
            var have: [Endpoint: RealServer] = [:]
            for d in k.servers { have[d.endpoint] = d }
            for d in s.servers {
                let ref = ServerRef(service: key, server: d.server.endpoint)
                let seen = memory[ref]
                switch (d.present, have[d.server.endpoint]) {
                case (true, nil):
                    if case .weight = seen {
                        changes.append(Correction(request: .addDest(key, d.server),
                                                  log: "\(ref): corrected drift: deleted by hand, added again with weight \(d.server.weight) (\(d.reason))",
                                                  drift: true))
                    } else {
                        changes.append(Correction(request: .addDest(key, d.server),
                                                  log: "\(ref): added with weight \(d.server.weight) (\(d.reason))", drift: false))
                    }
                case (true, let cur?) where cur.weight != d.server.weight:
                    var edited = cur.config
                    edited.weight = d.server.weight
                    if let seen, seen != .weight(cur.weight) {
                        changes.append(Correction(request: .editDest(key, edited),
                                                  log: "\(ref): corrected drift: weight \(cur.weight) set by hand -> \(d.server.weight) (\(d.reason))",
                                                  drift: true))
                    } else {
                        changes.append(Correction(request: .editDest(key, edited),
                                                  log: "\(ref): weight \(cur.weight) -> \(d.server.weight) (\(d.reason))", drift: false))
                    }
                case (false, _?):
                    if seen == .absent {
                        deletes.append(Correction(request: .deleteDest(key, d.server.endpoint),
                                                  log: "\(ref): corrected drift: added by hand, removed again (\(d.reason))", drift: true))
                    } else {
                        deletes.append(Correction(request: .deleteDest(key, d.server.endpoint),
                                                  log: "\(ref): removed (\(d.reason))", drift: false))
                    }
                default:
                    break
                }
            }
        }
        return serviceAdds + changes + deletes
    }

    /// Sends `corrections` as one batch without stopping at a refusal (`execute(_:stopOnError: false)`), so one
    /// refused request never holds back the others, and remembers the result: the desired value where the request
    /// was accepted (or none was needed), the value read in `kernel` where it was refused. Throws only when the
    /// batch could not be sent at all (the memory of its servers is then forgotten, so nothing counts as drift).
    ///
    /// `partial`: `desired` holds only some of the monitored services (``reconcile(_:only:client:)``): the memory of
    /// the others is kept as it is.
    public mutating func apply(_ corrections: [Correction], desired: DesiredTable, kernel: [ServiceEntry],
                               client: any IPVSControl, partial: Bool = false) throws -> ReconcileResult {
        let requests = corrections.map(\.request)
        var refused: [Int: Int32] = [:]
        var sent = corrections.count
        if !requests.isEmpty {
            do {
                let r = try client.execute(requests, stopOnError: false, shouldStop: { false })
                for f in r.failures { refused[f.index] = f.errno }
                sent = r.sent
            } catch {
                remembered = nil
                for s in desired.services {
                    services.remove(s.service.key)
                    for d in s.servers { memory[ServerRef(service: s.service.key, server: d.server.endpoint)] = nil }
                }
                throw error
            }
        }
        var result = ReconcileResult(corrections: corrections)
        if corrections.isEmpty, let r = remembered, r == desired { return result }
        var failedRefs = Set<ServerRef>(), failedServices = Set<ServiceKey>()
        for (i, c) in corrections.enumerated() where refused[i] != nil || i >= sent {
            switch c.request {
            case .addService(let s): failedServices.insert(s.key)
            case .addDest(let k, let d), .editDest(let k, let d): failedRefs.insert(ServerRef(service: k, server: d.endpoint))
            case .deleteDest(let k, let e): failedRefs.insert(ServerRef(service: k, server: e))
            default: break
            }
            if let e = refused[i] { result.failures.append(CorrectionFailure(correction: c, error: IPVSError(request: c.request, errno: e))) }
        }
        remember(desired, kernel: kernel, failedRefs: failedRefs, failedServices: failedServices, partial: partial)
        remembered = failedRefs.isEmpty && failedServices.isEmpty ? desired : nil
        return result
    }

    /// Reads the table from `client`, plans and applies: one daemon cycle's correction. Throws when the table
    /// cannot be read or the batch not sent; refusals are in the result.
    public mutating func reconcile(_ desired: DesiredTable, client: any IPVSControl) throws -> ReconcileResult {
        let kernel = try client.table(nil, stats: false)
        return try apply(plan(desired, kernel: kernel), desired: desired, kernel: kernel, client: client)
    }

    /// Corrects only the services `only` of `desired`, reading back only their real servers (one dump each, no
    /// service dump): the daemon's answer to a change of state, which concerns a few services, between two full
    /// reconciles. The memory of the other services is kept. Throws when a service cannot be read (deleted by
    /// hand?): the caller then does a full reconcile, which adds it again.
    public mutating func reconcile(_ desired: DesiredTable, only: Set<ServiceKey>, client: any IPVSControl) throws -> ReconcileResult {
        let part = DesiredTable(services: desired.services.filter { only.contains($0.service.key) }, nextChange: desired.nextChange)
        var kernel: [ServiceEntry] = []
        for s in part.services { kernel.append(ServiceEntry(service: s.service, servers: try client.destinations(of: s.service.key, stats: false))) }
        let corrections = plan(part, kernel: kernel)
        let r = try apply(corrections, desired: part, kernel: kernel, client: client, partial: true)
        remembered = nil  // the next full reconcile rebuilds the memory from the whole table
        return r
    }

    /// Updates the memory after a batch: desired values, except where a request failed (the kernel's values).
    mutating func remember(_ desired: DesiredTable, kernel: [ServiceEntry], failedRefs: Set<ServerRef>,
                           failedServices: Set<ServiceKey>, partial: Bool = false) {
        var running: [ServiceKey: [Endpoint: RealServer]] = [:]
        for e in kernel {
            var m: [Endpoint: RealServer] = [:]
            for d in e.servers { m[d.endpoint] = d }
            running[e.service.key] = m
        }
        // Rebuilt from the desired table, so servers and services no longer configured (after a reload) are forgotten;
        // updated in place for a part of it.
        var m: [ServerRef: Seen] = partial ? memory : [:]
        var present = partial ? services : Set<ServiceKey>()
        if partial { memory = [:]; services = [] }  // m and present hold the only references: updated in place
        for s in desired.services {
            let key = s.service.key
            let serviceFailed = failedServices.contains(key)
            if !serviceFailed { present.insert(key) } else { present.remove(key) }
            for d in s.servers {
                let ref = ServerRef(service: key, server: d.server.endpoint)
                if serviceFailed || failedRefs.contains(ref) {
                    m[ref] = running[key]?[d.server.endpoint].map { .weight($0.weight) } ?? .absent
                } else {
                    m[ref] = d.present ? .weight(d.server.weight) : .absent
                }
            }
        }
        memory = m
        services = present
    }
}
