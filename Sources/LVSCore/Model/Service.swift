/// A scheduler name (`IPVS_SVC_ATTR_SCHED_NAME`). Schedulers are kernel modules, so the set is open.
public struct Scheduler: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
                         ExpressibleByStringLiteral {
    /// The name, e.g. `wlc`.
    public let rawValue: String
    /// Wraps a name.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Wraps a name.
    public init(_ name: String) { self.rawValue = name }
    /// Allows `let s: Scheduler = "wlc"`.
    public init(stringLiteral value: String) { self.rawValue = value }
    /// The name.
    public var description: String { rawValue }
    /// `rr`: round robin.
    public static let roundRobin = Scheduler("rr")
    /// `wrr`: weighted round robin.
    public static let weightedRoundRobin = Scheduler("wrr")
    /// `lc`: least connection.
    public static let leastConnection = Scheduler("lc")
    /// `wlc`: weighted least connection, the default.
    public static let weightedLeastConnection = Scheduler("wlc")
    /// `sh`: source hashing.
    public static let sourceHashing = Scheduler("sh")
    /// `mh`: Maglev hashing.
    public static let maglevHashing = Scheduler("mh")
    /// The schedulers shipped with Linux 6.1, for help text and checks; others are accepted too.
    public static let known = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"]
    /// The maximum name length the kernel accepts (`IP_VS_SCHEDNAME_MAXLEN` - 1).
    public static let maxLength = 15
}

/// Service flags (`IPVS_SVC_ATTR_FLAGS`, `IP_VS_SVC_F_*`).
public struct ServiceFlags: OptionSet, Hashable, Sendable, Codable {
    /// The `IP_VS_SVC_F_*` bits.
    public let rawValue: UInt32
    /// Wraps raw bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `IP_VS_SVC_F_PERSISTENT`.
    public static let persistent = ServiceFlags(rawValue: 0x1)
    /// `IP_VS_SVC_F_HASHED` (kernel-internal; never sent).
    public static let hashed = ServiceFlags(rawValue: 0x2)
    /// `IP_VS_SVC_F_ONEPACKET`: one-packet scheduling (`-o`).
    public static let onePacket = ServiceFlags(rawValue: 0x4)
    /// `IP_VS_SVC_F_SCHED1`: `flag-1`, `sh-fallback`, `mh-fallback`.
    public static let sched1 = ServiceFlags(rawValue: 0x8)
    /// `IP_VS_SVC_F_SCHED2`: `flag-2`, `sh-port`, `mh-port`.
    public static let sched2 = ServiceFlags(rawValue: 0x10)
    /// `IP_VS_SVC_F_SCHED3`: `flag-3`.
    public static let sched3 = ServiceFlags(rawValue: 0x20)
    /// The scheduler flag bits.
    public static let schedMask: ServiceFlags = [.sched1, .sched2, .sched3]
    /// The bits a user may set (everything but `hashed`).
    public static let userMask: ServiceFlags = [.persistent, .onePacket, .sched1, .sched2, .sched3]

    /// Parses ipvsadm's `-b` list, e.g. `sh-fallback,sh-port` or `flag-1`.
    public static func parseSchedFlags(_ text: String) -> Result<ServiceFlags, SchedFlagError> {
        var f: ServiceFlags = []
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            switch name {
            case "flag-1", "sh-fallback", "mh-fallback": f.insert(.sched1)
            case "flag-2", "sh-port", "mh-port": f.insert(.sched2)
            case "flag-3": f.insert(.sched3)
            default: return .failure(SchedFlagError(name: String(name)))
            }
        }
        return .success(f)
    }

    /// The `-b` text for these scheduler flags under `scheduler`, as ipvsadm -Sn prints it.
    public func schedFlagNames(for scheduler: Scheduler) -> [String] {
        var out: [String] = []
        let prefix = scheduler.rawValue == "sh" || scheduler.rawValue == "mh" ? scheduler.rawValue : nil
        if contains(.sched1) { out.append(prefix.map { "\($0)-fallback" } ?? "flag-1") }
        if contains(.sched2) { out.append(prefix.map { "\($0)-port" } ?? "flag-2") }
        if contains(.sched3) { out.append("flag-3") }
        return out
    }
}

/// An unknown scheduler flag name.
public struct SchedFlagError: Error, Equatable { public var name: String }

/// What identifies a virtual service: protocol + address + port, or a firewall mark + family.
public enum ServiceKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// `-t`/`-u`/`--sctp-service ADDR:PORT`.
    case address(IPProtocol, Endpoint)
    /// `-f MARK [-6]`.
    case fwmark(UInt32, AddressFamily)

    /// The address family of the service.
    public var family: AddressFamily {
        switch self { case .address(_, let e): e.address.family; case .fwmark(_, let f): f }
    }
    /// The service's port, or nil for fwmark services.
    public var port: UInt16? { if case .address(_, let e) = self { return e.port }; return nil }
    /// True for a fwmark service.
    public var isFwmark: Bool { if case .fwmark = self { return true }; return false }

    /// The lvsctl / ipvsadm option form: `-t 192.0.2.1:80`, `-f 80 -6`.
    public var option: String {
        switch self {
        case .address(let p, let e): "\(p.option) \(e)"
        case .fwmark(let m, let f): f == .inet6 ? "-f \(m) -6" : "-f \(m)"
        }
    }
    /// The option form, as `option`.
    public var description: String { option }

    /// Sort order of `ipvsadm -Ln`/`-Sn` when sorting: fwmark services after address ones.
    public static func < (a: ServiceKey, b: ServiceKey) -> Bool {
        switch (a, b) {
        case let (.address(p1, e1), .address(p2, e2)): return p1.rawValue != p2.rawValue ? p1.rawValue < p2.rawValue : e1 < e2
        case (.address, .fwmark): return true
        case (.fwmark, .address): return false
        case let (.fwmark(m1, f1), .fwmark(m2, f2)): return m1 != m2 ? m1 < m2 : f1.rawValue < f2.rawValue
        }
    }
}

/// A virtual service (`IPVS_CMD_ATTR_SERVICE`).
public struct VirtualService: Hashable, Sendable {
    /// What identifies the service.
    public var key: ServiceKey
    /// The scheduler (`IPVS_SVC_ATTR_SCHED_NAME`).
    public var scheduler: Scheduler
    /// The flags (`IPVS_SVC_ATTR_FLAGS`), `hashed` stripped.
    public var flags: ServiceFlags
    /// The persistence timeout in seconds (`IPVS_SVC_ATTR_TIMEOUT`).
    public var timeout: UInt32
    /// The persistence netmask as on the wire (`IPVS_SVC_ATTR_NETMASK`): an IPv4 mask in network order, or an IPv6 prefix length.
    public var netmask: UInt32
    /// The persistence engine (`IPVS_SVC_ATTR_PE_NAME`), e.g. `sip`.
    public var persistenceEngine: String?
    /// Counters (`IPVS_SVC_ATTR_STATS64`, else `IPVS_SVC_ATTR_STATS`), present in dumps.
    public var stats: Stats?
    /// Attributes this version does not know, kept for a round trip.
    public var unknown: [RawAttribute] = []

    /// Creates a service with ipvsadm's defaults: `wlc`, no persistence, netmask /32 (or /128).
    public init(key: ServiceKey, scheduler: Scheduler = .weightedLeastConnection, flags: ServiceFlags = [],
                timeout: UInt32 = 0, netmask: UInt32? = nil, persistenceEngine: String? = nil) {
        self.key = key; self.scheduler = scheduler; self.flags = flags; self.timeout = timeout
        self.netmask = netmask ?? VirtualService.fullNetmask(key.family)
        self.persistenceEngine = persistenceEngine
    }

    /// The netmask meaning "the whole address": 255.255.255.255 for IPv4, 128 for IPv6.
    public static func fullNetmask(_ f: AddressFamily) -> UInt32 { f == .inet ? 0xFFFF_FFFF : 128 }

    /// The persistence settings, or nil when the service is not persistent.
    public var persistence: Persistence? {
        get {
            flags.contains(.persistent) ? Persistence(timeout: timeout, netmask: netmask, engine: persistenceEngine) : nil
        }
        set {
            if let p = newValue {
                flags.insert(.persistent); timeout = p.timeout; netmask = p.netmask; persistenceEngine = p.engine
            } else {
                flags.remove(.persistent); timeout = 0; netmask = VirtualService.fullNetmask(key.family)
                persistenceEngine = nil
            }
        }
    }

    /// The configuration part, without counters, for comparing desired with running state.
    public var config: VirtualService { var c = self; c.stats = nil; c.unknown = []; return c }
}

/// Client affinity of a service: `-p TIMEOUT [-M MASK] [--pe NAME]`.
public struct Persistence: Hashable, Sendable {
    /// The default timeout of `ipvsadm -p` without a value (`IPVS_SVC_PERSISTENT_TIMEOUT`): 360 s.
    public static let defaultTimeout: UInt32 = 360
    /// Seconds a client stays on its real server after its last connection.
    public var timeout: UInt32
    /// The wire netmask: IPv4 mask in network order, or IPv6 prefix length.
    public var netmask: UInt32
    /// The persistence engine, e.g. `sip`.
    public var engine: String?
    /// Creates persistence settings.
    public init(timeout: UInt32, netmask: UInt32, engine: String? = nil) {
        self.timeout = timeout; self.netmask = netmask; self.engine = engine
    }
}

/// Netmask helpers: the wire form of `-M`.
public enum Netmask {
    /// The wire value for an IPv4 dotted mask (network order, as a host integer read from the wire bytes).
    public static func ipv4Wire(_ mask: IPAddress) -> UInt32 {
        let b = mask.bytes
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }
    /// The dotted form of an IPv4 wire netmask.
    public static func ipv4Text(_ wire: UInt32) -> String {
        "\(wire & 0xff).\((wire >> 8) & 0xff).\((wire >> 16) & 0xff).\(wire >> 24)"
    }
    /// The IPv4 wire netmask for a prefix length 0...32.
    public static func ipv4Wire(prefix: Int) -> UInt32 {
        let host: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
        return host.bigEndian
    }
    /// True when the IPv4 wire mask is contiguous ones followed by zeros.
    public static func isContiguous(_ wire: UInt32) -> Bool {
        let host = UInt32(bigEndian: wire)
        let inv = ~host
        return inv & (inv &+ 1) == 0
    }
    /// Parses `-M` for a family: IPv4 takes a dotted mask or a prefix 1..32; IPv6 a prefix 1..128.
    public static func parse(_ text: String, family: AddressFamily) -> UInt32? {
        if family == .inet6 {
            let t = text.hasPrefix("/") ? String(text.dropFirst()) : text
            guard let n = parseDecimal(t), n >= 1, n <= 128 else { return nil }
            return UInt32(n)
        }
        if let a = IPAddress(text), a.family == .inet {
            let w = ipv4Wire(a)
            return isContiguous(w) && w != 0 ? w : nil
        }
        let t = text.hasPrefix("/") ? String(text.dropFirst()) : text
        guard let n = parseDecimal(t), n >= 1, n <= 32 else { return nil }
        return ipv4Wire(prefix: Int(n))
    }
    /// The text ipvsadm prints for a wire netmask: dotted for IPv4, the prefix length for IPv6.
    public static func text(_ wire: UInt32, family: AddressFamily) -> String {
        family == .inet ? ipv4Text(wire) : "\(wire)"
    }
}
