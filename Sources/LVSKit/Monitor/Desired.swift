import LVSCore

// The table the kernel should hold for the monitored services, from the configuration, the checks' states, the
// sorry servers, the drained servers and the time. A pure function: the reconciler (Reconcile.swift) compares its
// result with the kernel.
//
// The rules, per real server of a configured service:
// - No check: present with its configured weight.
// - Up (all of its checks up): its configured weight W; during slow start (see below) a weight climbing to W.
// - Down (any check down) or unknown (no check down, some not decided yet): weight 0 and kept (quiesce), or absent
//   when any of its checks says `--on-fail remove`. Unknown counts as down so that a server that fails its first
//   round never gets traffic; the daemon does its first reconcile once the first round is done
//   (``CheckRunner/firstRoundDone``).
// - Drained (administratively, issue #20): weight 0 whatever its checks say, present unless down with remove.
// - Slow start: only after a recovery (a check that went down -> up, not unknown -> up: a monitor restart does not
//   slow-start servers that were serving). With S = the largest `--slow-start` of its checks and e the seconds
//   since the server came up (its last check came up), the weight is 1 + floor((W - 1) * e / S): 1 at e = 0,
//   climbing linearly, never above W, and W from e = S on. A configured weight of 0 stays 0.
// - A sorry server is present, with its own weight, only while no other real server of its service is serving
//   (present with a weight above 0: up, or without checks at a weight above 0); absent as soon as one is. A sorry
//   line naming an endpoint that is also a configured real server is ignored (the configured server wins).

/// One real server as the monitor wants it.
public struct DesiredServer: Hashable, Sendable {
    /// The server with the weight the kernel should have (its other fields as configured).
    public var server: RealServer
    /// False when the server should not be in the service (down with `--on-fail remove`, or a sorry server not
    /// needed).
    public var present: Bool
    /// The server's health from its checks (up when it has none).
    public var health: Health
    /// Why it has this weight, for log lines: `up`, `down: ...`, `slow start: weight 3 of 10`, `drained`, ...
    public var reason: String
    /// True for a sorry server.
    public var isSorry: Bool
    /// Creates a desired server.
    public init(server: RealServer, present: Bool, health: Health, reason: String, isSorry: Bool = false) {
        self.server = server; self.present = present; self.health = health; self.reason = reason; self.isSorry = isSorry
    }
}

/// One monitored service as the monitor wants it.
public struct DesiredService: Hashable, Sendable {
    /// The service as configured.
    public var service: VirtualService
    /// Every server the monitor owns in it: the configured ones in file order, then the sorry servers.
    public var servers: [DesiredServer]
    /// Creates a desired service.
    public init(service: VirtualService, servers: [DesiredServer]) { self.service = service; self.servers = servers }
}

/// The table the kernel should hold for the monitored services.
public struct DesiredTable: Hashable, Sendable {
    /// The monitored services.
    public var services: [DesiredService]
    /// The next time a slow-start weight steps up (nil when none climbs): the daemon reconciles again then.
    public var nextChange: Double?
    /// Creates a table.
    public init(services: [DesiredService], nextChange: Double? = nil) { self.services = services; self.nextChange = nextChange }

    /// The servers present, as a ``ClusterConfig`` (entries only), e.g. for `apply --dry-run` or a plan printout.
    public var config: ClusterConfig {
        var c = ClusterConfig()
        c.entries = services.map { ServiceEntry(service: $0.service, servers: $0.servers.filter(\.present).map(\.server)) }
        return c
    }

    /// The desired state of one server, if the monitor owns it.
    public func server(_ ref: ServerRef) -> DesiredServer? {
        services.first { $0.service.key == ref.service }?.servers.first { $0.server.endpoint == ref.server }
    }

    /// The table for `configured` (the file's services with their configured weights), the checks with their
    /// states, the sorry servers, the drained servers, at clock time `now`. Checks and sorry lines of services
    /// that are not configured are ignored.
    public static func compute(configured: ClusterConfig, checks: [CheckStatus], sorry: [SorryServer] = [],
                               drained: Set<ServerRef> = [], now: Double) -> DesiredTable {
        var byServer: [ServerRef: [CheckStatus]] = [:]
        for c in checks { byServer[c.check.ref, default: []].append(c) }
        var sorryByService: [ServiceKey: [SorryServer]] = [:]
        for s in sorry { sorryByService[s.service, default: []].append(s) }
        var next: Double?
        var services: [DesiredService] = []
        services.reserveCapacity(configured.entries.count)
        for e in configured.entries {
            let key = e.service.key
            var servers: [DesiredServer] = []
            servers.reserveCapacity(e.servers.count)
            for d in e.servers {
                let ref = ServerRef(service: key, server: d.endpoint)
                var (want, step) = desired(d.config, checks: byServer[ref] ?? [], now: now)
                if let s = step { next = min(next ?? s, s) }
                if drained.contains(ref) && want.present {
                    want.server.weight = 0
                    want.reason = "drained"
                }
                servers.append(want)
            }
            let serving = servers.contains { $0.present && $0.server.weight > 0 }
            let configuredEndpoints = Set(e.servers.map(\.endpoint))
            var seen = Set<Endpoint>()
            for s in sorryByService[key] ?? [] where !configuredEndpoints.contains(s.server.endpoint) {
                guard seen.insert(s.server.endpoint).inserted else { continue }
                var d = s.server.config
                var reason = serving ? "sorry server: a real server is up" : "sorry server: no real server is up"
                if drained.contains(s.ref) { d.weight = 0; reason = "drained" }
                servers.append(DesiredServer(server: d, present: !serving, health: .up, reason: reason, isSorry: true))
            }
            services.append(DesiredService(service: e.service.config, servers: servers))
        }
        return DesiredTable(services: services, nextChange: next)
    }

    /// ``compute(configured:checks:sorry:drained:now:)`` for a ``MonitorConfig``.
    public static func compute(_ monitor: MonitorConfig, checks: [CheckStatus], drained: Set<ServerRef> = [],
                               now: Double) -> DesiredTable {
        compute(configured: monitor.config, checks: checks, sorry: monitor.sorry, drained: drained, now: now)
    }

    /// One configured server from its checks, and the next slow-start step, if any.
    static func desired(_ d: RealServer, checks: [CheckStatus], now: Double) -> (DesiredServer, Double?) {
        if checks.isEmpty { return (DesiredServer(server: d, present: true, health: .up, reason: "no check"), nil) }
        let health = Health.of(checks.map(\.state.health))
        var w = d
        switch health {
        case .up:
            // The server came up when its last check did; slow start applies when that was a recovery.
            guard let latest = checks.max(by: { $0.state.since < $1.state.since }) else { break }
            let s = checks.map(\.check.slowStart).max() ?? 0
            guard latest.state.recovered, s > 0, d.weight > 1 else {
                return (DesiredServer(server: d, present: true, health: .up, reason: "up"), nil)
            }
            let (weight, next) = slowStartWeight(d.weight, elapsed: now - latest.state.since, over: s)
            w.weight = weight
            let reason = weight < d.weight ? "slow start: weight \(weight) of \(d.weight)" : "up"
            return (DesiredServer(server: w, present: true, health: .up, reason: reason),
                    next.map { latest.state.since + $0 })
        case .down, .unknown:
            break
        }
        let remove = checks.contains { $0.check.onFail == .remove }
        w.weight = 0
        let reason: String
        if health == .down, let failing = checks.first(where: { $0.state.health == .down }) {
            reason = "down: " + (failing.state.lastResult?.detail ?? "failed")
        } else {
            reason = "not checked yet"
        }
        return (DesiredServer(server: w, present: !remove, health: health, reason: reason), nil)
    }

    /// The slow-start weight for configured weight `w` (above 1) `elapsed` seconds into a slow start of `s`
    /// seconds, and the elapsed time of the next step (nil once the full weight is reached).
    public static func slowStartWeight(_ w: Int32, elapsed: Double, over s: Double) -> (weight: Int32, nextStep: Double?) {
        guard w > 1, s > 0, elapsed < s else { return (w, nil) }
        let span = Double(w - 1)
        // The epsilon keeps a step's own time on the new weight despite rounding, so the daemon never wakes at a
        // step to find the old weight (and schedules the same time again).
        let k = Int32(max(0, (span * max(0, elapsed) / s + 1e-9).rounded(.down)))
        let weight = min(w, 1 + k)
        if weight >= w { return (w, nil) }
        return (weight, min(s, Double(k + 1) * s / span))
    }
}
