/// How packets reach a real server (`IPVS_DEST_ATTR_FWD_METHOD`, `IP_VS_CONN_F_*`).
public enum ForwardingMethod: UInt32, Hashable, Sendable, Codable, CustomStringConvertible {
    /// `IP_VS_CONN_F_MASQ` (`-m`): NAT.
    case masquerade = 0
    /// `IP_VS_CONN_F_LOCALNODE`: the director itself.
    case local = 1
    /// `IP_VS_CONN_F_TUNNEL` (`-i`): IP-in-IP, GUE or GRE.
    case tunnel = 2
    /// `IP_VS_CONN_F_DROUTE` (`-g`): direct routing, the default.
    case directRoute = 3
    /// `IP_VS_CONN_F_BYPASS`.
    case bypass = 4
    /// The word `ipvsadm -L` prints.
    public var description: String {
        switch self {
        case .masquerade: "Masq"; case .local: "Local"; case .tunnel: "Tunnel"
        case .directRoute: "Route"; case .bypass: "Bypass"
        }
    }
    /// The ipvsadm option: `-m`, `-i`, `-g`.
    public var option: String {
        switch self { case .masquerade: "-m"; case .tunnel: "-i"; case .directRoute, .local, .bypass: "-g" }
    }
    /// The lowercase name used in JSON: `masq`, `local`, `tunnel`, `route`, `bypass`.
    public var jsonName: String { description.lowercased() }
}

/// The encapsulation of a tunnel real server (`IPVS_DEST_ATTR_TUN_TYPE`).
public enum TunnelType: UInt8, Hashable, Sendable, Codable, CustomStringConvertible {
    /// `IP_VS_CONN_F_TUNNEL_TYPE_IPIP`.
    case ipip = 0
    /// `IP_VS_CONN_F_TUNNEL_TYPE_GUE`.
    case gue = 1
    /// `IP_VS_CONN_F_TUNNEL_TYPE_GRE`.
    case gre = 2
    /// `ipip`, `gue` or `gre`.
    public var description: String { switch self { case .ipip: "ipip"; case .gue: "gue"; case .gre: "gre" } }
    /// Parses `ipip`, `gue` or `gre`.
    public init?(name: String) {
        switch name { case "ipip": self = .ipip; case "gue": self = .gue; case "gre": self = .gre; default: return nil }
    }
}

/// Tunnel checksum options (`IPVS_DEST_ATTR_TUN_FLAGS`, `IP_VS_TUNNEL_ENCAP_FLAG_*`).
public enum TunnelChecksum: UInt16, Hashable, Sendable, Codable, CustomStringConvertible {
    /// `--tun-nocsum`.
    case none = 0
    /// `--tun-csum`.
    case checksum = 1
    /// `--tun-remcsum`.
    case remoteChecksum = 2
    /// `nocsum`, `csum` or `remcsum`.
    public var description: String {
        switch self { case .none: "nocsum"; case .checksum: "csum"; case .remoteChecksum: "remcsum" }
    }
}

/// A real server of a virtual service (`IPVS_CMD_ATTR_DEST`).
public struct RealServer: Hashable, Sendable {
    /// The real server's address.
    public var address: IPAddress
    /// The port in host order.
    public var port: UInt16
    /// The forwarding method.
    public var forwarding: ForwardingMethod
    /// The weight, 0..65535 (`IPVS_DEST_ATTR_WEIGHT`, signed on the wire).
    public var weight: Int32
    /// The upper connection threshold, 0 = none (`IPVS_DEST_ATTR_U_THRESH`).
    public var upperThreshold: UInt32
    /// The lower connection threshold (`IPVS_DEST_ATTR_L_THRESH`).
    public var lowerThreshold: UInt32
    /// The tunnel type (`IPVS_DEST_ATTR_TUN_TYPE`).
    public var tunnelType: TunnelType
    /// The tunnel port for GUE, host order (`IPVS_DEST_ATTR_TUN_PORT`).
    public var tunnelPort: UInt16
    /// The tunnel checksum option (`IPVS_DEST_ATTR_TUN_FLAGS`).
    public var tunnelChecksum: TunnelChecksum
    /// Active connections, from dumps (`IPVS_DEST_ATTR_ACTIVE_CONNS`).
    public var activeConnections: UInt32 = 0
    /// Inactive connections, from dumps.
    public var inactiveConnections: UInt32 = 0
    /// Persistence templates, from dumps.
    public var persistentConnections: UInt32 = 0
    /// Counters, from dumps.
    public var stats: Stats?
    /// Attributes this version does not know, kept for a round trip.
    public var unknown: [RawAttribute] = []

    /// Creates a real server with ipvsadm's defaults: direct routing, weight 1, no thresholds.
    public init(address: IPAddress, port: UInt16, forwarding: ForwardingMethod = .directRoute, weight: Int32 = 1,
                upperThreshold: UInt32 = 0, lowerThreshold: UInt32 = 0, tunnelType: TunnelType = .ipip,
                tunnelPort: UInt16 = 0, tunnelChecksum: TunnelChecksum = .none) {
        self.address = address; self.port = port; self.forwarding = forwarding; self.weight = weight
        self.upperThreshold = upperThreshold; self.lowerThreshold = lowerThreshold
        self.tunnelType = tunnelType; self.tunnelPort = tunnelPort; self.tunnelChecksum = tunnelChecksum
    }

    /// The endpoint of the real server.
    public var endpoint: Endpoint { Endpoint(address: address, port: port) }
    /// The configuration part, without counters.
    public var config: RealServer {
        var c = self; c.stats = nil; c.unknown = []; c.activeConnections = 0; c.inactiveConnections = 0
        c.persistentConnections = 0; return c
    }
    /// The largest weight ipvsadm 1.31 upstream accepts.
    public static let maxWeight: Int32 = 65535
}

/// Traffic counters and rates (`IPVS_STATS_ATTR_*`), always 64-bit here.
public struct Stats: Hashable, Sendable, Codable {
    /// Connections scheduled.
    public var connections: UInt64 = 0
    /// Incoming packets.
    public var inPackets: UInt64 = 0
    /// Outgoing packets.
    public var outPackets: UInt64 = 0
    /// Incoming bytes.
    public var inBytes: UInt64 = 0
    /// Outgoing bytes.
    public var outBytes: UInt64 = 0
    /// Connections per second.
    public var cps: UInt64 = 0
    /// Incoming packets per second.
    public var inPPS: UInt64 = 0
    /// Outgoing packets per second.
    public var outPPS: UInt64 = 0
    /// Incoming bytes per second.
    public var inBPS: UInt64 = 0
    /// Outgoing bytes per second.
    public var outBPS: UInt64 = 0
    /// Creates zeroed counters.
    public init() {}
}

/// A virtual service with its real servers: one row group of `ipvsadm -Ln`.
public struct ServiceEntry: Hashable, Sendable {
    /// The service.
    public var service: VirtualService
    /// Its real servers, in kernel order.
    public var servers: [RealServer]
    /// Creates an entry.
    public init(service: VirtualService, servers: [RealServer]) { self.service = service; self.servers = servers }
}

/// Connection timeouts (`IPVS_CMD_ATTR_TIMEOUT_*`), seconds; 0 in a set request means "unchanged".
public struct Timeouts: Hashable, Sendable, Codable {
    /// TCP established.
    public var tcp: UInt32
    /// TCP after FIN.
    public var tcpFin: UInt32
    /// UDP.
    public var udp: UInt32
    /// Creates timeouts.
    public init(tcp: UInt32, tcpFin: UInt32, udp: UInt32) { self.tcp = tcp; self.tcpFin = tcpFin; self.udp = udp }
    /// The kernel's defaults: 900 120 300.
    public static let kernelDefault = Timeouts(tcp: 900, tcpFin: 120, udp: 300)
    /// The largest value ipvsadm accepts (31 days).
    public static let maxValue: UInt32 = 2_678_400
}

/// The role of a connection-sync daemon (`IPVS_DAEMON_ATTR_STATE`).
public enum DaemonState: UInt32, Hashable, Sendable, Codable, CustomStringConvertible {
    /// `IP_VS_STATE_MASTER`.
    case master = 1
    /// `IP_VS_STATE_BACKUP`.
    case backup = 2
    /// `master` or `backup`.
    public var description: String { self == .master ? "master" : "backup" }
}

/// A connection-sync daemon (`IPVS_CMD_ATTR_DAEMON`), with the 4.3 multicast parameters.
public struct SyncDaemon: Hashable, Sendable {
    /// Master or backup.
    public var state: DaemonState
    /// The multicast interface (`IPVS_DAEMON_ATTR_MCAST_IFN`).
    public var interface: String
    /// The sync id (`IPVS_DAEMON_ATTR_SYNC_ID`), 0..255.
    public var syncID: UInt32
    /// UDP payload size (`IPVS_DAEMON_ATTR_SYNC_MAXLEN`), nil = kernel default.
    public var maxLength: UInt16?
    /// Multicast group, IPv4 or IPv6 (`IPVS_DAEMON_ATTR_MCAST_GROUP` / `_GROUP6`), nil = 224.0.0.81.
    public var group: IPAddress?
    /// Multicast base port (`IPVS_DAEMON_ATTR_MCAST_PORT`), nil = 8848.
    public var port: UInt16?
    /// Multicast TTL (`IPVS_DAEMON_ATTR_MCAST_TTL`), nil = 1.
    public var ttl: UInt8?
    /// Creates a daemon description.
    public init(state: DaemonState, interface: String, syncID: UInt32 = 0, maxLength: UInt16? = nil,
                group: IPAddress? = nil, port: UInt16? = nil, ttl: UInt8? = nil) {
        self.state = state; self.interface = interface; self.syncID = syncID; self.maxLength = maxLength
        self.group = group; self.port = port; self.ttl = ttl
    }

    /// Whether this (running) daemon is what `wanted` asks for, where `wanted`'s unset fields mean the kernel's
    /// defaults: any sync length (the kernel derives it from the MTU), group 224.0.0.81, port 8848, TTL 1.
    public func satisfies(_ wanted: SyncDaemon) -> Bool {
        let g = IPAddress("224.0.0.81")
        return state == wanted.state && interface == wanted.interface && syncID == wanted.syncID &&
            (wanted.maxLength == nil || wanted.maxLength == maxLength) &&
            (wanted.group ?? g) == (group ?? g) && (wanted.port ?? 8848) == (port ?? 8848) && (wanted.ttl ?? 1) == (ttl ?? 1)
    }
}

/// IPVS version and connection-table size (`IPVS_CMD_GET_INFO`).
public struct IPVSInfo: Hashable, Sendable, Codable {
    /// `IPVS_INFO_ATTR_VERSION`, e.g. 0x010201.
    public var version: UInt32
    /// `IPVS_INFO_ATTR_CONN_TAB_SIZE`.
    public var connectionTableSize: UInt32
    /// The version as `1.2.1`.
    public var versionString: String { "\(version >> 16).\((version >> 8) & 0xff).\(version & 0xff)" }
    /// Creates info.
    public init(version: UInt32, connectionTableSize: UInt32) {
        self.version = version; self.connectionTableSize = connectionTableSize
    }
}
