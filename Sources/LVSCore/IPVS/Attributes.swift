/// The IPVS generic-netlink attribute sets of `linux/ip_vs.h`, one enum each, with an `other` case
/// that keeps attributes from newer kernels for a round trip.

/// IPVS generic-netlink commands (`IPVS_CMD_*`).
public enum IPVSCommand: UInt8, Hashable, Sendable {
    /// `IPVS_CMD_NEW_SERVICE` (1), `SET_SERVICE`, `DEL_SERVICE`, `GET_SERVICE`.
    case newService = 1, setService, delService, getService
    /// `IPVS_CMD_NEW_DEST`, `SET_DEST`, `DEL_DEST`, `GET_DEST`.
    case newDest, setDest, delDest, getDest
    /// `IPVS_CMD_NEW_DAEMON`, `DEL_DAEMON`, `GET_DAEMON`.
    case newDaemon, delDaemon, getDaemon
    /// `IPVS_CMD_SET_CONFIG` (timeouts), `GET_CONFIG`, `SET_INFO`, `GET_INFO`.
    case setConfig, getConfig, setInfo, getInfo
    /// `IPVS_CMD_ZERO` (counters), `IPVS_CMD_FLUSH` (every service).
    case zero, flush
}

/// The generic-netlink family name and version (`IPVS_GENL_NAME`, `IPVS_GENL_VERSION`).
public enum IPVSFamily {
    /// `"IPVS"`.
    public static let name = "IPVS"
    /// `IPVS_GENL_VERSION`.
    public static let version: UInt8 = 1
}

/// Top-level attributes of an IPVS message (`IPVS_CMD_ATTR_*`).
public enum CommandAttribute: Hashable, Sendable {
    /// `IPVS_CMD_ATTR_SERVICE` (nested). `flagged` records `NLA_F_NESTED`: libnl sets it on requests, the
    /// kernel leaves it off in replies; both decode, and each re-encodes as it came.
    case service([ServiceAttribute], flagged: Bool = true)
    /// `IPVS_CMD_ATTR_DEST` (nested).
    case dest([DestAttribute], flagged: Bool = true)
    /// `IPVS_CMD_ATTR_DAEMON` (nested).
    case daemon([DaemonAttribute], flagged: Bool = true)
    /// `IPVS_CMD_ATTR_TIMEOUT_TCP`.
    case timeoutTCP(UInt32)
    /// `IPVS_CMD_ATTR_TIMEOUT_TCP_FIN`.
    case timeoutTCPFin(UInt32)
    /// `IPVS_CMD_ATTR_TIMEOUT_UDP`.
    case timeoutUDP(UInt32)
    /// Anything else.
    case other(RawAttribute)

    /// Decodes one top-level attribute.
    public static func decode(_ a: RawAttribute) throws -> CommandAttribute {
        switch a.type {
        case IPVSAttr.Command.service: return .service(try a.nested("service").map(ServiceAttribute.decode), flagged: a.isNestedFlagged)
        case IPVSAttr.Command.dest: return .dest(try a.nested("destination").map(DestAttribute.decode), flagged: a.isNestedFlagged)
        case IPVSAttr.Command.daemon: return .daemon(try a.nested("daemon").map(DaemonAttribute.decode), flagged: a.isNestedFlagged)
        case IPVSAttr.Command.timeoutTCP: return .timeoutTCP(try a.u32("timeout tcp"))
        case IPVSAttr.Command.timeoutTCPFin: return .timeoutTCPFin(try a.u32("timeout tcpfin"))
        case IPVSAttr.Command.timeoutUDP: return .timeoutUDP(try a.u32("timeout udp"))
        default: return .other(a)
        }
    }
    /// Encodes this attribute.
    public func encode(_ e: inout AttributeEncoder) {
        switch self {
        case .service(let s, let f): e.nested(IPVSAttr.Command.service, flagged: f) { n in for x in s { x.encode(&n) } }
        case .dest(let d, let f): e.nested(IPVSAttr.Command.dest, flagged: f) { n in for x in d { x.encode(&n) } }
        case .daemon(let d, let f): e.nested(IPVSAttr.Command.daemon, flagged: f) { n in for x in d { x.encode(&n) } }
        case .timeoutTCP(let v): e.u32(IPVSAttr.Command.timeoutTCP, v)
        case .timeoutTCPFin(let v): e.u32(IPVSAttr.Command.timeoutTCPFin, v)
        case .timeoutUDP(let v): e.u32(IPVSAttr.Command.timeoutUDP, v)
        case .other(let r): e.raw(r)
        }
    }
}

/// Service attributes (`IPVS_SVC_ATTR_*`).
public enum ServiceAttribute: Hashable, Sendable {
    /// `IPVS_SVC_ATTR_AF`: the address family.
    case af(UInt16)
    /// `IPVS_SVC_ATTR_PROTOCOL`: `IPPROTO_*`.
    case `protocol`(UInt16)
    /// 16-byte address field.
    case addr([UInt8])
    /// Port in host order (big-endian on the wire).
    case port(UInt16)
    /// `IPVS_SVC_ATTR_FWMARK`.
    case fwmark(UInt32)
    /// `IPVS_SVC_ATTR_SCHED_NAME`.
    case schedName(String)
    /// `struct ip_vs_flags {flags, mask}`.
    case flags(flags: UInt32, mask: UInt32)
    /// `IPVS_SVC_ATTR_TIMEOUT`: persistence seconds.
    case timeout(UInt32)
    /// `IPVS_SVC_ATTR_NETMASK`: persistence granularity (IPv4 mask, or IPv6 prefix length).
    case netmask(UInt32)
    /// `..._ATTR_STATS` (32-bit packet and rate counters); `flagged`: sent with `NLA_F_NESTED`.
    case stats([StatsAttribute], flagged: Bool = true)
    /// `IPVS_SVC_ATTR_PE_NAME`: the persistence engine.
    case peName(String)
    /// `..._ATTR_STATS64` (all counters 64-bit); `flagged`: sent with `NLA_F_NESTED`.
    case stats64([StatsAttribute], flagged: Bool = true)
    /// An attribute this version does not know, kept as is for a round trip.
    case other(RawAttribute)

    static let ctx = "service"
    /// Decodes one service attribute.
    public static func decode(_ a: RawAttribute) throws -> ServiceAttribute {
        switch a.type {
        case IPVSAttr.Service.af: return .af(try a.u16(ctx))
        case IPVSAttr.Service.`protocol`: return .protocol(try a.u16(ctx))
        case IPVSAttr.Service.addr:
            guard a.payload.count == 16 else { throw DecodeError(ctx, "address of \(a.payload.count) bytes, expected 16") }
            return .addr(a.payload)
        case IPVSAttr.Service.port: return .port(try a.be16(ctx))
        case IPVSAttr.Service.fwmark: return .fwmark(try a.u32(ctx))
        case IPVSAttr.Service.schedName: return .schedName(try a.string(ctx))
        case IPVSAttr.Service.flags:
            guard a.payload.count == 8 else { throw DecodeError(ctx, "flags of \(a.payload.count) bytes, expected 8") }
            let f = RawAttribute(type: 0, payload: Array(a.payload[0..<4])), m = RawAttribute(type: 0, payload: Array(a.payload[4..<8]))
            return .flags(flags: try f.u32(ctx), mask: try m.u32(ctx))
        case IPVSAttr.Service.timeout: return .timeout(try a.u32(ctx))
        case IPVSAttr.Service.netmask: return .netmask(try a.u32(ctx))
        case IPVSAttr.Service.stats: return .stats(try a.nested("service stats").map { try StatsAttribute.decode($0, wide: false) }, flagged: a.isNestedFlagged)
        case IPVSAttr.Service.peName: return .peName(try a.string(ctx))
        case IPVSAttr.Service.stats64: return .stats64(try a.nested("service stats64").map { try StatsAttribute.decode($0, wide: true) }, flagged: a.isNestedFlagged)
        default: return .other(a)
        }
    }
    /// Encodes this attribute.
    public func encode(_ e: inout AttributeEncoder) {
        switch self {
        case .af(let v): e.u16(IPVSAttr.Service.af, v)
        case .protocol(let v): e.u16(IPVSAttr.Service.`protocol`, v)
        case .addr(let v): e.put(IPVSAttr.Service.addr, v)
        case .port(let v): e.be16(IPVSAttr.Service.port, v)
        case .fwmark(let v): e.u32(IPVSAttr.Service.fwmark, v)
        case .schedName(let v): e.string(IPVSAttr.Service.schedName, v)
        case .flags(let f, let m):
            var p = AttributeEncoder(); p.le(f); p.le(m); e.put(IPVSAttr.Service.flags, p.bytes)
        case .timeout(let v): e.u32(IPVSAttr.Service.timeout, v)
        case .netmask(let v): e.u32(IPVSAttr.Service.netmask, v)
        case .stats(let s, let f): e.nested(IPVSAttr.Service.stats, flagged: f) { n in for x in s { x.encode(&n, wide: false) } }
        case .peName(let v): e.string(IPVSAttr.Service.peName, v)
        case .stats64(let s, let f): e.nested(IPVSAttr.Service.stats64, flagged: f) { n in for x in s { x.encode(&n, wide: true) } }
        case .other(let r): e.raw(r)
        }
    }
}

/// Destination attributes (`IPVS_DEST_ATTR_*`).
public enum DestAttribute: Hashable, Sendable {
    /// `IPVS_DEST_ATTR_ADDR`: 16-byte address field.
    case addr([UInt8])
    /// `IPVS_DEST_ATTR_PORT`: port in host order (big-endian on the wire).
    case port(UInt16)
    /// `IPVS_DEST_ATTR_FWD_METHOD`: `IP_VS_CONN_F_*` forwarding bits.
    case fwdMethod(UInt32)
    /// `IPVS_DEST_ATTR_WEIGHT`.
    case weight(Int32)
    /// `IPVS_DEST_ATTR_U_THRESH`.
    case upperThreshold(UInt32)
    /// `IPVS_DEST_ATTR_L_THRESH`.
    case lowerThreshold(UInt32)
    /// `IPVS_DEST_ATTR_ACTIVE_CONNS` (read only).
    case activeConns(UInt32)
    /// `IPVS_DEST_ATTR_INACT_CONNS` (read only).
    case inactiveConns(UInt32)
    /// `IPVS_DEST_ATTR_PERSIST_CONNS` (read only).
    case persistConns(UInt32)
    /// `..._ATTR_STATS` (32-bit packet and rate counters); `flagged`: sent with `NLA_F_NESTED`.
    case stats([StatsAttribute], flagged: Bool = true)
    /// `IPVS_DEST_ATTR_ADDR_FAMILY` (a real server may differ from its service when tunnelling).
    case addrFamily(UInt16)
    /// `..._ATTR_STATS64` (all counters 64-bit); `flagged`: sent with `NLA_F_NESTED`.
    case stats64([StatsAttribute], flagged: Bool = true)
    /// `IPVS_DEST_ATTR_TUN_TYPE`: ipip, gue or gre.
    case tunType(UInt8)
    /// Tunnel port in host order (big-endian on the wire).
    case tunPort(UInt16)
    /// `IPVS_DEST_ATTR_TUN_FLAGS`: checksum options.
    case tunFlags(UInt16)
    /// An attribute this version does not know, kept as is for a round trip.
    case other(RawAttribute)

    static let ctx = "destination"
    /// Decodes one destination attribute.
    public static func decode(_ a: RawAttribute) throws -> DestAttribute {
        switch a.type {
        case IPVSAttr.Dest.addr:
            guard a.payload.count == 16 else { throw DecodeError(ctx, "address of \(a.payload.count) bytes, expected 16") }
            return .addr(a.payload)
        case IPVSAttr.Dest.port: return .port(try a.be16(ctx))
        case IPVSAttr.Dest.fwdMethod: return .fwdMethod(try a.u32(ctx))
        case IPVSAttr.Dest.weight: return .weight(Int32(bitPattern: try a.u32(ctx)))
        case IPVSAttr.Dest.upperThreshold: return .upperThreshold(try a.u32(ctx))
        case IPVSAttr.Dest.lowerThreshold: return .lowerThreshold(try a.u32(ctx))
        case IPVSAttr.Dest.activeConns: return .activeConns(try a.u32(ctx))
        case IPVSAttr.Dest.inactiveConns: return .inactiveConns(try a.u32(ctx))
        case IPVSAttr.Dest.persistConns: return .persistConns(try a.u32(ctx))
        case IPVSAttr.Dest.stats: return .stats(try a.nested("destination stats").map { try StatsAttribute.decode($0, wide: false) }, flagged: a.isNestedFlagged)
        case IPVSAttr.Dest.addrFamily: return .addrFamily(try a.u16(ctx))
        case IPVSAttr.Dest.stats64: return .stats64(try a.nested("destination stats64").map { try StatsAttribute.decode($0, wide: true) }, flagged: a.isNestedFlagged)
        case IPVSAttr.Dest.tunType: return .tunType(try a.u8(ctx))
        case IPVSAttr.Dest.tunPort: return .tunPort(try a.be16(ctx))
        case IPVSAttr.Dest.tunFlags: return .tunFlags(try a.u16(ctx))
        default: return .other(a)
        }
    }
    /// Encodes this attribute.
    public func encode(_ e: inout AttributeEncoder) {
        switch self {
        case .addr(let v): e.put(IPVSAttr.Dest.addr, v)
        case .port(let v): e.be16(IPVSAttr.Dest.port, v)
        case .fwdMethod(let v): e.u32(IPVSAttr.Dest.fwdMethod, v)
        case .weight(let v): e.u32(IPVSAttr.Dest.weight, UInt32(bitPattern: v))
        case .upperThreshold(let v): e.u32(IPVSAttr.Dest.upperThreshold, v)
        case .lowerThreshold(let v): e.u32(IPVSAttr.Dest.lowerThreshold, v)
        case .activeConns(let v): e.u32(IPVSAttr.Dest.activeConns, v)
        case .inactiveConns(let v): e.u32(IPVSAttr.Dest.inactiveConns, v)
        case .persistConns(let v): e.u32(IPVSAttr.Dest.persistConns, v)
        case .stats(let s, let f): e.nested(IPVSAttr.Dest.stats, flagged: f) { n in for x in s { x.encode(&n, wide: false) } }
        case .addrFamily(let v): e.u16(IPVSAttr.Dest.addrFamily, v)
        case .stats64(let s, let f): e.nested(IPVSAttr.Dest.stats64, flagged: f) { n in for x in s { x.encode(&n, wide: true) } }
        case .tunType(let v): e.u8(IPVSAttr.Dest.tunType, v)
        case .tunPort(let v): e.be16(IPVSAttr.Dest.tunPort, v)
        case .tunFlags(let v): e.u16(IPVSAttr.Dest.tunFlags, v)
        case .other(let r): e.raw(r)
        }
    }
}

/// Sync-daemon attributes (`IPVS_DAEMON_ATTR_*`).
public enum DaemonAttribute: Hashable, Sendable {
    /// `IPVS_DAEMON_ATTR_STATE`: master or backup.
    case state(UInt32)
    /// `IPVS_DAEMON_ATTR_MCAST_IFN`.
    case mcastInterface(String)
    /// `IPVS_DAEMON_ATTR_SYNC_ID`.
    case syncID(UInt32)
    /// `IPVS_DAEMON_ATTR_SYNC_MAXLEN`.
    case syncMaxLen(UInt16)
    /// IPv4 group, 4 bytes in network order.
    case mcastGroup([UInt8])
    /// IPv6 group, 16 bytes.
    case mcastGroup6([UInt8])
    /// Port, host order on the wire too (unlike service ports): the kernel reads it with `nla_get_u16`.
    case mcastPort(UInt16)
    /// `IPVS_DAEMON_ATTR_MCAST_TTL`.
    case mcastTTL(UInt8)
    /// An attribute this version does not know, kept as is for a round trip.
    case other(RawAttribute)

    static let ctx = "daemon"
    /// Decodes one daemon attribute.
    public static func decode(_ a: RawAttribute) throws -> DaemonAttribute {
        switch a.type {
        case IPVSAttr.Daemon.state: return .state(try a.u32(ctx))
        case IPVSAttr.Daemon.mcastInterface: return .mcastInterface(try a.string(ctx))
        case IPVSAttr.Daemon.syncID: return .syncID(try a.u32(ctx))
        case IPVSAttr.Daemon.syncMaxLen: return .syncMaxLen(try a.u16(ctx))
        case IPVSAttr.Daemon.mcastGroup:
            guard a.payload.count == 4 else { throw DecodeError(ctx, "IPv4 group of \(a.payload.count) bytes") }
            return .mcastGroup(a.payload)
        case IPVSAttr.Daemon.mcastGroup6:
            guard a.payload.count == 16 else { throw DecodeError(ctx, "IPv6 group of \(a.payload.count) bytes") }
            return .mcastGroup6(a.payload)
        case IPVSAttr.Daemon.mcastPort: return .mcastPort(try a.u16(ctx))
        case IPVSAttr.Daemon.mcastTTL: return .mcastTTL(try a.u8(ctx))
        default: return .other(a)
        }
    }
    /// Encodes this attribute.
    public func encode(_ e: inout AttributeEncoder) {
        switch self {
        case .state(let v): e.u32(IPVSAttr.Daemon.state, v)
        case .mcastInterface(let v): e.string(IPVSAttr.Daemon.mcastInterface, v)
        case .syncID(let v): e.u32(IPVSAttr.Daemon.syncID, v)
        case .syncMaxLen(let v): e.u16(IPVSAttr.Daemon.syncMaxLen, v)
        case .mcastGroup(let v): e.put(IPVSAttr.Daemon.mcastGroup, v)
        case .mcastGroup6(let v): e.put(IPVSAttr.Daemon.mcastGroup6, v)
        case .mcastPort(let v): e.u16(IPVSAttr.Daemon.mcastPort, v)
        case .mcastTTL(let v): e.u8(IPVSAttr.Daemon.mcastTTL, v)
        case .other(let r): e.raw(r)
        }
    }
}

/// Statistics attributes (`IPVS_STATS_ATTR_*`). In `STATS` the counters of packets and rates are u32 and
/// bytes u64; in `STATS64` all are u64. Values are widened to `UInt64` here.
public enum StatsAttribute: Hashable, Sendable {
    /// Counters: `IPVS_STATS_ATTR_CONNS`, `INPKTS`, `OUTPKTS`, `INBYTES`, `OUTBYTES`.
    case conns(UInt64), inPackets(UInt64), outPackets(UInt64), inBytes(UInt64), outBytes(UInt64)
    /// Rates: `IPVS_STATS_ATTR_CPS`, `INPPS`, `OUTPPS`, `INBPS`, `OUTBPS`.
    case cps(UInt64), inPPS(UInt64), outPPS(UInt64), inBPS(UInt64), outBPS(UInt64)
    /// An attribute this version does not know, kept as is for a round trip.
    case other(RawAttribute)

    /// Decodes one stats attribute; `wide` selects the `STATS64` layout.
    public static func decode(_ a: RawAttribute, wide: Bool) throws -> StatsAttribute {
        let c = "stats"
        func n(_ is64: Bool) throws -> UInt64 { is64 ? try a.u64(c) : UInt64(try a.u32(c)) }
        switch a.type {
        case IPVSAttr.Stats.conns: return .conns(try n(wide))
        case IPVSAttr.Stats.inPackets: return .inPackets(try n(wide))
        case IPVSAttr.Stats.outPackets: return .outPackets(try n(wide))
        case IPVSAttr.Stats.inBytes: return .inBytes(try n(true))
        case IPVSAttr.Stats.outBytes: return .outBytes(try n(true))
        case IPVSAttr.Stats.cps: return .cps(try n(wide))
        case IPVSAttr.Stats.inPPS: return .inPPS(try n(wide))
        case IPVSAttr.Stats.outPPS: return .outPPS(try n(wide))
        case IPVSAttr.Stats.inBPS: return .inBPS(try n(wide))
        case IPVSAttr.Stats.outBPS: return .outBPS(try n(wide))
        default: return .other(a)
        }
    }
    /// Encodes this attribute in the `STATS` (u32) or `STATS64` layout.
    public func encode(_ e: inout AttributeEncoder, wide: Bool) {
        func put(_ t: UInt16, _ v: UInt64, _ is64: Bool) {
            if is64 { e.u64(t, v) } else { e.u32(t, UInt32(truncatingIfNeeded: v)) }
        }
        switch self {
        case .conns(let v): put(IPVSAttr.Stats.conns, v, wide)
        case .inPackets(let v): put(IPVSAttr.Stats.inPackets, v, wide)
        case .outPackets(let v): put(IPVSAttr.Stats.outPackets, v, wide)
        case .inBytes(let v): put(IPVSAttr.Stats.inBytes, v, true)
        case .outBytes(let v): put(IPVSAttr.Stats.outBytes, v, true)
        case .cps(let v): put(IPVSAttr.Stats.cps, v, wide)
        case .inPPS(let v): put(IPVSAttr.Stats.inPPS, v, wide)
        case .outPPS(let v): put(IPVSAttr.Stats.outPPS, v, wide)
        case .inBPS(let v): put(IPVSAttr.Stats.inBPS, v, wide)
        case .outBPS(let v): put(IPVSAttr.Stats.outBPS, v, wide)
        case .other(let r): e.raw(r)
        }
    }
}

/// Info attributes of the `IPVS_CMD_GET_INFO` reply (`IPVS_INFO_ATTR_*`), at the top level.
public enum InfoAttribute: Hashable, Sendable {
    /// `IPVS_INFO_ATTR_VERSION`: e.g. 0x010201 for 1.2.1.
    case version(UInt32)
    /// `IPVS_INFO_ATTR_CONN_TAB_SIZE`.
    case connTabSize(UInt32)
    /// An attribute this version does not know, kept as is for a round trip.
    case other(RawAttribute)
    /// Decodes one info attribute.
    public static func decode(_ a: RawAttribute) throws -> InfoAttribute {
        switch a.type {
        case IPVSAttr.Info.version: return .version(try a.u32("info"))
        case IPVSAttr.Info.connTabSize: return .connTabSize(try a.u32("info"))
        default: return .other(a)
        }
    }
    /// Encodes this attribute.
    public func encode(_ e: inout AttributeEncoder) {
        switch self {
        case .version(let v): e.u32(IPVSAttr.Info.version, v)
        case .connTabSize(let v): e.u32(IPVSAttr.Info.connTabSize, v)
        case .other(let r): e.raw(r)
        }
    }
}
