// Test support for LVSCore and lvsctl tests (target LVSTestSupport): never part of the shipped library.
#if canImport(Glibc)
import Glibc
#endif
import LVSCore

/// An in-memory IPVS table behind ``IPVSControl``, answering as the kernel does (`net/netfilter/ipvs/ip_vs_ctl.c`),
/// in the manner of mdlayher/netlink's nltest: a test hands it to code that takes `any IPVSControl` (``Executor``,
/// or a command) and checks the table afterwards.
///
/// The errnos are the kernel's, so ``IPVSError`` words them as for the real kernel:
/// - add service that exists: EEXIST; edit or delete a service that does not exist: ESRCH;
/// - any destination request on a missing service: ESRCH; add destination that exists: EEXIST;
///   edit or delete a destination that does not exist: ENOENT;
/// - a negative weight, or a lower threshold above a non-zero upper threshold: ERANGE;
/// - zero counters of a missing service: ESRCH; start a daemon whose state runs: EEXIST; stop one that does not: ESRCH;
/// - a scheduler not in ``schedulers`` (when set): ENOENT.
///
/// Like the kernel, a batch has no transaction: every request of a chunk is applied or refused on its own. Requests
/// are sent in chunks of ``chunkSize``; with `stopOnError`, no chunk follows one with a refusal (as ``IPVSClient``).
public final class FakeIPVSKernel: IPVSControl {
    /// The services with their real servers, in the order they were added.
    public private(set) var entries: [ServiceEntry]
    /// The connection timeouts (the kernel's defaults at first).
    public var currentTimeouts: Timeouts
    /// The running sync daemons.
    public private(set) var runningDaemons: [SyncDaemon]
    /// What ``info()`` answers.
    public var ipvsInfo = IPVSInfo(version: 0x010201, connectionTableSize: 4096)
    /// Scheduler names the "kernel" has modules for; nil accepts any.
    public var schedulers: Set<String>?
    /// Requests per chunk of ``execute(_:stopOnError:shouldStop:)`` (`IPVSClient` fits as many as 64 KiB allows).
    public var chunkSize = Int.max
    /// A test's hook: an errno to refuse a request with before the table is consulted (nil: decide as the kernel).
    public var refuse: ((IPVSRequest) -> Int32?)?
    /// Every request applied or refused, in order, with the errno it got (0: applied).
    public private(set) var log: [(request: IPVSRequest, errno: Int32)] = []

    /// A kernel holding `entries` (default: an empty table).
    public init(entries: [ServiceEntry] = [], timeouts: Timeouts = .kernelDefault, daemons: [SyncDaemon] = []) {
        self.entries = entries; self.currentTimeouts = timeouts; self.runningDaemons = daemons
    }

    /// A kernel holding `state` (its entries, timeouts if set, and daemons).
    public convenience init(_ state: ClusterConfig) {
        self.init(entries: state.entries, timeouts: state.timeouts ?? .kernelDefault, daemons: state.daemons)
    }

    // MARK: IPVSControl

    public func execute(_ requests: [IPVSRequest], stopOnError: Bool, shouldStop: () -> Bool) throws -> IPVSClient.BatchResult {
        var result = IPVSClient.BatchResult()
        var i = 0
        while i < requests.count {
            let end = requests.count - i > chunkSize ? i + max(1, chunkSize) : requests.count
            for j in i..<end {
                let e = apply(requests[j])
                log.append((requests[j], e))
                if e != 0 { result.failures.append((j, e)) }
            }
            result.sent = end
            i = end
            if stopOnError && !result.failures.isEmpty { break }
            if shouldStop() { break }
        }
        return result
    }

    public func perform(_ request: IPVSRequest) throws {
        let r = try execute([request], stopOnError: true, shouldStop: { false })
        if let f = r.failures.first { throw IPVSError(request: request, errno: f.errno) }
    }

    public func services(stats: Bool) throws -> [VirtualService] {
        entries.map { var s = $0.service; s.stats = stats ? Stats() : nil; return s }
    }

    public func destinations(of key: ServiceKey, stats: Bool) throws -> [RealServer] {
        guard let i = index(key) else { throw DumpError(command: .getDest, errno: ESRCH) }
        return entries[i].servers.map { var d = $0; d.stats = stats ? Stats() : nil; return d }
    }

    public func table(_ only: ServiceKey?, stats: Bool) throws -> [ServiceEntry] {
        if let k = only, index(k) == nil { throw NoSuchService(operation: "list", key: k) }
        return try services(stats: stats).filter { only == nil || $0.key == only }
            .map { ServiceEntry(service: $0, servers: try destinations(of: $0.key, stats: stats)) }
    }

    public func timeouts() throws -> Timeouts { currentTimeouts }
    public func daemons() throws -> [SyncDaemon] { runningDaemons }
    public func info() throws -> IPVSInfo { ipvsInfo }

    /// The table as ``runningState()`` reads it (the protocol's default, through ``table(_:stats:)``).
    public var state: ClusterConfig { (try? runningState()) ?? ClusterConfig() }

    // MARK: The kernel's decisions

    private func index(_ k: ServiceKey) -> Int? { entries.firstIndex { $0.service.key == k } }

    private func checkDest(_ d: RealServer) -> Int32 {
        if d.weight < 0 { return ERANGE }
        if d.upperThreshold != 0 && d.lowerThreshold > d.upperThreshold { return ERANGE }
        return 0
    }

    /// Applies one request; returns 0 or the errno the kernel answers.
    private func apply(_ r: IPVSRequest) -> Int32 {
        if let e = refuse?(r) { return e }
        switch r {
        case .addService(let s):
            if index(s.key) != nil { return EEXIST }
            if let known = schedulers, !known.contains(s.scheduler.rawValue) { return ENOENT }
            entries.append(ServiceEntry(service: s.config, servers: []))
        case .editService(let s):
            guard let i = index(s.key) else { return ESRCH }
            if let known = schedulers, !known.contains(s.scheduler.rawValue) { return ENOENT }
            entries[i].service = s.config
        case .deleteService(let k):
            guard let i = index(k) else { return ESRCH }
            entries.remove(at: i)
        case .addDest(let k, let d):
            guard let i = index(k) else { return ESRCH }
            let e = checkDest(d)
            if e != 0 { return e }
            if entries[i].servers.contains(where: { $0.endpoint == d.endpoint }) { return EEXIST }
            entries[i].servers.append(d.config)
        case .editDest(let k, let d):
            guard let i = index(k) else { return ESRCH }
            let e = checkDest(d)
            if e != 0 { return e }
            guard let j = entries[i].servers.firstIndex(where: { $0.endpoint == d.endpoint }) else { return ENOENT }
            entries[i].servers[j] = d.config
        case .deleteDest(let k, let ep):
            guard let i = index(k) else { return ESRCH }
            guard let j = entries[i].servers.firstIndex(where: { $0.endpoint == ep }) else { return ENOENT }
            entries[i].servers.remove(at: j)
        case .startDaemon(let d):
            if runningDaemons.contains(where: { $0.state == d.state }) { return EEXIST }
            runningDaemons.append(d)
        case .stopDaemon(let st):
            guard runningDaemons.contains(where: { $0.state == st }) else { return ESRCH }
            runningDaemons.removeAll { $0.state == st }
        case .setTimeouts(let t):
            // 0 leaves a timeout unchanged.
            if t.tcp != 0 { currentTimeouts.tcp = t.tcp }
            if t.tcpFin != 0 { currentTimeouts.tcpFin = t.tcpFin }
            if t.udp != 0 { currentTimeouts.udp = t.udp }
        case .zero(let k):
            if let k, index(k) == nil { return ESRCH }
        case .flush:
            entries.removeAll()
        }
        return 0
    }
}
