/// Model values <-> IPVS attribute sets. Pure: no I/O.
///
/// The attribute order follows what libipvs (ipvsadm 1.31) sends, so the bytes match its golden captures.
/// Attribute numbers are the `linux/ip_vs.h` constants of ``IPVSAttr`` (compile-time constants: see KernelNumbers.swift).

private typealias Cmd = IPVSAttr.Command
private typealias Svc = IPVSAttr.Service
private typealias Dst = IPVSAttr.Dest
private typealias Sts = IPVSAttr.Stats

extension Stats {
    /// Builds counters from a `STATS`/`STATS64` attribute list.
    public init(_ attrs: [StatsAttribute]) {
        self.init()
        for a in attrs {
            switch a {
            case .conns(let v): connections = v
            case .inPackets(let v): inPackets = v
            case .outPackets(let v): outPackets = v
            case .inBytes(let v): inBytes = v
            case .outBytes(let v): outBytes = v
            case .cps(let v): cps = v
            case .inPPS(let v): inPPS = v
            case .outPPS(let v): outPPS = v
            case .inBPS(let v): inBPS = v
            case .outBPS(let v): outBPS = v
            case .other: break
            }
        }
    }
}

extension ServiceKey {
    /// The key attributes: AF then FWMARK, or AF, PROTOCOL, ADDR, PORT.
    public var attributes: [ServiceAttribute] {
        switch self {
        case .address(let p, let e):
            return [.af(e.address.family.rawValue), .protocol(p.rawValue), .addr(e.address.ipvsField), .port(e.port)]
        case .fwmark(let m, let f):
            return [.af(f.rawValue), .fwmark(m)]
        }
    }

    /// The key plus the placeholder settings libipvs sends when it names a service for a destination, delete
    /// or zero request: empty scheduler, flags {0, ~0}, timeout 0, full netmask. The kernel reads only the key.
    public var requestAttributes: [ServiceAttribute] {
        attributes + [.schedName(""), .flags(flags: 0, mask: ~0), .timeout(0), .netmask(VirtualService.fullNetmask(family))]
    }
}

extension VirtualService {
    /// The full attribute list of `IPVS_CMD_NEW_SERVICE` / `SET_SERVICE`, as libipvs orders it;
    /// `mask` is the `ip_vs_flags.mask` (all ones replaces every flag).
    public func attributes(flagMask: UInt32 = ~0) -> [ServiceAttribute] {
        var a = key.attributes
        a.append(.schedName(scheduler.rawValue))
        if let pe = persistenceEngine, !pe.isEmpty { a.append(.peName(pe)) }
        a.append(.flags(flags: flags.rawValue, mask: flagMask))
        a.append(.timeout(timeout))
        a.append(.netmask(netmask))
        return a + unknown.map { .other($0) }
    }

    /// Builds a service from a decoded `IPVS_CMD_ATTR_SERVICE`, e.g. from a dump.
    public init(attributes: [ServiceAttribute]) throws {
        var af: UInt16?, proto: UInt16?, addr: [UInt8]?, port: UInt16?, mark: UInt32?
        var sched = "", flags: UInt32 = 0, timeout: UInt32 = 0, netmask: UInt32?, pe: String?
        var stats: Stats?, stats32: Stats?, unknown: [RawAttribute] = []
        for x in attributes {
            switch x {
            case .af(let v): af = v
            case .protocol(let v): proto = v
            case .addr(let v): addr = v
            case .port(let v): port = v
            case .fwmark(let v): mark = v
            case .schedName(let v): sched = v
            case .flags(let f, _): flags = f
            case .timeout(let v): timeout = v
            case .netmask(let v): netmask = v
            case .peName(let v): pe = v.isEmpty ? nil : v
            case .stats(let s, _): stats32 = Stats(s)
            case .stats64(let s, _): stats = Stats(s)
            case .other(let r): unknown.append(r)
            }
        }
        guard let afv = af, let family = AddressFamily(rawValue: afv) else {
            throw DecodeError("service", "missing or unknown address family \(af.map(String.init) ?? "none")")
        }
        let key: ServiceKey
        if let m = mark, m != 0 {
            key = .fwmark(m, family)
        } else {
            guard let pv = proto, let p = IPProtocol(rawValue: pv) else {
                throw DecodeError("service", "missing or unknown protocol \(proto.map(String.init) ?? "none")")
            }
            guard let a = addr, let pt = port else { throw DecodeError("service", "missing address or port") }
            key = .address(p, Endpoint(address: try IPAddress(ipvsField: a, family: family), port: pt))
        }
        self.init(key: key, scheduler: Scheduler(sched), flags: ServiceFlags(rawValue: flags).subtracting(.hashed),
                  timeout: timeout, netmask: netmask, persistenceEngine: pe)
        self.stats = stats ?? stats32
        self.unknown = unknown
    }
}

extension RealServer {
    /// The attribute list of `IPVS_CMD_NEW_DEST` / `SET_DEST`, as libipvs orders it. `serviceFamily` decides
    /// whether `IPVS_DEST_ATTR_ADDR_FAMILY` differs (mixed-family tunnel destinations).
    public func attributes() -> [DestAttribute] {
        var a: [DestAttribute] = [
            .addrFamily(address.family.rawValue), .addr(address.ipvsField), .port(port), .fwdMethod(forwarding.rawValue),
            .weight(weight), .tunType(tunnelType.rawValue), .tunPort(tunnelPort), .tunFlags(tunnelChecksum.rawValue),
            .upperThreshold(upperThreshold), .lowerThreshold(lowerThreshold),
        ]
        a += unknown.map { .other($0) }
        return a
    }

    /// The attributes that name a destination for `IPVS_CMD_DEL_DEST`: libipvs sends a whole destination with
    /// its defaults (direct routing, weight 1); the kernel reads only the address, port and family.
    public static func keyAttributes(_ e: Endpoint) -> [DestAttribute] {
        RealServer(address: e.address, port: e.port).attributes()
    }

    /// Builds a real server from a decoded `IPVS_CMD_ATTR_DEST`. `serviceFamily` is used when the kernel
    /// omits `IPVS_DEST_ATTR_ADDR_FAMILY` (before 3.18).
    public init(attributes: [DestAttribute], serviceFamily: AddressFamily) throws {
        var addr: [UInt8]?, port: UInt16 = 0, fwd: UInt32 = 3, weight: Int32 = 0, uth: UInt32 = 0, lth: UInt32 = 0
        var act: UInt32 = 0, inact: UInt32 = 0, pers: UInt32 = 0, af: UInt16?, tt: UInt8 = 0, tp: UInt16 = 0, tf: UInt16 = 0
        var stats: Stats?, stats32: Stats?, unknown: [RawAttribute] = []
        for x in attributes {
            switch x {
            case .addr(let v): addr = v
            case .port(let v): port = v
            case .fwdMethod(let v): fwd = v
            case .weight(let v): weight = v
            case .upperThreshold(let v): uth = v
            case .lowerThreshold(let v): lth = v
            case .activeConns(let v): act = v
            case .inactiveConns(let v): inact = v
            case .persistConns(let v): pers = v
            case .stats(let s, _): stats32 = Stats(s)
            case .stats64(let s, _): stats = Stats(s)
            case .addrFamily(let v): af = v
            case .tunType(let v): tt = v
            case .tunPort(let v): tp = v
            case .tunFlags(let v): tf = v
            case .other(let r): unknown.append(r)
            }
        }
        let family: AddressFamily
        if let a = af {
            guard let f = AddressFamily(rawValue: a) else { throw DecodeError("destination", "unknown family \(a)") }
            family = f
        } else { family = serviceFamily }
        guard let a = addr else { throw DecodeError("destination", "missing address") }
        guard let method = ForwardingMethod(rawValue: fwd & 0x7) else {
            throw DecodeError("destination", "unknown forwarding method \(fwd)")
        }
        self.init(address: try IPAddress(ipvsField: a, family: family), port: port, forwarding: method, weight: weight,
                  upperThreshold: uth, lowerThreshold: lth, tunnelType: TunnelType(rawValue: tt) ?? .ipip,
                  tunnelPort: tp, tunnelChecksum: TunnelChecksum(rawValue: tf) ?? .none)
        activeConnections = act; inactiveConnections = inact; persistentConnections = pers
        self.stats = stats ?? stats32
        self.unknown = unknown
    }
}

extension SyncDaemon {
    /// The attribute list of `IPVS_CMD_NEW_DAEMON`, as libipvs orders it.
    public func attributes() -> [DaemonAttribute] {
        var a: [DaemonAttribute] = [.state(state.rawValue), .mcastInterface(interface), .syncID(syncID)]
        if let m = maxLength { a.append(.syncMaxLen(m)) }
        if let p = port { a.append(.mcastPort(p)) }
        if let t = ttl { a.append(.mcastTTL(t)) }
        if let g = group { a.append(g.family == .inet ? .mcastGroup(g.bytes) : .mcastGroup6(g.bytes)) }
        return a
    }

    /// Builds a daemon from a decoded `IPVS_CMD_ATTR_DAEMON`.
    public init(attributes: [DaemonAttribute]) throws {
        var st: UInt32?, ifn = "", id: UInt32 = 0, ml: UInt16?, g: IPAddress?, p: UInt16?, t: UInt8?
        for x in attributes {
            switch x {
            case .state(let v): st = v
            case .mcastInterface(let v): ifn = v
            case .syncID(let v): id = v
            case .syncMaxLen(let v): ml = v
            case .mcastGroup(let v): g = IPAddress(bytes: v)
            case .mcastGroup6(let v): g = IPAddress(bytes: v)
            case .mcastPort(let v): p = v
            case .mcastTTL(let v): t = v
            case .other: break
            }
        }
        guard let s = st, let state = DaemonState(rawValue: s) else { throw DecodeError("daemon", "missing or unknown state") }
        self.init(state: state, interface: ifn, syncID: id, maxLength: ml, group: g, port: p, ttl: t)
    }
}

/// One IPVS request, ready to encode.
public enum IPVSRequest: Hashable, Sendable {
    /// `IPVS_CMD_NEW_SERVICE`.
    case addService(VirtualService)
    /// `IPVS_CMD_SET_SERVICE`: replaces the scheduler, flags, timeout, netmask and pe of the service.
    case editService(VirtualService)
    /// `IPVS_CMD_DEL_SERVICE`.
    case deleteService(ServiceKey)
    /// `IPVS_CMD_NEW_DEST`.
    case addDest(ServiceKey, RealServer)
    /// `IPVS_CMD_SET_DEST`.
    case editDest(ServiceKey, RealServer)
    /// `IPVS_CMD_DEL_DEST`.
    case deleteDest(ServiceKey, Endpoint)
    /// `IPVS_CMD_NEW_DAEMON`.
    case startDaemon(SyncDaemon)
    /// `IPVS_CMD_DEL_DAEMON`.
    case stopDaemon(DaemonState)
    /// `IPVS_CMD_SET_CONFIG` (0 = unchanged).
    case setTimeouts(Timeouts)
    /// `IPVS_CMD_ZERO`, for one service or all.
    case zero(ServiceKey?)
    /// `IPVS_CMD_FLUSH`.
    case flush

    /// The command byte.
    public var command: IPVSCommand {
        switch self {
        case .addService: .newService
        case .editService: .setService
        case .deleteService: .delService
        case .addDest: .newDest
        case .editDest: .setDest
        case .deleteDest: .delDest
        case .startDaemon: .newDaemon
        case .stopDaemon: .delDaemon
        case .setTimeouts: .setConfig
        case .zero: .zero
        case .flush: .flush
        }
    }

    /// The top-level attributes of the request.
    public var attributes: [CommandAttribute] {
        switch self {
        case .addService(let s), .editService(let s): return [.service(s.attributes())]
        case .deleteService(let k): return [.service(k.requestAttributes)]
        case .addDest(let k, let d), .editDest(let k, let d): return [.service(k.requestAttributes), .dest(d.attributes())]
        case .deleteDest(let k, let e): return [.service(k.requestAttributes), .dest(RealServer.keyAttributes(e))]
        case .startDaemon(let d): return [.daemon(d.attributes())]
        case .stopDaemon(let s): return [.daemon([.state(s.rawValue), .mcastInterface(""), .syncID(0)])]
        case .setTimeouts(let t): return [.timeoutTCP(t.tcp), .timeoutTCPFin(t.tcpFin), .timeoutUDP(t.udp)]
        case .zero(let k): return k.map { [.service($0.requestAttributes)] } ?? []
        case .flush: return []
        }
    }

    /// The encoded attribute bytes (after `genlmsghdr`).
    ///
    /// The requests a restore sends by the ten thousand (new/set service, new/set destination) are written
    /// straight into the encoder; building the ``attributes`` enum arrays first cost ~14,000 instructions per
    /// request. The bytes are the same (checked against the enum encoding in EncodingFastPathTests, and the golden
    /// captures).
    public func encodedAttributes() -> [UInt8] {
        var e = AttributeEncoder(capacity: 256)
        switch self {
        case .addService(let s) where s.unknown.isEmpty, .editService(let s) where s.unknown.isEmpty:
            e.nested(Cmd.service) { n in
                IPVSRequest.putKey(s.key, &n)
                n.string(Svc.schedName, s.scheduler.rawValue)
                if let pe = s.persistenceEngine, !pe.isEmpty { n.string(Svc.peName, pe) }
                IPVSRequest.putFlags(s.flags.rawValue, ~0, &n)
                n.u32(Svc.timeout, s.timeout)
                n.u32(Svc.netmask, s.netmask)
            }
        case .addDest(let k, let d) where d.unknown.isEmpty, .editDest(let k, let d) where d.unknown.isEmpty:
            IPVSRequest.putRequestKey(k, &e)
            IPVSRequest.putDest(d, &e)
        case .deleteService(let k):
            IPVSRequest.putRequestKey(k, &e)
        default:
            for a in attributes { a.encode(&e) }
        }
        return e.bytes
    }

    /// The destination nest of a new/set destination request, written directly.
    /// The layout is fixed (96 bytes: the nest header, then ten attributes of 8 bytes and the 20-byte address), so it
    /// is written at known offsets; EncodingFastPathTests checks it against the same bytes written attribute by attribute.
    static func putDest(_ d: RealServer, _ e: inout AttributeEncoder) {
        let family = d.address.family.rawValue, port = d.port, fwd = d.forwarding.rawValue
        let weight = UInt32(bitPattern: d.weight), tunType = d.tunnelType.rawValue, tunPort = d.tunnelPort
        let csum = d.tunnelChecksum.rawValue, upper = d.upperThreshold, lower = d.lowerThreshold
        d.address.bytes.withUnsafeBytes { addr in
            e.fixed(96) { p in
                func header(_ at: Int, _ len: UInt16, _ type: UInt16) {
                    p.storeBytes(of: len.littleEndian, toByteOffset: at, as: UInt16.self)
                    p.storeBytes(of: type.littleEndian, toByteOffset: at + 2, as: UInt16.self)
                }
                header(0, 96, Cmd.dest | nlaFlagNested)
                header(4, 6, Dst.addrFamily); p.storeBytes(of: family.littleEndian, toByteOffset: 8, as: UInt16.self)
                header(12, 20, Dst.addr); (p.baseAddress! + 16).copyMemory(from: addr.baseAddress!, byteCount: min(addr.count, 16))
                header(32, 6, Dst.port); p.storeBytes(of: port.bigEndian, toByteOffset: 36, as: UInt16.self)
                header(40, 8, Dst.fwdMethod); p.storeBytes(of: fwd.littleEndian, toByteOffset: 44, as: UInt32.self)
                header(48, 8, Dst.weight); p.storeBytes(of: weight.littleEndian, toByteOffset: 52, as: UInt32.self)
                header(56, 5, Dst.tunType); p.storeBytes(of: tunType, toByteOffset: 60, as: UInt8.self)
                header(64, 6, Dst.tunPort); p.storeBytes(of: tunPort.bigEndian, toByteOffset: 68, as: UInt16.self)
                header(72, 6, Dst.tunFlags); p.storeBytes(of: csum.littleEndian, toByteOffset: 76, as: UInt16.self)
                header(80, 8, Dst.upperThreshold); p.storeBytes(of: upper.littleEndian, toByteOffset: 84, as: UInt32.self)
                header(88, 8, Dst.lowerThreshold); p.storeBytes(of: lower.littleEndian, toByteOffset: 92, as: UInt32.self)
            }
        }
    }

    /// ``encodedAttributes()``, reusing the encoded service key of the previous request when a destination request
    /// names the same service (a restore sends each service's real servers one after another): `cache` holds the
    /// last key and its encoded nest. The bytes are the same (EncodingFastPathTests).
    public func encodedAttributes(keyCache cache: inout (key: ServiceKey, bytes: [UInt8])?) -> [UInt8] {
        switch self {
        case .addDest(let k, let d) where d.unknown.isEmpty, .editDest(let k, let d) where d.unknown.isEmpty:
            if cache?.key != k {
                var e = AttributeEncoder(capacity: 128)
                IPVSRequest.putRequestKey(k, &e)
                cache = (k, e.bytes)
            }
            var e = AttributeEncoder(capacity: 256)
            e.append(cache!.bytes)
            IPVSRequest.putDest(d, &e)
            return e.bytes
        default:
            return encodedAttributes()
        }
    }

    /// ``ServiceKey/attributes``, written directly.
    static func putKey(_ k: ServiceKey, _ n: inout AttributeEncoder) {
        switch k {
        case .address(let p, let ep):
            n.u16(Svc.af, ep.address.family.rawValue)
            n.u16(Svc.protocol, p.rawValue)
            n.addr16(Svc.addr, ep.address.bytes)
            n.be16(Svc.port, ep.port)
        case .fwmark(let m, let f):
            n.u16(Svc.af, f.rawValue)
            n.u32(Svc.fwmark, m)
        }
    }

    /// `IPVS_SVC_ATTR_FLAGS`: `struct ip_vs_flags {flags, mask}`.
    static func putFlags(_ flags: UInt32, _ mask: UInt32, _ n: inout AttributeEncoder) {
        n.appendHeader(len: 12, type: Svc.flags); n.le(flags); n.le(mask)
    }

    /// ``ServiceKey/requestAttributes`` as the nested `IPVS_CMD_ATTR_SERVICE`, written directly.
    static func putRequestKey(_ k: ServiceKey, _ e: inout AttributeEncoder) {
        e.nested(Cmd.service) { n in
            putKey(k, &n)
            n.string(Svc.schedName, "")
            putFlags(0, ~0, &n)
            n.u32(Svc.timeout, 0)
            n.u32(Svc.netmask, VirtualService.fullNetmask(k.family))
        }
    }
}

/// Decoding of whole IPVS reply messages.
public enum IPVSDecode {
    /// The top-level attributes of a generic-netlink payload.
    public static func commandAttributes(_ bytes: ArraySlice<UInt8>) throws -> [CommandAttribute] {
        try AttributeDecoder.decodeAll(bytes, context: "IPVS message").map(CommandAttribute.decode)
    }
    /// The service in a `GET_SERVICE` dump reply.
    /// With `stats: false` the two nested counter blocks are skipped, not decoded, and `stats` is nil (a listing
    /// that prints no counters: about a third of the decoding work of a table read).
    public static func service(_ bytes: ArraySlice<UInt8>, stats: Bool = true) throws -> VirtualService {
        if let s = FastDecode.service(bytes, stats: stats) { return s }
        var s = try serviceOffFastPath(bytes, stats: stats)
        if !stats { s.stats = nil }
        return s
    }
    /// A service reply the fast decoder's common path left: attribute types it does not know (its cold path),
    /// else the generic decoder. Out of line, so that ``service(_:stats:)`` is as it was for the common reply.
    @inline(never)
    static func serviceOffFastPath(_ bytes: ArraySlice<UInt8>, stats: Bool) throws -> VirtualService {
        if let s = FastDecode.serviceWithUnknown(bytes, stats: stats) { return s }
        return try serviceGeneric(bytes)
    }
    /// ``service(_:)`` through the attribute enum values (the reference for the fast decoder).
    static func serviceGeneric(_ bytes: ArraySlice<UInt8>) throws -> VirtualService {
        for a in try commandAttributes(bytes) { if case .service(let s, _) = a { return try VirtualService(attributes: s) } }
        throw DecodeError("service dump", "reply without IPVS_CMD_ATTR_SERVICE")
    }
    /// The key of the service in a `GET_SERVICE` dump reply.
    public static func serviceKey(_ bytes: ArraySlice<UInt8>) throws -> ServiceKey {
        if let k = FastDecode.serviceKey(bytes) { return k }
        return try serviceKeyOffFastPath(bytes)
    }
    /// ``serviceKey(_:)`` of a reply the fast decoder's common path left (see ``serviceOffFastPath(_:stats:)``).
    @inline(never)
    static func serviceKeyOffFastPath(_ bytes: ArraySlice<UInt8>) throws -> ServiceKey {
        if let k = FastDecode.serviceKeyWithUnknown(bytes) { return k }
        return try serviceGeneric(bytes).key
    }
    /// The destination in a `GET_DEST` dump reply.
    /// `stats` as for ``service(_:stats:)``.
    public static func dest(_ bytes: ArraySlice<UInt8>, serviceFamily: AddressFamily, stats: Bool = true) throws -> RealServer {
        if let d = FastDecode.dest(bytes, serviceFamily: serviceFamily, stats: stats) { return d }
        var d = try destOffFastPath(bytes, serviceFamily: serviceFamily, stats: stats)
        if !stats { d.stats = nil }
        return d
    }
    /// A destination reply the fast decoder's common path left (see ``serviceOffFastPath(_:stats:)``).
    @inline(never)
    static func destOffFastPath(_ bytes: ArraySlice<UInt8>, serviceFamily: AddressFamily, stats: Bool) throws -> RealServer {
        if let d = FastDecode.destWithUnknown(bytes, serviceFamily: serviceFamily, stats: stats) { return d }
        return try destGeneric(bytes, serviceFamily: serviceFamily)
    }
    /// ``dest(_:serviceFamily:)`` through the attribute enum values (the reference for the fast decoder).
    static func destGeneric(_ bytes: ArraySlice<UInt8>, serviceFamily: AddressFamily) throws -> RealServer {
        for a in try commandAttributes(bytes) {
            if case .dest(let d, _) = a { return try RealServer(attributes: d, serviceFamily: serviceFamily) }
        }
        throw DecodeError("destination dump", "reply without IPVS_CMD_ATTR_DEST")
    }
    /// The daemon in a `GET_DAEMON` dump reply.
    public static func daemon(_ bytes: ArraySlice<UInt8>) throws -> SyncDaemon {
        for a in try commandAttributes(bytes) { if case .daemon(let d, _) = a { return try SyncDaemon(attributes: d) } }
        throw DecodeError("daemon dump", "reply without IPVS_CMD_ATTR_DAEMON")
    }
    /// The timeouts in a `GET_CONFIG` reply.
    public static func timeouts(_ bytes: ArraySlice<UInt8>) throws -> Timeouts {
        var t = Timeouts(tcp: 0, tcpFin: 0, udp: 0)
        for a in try commandAttributes(bytes) {
            switch a {
            case .timeoutTCP(let v): t.tcp = v
            case .timeoutTCPFin(let v): t.tcpFin = v
            case .timeoutUDP(let v): t.udp = v
            default: break
            }
        }
        return t
    }
    /// The info in a `GET_INFO` reply.
    public static func info(_ bytes: ArraySlice<UInt8>) throws -> IPVSInfo {
        var i = IPVSInfo(version: 0, connectionTableSize: 0)
        for r in try AttributeDecoder.decodeAll(bytes, context: "info") {
            switch try InfoAttribute.decode(r) {
            case .version(let v): i.version = v
            case .connTabSize(let v): i.connectionTableSize = v
            case .other: break
            }
        }
        return i
    }
}

/// Direct decoding of the dump replies a list or save reads by the ten thousand (one service or one destination
/// each), without building ``RawAttribute`` payload arrays and attribute enum values (~45,000 instructions per
/// destination). `dest`, `service` and `serviceKey` handle the replies the kernel sends: a single service/destination
/// attribute holding only known attributes of the right sizes. A reply with attribute types they do not know (a
/// newer kernel's) goes to `destWithUnknown` / `serviceWithUnknown` / `serviceKeyWithUnknown`, which decode it fast
/// as well and keep those attributes in `unknown` exactly as the generic decoder keeps them (`.other`), so a kernel
/// that adds an attribute does not send every reply down the generic path. For anything else (malformed
/// attributes, a second known top-level attribute) they return nil and the caller decodes generically, which
/// throws the precise ``DecodeError``. Results equal the generic decoder's (EncodingFastPathTests,
/// KernelNumbersTests).
enum FastDecode {
    /// Walks the attributes in `b[range]`, checking lengths as ``AttributeDecoder`` does; false when they are
    /// malformed or `body` returns false.
    @inline(__always)
    static func walk(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ body: (UInt16, Range<Int>) -> Bool) -> Bool {
        var off = range.lowerBound
        while off < range.upperBound {
            let rem = range.upperBound - off
            guard rem >= 4 else { return false }
            let len = Int(b[off]) | Int(b[off + 1]) << 8
            let type = (UInt16(b[off + 2]) | UInt16(b[off + 3]) << 8) & nlaTypeMask
            guard len >= 4, len <= rem else { return false }
            guard body(type, (off + 4)..<(off + len)) else { return false }
            off += Swift.min(netlinkAlign(len), rem)
        }
        return true
    }

    @inline(__always) static func le<T: FixedWidthInteger>(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _: T.Type) -> T? {
        guard r.count == MemoryLayout<T>.size, r.lowerBound >= 0, r.upperBound <= b.count, let base = b.baseAddress else { return nil }
        return T(littleEndian: UnsafeRawPointer(base + r.lowerBound).loadUnaligned(as: T.self))
    }

    /// The one nested attribute of `type` that makes up the whole message, or nil.
    static func only(_ b: UnsafeBufferPointer<UInt8>, type want: UInt16) -> Range<Int>? {
        var found: Range<Int>?
        let ok = walk(b, 0..<b.count) { t, r in
            guard t == want, found == nil else { return false }
            found = r
            return true
        }
        return ok ? found : nil
    }

    /// The cold path for a reply that holds attribute types the fast decoder does not know (a newer kernel's):
    /// the reply rebuilt as the one `want` nest with only the types `1...lastKnown` (the ones the walkers above
    /// handle), and the others as the generic decoder keeps them (`.other`: type, flag bits, payload). Top-level
    /// attributes ``CommandAttribute`` does not know are dropped, as the model ignores them. Nil when there is
    /// nothing unknown, or the reply is malformed or holds another known top-level attribute: the generic decoder
    /// decides. Out of line and separate from the walkers, so that the common reply costs what it did (keeping
    /// the unknown attributes inside the walkers cost ~300 instructions per destination even when there were none).
    @inline(never)
    static func withoutUnknown(_ bytes: ArraySlice<UInt8>, want: UInt16, lastKnown: UInt16) -> (reply: [UInt8], unknown: [RawAttribute])? {
        bytes.withUnsafeBufferPointer { b -> (reply: [UInt8], unknown: [RawAttribute])? in
            var nest: Range<Int>?, droppedTop = false
            let top = walk(b, 0..<b.count) { t, r in
                if t == want { guard nest == nil else { return false }; nest = r; return true }
                droppedTop = true
                return !knownCommandAttribute(t)
            }
            guard top, let n = nest else { return nil }
            var kept: [UInt8] = [0, 0, b[n.lowerBound - 2], b[n.lowerBound - 1]]  // the nest header, length below
            var unknown: [RawAttribute] = []
            let inner = walk(b, n) { t, r in
                if t == 0 || t > lastKnown {
                    let rawType = UInt16(b[r.lowerBound - 2]) | UInt16(b[r.lowerBound - 1]) << 8
                    unknown.append(RawAttribute(type: t, flags: rawType & ~nlaTypeMask, payload: Array(b[r])))
                } else {
                    kept += b[(r.lowerBound - 4)..<r.upperBound]
                    kept += [UInt8](repeating: 0, count: netlinkAlign(r.count) - r.count)
                }
                return true
            }
            guard inner, !unknown.isEmpty || droppedTop else { return nil }
            let len = kept.count
            kept[0] = UInt8(truncatingIfNeeded: len); kept[1] = UInt8(truncatingIfNeeded: len >> 8)
            return (kept, unknown)
        }
    }

    /// Whether ``CommandAttribute/decode(_:)`` gives `t` a case of its own (not `.other`).
    static func knownCommandAttribute(_ t: UInt16) -> Bool {
        switch t {
        case Cmd.service, Cmd.dest, Cmd.daemon, Cmd.timeoutTCP, Cmd.timeoutTCPFin, Cmd.timeoutUDP: return true
        default: return false
        }
    }

    /// ``dest(_:serviceFamily:stats:)`` of a reply with attribute types it does not know (see ``withoutUnknown``).
    @inline(never)
    static func destWithUnknown(_ bytes: ArraySlice<UInt8>, serviceFamily: AddressFamily, stats: Bool = true) -> RealServer? {
        guard let (reply, unknown) = withoutUnknown(bytes, want: Cmd.dest, lastKnown: Dst.tunFlags),
              var d = dest(reply[...], serviceFamily: serviceFamily, stats: stats) else { return nil }
        d.unknown = unknown
        return d
    }

    /// ``service(_:stats:)`` of a reply with attribute types it does not know (see ``withoutUnknown``).
    @inline(never)
    static func serviceWithUnknown(_ bytes: ArraySlice<UInt8>, stats: Bool = true) -> VirtualService? {
        guard let (reply, unknown) = withoutUnknown(bytes, want: Cmd.service, lastKnown: Svc.stats64),
              var s = service(reply[...], stats: stats) else { return nil }
        s.unknown = unknown
        return s
    }

    /// ``serviceKey(_:)`` of a reply with top-level attributes it does not know.
    @inline(never)
    static func serviceKeyWithUnknown(_ bytes: ArraySlice<UInt8>) -> ServiceKey? {
        withoutUnknown(bytes, want: Cmd.service, lastKnown: Svc.stats64).flatMap { serviceKey($0.reply[...]) }
    }

    static func stats(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, wide: Bool) -> Stats? {
        // A direct loop over the nested counters (this runs twice for every service and real server listed).
        guard range.lowerBound >= 0, range.upperBound <= b.count, let base = b.baseAddress.map(UnsafeRawPointer.init) else { return nil }
        var s = Stats()
        var off = range.lowerBound
        while off < range.upperBound {
            let rem = range.upperBound - off
            guard rem >= 4 else { return nil }
            let len = Int(UInt16(littleEndian: (base + off).loadUnaligned(as: UInt16.self)))
            let type = UInt16(littleEndian: (base + off + 2).loadUnaligned(as: UInt16.self)) & nlaTypeMask
            guard len >= 4, len <= rem else { return nil }
            if type >= Sts.conns && type <= Sts.outBPS {
                let is64 = wide || type == Sts.inBytes || type == Sts.outBytes
                guard len - 4 == (is64 ? 8 : 4) else { return nil }
                let v = is64 ? UInt64(littleEndian: (base + off + 4).loadUnaligned(as: UInt64.self))
                             : UInt64(UInt32(littleEndian: (base + off + 4).loadUnaligned(as: UInt32.self)))
                switch type {
                case Sts.conns: s.connections = v
                case Sts.inPackets: s.inPackets = v
                case Sts.outPackets: s.outPackets = v
                case Sts.inBytes: s.inBytes = v
                case Sts.outBytes: s.outBytes = v
                case Sts.cps: s.cps = v
                case Sts.inPPS: s.inPPS = v
                case Sts.outPPS: s.outPPS = v
                case Sts.inBPS: s.inBPS = v
                default: s.outBPS = v  // Sts.outBPS
                }
            }  // other types: the generic decoder keeps them as .other, which Stats ignores
            off += Swift.min(netlinkAlign(len), rem)
        }
        return s
    }

    /// A NUL-terminated string attribute, as ``RawAttribute/string(_:)`` reads it.
    static func string(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String? {
        var end = r.lowerBound
        while end < r.upperBound && b[end] != 0 { end += 1 }
        return String(validating: UnsafeBufferPointer(rebasing: b[r.lowerBound..<end]), as: UTF8.self)
    }

    static func dest(_ bytes: ArraySlice<UInt8>, serviceFamily: AddressFamily, stats wantStats: Bool = true) -> RealServer? {
        bytes.withUnsafeBufferPointer { b -> RealServer? in
            guard let dr = only(b, type: Cmd.dest) else { return nil }
            var addr: Int?, port: UInt16 = 0, fwd: UInt32 = 3, weight: Int32 = 0, uth: UInt32 = 0, lth: UInt32 = 0
            var act: UInt32 = 0, inact: UInt32 = 0, pers: UInt32 = 0, af: UInt16?, tt: UInt8 = 0, tp: UInt16 = 0, tf: UInt16 = 0
            var st: Stats?, st32: Stats?
            let ok = walk(b, dr) { t, r in
                switch t {
                case Dst.addr: guard r.count == 16 else { return false }; addr = r.lowerBound
                case Dst.port: guard let v = le(b, r, UInt16.self) else { return false }; port = v.byteSwapped
                case Dst.fwdMethod: guard let v = le(b, r, UInt32.self) else { return false }; fwd = v
                case Dst.weight: guard let v = le(b, r, UInt32.self) else { return false }; weight = Int32(bitPattern: v)
                case Dst.upperThreshold: guard let v = le(b, r, UInt32.self) else { return false }; uth = v
                case Dst.lowerThreshold: guard let v = le(b, r, UInt32.self) else { return false }; lth = v
                case Dst.activeConns: guard let v = le(b, r, UInt32.self) else { return false }; act = v
                case Dst.inactiveConns: guard let v = le(b, r, UInt32.self) else { return false }; inact = v
                case Dst.persistConns: guard let v = le(b, r, UInt32.self) else { return false }; pers = v
                case Dst.stats: guard wantStats else { break }; guard let v = stats(b, r, wide: false) else { return false }; st32 = v
                case Dst.addrFamily: guard let v = le(b, r, UInt16.self) else { return false }; af = v
                case Dst.stats64: guard wantStats else { break }; guard let v = stats(b, r, wide: true) else { return false }; st = v
                case Dst.tunType: guard let v = le(b, r, UInt8.self) else { return false }; tt = v
                case Dst.tunPort: guard let v = le(b, r, UInt16.self) else { return false }; tp = v.byteSwapped
                case Dst.tunFlags: guard let v = le(b, r, UInt16.self) else { return false }; tf = v
                default: return false
                }
                return true
            }
            guard ok, let a = addr, let method = ForwardingMethod(rawValue: fwd & 0x7) else { return nil }
            let family: AddressFamily
            if let v = af { guard let f = AddressFamily(rawValue: v) else { return nil }; family = f } else { family = serviceFamily }
            let address = IPAddress(ipvsField: b, at: a, family: family)
            var d = RealServer(address: address, port: port, forwarding: method, weight: weight,
                               upperThreshold: uth, lowerThreshold: lth, tunnelType: TunnelType(rawValue: tt) ?? .ipip,
                               tunnelPort: tp, tunnelChecksum: TunnelChecksum(rawValue: tf) ?? .none)
            d.activeConnections = act; d.inactiveConnections = inact; d.persistentConnections = pers
            d.stats = st ?? st32
            return d
        }
    }

    /// The key attributes of a service (family, protocol, address, port, fwmark), gathered during a walk.
    struct KeyFields {
        var af: UInt16?, proto: UInt16?, addr: Int?, port: UInt16?, mark: UInt32?

        /// Takes attribute `t` if it is a key attribute: true when taken, false when malformed, nil otherwise.
        mutating func take(_ b: UnsafeBufferPointer<UInt8>, _ t: UInt16, _ r: Range<Int>) -> Bool? {
            switch t {
            case Svc.af: guard let v = le(b, r, UInt16.self) else { return false }; af = v
            case Svc.protocol: guard let v = le(b, r, UInt16.self) else { return false }; proto = v
            case Svc.addr: guard r.count == 16 else { return false }; addr = r.lowerBound
            case Svc.port: guard let v = le(b, r, UInt16.self) else { return false }; port = v.byteSwapped
            case Svc.fwmark: guard let v = le(b, r, UInt32.self) else { return false }; mark = v
            default: return nil
            }
            return true
        }

        /// The key, or nil when the attributes do not make one.
        func key(_ b: UnsafeBufferPointer<UInt8>) -> ServiceKey? {
            guard let afv = af, let family = AddressFamily(rawValue: afv) else { return nil }
            if let m = mark, m != 0 { return .fwmark(m, family) }
            guard let pv = proto, let p = IPProtocol(rawValue: pv), let a = addr, let pt = port else { return nil }
            return .address(p, Endpoint(address: IPAddress(ipvsField: b, at: a, family: family), port: pt))
        }
    }

    /// Only the key of a service dump reply (for the second, checking service dump of a table read); nil when
    /// the reply is not one the fast decoder handles.
    static func serviceKey(_ bytes: ArraySlice<UInt8>) -> ServiceKey? {
        bytes.withUnsafeBufferPointer { b -> ServiceKey? in
            guard let sr = only(b, type: Cmd.service) else { return nil }
            var k = KeyFields()
            guard walk(b, sr, { t, r in k.take(b, t, r) ?? true }) else { return nil }
            return k.key(b)
        }
    }

    static func service(_ bytes: ArraySlice<UInt8>, stats wantStats: Bool = true) -> VirtualService? {
        bytes.withUnsafeBufferPointer { b -> VirtualService? in
            guard let sr = only(b, type: Cmd.service) else { return nil }
            var k = KeyFields()
            var sched = "", flags: UInt32 = 0, timeout: UInt32 = 0, netmask: UInt32?, pe: String?
            var st: Stats?, st32: Stats?
            let ok = walk(b, sr) { t, r in
                if let taken = k.take(b, t, r) { return taken }
                switch t {
                case Svc.schedName: guard let v = string(b, r) else { return false }; sched = v
                case Svc.flags:
                    guard r.count == 8, let f = le(b, r.lowerBound..<(r.lowerBound + 4), UInt32.self) else { return false }
                    flags = f
                case Svc.timeout: guard let v = le(b, r, UInt32.self) else { return false }; timeout = v
                case Svc.netmask: guard let v = le(b, r, UInt32.self) else { return false }; netmask = v
                case Svc.stats: guard wantStats else { break }; guard let v = stats(b, r, wide: false) else { return false }; st32 = v
                case Svc.peName: guard let v = string(b, r) else { return false }; pe = v.isEmpty ? nil : v
                case Svc.stats64: guard wantStats else { break }; guard let v = stats(b, r, wide: true) else { return false }; st = v
                default: return false
                }
                return true
            }
            guard ok, let key = k.key(b) else { return nil }
            var s = VirtualService(key: key, scheduler: Scheduler(sched), flags: ServiceFlags(rawValue: flags).subtracting(.hashed),
                                   timeout: timeout, netmask: netmask, persistenceEngine: pe)
            s.stats = st ?? st32
            return s
        }
    }
}
