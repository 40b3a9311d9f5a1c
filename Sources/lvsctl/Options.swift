import ArgumentParser
import LVSCore

/// The service specifier: `-t ADDR:PORT | -u ADDR:PORT | --sctp-service ADDR:PORT | -f MARK [-6]`.
struct ServiceOptions: ParsableArguments {
    @Option(name: [.customShort("t"), .customLong("tcp-service")], help: "TCP service ADDR:PORT ([ADDR6]:PORT); ADDR alone is port 0.")
    var tcp: String?
    @Option(name: [.customShort("u"), .customLong("udp-service")], help: "UDP service ADDR:PORT; ADDR alone is port 0.")
    var udp: String?
    @Option(name: .customLong("sctp-service"), help: "SCTP service ADDR:PORT; ADDR alone is port 0.")
    var sctp: String?
    @Option(name: [.customShort("f"), .customLong("fwmark-service")], help: "Firewall-mark service MARK (1..4294967295).")
    var fwmark: String?
    @Flag(name: .customShort("6"), help: "The fwmark service is IPv6 (with -f).")
    var ipv6 = false

    /// The plain values, for validation shared with the fast file parser.
    var spec: ServiceSpec { ServiceSpec(tcp: tcp, udp: udp, sctp: sctp, fwmark: fwmark, ipv6: ipv6) }
    /// True when any specifier was given.
    var given: Bool { spec.given }
    /// The validated key.
    func key(required: Bool = true) throws -> ServiceKey? { try spec.key(required: required) }
}

/// The service specifier as plain values.
struct ServiceSpec {
    var tcp: String?, udp: String?, sctp: String?, fwmark: String?, ipv6 = false

    /// True when any specifier was given.
    var given: Bool { tcp != nil || udp != nil || sctp != nil || fwmark != nil }

    /// Sets the specifier named by option `o` (`-t`, `--udp-service`, `-f`, ...) to `v`.
    mutating func set(_ o: String, _ v: String) {
        switch o {
        case "-t", "--tcp-service": tcp = v
        case "-u", "--udp-service": udp = v
        case "--sctp-service": sctp = v
        default: fwmark = v
        }
    }

    /// The validated key.
    func key(required: Bool = true) throws -> ServiceKey? {
        let specs = [(tcp, IPProtocol.tcp), (udp, .udp), (sctp, .sctp)].compactMap { v, p in v.map { ($0, p) } }
        let count = specs.count + (fwmark == nil ? 0 : 1)
        if count > 1 { throw UsageError("give one service: -t, -u, --sctp-service or -f") }
        if count == 0 {
            if ipv6 { throw UsageError("-6 is only valid with -f") }
            if required { throw UsageError("a service is required: -t ADDR:PORT, -u ADDR:PORT, --sctp-service ADDR:PORT or -f MARK") }
            return nil
        }
        if let m = fwmark {
            return .fwmark(try parseMark(m), ipv6 ? .inet6 : .inet)
        }
        if ipv6 { throw UsageError("-6 is only valid with -f") }
        let (text, proto) = specs[0]
        return .address(proto, try parseServiceEndpoint(text))
    }
}

/// Parses a firewall mark: decimal or 0x hex, 1..2^32-1.
func parseMark(_ m: String) throws -> UInt32 {
    var v: UInt64?
    if m.hasPrefix("0x") || m.hasPrefix("0X") {
        let h = m.dropFirst(2)
        if !h.isEmpty, h.count <= 8, h.allSatisfy(\.isHexDigit) { v = UInt64(h, radix: 16) }
    } else { v = parseDecimal(m) }
    guard let n = v, n >= 1, n <= 0xFFFF_FFFF else {
        throw UsageError("invalid firewall mark \(shown(m)) (expected 1..4294967295)")
    }
    return UInt32(n)
}

/// Parses a service `ADDR[:PORT]`; the address must be usable unicast. Without a port the service is port 0, as in
/// ipvsadm's `parse_service` (`-t 192.0.2.1`, or a bare `2001:db8::1`; the kernel then needs persistence, which
/// ``checkService(_:)`` says first). A bracketed IPv6 address needs its port (`[2001:db8::1]:80`), as in ipvsadm.
func parseServiceEndpoint(_ text: String) throws -> Endpoint {
    let (a, p) = try parseEndpoint(text, what: "virtual service")
    if p == nil && text.hasPrefix("[") {
        throw UsageError("virtual service \(shown(text)) needs a port after ']' ([ADDR6]:PORT; a bare ADDR6 is port 0)")
    }
    return Endpoint(address: a, port: p ?? 0)
}

/// Parses `ADDR[:PORT]`, naming `what` in errors.
func parseEndpoint(_ text: String, what: String) throws -> (IPAddress, UInt16?) {
    if text.contains("%") { throw UsageError("\(what) address \(shown(text)): scope ids are not supported") }
    do {
        let (a, p) = try Endpoint.parse(text)
        try checkUnicast(a, what: "\(what) address")
        return (a, p)
    } catch let e as Endpoint.ParseError {
        switch e {
        case .badAddress(let s): throw UsageError("invalid \(what) address \(shown(s)) in \(shown(text))")
        case .badPort(let s):
            // A service name from /etc/services (`192.0.2.10:http`), as ipvsadm accepts; the address is parsed again.
            if let port = NameResolver.port(named: s), let colon = text.lastIndex(of: ":") {
                let (a, _) = try parseEndpoint(String(text[..<colon]), what: what)
                return (a, port)
            }
            throw UsageError("invalid port \(shown(s)) in \(shown(text)) (expected 0..65535 or a service name)")
        case .missingPort: throw UsageError("\(what) \(shown(text)) needs a port")
        }
    }
}

/// Rejects unspecified, multicast, broadcast, class-E and IPv4-mapped addresses.
func checkUnicast(_ a: IPAddress, what: String) throws {
    if a.isUnspecified { throw UsageError("\(what) \(shown(a.description)) is unspecified") }
    if a.isMulticast { throw UsageError("\(what) \(shown(a.description)) is multicast") }
    if a.isBroadcast { throw UsageError("\(what) \(shown(a.description)) is broadcast") }
    if a.isReservedClassE { throw UsageError("\(what) \(shown(a.description)) is reserved (240.0.0.0/4)") }
    if a.isIPv4Mapped { throw UsageError("\(what) \(shown(a.description)) is IPv4-mapped IPv6; use the IPv4 address") }
}

/// Parses a decimal number in a range, naming the option in errors.
func parseNumber(_ s: String, _ what: String, _ range: ClosedRange<UInt64>) throws -> UInt64 {
    guard let n = parseDecimal(s), range.contains(n) else {
        throw UsageError("invalid \(what) \(shown(s)) (expected \(range.lowerBound)..\(range.upperBound))")
    }
    return n
}

/// Scheduling and persistence options of a virtual service: `-s -b -p -M --pe -o`.
struct ServiceSettings: ParsableArguments {
    @Option(name: [.customShort("s"), .customLong("scheduler")], help: "Scheduler (rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh ...); default wlc.")
    var scheduler: String?
    @Option(name: [.customShort("b"), .customLong("sched-flags")], help: "Scheduler flags: sh-fallback,sh-port | mh-fallback,mh-port | flag-1,flag-2,flag-3.")
    var schedFlags: String?
    @Option(name: [.customShort("p"), .customLong("persistent")], help: "Persistence timeout in seconds (alone: 360).")
    var persistent: String?
    @Option(name: [.customShort("M"), .customLong("netmask")], help: "Persistence granularity: IPv4 mask or prefix, IPv6 prefix length.")
    var netmask: String?
    @Option(name: .customLong("pe"), help: "Persistence engine, e.g. sip.")
    var pe: String?
    @Flag(name: [.customShort("o"), .customLong("ops")], help: "One-packet scheduling (UDP and fwmark services).")
    var ops = false

    /// The plain values.
    var spec: SettingsSpec {
        SettingsSpec(scheduler: scheduler, schedFlags: schedFlags, persistent: persistent, netmask: netmask, pe: pe, ops: ops)
    }
    var any: Bool { spec.any }
    /// Applies the given settings to `s` (a new service, or the running one for `edit`).
    func apply(to s: inout VirtualService, isNew: Bool) throws { try spec.apply(to: &s, isNew: isNew) }
}

/// Scheduling and persistence options as plain values.
struct SettingsSpec {
    var scheduler: String?, schedFlags: String?, persistent: String?, netmask: String?, pe: String?, ops = false

    var any: Bool { scheduler != nil || schedFlags != nil || persistent != nil || netmask != nil || pe != nil || ops }

    /// Applies the given settings to `s` (a new service, or the running one for `edit`).
    func apply(to s: inout VirtualService, isNew: Bool) throws {
        if let name = scheduler { s.scheduler = Scheduler(try validateModuleName(name, what: "scheduler")) }
        if let t = persistent {
            s.flags.insert(.persistent)
            s.timeout = UInt32(try parseNumber(t, "persistence timeout", 1...UInt64(Timeouts.maxValue)))
            if isNew { s.netmask = VirtualService.fullNetmask(s.key.family) }
        }
        if let m = netmask {
            guard persistent != nil || s.flags.contains(.persistent) else {
                throw UsageError("-M \(shown(m)) needs persistence (-p)")
            }
            guard let w = Netmask.parse(m, family: s.key.family) else {
                throw UsageError(s.key.family == .inet6
                    ? "invalid IPv6 persistence netmask \(shown(m)) (expected a prefix length 1..128)"
                    : "invalid persistence netmask \(shown(m)) (expected a mask like 255.255.255.0 or a prefix 1..32)")
            }
            s.netmask = w
        }
        if let p = pe { s.persistenceEngine = try validateModuleName(p, what: "persistence engine") }
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
        try checkService(s)
    }
}

/// Cross-field checks of a service, as the kernel and ipvsadm apply them.
func checkService(_ s: VirtualService) throws {
    if case .address(let p, let e) = s.key {
        if e.port == 0 && !s.flags.contains(.persistent) {
            throw UsageError("port 0 of \(s.key) needs persistence (-p)")
        }
        if s.flags.contains(.onePacket) && p != .udp {
            throw UsageError("one-packet scheduling (-o) is only for UDP and fwmark services, not \(s.key)")
        }
    }
}

/// Scheduler and persistence-engine names are kernel module suffixes: 1..15 of [a-z0-9_].
func validateModuleName(_ n: String, what: String) throws -> String {
    guard !n.isEmpty, n.count <= 15, n.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }) else {
        throw UsageError("invalid \(what) \(shown(n)) (1..15 characters of a-z, 0-9, _)")
    }
    return n
}

/// Real-server options: `-r ADDR[:PORT] [-g|-i|-m] [-w W] [-x U] [-y L] [--tun-type T --tun-port P --tun-*csum]`.
struct RealServerOptions: ParsableArguments {
    @Option(name: [.customShort("r"), .customLong("real-server")], help: "Real server ADDR[:PORT] or [ADDR6][:PORT].")
    var realServer: String
    @Flag(name: [.customShort("g"), .customLong("gatewaying")], help: "Direct routing (the default).")
    var gatewaying = false
    @Flag(name: [.customShort("i"), .customLong("ipip")], help: "Tunnelling (IP-in-IP, GUE or GRE).")
    var ipip = false
    @Flag(name: [.customShort("m"), .customLong("masquerading")], help: "NAT.")
    var masquerading = false
    @Option(name: [.customShort("w"), .customLong("weight")], help: "Weight 0..65535 (default 1).")
    var weight: String?
    @Option(name: [.customShort("x"), .customLong("u-threshold")], help: "Upper connection threshold (0 = none).")
    var upper: String?
    @Option(name: [.customShort("y"), .customLong("l-threshold")], help: "Lower connection threshold (0 = none).")
    var lower: String?
    @Option(name: .customLong("tun-type"), help: "Tunnel type: ipip, gue, gre (with -i).")
    var tunType: String?
    @Option(name: .customLong("tun-port"), help: "GUE tunnel port 1..65535.")
    var tunPort: String?
    @Flag(name: .customLong("tun-nocsum"), help: "No tunnel checksum.")
    var tunNoCsum = false
    @Flag(name: .customLong("tun-csum"), help: "Tunnel checksum.")
    var tunCsum = false
    @Flag(name: .customLong("tun-remcsum"), help: "Remote tunnel checksum offload (GUE).")
    var tunRemCsum = false

    /// The plain values.
    var spec: ServerSpec {
        ServerSpec(realServer: realServer, gatewaying: gatewaying, ipip: ipip, masquerading: masquerading, weight: weight,
                   upper: upper, lower: lower, tunType: tunType, tunPort: tunPort, tunNoCsum: tunNoCsum, tunCsum: tunCsum,
                   tunRemCsum: tunRemCsum)
    }
    var forwardingGiven: ForwardingMethod? { spec.forwardingGiven }
    func endpoint(for key: ServiceKey, forwarding: ForwardingMethod) throws -> Endpoint { try spec.endpoint(for: key, forwarding: forwarding) }
    func apply(to d: inout RealServer, isNew: Bool) throws { try spec.apply(to: &d, isNew: isNew) }
}

/// Real-server options as plain values.
struct ServerSpec {
    var realServer: String
    var gatewaying = false, ipip = false, masquerading = false
    var weight: String?, upper: String?, lower: String?, tunType: String?, tunPort: String?
    var tunNoCsum = false, tunCsum = false, tunRemCsum = false

    var forwardingGiven: ForwardingMethod? {
        gatewaying ? .directRoute : ipip ? .tunnel : masquerading ? .masquerade : nil
    }

    /// The validated real server for `key`, with ipvsadm's defaults and port rules.
    func model(for key: ServiceKey) throws -> RealServer {
        let fwd = forwardingGiven ?? .directRoute
        let e = try endpoint(for: key, forwarding: fwd)
        var d = RealServer(address: e.address, port: e.port, forwarding: fwd)
        try apply(to: &d, isNew: true)
        return d
    }

    /// The endpoint, with ipvsadm's port rules applied for `service`.
    func endpoint(for key: ServiceKey, forwarding: ForwardingMethod) throws -> Endpoint {
        let (a, p) = try parseEndpoint(realServer, what: "real server")
        var port = p ?? key.port ?? 0
        if let sp = key.port, forwarding == .directRoute || forwarding == .tunnel { port = sp }
        if a.family != key.family && forwarding != .tunnel {
            throw UsageError("real server \(shown(realServer)) is \(a.family) but the service is \(key.family); mixed families need tunnelling (-i)")
        }
        return Endpoint(address: a, port: port)
    }

    /// Checks forwarding flags and tunnel options, and applies them to `d`.
    func apply(to d: inout RealServer, isNew: Bool) throws {
        if [gatewaying, ipip, masquerading].filter({ $0 }).count > 1 {
            throw UsageError("give one forwarding method: -g, -i or -m")
        }
        if let f = forwardingGiven { d.forwarding = f }
        if let w = weight { d.weight = Int32(try parseNumber(w, "weight", 0...UInt64(RealServer.maxWeight))) }
        if let x = upper { d.upperThreshold = UInt32(try parseNumber(x, "upper threshold", 0...UInt64(Int32.max))) }
        if let y = lower { d.lowerThreshold = UInt32(try parseNumber(y, "lower threshold", 0...UInt64(Int32.max))) }
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
        if let p = tunPort { d.tunnelPort = UInt16(try parseNumber(p, "tunnel port", 1...65535)) }
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
