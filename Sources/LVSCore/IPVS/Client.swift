#if canImport(Glibc)
import Glibc
#endif

/// The IPVS client: one socket, one family lookup, pipelined batches and dumps.
public final class IPVSClient {
    private let transport: NetlinkTransport
    private var seq: UInt32
    private var rbuf: UnsafeMutableRawBufferPointer
    /// How many bytes of `rbuf` each receive offers the kernel. The kernel sizes every part of a dump by the
    /// largest read it has seen on the socket (`max_recvmsg_len`, capped at 32 KiB), and at one page
    /// (`NLMSG_GOODSIZE`, 3,776 bytes with 4 KiB pages) at least. Offering exactly that keeps each part an
    /// order-0 allocation: reading a 10,000-service table back then costs the kernel about half the time it
    /// takes with 32 KiB parts (measured in the VM with the ipvs-floor dump). A datagram that does not fit
    /// (larger pages) is detected with `MSG_TRUNC`; the size then grows and the dump is read again.
    private var receiveSize = 3776
    /// Largest number of bytes put into one `sendmsg`.
    public var batchLimit = 64 * 1024
    /// How many times a dump interrupted by a concurrent change (`NLM_F_DUMP_INTR`) is restarted.
    public var dumpRetries = 5

    /// Creates a client over a transport (usually ``GenericNetlinkSocket``).
    public init(transport: NetlinkTransport) {
        self.transport = transport
        self.seq = UInt32(truncatingIfNeeded: time(nil)) | 1
        rbuf = .allocate(byteCount: 1 << 16, alignment: 8)
    }

    /// Opens the system's IPVS socket (loading `ip_vs` if needed).
    public convenience init() throws { self.init(transport: try GenericNetlinkSocket()) }

    deinit { rbuf.deallocate() }

    private func nextSeq() -> UInt32 { seq &+= 1; if seq == 0 { seq = 1 }; return seq }

    /// Receives one datagram into `rbuf` (see ``receiveSize``) and returns its messages. A datagram cut short
    /// grows ``receiveSize`` and throws ``ReceiveTruncated``.
    private func receiveMessages() throws -> [NetlinkMessage] {
        let n = try transport.receive(into: UnsafeMutableRawBufferPointer(rebasing: rbuf[0..<receiveSize]))
        if n > receiveSize {
            receiveSize = min(rbuf.count, max(32768, n))
            throw ReceiveTruncated(length: n)
        }
        return try NetlinkMessage.split(ArraySlice(UnsafeRawBufferPointer(rebasing: rbuf[0..<n])))
    }

    // MARK: Batches

    /// The outcome of a batch: which requests the kernel refused, and how many were sent at all.
    public struct BatchResult: Sendable {
        /// Refused requests: index into the batch and the positive errno.
        public var failures: [(index: Int, errno: Int32)] = []
        /// Requests sent to the kernel (those after a failing chunk are not sent when stopping on error).
        public var sent = 0
        /// True when every request was sent and accepted.
        public var ok: Bool { failures.isEmpty }
        /// A result (an ``IPVSControl`` other than ``IPVSClient``, such as a test's fake kernel, builds its own).
        public init(failures: [(index: Int, errno: Int32)] = [], sent: Int = 0) { self.failures = failures; self.sent = sent }
        /// Indices of requests that the kernel accepted.
        public var succeeded: [Int] {
            let bad = Set(failures.map(\.index))
            return (0..<sent).filter { !bad.contains($0) }
        }
    }

    /// Sends `requests` pipelined: as many messages per `sendmsg` as fit in ``batchLimit``, `NLM_F_ACK` on the
    /// last of each, errors matched to requests by sequence number. The kernel has no transaction: a refused
    /// request does not undo earlier ones. With `stopOnError`, no further chunk is sent after one with an error.
    public func execute(_ requests: [IPVSRequest], stopOnError: Bool = true,
                        shouldStop: () -> Bool = { false }) throws -> BatchResult {
        var result = BatchResult()
        var keyCache: (key: ServiceKey, bytes: [UInt8])?
        var i = 0
        while i < requests.count {
            var w = MessageWriter(capacity: batchLimit + 1024)
            let firstSeq = seq &+ 1
            var lastStart = 0
            var j = i
            while j < requests.count {
                let attrs = requests[j].encodedAttributes(keyCache: &keyCache)
                if j > i && w.bytes.count + 20 + attrs.count > batchLimit { break }
                lastStart = w.bytes.count
                w.append(family: transport.familyID, flags: .request, seq: nextSeq(), cmd: requests[j].command.rawValue,
                         version: IPVSFamily.version, attributes: attrs)
                j += 1
            }
            w.addAck(atMessageStarting: lastStart)
            let lastSeq = seq
            try w.bytes.withUnsafeBytes { try transport.send($0) }
            result.sent = j
            try awaitAck(lastSeq) { s, err in
                let idx = Int(s &- firstSeq) + i
                if idx >= i && idx < j { result.failures.append((idx, err)) }
            }
            i = j
            if stopOnError && !result.failures.isEmpty { break }
            if shouldStop() { break }
        }
        return result
    }

    /// Runs one request and throws ``IPVSError`` if the kernel refuses it.
    public func perform(_ request: IPVSRequest) throws {
        let r = try execute([request])
        if let f = r.failures.first { throw IPVSError(request: request, errno: f.errno) }
    }

    /// Reads replies until the ack of `lastSeq`; calls `onError` for every error message.
    private func awaitAck(_ lastSeq: UInt32, onError: (UInt32, Int32) -> Void) throws {
        while true {
            let msgs = try receiveMessages()
            for m in msgs where m.type == nlmsgError {
                let code = try m.errorCode()
                if code != 0 { onError(m.seq, -code) }
                if m.seq == lastSeq { return }
            }
        }
    }

    // MARK: Dumps and gets

    /// Runs one dump request and calls `body` with each reply's genl attributes. Throws ``IPVSDumpInterrupted``
    /// when the kernel flags `NLM_F_DUMP_INTR`, or when a receive reported ENOBUFS (the socket overflowed, so
    /// messages were lost): the dump is read to its end and the caller restarts it.
    private func dump(_ cmd: IPVSCommand, _ attrs: [UInt8], _ body: (ArraySlice<UInt8>) throws -> Void) throws {
        var w = MessageWriter()
        let s = nextSeq()
        w.append(family: transport.familyID, flags: [.request, .dump], seq: s, cmd: cmd.rawValue,
                 version: IPVSFamily.version, attributes: attrs)
        try w.bytes.withUnsafeBytes { try transport.send($0) }
        var interrupted = false
        while true {
            let msgs: [NetlinkMessage]
            do {
                msgs = try receiveMessages()
            } catch let e as NetlinkError where e.errno == ENOBUFS {
                interrupted = true
                continue
            } catch is ReceiveTruncated {
                interrupted = true  // part of the dump is lost: read it to its end, then again
                continue
            }
            for m in msgs where m.seq == s {
                if m.flags.contains(.dumpInterrupted) { interrupted = true }
                switch m.type {
                case nlmsgDone:
                    if interrupted { throw IPVSDumpInterrupted() }
                    return
                case nlmsgError:
                    let code = try m.errorCode()
                    if code != 0 { throw DumpError(command: cmd, errno: -code) }
                default:
                    try body(try m.genl().attributes)
                }
            }
        }
    }

    /// Runs a non-dump GET and returns the reply's attributes.
    private func get(_ cmd: IPVSCommand, _ attrs: [UInt8] = []) throws -> [UInt8] {
        var w = MessageWriter()
        let s = nextSeq()
        w.append(family: transport.familyID, flags: [.request, .ack], seq: s, cmd: cmd.rawValue,
                 version: IPVSFamily.version, attributes: attrs)
        try w.bytes.withUnsafeBytes { try transport.send($0) }
        var reply: [UInt8]?
        while true {
            let msgs = try receiveMessages()
            for m in msgs where m.seq == s {
                if m.type == nlmsgError {
                    let code = try m.errorCode()
                    if code != 0 { throw DumpError(command: cmd, errno: -code) }
                    guard let r = reply else { throw DecodeError("\(cmd)", "ack without a reply") }
                    return r
                }
                reply = Array(try m.genl().attributes)
            }
        }
    }

    /// All virtual services (one `IPVS_CMD_GET_SERVICE` dump).
    /// `stats: false` leaves the counters out (nil), which saves decoding them.
    public func services(stats: Bool = true) throws -> [VirtualService] {
        var out: [VirtualService] = []
        try dump(.getService, []) { out.append(try IPVSDecode.service($0, stats: stats)) }
        return out
    }

    /// The real servers of one service (one `IPVS_CMD_GET_DEST` dump).
    public func destinations(of key: ServiceKey, stats: Bool = true) throws -> [RealServer] {
        var e = AttributeEncoder()
        CommandAttribute.service(key.attributes).encode(&e)
        var out: [RealServer] = []
        try dump(.getDest, e.bytes) { out.append(try IPVSDecode.dest($0, serviceFamily: key.family, stats: stats)) }
        return out
    }

    /// The whole table: every service with its real servers (1 + N dumps on this one socket). A dump
    /// interrupted by a concurrent change is restarted, up to ``dumpRetries`` times. With `stats: false` no
    /// counters are decoded (every `stats` is nil): `list` without `--stats`/`--rate`/`--json`, and `save`.
    /// With `only`, a service that is not in the table throws ``NoSuchService`` (`list -t ...: no such service`).
    public func table(_ only: ServiceKey? = nil, stats: Bool = true) throws -> [ServiceEntry] {
        var attempt = 0
        while true {
            do {
                var svcs = try services(stats: stats)
                if let k = only {
                    svcs = svcs.filter { $0.key == k }
                    if svcs.isEmpty { throw NoSuchService(operation: "list", key: k) }
                }
                // The IPVS service dump never sets NLM_F_DUMP_INTR: a service added or deleted during the dump shifts
                // the kernel's position, so another service is silently repeated or skipped (seen in t-scale.sh under
                // a concurrent ipvsadm). Repeats are dropped here; a second service dump after the real servers
                // supplies any service the first one skipped. Every service that existed throughout is then listed
                // exactly once, without reading the whole table again while a writer keeps changing it.
                var seen = Set<ServiceKey>()
                svcs = svcs.filter { seen.insert($0.key).inserted }
                var table: [ServiceEntry] = []
                table.reserveCapacity(svcs.count)
                for s in svcs {
                    if only != nil {
                        table.append(ServiceEntry(service: s, servers: try destinations(of: s.key, stats: stats)))
                    } else if let servers = try destinationsIfPresent(of: s.key, stats: stats) {
                        table.append(ServiceEntry(service: s, servers: servers))
                    }  // else deleted since the service dump: it is gone, so it is not listed
                }
                if only == nil {
                    // Keys first: only a service the first dump skipped is decoded in full.
                    var missed: [ArraySlice<UInt8>] = []
                    try dump(.getService, []) { if seen.insert(try IPVSDecode.serviceKey($0)).inserted { missed.append($0) } }
                    for reply in missed {
                        let s = try IPVSDecode.service(reply, stats: stats)
                        // (deleted again since the second dump: it is gone, not missed)
                        if let servers = try destinationsIfPresent(of: s.key, stats: stats) { table.append(ServiceEntry(service: s, servers: servers)) }
                    }
                }
                return table
            } catch is IPVSDumpInterrupted where attempt < dumpRetries {
                attempt += 1
            }
        }
    }

    /// The real servers of `key`, or nil when the service no longer exists (a concurrent writer deleted it after the
    /// service dump listed it). A destination dump interrupted by a concurrent change is read again, up to
    /// ``dumpRetries`` times, without re-reading the whole table: under a writer that keeps adding and deleting
    /// one service, restarting the whole table for it failed every attempt often enough to make a check flaky.
    private func destinationsIfPresent(of key: ServiceKey, stats: Bool) throws -> [RealServer]? {
        var attempt = 0
        while true {
            do {
                return try destinations(of: key, stats: stats)
            } catch is IPVSDumpInterrupted where attempt < dumpRetries {
                attempt += 1
            } catch let e as DumpError where e.errno == ESRCH {
                return nil
            }
        }
    }

    /// The connection timeouts (`IPVS_CMD_GET_CONFIG`).
    public func timeouts() throws -> Timeouts { try IPVSDecode.timeouts(try get(.getConfig)[...]) }

    /// The running sync daemons (`IPVS_CMD_GET_DAEMON` dump).
    public func daemons() throws -> [SyncDaemon] {
        var attempt = 0
        while true {
            do {
                var out: [SyncDaemon] = []
                try dump(.getDaemon, []) { out.append(try IPVSDecode.daemon($0)) }
                return out
            } catch is IPVSDumpInterrupted where attempt < dumpRetries {
                attempt += 1
            }
        }
    }

    /// Version and connection-table size (`IPVS_CMD_GET_INFO`).
    public func info() throws -> IPVSInfo { try IPVSDecode.info(try get(.getInfo)[...]) }
}

/// A netlink reply larger than the receive buffer offered for it (`MSG_TRUNC`); its end is lost.
public struct ReceiveTruncated: Error, CustomStringConvertible {
    /// The datagram's full length.
    public var length: Int
    public var description: String { "netlink receive: a reply of \(length) bytes did not fit the receive buffer" }
}

/// A dump the kernel flagged `NLM_F_DUMP_INTR` (or one that lost messages to ENOBUFS); the caller restarts it.
/// It reaches the admin only when every retry was interrupted too.
public struct IPVSDumpInterrupted: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "list IPVS state: the table kept changing during every dump attempt; try again" }
}

/// A dump or get the kernel refused.
public struct DumpError: Error, CustomStringConvertible, Sendable {
    /// The command.
    public var command: IPVSCommand
    /// The positive errno.
    public var errno: Int32
    /// Creates the error for `command` refused with `errno`.
    public init(command: IPVSCommand, errno: Int32) { self.command = command; self.errno = errno }
    /// The dump that failed, in words.
    public var description: String {
        let what: String
        switch command {
        case .getService: what = "list services"
        case .getDest: what = "list real servers"
        case .getDaemon: what = "list sync daemons"
        case .getConfig: what = "read timeouts"
        case .getInfo: what = "read IPVS info"
        default: what = "\(command)"
        }
        if errno == EPERM || errno == EACCES { return "\(what): needs CAP_NET_ADMIN (run as root)" }
        if errno == ESRCH { return "\(what): no such service" }
        return "\(what): \(errnoText(errno))"
    }
}
