/// What a program asks of IPVS: batches and single requests, and reads of the table, timeouts, daemons and info.
/// ``IPVSClient`` is the kernel's (generic netlink); tests use `FakeIPVSKernel` of the test-support target
/// `LVSTestSupport`, an in-memory table that answers with the kernel's errnos. The requirements have exactly the
/// signatures of ``IPVSClient``'s methods; the defaults of its arguments are provided below for `any IPVSControl`.
///
/// Calls through the protocol are per batch or per read, never per request or per service: the per-request work
/// (encoding, decoding) stays inside ``IPVSClient``.
public protocol IPVSControl: AnyObject {
    /// Sends `requests` (see ``IPVSClient/execute(_:stopOnError:shouldStop:)``).
    func execute(_ requests: [IPVSRequest], stopOnError: Bool, shouldStop: () -> Bool) throws -> IPVSClient.BatchResult
    /// Runs one request and throws ``IPVSError`` if it is refused.
    func perform(_ request: IPVSRequest) throws
    /// All virtual services.
    func services(stats: Bool) throws -> [VirtualService]
    /// The real servers of one service.
    func destinations(of key: ServiceKey, stats: Bool) throws -> [RealServer]
    /// The whole table, or the one service `only` (``NoSuchService`` when it is missing).
    func table(_ only: ServiceKey?, stats: Bool) throws -> [ServiceEntry]
    /// The connection timeouts.
    func timeouts() throws -> Timeouts
    /// The running sync daemons.
    func daemons() throws -> [SyncDaemon]
    /// Version and connection-table size.
    func info() throws -> IPVSInfo
    /// Services, real servers, timeouts and daemons as they run now (counters stripped).
    func runningState() throws -> ClusterConfig
}

extension IPVSControl {
    /// ``execute(_:stopOnError:shouldStop:)`` with its defaults: stop on error, never interrupted.
    public func execute(_ requests: [IPVSRequest], stopOnError: Bool = true) throws -> IPVSClient.BatchResult {
        try execute(requests, stopOnError: stopOnError, shouldStop: { false })
    }
    /// All virtual services with their counters.
    public func services() throws -> [VirtualService] { try services(stats: true) }
    /// The real servers of one service, with their counters.
    public func destinations(of key: ServiceKey) throws -> [RealServer] { try destinations(of: key, stats: true) }
    /// The whole table, with or without counters.
    public func table(stats: Bool) throws -> [ServiceEntry] { try table(nil, stats: stats) }
    /// The whole table (or one service) with counters.
    public func table(_ only: ServiceKey? = nil) throws -> [ServiceEntry] { try table(only, stats: true) }

    /// The default ``perform(_:)``: a batch of one, its refusal thrown as ``IPVSError``.
    public func perform(_ request: IPVSRequest) throws {
        let r = try execute([request], stopOnError: true, shouldStop: { false })
        if let f = r.failures.first { throw IPVSError(request: request, errno: f.errno) }
    }

    /// The default ``runningState()``: the table without counters, the timeouts and the daemons.
    public func runningState() throws -> ClusterConfig {
        var c = ClusterConfig()
        c.entries = try table(nil, stats: false).map { ServiceEntry(service: $0.service.config, servers: $0.servers.map(\.config)) }
        c.timeouts = try timeouts()
        c.daemons = try daemons()
        return c
    }
}

extension IPVSClient: IPVSControl {}
