import LVSCore
/// The `--json` schema (version 1). Documented in Documentation/json-output.md; fields are only ever added.

/// The schema identifier every JSON document carries.
public let jsonSchemaVersion = 1

/// JSON form of ``Stats``.
public struct JSONStats: Codable, Hashable, Sendable {
    /// Counters (64-bit): connections, packets and bytes in and out.
    public var connections, in_packets, out_packets, in_bytes, out_bytes: UInt64
    /// Rates: connections, packets and bytes per second, in and out.
    public var cps, in_pps, out_pps, in_bps, out_bps: UInt64
    /// Converts counters.
    public init(_ s: Stats) {
        connections = s.connections; in_packets = s.inPackets; out_packets = s.outPackets
        in_bytes = s.inBytes; out_bytes = s.outBytes; cps = s.cps; in_pps = s.inPPS; out_pps = s.outPPS
        in_bps = s.inBPS; out_bps = s.outBPS
    }
}

/// JSON form of a real server.
public struct JSONRealServer: Codable, Hashable, Sendable {
    /// The real server's address.
    public var address: String
    /// The port (the service port for direct routing and tunnels).
    public var port: UInt16
    /// `ipv4` or `ipv6`.
    public var family: String
    /// `masq`, `local`, `tunnel`, `route` or `bypass`.
    public var forwarding: String
    /// The weight (0 = no new connections).
    public var weight: Int32
    /// Upper connection threshold (0 = none).
    public var upper_threshold: UInt32
    /// Lower connection threshold (0 = none).
    public var lower_threshold: UInt32
    /// Active connections.
    public var active_connections: UInt32
    /// Inactive connections.
    public var inactive_connections: UInt32
    /// Persistence templates pointing at this server.
    public var persistent_connections: UInt32
    /// Tunnel settings, for tunnel servers only.
    public var tunnel: JSONTunnel?
    /// Counters and rates.
    public var stats: JSONStats
    /// Converts a real server.
    public init(_ d: RealServer) {
        address = d.address.description; port = d.port; family = d.address.family.description
        forwarding = d.forwarding.jsonName; weight = d.weight
        upper_threshold = d.upperThreshold; lower_threshold = d.lowerThreshold
        active_connections = d.activeConnections; inactive_connections = d.inactiveConnections
        persistent_connections = d.persistentConnections
        tunnel = d.forwarding == .tunnel ? JSONTunnel(type: d.tunnelType.description, port: d.tunnelType == .gue ? d.tunnelPort : nil,
                                                      checksum: d.tunnelChecksum.description) : nil
        stats = JSONStats(d.stats ?? Stats())
    }
}

/// JSON form of tunnel settings.
public struct JSONTunnel: Codable, Hashable, Sendable {
    /// `ipip`, `gue` or `gre`.
    public var type: String
    /// The GUE port (gue only).
    public var port: UInt16?
    /// `nocsum`, `csum` or `remcsum`.
    public var checksum: String
}

/// JSON form of persistence.
public struct JSONPersistence: Codable, Hashable, Sendable {
    /// Seconds.
    public var timeout: UInt32
    /// Dotted mask for IPv4, prefix length (as a string) for IPv6.
    public var netmask: String
    /// The persistence engine (e.g. `sip`), if any.
    public var engine: String?
}

/// JSON form of a virtual service with its real servers.
public struct JSONService: Codable, Hashable, Sendable {
    /// `tcp`, `udp`, `sctp`, or `fwmark`.
    public var kind: String
    /// `ipv4` or `ipv6`.
    public var family: String
    /// The address (absent for fwmark services).
    public var address: String?
    /// The port (absent for fwmark services).
    public var port: UInt16?
    /// The mark (fwmark services only).
    public var fwmark: UInt32?
    /// The ipvsadm/lvsctl specifier, e.g. `-t 192.0.2.1:80`.
    public var spec: String
    /// The scheduler name, e.g. `wlc`.
    public var scheduler: String
    /// Scheduler flags, e.g. `["sh-port"]`.
    public var sched_flags: [String]
    /// One-packet scheduling (`-o`).
    public var one_packet: Bool
    /// Persistence settings, absent when not persistent.
    public var persistence: JSONPersistence?
    /// Counters and rates.
    public var stats: JSONStats
    /// The real servers, in ipvsadm's order.
    public var real_servers: [JSONRealServer]
    /// Converts an entry.
    public init(_ e: ServiceEntry) {
        let s = e.service
        switch s.key {
        case .address(let p, let ep): kind = p.description; address = ep.address.description; port = ep.port; fwmark = nil
        case .fwmark(let m, _): kind = "fwmark"; address = nil; port = nil; fwmark = m
        }
        family = s.key.family.description; spec = s.key.option; scheduler = s.scheduler.rawValue
        sched_flags = s.flags.schedFlagNames(for: s.scheduler); one_packet = s.flags.contains(.onePacket)
        persistence = s.persistence.map {
            JSONPersistence(timeout: $0.timeout, netmask: Netmask.text($0.netmask, family: s.key.family), engine: $0.engine)
        }
        stats = JSONStats(s.stats ?? Stats())
        real_servers = IPVSAdmFormat.sortedDests(e.servers).map(JSONRealServer.init)
    }
}

/// The document `lvsctl list --json` prints.
public struct JSONList: Codable, Sendable {
    /// Always `jsonSchemaVersion`.
    public var schema = jsonSchemaVersion
    /// Every virtual service.
    public var services: [JSONService]
    /// Wraps the services in a document.
    public init(services: [JSONService]) { self.services = services }
}

/// JSON form of one IPVS sysctl (`sysctl show --json`).
public struct JSONSysctl: Codable, Hashable, Sendable {
    /// The knob, e.g. `expire_nodest_conn` (the file under /proc/sys/net/ipv4/vs/).
    public var name: String
    /// Its value as the kernel holds it, blanks collapsed (`sync_threshold` is `"3 50"`).
    public var value: String
    /// The default of Linux 6.1 (absent when it depends on the machine, or the knob is unknown to lvsctl).
    public var `default`: String?
    /// What the default is when it is not a fixed value (e.g. `1/32 of the memory pages`).
    public var default_note: String?
    /// True when the value differs from `default` (absent without a fixed default).
    public var changed: Bool?
    /// False when the knob is read-only in this namespace (a global knob outside the initial one).
    public var writable: Bool
    /// The values `sysctl set` accepts, in words (absent for a knob unknown to lvsctl).
    public var accepts: String?
    /// One line of explanation and advice (absent for a knob unknown to lvsctl).
    public var explanation: String?
    /// Converts a row.
    public init(_ r: Sysctls.Row) {
        name = r.name; value = r.value; `default` = r.knob?.defaultValue; default_note = r.knob?.defaultNote
        changed = r.changed; writable = r.writable; accepts = r.knob?.rule.description; explanation = r.knob?.explanation
    }
}

/// The document `lvsctl sysctl show --json` prints.
public struct JSONSysctls: Codable, Sendable {
    /// Always `jsonSchemaVersion`.
    public var schema = jsonSchemaVersion
    /// Every knob shown, by name.
    public var sysctls: [JSONSysctl]
    /// Wraps the rows in a document.
    public init(_ rows: [Sysctls.Row]) { sysctls = rows.map(JSONSysctl.init) }
}
