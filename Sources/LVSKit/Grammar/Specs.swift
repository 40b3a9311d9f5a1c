import LVSCore

// The values of a command line or a file line, as typed, before validation. The command line (ArgumentParser, in
// the executable) and the file grammar (``Grammar``) both produce these; everything after them is shared.

/// The service specifier: `-t ADDR:PORT | -u ADDR:PORT | --sctp-service ADDR:PORT | -f MARK [-6]`.
public struct ServiceSpec: Equatable, Sendable {
    public var tcp: String?, udp: String?, sctp: String?, fwmark: String?, ipv6 = false
    public init(tcp: String? = nil, udp: String? = nil, sctp: String? = nil, fwmark: String? = nil, ipv6: Bool = false) {
        self.tcp = tcp; self.udp = udp; self.sctp = sctp; self.fwmark = fwmark; self.ipv6 = ipv6
    }

    /// True when any specifier was given.
    public var given: Bool { tcp != nil || udp != nil || sctp != nil || fwmark != nil }

    /// The validated key; nil when none was given and none is `required`.
    public func key(required: Bool = true) throws -> ServiceKey? {
        let specs = [(tcp, IPProtocol.tcp), (udp, .udp), (sctp, .sctp)].compactMap { v, p in v.map { ($0, p) } }
        let count = specs.count + (fwmark == nil ? 0 : 1)
        if count > 1 { throw UsageError("give one service: -t, -u, --sctp-service or -f") }
        if count == 0 {
            if ipv6 { throw UsageError("-6 is only valid with -f") }
            if required { throw UsageError("a service is required: -t ADDR:PORT, -u ADDR:PORT, --sctp-service ADDR:PORT or -f MARK") }
            return nil
        }
        if let m = fwmark { return .fwmark(try Validate.mark(m), ipv6 ? .inet6 : .inet) }
        if ipv6 { throw UsageError("-6 is only valid with -f") }
        let (text, proto) = specs[0]
        return .address(proto, try Validate.serviceEndpoint(text))
    }

    /// The key of a line that must name a service.
    public func requiredKey() throws -> ServiceKey { try key(required: true)! }
}

/// Scheduling and persistence options of a virtual service: `-s -b -p -M --pe -o`.
public struct SettingsSpec: Equatable, Sendable {
    public var scheduler: String?, schedFlags: String?, persistent: String?, netmask: String?, pe: String?, ops = false
    public init(scheduler: String? = nil, schedFlags: String? = nil, persistent: String? = nil, netmask: String? = nil,
                pe: String? = nil, ops: Bool = false) {
        self.scheduler = scheduler; self.schedFlags = schedFlags; self.persistent = persistent; self.netmask = netmask
        self.pe = pe; self.ops = ops
    }

    public var any: Bool { scheduler != nil || schedFlags != nil || persistent != nil || netmask != nil || pe != nil || ops }

    /// Applies the given settings to `s` (a new service, or the running one for `edit`).
    public func apply(to s: inout VirtualService, isNew: Bool) throws {
        if let name = scheduler { s.scheduler = Scheduler(try Validate.moduleName(name, what: "scheduler")) }
        if let t = persistent {
            s.flags.insert(.persistent)
            s.timeout = UInt32(try Validate.number(t, "persistence timeout", 1...UInt64(Timeouts.maxValue)))
            if isNew { s.netmask = VirtualService.fullNetmask(s.key.family) }
        }
        if let m = netmask {
            guard persistent != nil || s.flags.contains(.persistent) else {
                throw UsageError("-M \(shown(m)) needs persistence (-p)")
            }
            s.netmask = try Validate.netmask(m, family: s.key.family)
        }
        if let p = pe { s.persistenceEngine = try Validate.moduleName(p, what: "persistence engine") }
        if ops { s.flags.insert(.onePacket) }
        if let f = schedFlags {
            switch ServiceFlags.parseSchedFlags(f) {
            case .failure(let e): throw UsageError("invalid scheduler flag \(shown(e.name)) (expected sh-fallback, sh-port, mh-fallback, mh-port, flag-1, flag-2, flag-3)")
            case .success(let fl):
                for name in f.split(separator: ",") {
                    let n = String(name)
                    if (n.hasPrefix("sh-") && s.scheduler.rawValue != "sh") || (n.hasPrefix("mh-") && s.scheduler.rawValue != "mh") {
                        throw UsageError("scheduler flag \(shown(n)) needs scheduler \(n.prefix(2)), not \(shown(s.scheduler.rawValue))")
                    }
                }
                s.flags.subtract(.schedMask); s.flags.formUnion(fl)
            }
        }
        try Validate.service(s)
    }
}

/// Real-server options: `-r ADDR[:PORT] [-g|-i|-m] [-w W] [-x U] [-y L] [--tun-type T --tun-port P --tun-*csum]`.
public struct ServerSpec: Equatable, Sendable {
    public var realServer: String
    public var gatewaying = false, ipip = false, masquerading = false
    public var weight: String?, upper: String?, lower: String?, tunType: String?, tunPort: String?
    public var tunNoCsum = false, tunCsum = false, tunRemCsum = false

    public init(realServer: String, gatewaying: Bool = false, ipip: Bool = false, masquerading: Bool = false,
                weight: String? = nil, upper: String? = nil, lower: String? = nil, tunType: String? = nil,
                tunPort: String? = nil, tunNoCsum: Bool = false, tunCsum: Bool = false, tunRemCsum: Bool = false) {
        self.realServer = realServer; self.gatewaying = gatewaying; self.ipip = ipip; self.masquerading = masquerading
        self.weight = weight; self.upper = upper; self.lower = lower; self.tunType = tunType; self.tunPort = tunPort
        self.tunNoCsum = tunNoCsum; self.tunCsum = tunCsum; self.tunRemCsum = tunRemCsum
    }

    public var forwardingGiven: ForwardingMethod? {
        gatewaying ? .directRoute : ipip ? .tunnel : masquerading ? .masquerade : nil
    }

    /// The validated real server for `key`, with ipvsadm's defaults and port rules. A plain IPv4 `A.B.C.D[:PORT]`
    /// of an IPv4 service skips the general endpoint parser (the result and the errors are the same).
    public func model(for key: ServiceKey) throws -> RealServer {
        let fwd = forwardingGiven ?? .directRoute
        let e: Endpoint
        if key.family == .inet, let (a, p) = QuickLine.plainIPv4Endpoint(realServer) {
            try Validate.unicast(a, what: "real server address")
            e = Endpoint(address: a, port: Self.port(p, key: key, forwarding: fwd))
        } else {
            e = try endpoint(for: key, forwarding: fwd)
        }
        var d = RealServer(address: e.address, port: e.port, forwarding: fwd)
        // A plain weight (1..5 digits, in range) is set here rather than through Validate.number, which costs
        // ~2,500 instructions a call; apply() reads nothing back from d.weight, so the result and errors are the same.
        if let w = weight, let v = QuickLine.smallDecimal(w), v <= Int(RealServer.maxWeight) {
            var rest = self
            rest.weight = nil
            try rest.apply(to: &d, isNew: true)
            d.weight = Int32(v)
        } else {
            try apply(to: &d, isNew: true)
        }
        return d
    }

    /// ipvsadm's port rules: a missing port is the service's; direct routing and tunnelling always use the service's.
    static func port(_ given: UInt16?, key: ServiceKey, forwarding: ForwardingMethod) -> UInt16 {
        if let sp = key.port, forwarding == .directRoute || forwarding == .tunnel { return sp }
        return given ?? key.port ?? 0
    }

    /// The endpoint, with ipvsadm's port rules applied for `key`.
    public func endpoint(for key: ServiceKey, forwarding: ForwardingMethod) throws -> Endpoint {
        let (a, p) = try Validate.endpoint(realServer, what: "real server")
        if a.family != key.family && forwarding != .tunnel {
            throw UsageError("real server \(shown(realServer)) is \(a.family) but the service is \(key.family); mixed families need tunnelling (-i)")
        }
        return Endpoint(address: a, port: Self.port(p, key: key, forwarding: forwarding))
    }

    /// The running real server of `key` this spec names: the exact `ADDR:PORT` first; then the one at the service's
    /// port (direct-routing and tunnelled servers carry it, whatever port was typed); without a port, any server
    /// with that address. `rs edit`, `rs delete` and every other lookup of a running server use this.
    public func match(in servers: [RealServer], of key: ServiceKey) throws -> RealServer? {
        let (addr, port) = try Validate.endpoint(realServer, what: "real server")
        if let p = port, let d = servers.first(where: { $0.address == addr && $0.port == p }) { return d }
        if let sp = key.port, let d = servers.first(where: { $0.address == addr && $0.port == sp }) { return d }
        if port == nil { return servers.first { $0.address == addr } }
        return nil
    }

    /// Checks forwarding flags and tunnel options, and applies them to `d`.
    public func apply(to d: inout RealServer, isNew: Bool) throws {
        if [gatewaying, ipip, masquerading].filter({ $0 }).count > 1 {
            throw UsageError("give one forwarding method: -g, -i or -m")
        }
        if let f = forwardingGiven { d.forwarding = f }
        if let w = weight { d.weight = Int32(try Validate.number(w, "weight", 0...UInt64(RealServer.maxWeight))) }
        if let x = upper { d.upperThreshold = UInt32(try Validate.number(x, "upper threshold", 0...UInt64(Int32.max))) }
        if let y = lower { d.lowerThreshold = UInt32(try Validate.number(y, "lower threshold", 0...UInt64(Int32.max))) }
        if d.upperThreshold != 0 && d.lowerThreshold > d.upperThreshold {
            throw UsageError("lower threshold \(d.lowerThreshold) is above upper threshold \(d.upperThreshold)")
        }
        let csums = [tunNoCsum, tunCsum, tunRemCsum].filter { $0 }.count
        let tunGiven = tunType != nil || tunPort != nil || csums > 0
        if tunGiven && d.forwarding != .tunnel {
            throw UsageError("tunnel options (--tun-*) need tunnelling (-i)")
        }
        if let t = tunType {
            guard let tt = TunnelType(name: t) else { throw UsageError("invalid tunnel type \(shown(t)) (expected ipip, gue or gre)") }
            d.tunnelType = tt
            if isNew || tt != .gue { d.tunnelPort = 0 }
        }
        if let p = tunPort { d.tunnelPort = UInt16(try Validate.number(p, "tunnel port", 1...65535)) }
        if csums > 1 { throw UsageError("give one of --tun-nocsum, --tun-csum, --tun-remcsum") }
        if tunNoCsum { d.tunnelChecksum = .none }
        if tunCsum { d.tunnelChecksum = .checksum }
        if tunRemCsum { d.tunnelChecksum = .remoteChecksum }
        if d.forwarding == .tunnel {
            switch d.tunnelType {
            case .ipip:
                if tunPort != nil || csums > 0 { throw UsageError("tunnel type ipip takes no --tun-port or checksum option") }
                d.tunnelPort = 0; d.tunnelChecksum = .none
            case .gue:
                if d.tunnelPort == 0 { throw UsageError("tunnel type gue needs --tun-port") }
            case .gre:
                if tunPort != nil { throw UsageError("tunnel type gre takes no --tun-port") }
                if tunRemCsum { throw UsageError("tunnel type gre does not support --tun-remcsum") }
                d.tunnelPort = 0
            }
        } else {
            d.tunnelType = .ipip; d.tunnelPort = 0; d.tunnelChecksum = .none
        }
    }
}

/// `bundle add NAME --vip V... --ports P [--proto P] [--mark M] [settings]`.
public struct BundleSpec: Equatable, Sendable {
    public var name: String
    public var vips: [String]
    public var ports: String
    public var proto: String = "tcp"
    public var mark: String?
    public var settings: SettingsSpec
    public init(name: String, vips: [String], ports: String, proto: String = "tcp", mark: String? = nil, settings: SettingsSpec = SettingsSpec()) {
        self.name = name; self.vips = vips; self.ports = ports; self.proto = proto; self.mark = mark; self.settings = settings
    }

    /// The validated bundle (mark 0 = pick one) and its service.
    public func model() throws -> (MarkBundle, VirtualService) {
        try Validate.bundleName(name)
        if vips.isEmpty { throw UsageError("give at least one --vip") }
        var addrs: [IPAddress] = []
        for v in vips {
            let a = try Validate.vip(v)
            if let f = addrs.first, f.family != a.family { throw UsageError("VIP \(shown(v)) is \(a.family) but \(f) is \(f.family); one bundle holds one family") }
            if !addrs.contains(a) { addrs.append(a) }
        }
        let pr = try Validate.portList(ports)
        let protos = try Validate.protocols(proto)
        let m = try mark.map(Validate.mark) ?? 0
        let b = MarkBundle(name: name, vips: addrs, ports: pr, protocols: protos, mark: m)
        var s = VirtualService(key: .fwmark(m == 0 ? 1 : m, b.family))
        try settings.apply(to: &s, isNew: true)
        return (b, s)
    }
}

/// `timeout set [--tcp T] [--tcpfin T] [--udp T]`: 0 leaves a timeout unchanged, as in ipvsadm --set.
public struct TimeoutSpec: Equatable, Sendable {
    public var tcp: String?, tcpfin: String?, udp: String?
    public init(tcp: String? = nil, tcpfin: String? = nil, udp: String? = nil) { self.tcp = tcp; self.tcpfin = tcpfin; self.udp = udp }

    public func model() throws -> Timeouts {
        if tcp == nil && tcpfin == nil && udp == nil { throw UsageError("give at least one of --tcp, --tcpfin, --udp") }
        func v(_ s: String?, _ n: String) throws -> UInt32 {
            try s.map { UInt32(try Validate.number($0, "\(n) timeout", 0...UInt64(Timeouts.maxValue))) } ?? 0
        }
        return Timeouts(tcp: try v(tcp, "tcp"), tcpFin: try v(tcpfin, "tcpfin"), udp: try v(udp, "udp"))
    }
}

/// `daemon start master|backup [--mcast-interface I] [--syncid N] [--sync-maxlen N] [--mcast-group A] ...`.
public struct DaemonSpec: Equatable, Sendable {
    public var role: String
    public var interface: String?, syncid: String?, maxlen: String?, group: String?, port: String?, ttl: String?
    public init(role: String, interface: String? = nil, syncid: String? = nil, maxlen: String? = nil, group: String? = nil,
                port: String? = nil, ttl: String? = nil) {
        self.role = role; self.interface = interface; self.syncid = syncid; self.maxlen = maxlen; self.group = group
        self.port = port; self.ttl = ttl
    }

    public func model() throws -> SyncDaemon {
        let st = try Validate.role(role)
        let ifn = interface ?? "eth0"
        try Validate.interfaceName(ifn)
        var d = SyncDaemon(state: st, interface: ifn)
        if let s = syncid { d.syncID = UInt32(try Validate.number(s, "sync id", 0...255)) }
        if let m = maxlen { d.maxLength = UInt16(try Validate.number(m, "sync maxlen", 1...65507)) }
        if let p = port { d.port = UInt16(try Validate.number(p, "multicast port", 1...65535)) }
        if let t = ttl { d.ttl = UInt8(try Validate.number(t, "multicast ttl", 1...255)) }
        if let g = group {
            guard let a = IPAddress(g), a.isMulticast else { throw UsageError("invalid multicast group \(shown(g))") }
            d.group = a
        }
        return d
    }
}

/// `dr setup --vip V... [--method M] [--interface I] [--ports P] [--proto P] [--dry-run]`.
public struct DRSetupSpec: Equatable, Sendable {
    public var vips: [String]
    public var method: String = "sysctl"
    public var interface: String?, ports: String?, proto: String?
    public var dryRun = false
    public init(vips: [String], method: String = "sysctl", interface: String? = nil, ports: String? = nil, proto: String? = nil, dryRun: Bool = false) {
        self.vips = vips; self.method = method; self.interface = interface; self.ports = ports; self.proto = proto; self.dryRun = dryRun
    }

    /// The validated requests (syntax only; the kernel checks come in `DirectRouting.plan`).
    public func requests() throws -> [DRRequest] {
        if vips.isEmpty { throw UsageError("give at least one --vip") }
        guard let m = DRMethod(rawValue: method) else {
            throw UsageError("invalid method \(shown(method)) (expected sysctl, arptables or redirect)")
        }
        if let i = interface { try Validate.interfaceName(i) }
        var pr: [PortRange] = [], protos: [IPProtocol] = []
        if m == .redirect {
            guard let p = ports else { throw UsageError("--method redirect needs --ports (e.g. --ports 80,443)") }
            pr = try Validate.portList(p)
            protos = try Validate.protocols(proto ?? "tcp")
        } else {
            if let p = ports { throw UsageError("--ports \(shown(p)) applies to --method redirect only") }
            if let p = proto { throw UsageError("--proto \(shown(p)) applies to --method redirect only") }
        }
        return try vips.map { v in
            let a = try Validate.vip(v)
            if a.isLoopback { throw UsageError("VIP \(shown(v)) is a loopback address") }
            if m == .arptables && a.family == .inet6 {
                throw UsageError("VIP \(shown(v)) is IPv6: ARP is IPv4 only (use --method sysctl, which needs no ARP rules for IPv6)")
            }
            return DRRequest(vip: a, method: m, interface: interface, ports: pr, protocols: protos)
        }
    }

    /// The VIPs of `dr teardown --vip`: a VIP that setup refuses can never have been set up (bad input, as in setup).
    public static func teardownAddresses(_ vips: [String]) throws -> [IPAddress]? {
        vips.isEmpty ? nil : try vips.map(Validate.vip)
    }
}
