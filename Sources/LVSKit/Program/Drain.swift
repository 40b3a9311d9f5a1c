#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import LVSCore

// `rs drain` and `rs undrain` (issue #20). Draining a real server: weight 0 at once (new connections go elsewhere,
// established ones carry on), the weight it had recorded in the namespace's drain state file, then a wait until the
// kernel's connection table holds nothing of it: no active or inactive TCP/SCTP connection, no UDP entry (UDP never
// shows as active in `ipvsadm -Ln`) and no persistence template (which would send a returning client back to it).
// `undrain` puts the recorded weight back and drops the record.
//
// The state file (`/run/lvsctl/drain.json`, `drain-NS.json` for `--netns NS`) is what a running `lvsctl monitor` of
// the namespace reads (again whenever it changes) to keep drained servers at weight 0 whatever their checks say, and
// what `save` reads to write a drained server's recorded weight rather than the kernel's 0.

/// The drain state file's path for a network namespace (nil: the current one), named as the monitor's state file is.
public func drainStatePath(netns: String?) -> String {
    if let env = Syscall.getenv("LVSCTL_DRAIN_STATE"), !env.isEmpty { return env }
    return netns.map { "/run/lvsctl/drain-\($0).json" } ?? "/run/lvsctl/drain.json"
}

/// The drained servers of a namespace with the weights to put back (JSON, schema 1; written atomically).
public struct DrainStateFile: Codable, Hashable, Sendable {
    /// The schema version.
    public var schema = jsonSchemaVersion
    /// The drained servers, oldest first.
    public var servers: [Record]

    /// One drained server.
    public struct Record: Codable, Hashable, Sendable {
        /// The service (`-t 192.0.2.10:80`, `-f 1`).
        public var service: String
        /// The real server as the kernel holds it (`ADDR:PORT`, port 0 under a fwmark service).
        public var server: String
        /// The weight `undrain` puts back: the server's weight when it was drained (its configured weight when a
        /// monitor of the namespace owned it).
        public var weight: Int32
        /// When it was drained (UTC, ISO 8601).
        public var since: String
        /// Creates a record.
        public init(ref: ServerRef, weight: Int32, since: String) {
            service = ref.service.option; server = ref.server.description; self.weight = weight; self.since = since
        }
        /// The server it names; nil when the file was edited into something that does not parse.
        public var ref: ServerRef? {
            guard let key = ServiceKey(option: service), let (a, p) = try? Endpoint.parse(server) else { return nil }
            return ServerRef(service: key, server: Endpoint(address: a, port: p ?? 0))
        }
    }

    /// Creates a state.
    public init(servers: [Record] = []) { self.servers = servers }

    /// The record of `ref`, if it is drained.
    public func record(_ ref: ServerRef) -> Record? { servers.first { $0.ref == ref } }
    /// Every drained server.
    public var refs: Set<ServerRef> { Set(servers.compactMap(\.ref)) }
    /// Drops the record of `ref` and returns it.
    @discardableResult
    public mutating func remove(_ ref: ServerRef) -> Record? {
        guard let i = servers.firstIndex(where: { $0.ref == ref }) else { return nil }
        return servers.remove(at: i)
    }

    /// Reads the file at `path`: empty when there is none; throws when it is not a drain state file.
    public static func read(_ path: String) throws -> DrainStateFile {
        let fd: Int32
        switch Syscall.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) {
        case .success(let d): fd = d
        case .failure(.noSuchFileOrDirectory): return DrainStateFile()
        case .failure(let e): throw SystemError("cannot read \(path): \(e)")
        }
        defer { Syscall.close(fd) }
        let data = Data(readToEnd(fd) ?? [])
        do { return try JSONDecoder().decode(DrainStateFile.self, from: data) } catch {
            throw SystemError("\(path) is not an lvsctl drain state file")
        }
    }

    /// Writes it to `path` atomically (mode 0644), creating the directories; removes the file when no server is drained.
    public func write(_ path: String) throws {
        if servers.isEmpty {
            switch Syscall.unlink(path) {
            case .success, .failure(.noSuchFileOrDirectory): return
            case .failure(let e): throw SystemError("cannot remove \(path): \(e)")
            }
        }
        try makeParentDirectories(path)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try writeFileAtomically(path, String(decoding: try enc.encode(self), as: UTF8.self) + "\n")
    }

    /// `save`: the kernel's table with the recorded weight of every drained server instead of its 0.
    public func configured(_ c: ClusterConfig) -> ClusterConfig {
        var weights: [ServerRef: Int32] = [:]
        for r in servers { if let ref = r.ref { weights[ref] = r.weight } }
        if weights.isEmpty { return c }
        var out = c
        for i in out.entries.indices {
            let key = out.entries[i].service.key
            for j in out.entries[i].servers.indices {
                if let w = weights[ServerRef(service: key, server: out.entries[i].servers[j].endpoint)] { out.entries[i].servers[j].weight = w }
            }
        }
        return out
    }
}

extension ServiceKey {
    /// The key of an option form as ``option`` writes it (`-t 192.0.2.10:80`, `-f 80 -6`); nil for anything else.
    public init?(option: String) {
        let w = option.split(separator: " ").map(String.init)
        guard w.count >= 2 else { return nil }
        var s = ServiceSpec()
        switch w[0] {
        case "-t": s.tcp = w[1]
        case "-u": s.udp = w[1]
        case "--sctp-service": s.sctp = w[1]
        case "-f": s.fwmark = w[1]; s.ipv6 = w.count == 3 && w[2] == "-6"
        default: return nil
        }
        guard w.count == 2 || s.ipv6, let k = try? s.requiredKey() else { return nil }
        self = k
    }
}

// MARK: counting

/// What still points at a server being drained, by kind.
public struct DrainCounts: Hashable, Sendable, CustomStringConvertible {
    /// TCP and SCTP connections the kernel counts as active (established, or being set up).
    public var active: Int
    /// Other TCP and SCTP connections (closing, TIME_WAIT, CLOSE, ...), as `ipvsadm -Ln`'s InActConn.
    public var inactive: Int
    /// UDP entries (which `ipvsadm -Ln` never shows as active).
    public var udp: Int
    /// Persistence templates pointing at the server.
    public var templates: Int
    /// Creates counts.
    public init(active: Int = 0, inactive: Int = 0, udp: Int = 0, templates: Int = 0) {
        self.active = active; self.inactive = inactive; self.udp = udp; self.templates = templates
    }
    /// The kernel's own counters of a real server (`IPVS_DEST_ATTR_ACTIVE_CONNS`, `_INACT_CONNS`,
    /// `_PERSIST_CONNS`; its UDP entries are among the inactive).
    public init(kernel d: RealServer) {
        self.init(active: Int(d.activeConnections), inactive: Int(d.inactiveConnections), templates: Int(d.persistentConnections))
    }
    /// Everything together.
    public var total: Int { active + inactive + udp + templates }
    /// `2 active, 1 inactive, 1 UDP flow, 1 persistence template` (only the kinds present), or `no connections`.
    public var description: String {
        var parts: [String] = []
        if active > 0 { parts.append("\(active) active") }
        if inactive > 0 { parts.append("\(inactive) inactive") }
        if udp > 0 { parts.append("\(udp) UDP \(udp == 1 ? "flow" : "flows")") }
        if templates > 0 { parts.append("\(templates) persistence \(templates == 1 ? "template" : "templates")") }
        return parts.isEmpty ? "no connections" : parts.joined(separator: ", ")
    }
}

/// Which entries of the connection table (``ConnectionTable``) belong to a real server of a service, by kind.
///
/// What the kernel writes (`ip_vs_sched_persist`, `ip_vs_schedule` in `ip_vs_core.c`):
/// - a connection of an address service: its protocol, the client, the VIP and the port the client connected to,
///   the real server and its port (the port the client used when the server's or the service's port is 0);
/// - a persistence template: client port 0 (the client network), the VIP and the service port (0 for a port-0
///   service and for FTP), the real server with its port or 0;
/// - under a fwmark service a connection carries the address and port the client connected to (the table does
///   not say which mark steered it), and a template carries protocol `IP` and the mark in place of the VIP.
/// So under a fwmark service a connection to the server counts unless its VIP and port are an address service of
/// the kernel (`services`); the wait also asks the kernel's own counters of the server, which are exact.
public enum DrainCounter {
    /// TCP and SCTP states the kernel counts as active (`tcp_state_active_table`, `sctp_state_active_table`).
    static let activeStates: Set<String> = ["ESTABLISHED", "SYN_SENT", "SYN_RECV", "SYNACK", "INIT1", "INIT",
                                            "COOKIE_SENT", "COOKIE_REPLIED", "COOKIE_WAIT", "COOKIE_ECHOED"]

    /// The entries of `conns` that belong to real server `server` of service `key`, by kind. `services` are the
    /// kernel's services (for a fwmark service: connections to the server through an address service are that
    /// service's).
    public static func count(_ conns: [Connection], server: Endpoint, of key: ServiceKey,
                             services: Set<ServiceKey> = []) -> DrainCounts {
        var n = DrainCounts()
        for c in conns where belongs(c, server: server, of: key, services: services) {
            if c.isTemplate { n.templates += 1 }
            else if c.proto == "UDP" { n.udp += 1 }
            else if activeStates.contains(c.state) { n.active += 1 }
            else { n.inactive += 1 }
        }
        return n
    }

    /// True when entry `c` is a connection or template of real server `server` of service `key`.
    public static func belongs(_ c: Connection, server: Endpoint, of key: ServiceKey, services: Set<ServiceKey> = []) -> Bool {
        guard c.destination.address == server.address else { return false }
        switch key {
        case .address(let proto, let vip):
            guard c.proto == proto.label, c.virtual.address == vip.address else { return false }
            if c.isTemplate {
                guard c.virtual.port == vip.port || c.virtual.port == 0 else { return false }
                return vip.port == 0 || server.port == 0 || c.destination.port == server.port || c.destination.port == 0
            }
            guard vip.port == 0 || c.virtual.port == vip.port else { return false }
            // Under a port-0 service the connection keeps the client's port, whatever the server's.
            return vip.port == 0 || server.port == 0 || c.destination.port == server.port
        case .fwmark(let m, let family):
            if c.isTemplate { return c.proto == "IP" && mark(c.virtual.address) == m && c.client.address.family == family }
            guard c.virtual.address.family == family, let p = IPProtocol(label: c.proto) else { return false }
            return !services.contains(.address(p, c.virtual))
                && !services.contains(.address(p, Endpoint(address: c.virtual.address, port: 0)))
        }
    }

    /// The mark a fwmark template carries in place of the VIP (its first four bytes; the rest are zero).
    static func mark(_ a: IPAddress) -> UInt32? {
        let b = a.bytes
        guard b.count >= 4, b[4...].allSatisfy({ $0 == 0 }) else { return nil }
        return UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
    }
}

extension IPProtocol {
    /// The protocol of a connection-table line (`TCP`, `UDP`, `SCTP`); nil for others (`IP` templates).
    init?(label: String) {
        switch label { case "TCP": self = .tcp; case "UDP": self = .udp; case "SCTP": self = .sctp; default: return nil }
    }
}

// MARK: the commands

/// How a drain ended.
public enum DrainOutcome: Equatable, Sendable {
    /// Nothing points at the server any more, after `seconds`.
    case drained(seconds: Double)
    /// `--timeout` ran out with `counts` left.
    case timedOut(DrainCounts, seconds: Double)
    /// A signal (SIGINT, SIGTERM) ended the wait with `counts` left.
    case interrupted(signal: Int32, DrainCounts)
    /// The server (or its service) was deleted by someone else while it drained.
    case gone
}

/// `rs drain` and `rs undrain`.
public enum Drain {
    /// What ``start(_:of:client:netns:remove:wait:)`` did.
    public struct Started: Equatable, Sendable {
        /// The server, as the kernel holds it.
        public var ref: ServerRef
        /// The weight recorded to put back.
        public var weight: Int32
        /// True when it was drained already (its record kept: a second drain only waits again).
        public var already: Bool
    }

    /// How `undrain` put the weight back.
    public enum Undrained: Equatable, Sendable {
        /// lvsctl set the recorded weight.
        case restored(weight: Int32)
        /// The monitor of the namespace (its PID) owns the server: it puts the weight back on its next cycle
        /// (the configured weight, or 0 while its checks fail).
        case leftToMonitor(pid: Int32, weight: Int32)
    }

    /// The state of the monitor running in the namespace when it owns `ref` (a configured or sorry server of its
    /// file), else nil.
    public static func monitorOwning(_ ref: ServerRef, netns: String?) -> MonitorStateFile? {
        guard let m = MonitorStateFile.running(netns: netns),
              m.servers.contains(where: { $0.service == ref.service.option && $0.server == ref.server.description }) else { return nil }
        return m
    }

    /// Sets the server `spec` names (in service `key`) to weight 0 and records the weight to put back, under
    /// lvsctl's lock; the record is written before the weight changes, so a monitor never undoes the 0. A server
    /// drained already keeps its record. With `remove`, a server a running monitor owns is refused (the monitor
    /// would add it back), before any change. A missing service or server: exit 1, nothing changed.
    public static func start(_ spec: ServerSpec, of key: ServiceKey, client: any IPVSControl, netns: String?,
                             remove: Bool, wait: Double = 30) throws -> Started {
        let path = drainStatePath(netns: netns)
        return try withLvsctlLock(wait: wait) {
            let d = try server(spec, of: key, client: client, operation: "rs drain")
            let ref = ServerRef(service: key, server: d.endpoint)
            let monitor = monitorOwning(ref, netns: netns)
            if remove, let m = monitor {
                throw SystemError("\(ref): the monitor running here (pid \(m.pid), \(m.file)) would add it back after --remove: drain it without --remove, then take its rs line out of \(m.file) and reload the monitor")
            }
            var file = try DrainStateFile.read(path)
            let old = file.record(ref)
            let configured = monitor?.servers.first { $0.service == ref.service.option && $0.server == ref.server.description }?.configured_weight
            let weight = old?.weight ?? configured ?? d.weight
            if old == nil {
                file.servers.append(.init(ref: ref, weight: weight, since: isoTime(Syscall.realtimeSeconds())))
                try file.write(path)
            }
            if d.weight != 0 {
                var zero = d.config
                zero.weight = 0
                do { try client.perform(.editDest(key, zero)) } catch {
                    if old == nil { file.remove(ref); try? file.write(path) }
                    throw error
                }
            }
            return Started(ref: ref, weight: weight, already: old != nil)
        }
    }

    /// One look at what still points at `ref`: the entries of the connection table (`connections`) and the
    /// kernel's own counters of the server (exact per service, also under a fwmark service); nil when the server
    /// or its service is gone. `services`: the kernel's services (see ``DrainCounter``).
    public static func look(_ ref: ServerRef, client: any IPVSControl, services: Set<ServiceKey>,
                            connections: () throws -> [Connection]) throws -> DrainCounts? {
        let servers: [RealServer]
        do { servers = try client.table(ref.service, stats: false).first?.servers ?? [] } catch is NoSuchService { return nil }
        guard let d = servers.first(where: { $0.endpoint == ref.server }) else { return nil }
        let counts = DrainCounter.count(try connections(), server: ref.server, of: ref.service, services: services)
        if counts.total == 0 {
            let k = DrainCounts(kernel: d)
            if k.total > 0 { return k }
        }
        return counts
    }

    /// Waits until `look` finds nothing (or returns nil: the server is gone), looking every `interval` seconds (or
    /// four times as long as a look took, for a huge table), until `timeout` seconds (nil: no limit; 0: one look).
    /// `pause` sleeps at most the seconds given and returns a signal number if one arrived; `progress` gets every
    /// look's counts and the seconds since the start. The clock and the sleep are parameters, for tests.
    public static func wait(timeout: Double?, interval: Double = 0.5, now: () -> Double,
                            look: () throws -> DrainCounts?, pause: (Double) -> Int32?,
                            progress: (DrainCounts, Double) -> Void) throws -> DrainOutcome {
        let start = now()
        while true {
            let t0 = now()
            guard let counts = try look() else { return .gone }
            let t1 = now()
            let elapsed = t1 - start
            progress(counts, elapsed)
            if counts.total == 0 { return .drained(seconds: elapsed) }
            if let limit = timeout, elapsed >= limit { return .timedOut(counts, seconds: limit) }
            var sleep = max(interval, 4 * (t1 - t0))
            if let limit = timeout { sleep = min(sleep, limit - elapsed) }
            if let s = pause(sleep) { return .interrupted(signal: s, counts) }
        }
    }

    /// After a drain: with `remove`, deletes the server from its service and drops its record (under lvsctl's lock).
    /// Without, the server stays at weight 0 and recorded until `undrain`.
    public static func finish(_ ref: ServerRef, client: any IPVSControl, netns: String?, remove: Bool, wait: Double = 30) throws {
        guard remove else { return }
        let path = drainStatePath(netns: netns)
        try withLvsctlLock(wait: wait) {
            try client.perform(.deleteDest(ref.service, ref.server))
            var file = try DrainStateFile.read(path)
            if file.remove(ref) != nil { try file.write(path) }
        }
    }

    /// `rs undrain`: the recorded weight back (by lvsctl, or by the monitor of the namespace when it owns the
    /// server), the record dropped. A server that is not drained: exit 1. A record whose server is no longer in
    /// the kernel is dropped, with exit 1.
    public static func undrain(_ spec: ServerSpec, of key: ServiceKey, client: any IPVSControl, netns: String?,
                               wait: Double = 30) throws -> Undrained {
        let path = drainStatePath(netns: netns)
        return try withLvsctlLock(wait: wait) {
            var file = try DrainStateFile.read(path)
            var missingService = false
            var found: RealServer?
            do { found = try find(spec, of: key, client: client) } catch is NoSuchService { missingService = true }
            guard let d = found else {
                // Its record, if any, is stale: drop it and say so.
                let recorded = file.servers.compactMap(\.ref).filter { $0.service == key }
                    .map { RealServer(address: $0.server.address, port: $0.server.port) }
                if let r = try spec.match(in: recorded, of: key) {
                    let ref = ServerRef(service: key, server: r.endpoint)
                    file.remove(ref)
                    try file.write(path)
                    throw SystemError("\(ref) is no longer in the kernel; its drain record was dropped")
                }
                if missingService { throw NoSuchService(operation: "rs undrain", key: key) }
                throw SystemError("rs undrain \(key): no real server \(spec.realServer)")
            }
            let ref = ServerRef(service: key, server: d.endpoint)
            guard let rec = file.record(ref) else { throw SystemError("\(ref) is not drained") }
            if let m = monitorOwning(ref, netns: netns) {
                file.remove(ref)
                try file.write(path)
                return .leftToMonitor(pid: m.pid, weight: rec.weight)
            }
            if d.weight != rec.weight {
                var back = d.config
                back.weight = rec.weight
                try client.perform(.editDest(key, back))
            }
            file.remove(ref)
            try file.write(path)
            return .restored(weight: rec.weight)
        }
    }

    /// Drops the records of servers that `matches` (after `rs delete`, `vs delete`, `clear`): a server deleted and
    /// added again later is not drained. Best effort: a failure leaves a stale record, which `undrain` drops.
    public static func forget(netns: String?, _ matches: (ServerRef) -> Bool) {
        let path = drainStatePath(netns: netns)
        guard let f = try? DrainStateFile.read(path), f.servers.contains(where: { $0.ref.map(matches) ?? false }) else { return }
        _ = try? withLvsctlLock(wait: 5) {
            var file = try DrainStateFile.read(path)
            file.servers.removeAll { $0.ref.map(matches) ?? false }
            try file.write(path)
        }
    }

    /// The running real server `spec` names in `key`: ``NoSuchService`` or a ``SystemError`` when missing.
    static func server(_ spec: ServerSpec, of key: ServiceKey, client: any IPVSControl, operation: String) throws -> RealServer {
        let found: RealServer?
        do { found = try find(spec, of: key, client: client) } catch is NoSuchService {
            throw NoSuchService(operation: operation, key: key)
        }
        guard let d = found else { throw SystemError("\(operation) \(key): no real server \(spec.realServer)") }
        return d
    }

    /// The running real server `spec` names in `key` (nil when it has none); ``NoSuchService`` when the service is
    /// missing.
    static func find(_ spec: ServerSpec, of key: ServiceKey, client: any IPVSControl) throws -> RealServer? {
        try spec.match(in: try client.table(key, stats: false).first?.servers ?? [], of: key)
    }
}

/// Re-reads the drain state file for the monitor when it changes (one `stat` per look).
public struct DrainWatcher {
    /// The file.
    public let path: String
    /// The drained servers as last read.
    public private(set) var drained: Set<ServerRef> = []
    var stamp: [Int]?

    /// A watcher of `path` (nothing read yet).
    public init(path: String) { self.path = path }

    /// Reads the file again if it changed since the last call (another inode, size or modification time; it is
    /// replaced by a rename on every write). Returns the servers drained and undrained since, or an error message
    /// (the previous set is kept then).
    public mutating func refresh() -> (drained: Set<ServerRef>, undrained: Set<ServerRef>, error: String?) {
        let now: [Int]
        switch Syscall.stat(path) {
        case .success(let st): now = [Int(st.st_ino), Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)]
        case .failure: now = []
        }
        guard now != stamp else { return ([], [], nil) }
        stamp = now
        let next: Set<ServerRef>
        do { next = now.isEmpty ? [] : try DrainStateFile.read(path).refs } catch {
            return ([], [], "\(error)")
        }
        defer { drained = next }
        return (next.subtracting(drained), drained.subtracting(next), nil)
    }
}
