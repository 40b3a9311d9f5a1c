import LVSCore

/// Every check of a single value lvsctl reads, from the command line or from a file, in one place. Each throws a
/// ``UsageError`` naming the value.
public enum Validate {
    /// A firewall mark: decimal or 0x hex, 1..2^32-1.
    public static func mark(_ m: String) throws -> UInt32 {
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

    /// A service `ADDR[:PORT]`; the address must be usable unicast. Without a port the service is port 0, as in
    /// ipvsadm's `parse_service` (`-t 192.0.2.1`, or a bare `2001:db8::1`; the kernel then needs persistence, which
    /// ``service(_:)`` says first). A bracketed IPv6 address needs its port (`[2001:db8::1]:80`), as in ipvsadm.
    public static func serviceEndpoint(_ text: String) throws -> Endpoint {
        let (a, p) = try endpoint(text, what: "virtual service")
        if p == nil && text.hasPrefix("[") {
            throw UsageError("virtual service \(shown(text)) needs a port after ']' ([ADDR6]:PORT; a bare ADDR6 is port 0)")
        }
        return Endpoint(address: a, port: p ?? 0)
    }

    /// `ADDR[:PORT]`, naming `what` in errors; a port may be a service name from /etc/services.
    public static func endpoint(_ text: String, what: String) throws -> (IPAddress, UInt16?) {
        if text.contains("%") { throw UsageError("\(what) address \(shown(text)): scope ids are not supported") }
        do {
            let (a, p) = try Endpoint.parse(text)
            try unicast(a, what: "\(what) address")
            return (a, p)
        } catch let e as Endpoint.ParseError {
            switch e {
            case .badAddress(let s): throw UsageError("invalid \(what) address \(shown(s)) in \(shown(text))")
            case .badPort(let s):
                // A service name from /etc/services (`192.0.2.10:http`), as ipvsadm accepts; the address is parsed again.
                if let port = NameResolver.port(named: s), let colon = text.lastIndex(of: ":") {
                    let (a, _) = try endpoint(String(text[..<colon]), what: what)
                    return (a, port)
                }
                throw UsageError("invalid port \(shown(s)) in \(shown(text)) (expected 0..65535 or a service name)")
            case .missingPort: throw UsageError("\(what) \(shown(text)) needs a port")
            }
        }
    }

    /// Refuses unspecified, multicast, broadcast, class-E and IPv4-mapped addresses.
    public static func unicast(_ a: IPAddress, what: String) throws {
        if let why = notUnicast(a) { throw UsageError("\(what) \(shown(a.description)) is \(why)") }
    }

    /// True when ``unicast(_:what:)`` accepts `a` (no message is built).
    public static func isUnicast(_ a: IPAddress) -> Bool { notUnicast(a) == nil }

    /// Why `a` is not a usable unicast address, in the words of the error message; nil when it is one.
    static func notUnicast(_ a: IPAddress) -> String? {
        if a.isUnspecified { return "unspecified" }
        if a.isMulticast { return "multicast" }
        if a.isBroadcast { return "broadcast" }
        if a.isReservedClassE { return "reserved (240.0.0.0/4)" }
        if a.isIPv4Mapped { return "IPv4-mapped IPv6; use the IPv4 address" }
        return nil
    }

    /// A VIP of a bundle or of `dr`: a usable unicast address.
    public static func vip(_ v: String) throws -> IPAddress {
        guard let a = IPAddress(v) else { throw UsageError("invalid VIP \(shown(v))") }
        try unicast(a, what: "VIP")
        return a
    }

    /// Seconds as a decimal with at most three decimals (`5`, `0.5`) within `range`.
    public static func seconds(_ s: String, _ what: String, _ range: ClosedRange<Double>) throws -> Double {
        try CheckSpec.seconds(s, what, range)
    }

    /// A decimal number in a range, naming `what` in errors.
    public static func number(_ s: String, _ what: String, _ range: ClosedRange<UInt64>) throws -> UInt64 {
        guard let n = parseDecimal(s), range.contains(n) else {
            throw UsageError("invalid \(what) \(shown(s)) (expected \(range.lowerBound)..\(range.upperBound))")
        }
        return n
    }

    /// Scheduler and persistence-engine names are kernel module suffixes: 1..15 of [a-z0-9_].
    @discardableResult
    public static func moduleName(_ n: String, what: String) throws -> String {
        guard isModuleName(n) else { throw UsageError("invalid \(what) \(shown(n)) (1..15 characters of a-z, 0-9, _)") }
        return n
    }
    public static func isModuleName(_ n: String) -> Bool {
        !n.isEmpty && n.utf8.count <= 15 && n.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    /// Bundle names go into rule comments and shell scripts: 1..64 of [A-Za-z0-9_.-], starting with a letter or digit.
    public static func bundleName(_ n: String) throws {
        let okChars = n.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 || $0 == 46 || $0 == 45 }
        guard !n.isEmpty, n.count <= MarkBundle.maxNameLength, okChars, let f = n.utf8.first, f != 45, f != 46 else {
            throw UsageError("invalid bundle name \(shown(n)) (1..\(MarkBundle.maxNameLength) characters of A-Z a-z 0-9 _ . -, not starting with - or .)")
        }
    }

    /// Interface names as the kernel's `dev_valid_name` takes them: 1..15 bytes, no '/', ':', whitespace or control
    /// characters, not '.' or '..'.
    public static func interfaceName(_ n: String) throws {
        let ok = !n.isEmpty && n.utf8.count <= 15 && n != "." && n != ".." &&
            n.utf8.allSatisfy { $0 > 32 && $0 != 127 && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: ":") }
        if !ok { throw UsageError("invalid interface name \(shown(n))") }
    }

    /// `--proto tcp|udp|both`.
    public static func protocols(_ s: String) throws -> [IPProtocol] {
        switch s {
        case "tcp": return [.tcp]
        case "udp": return [.udp]
        case "both": return [.tcp, .udp]
        default: throw UsageError("invalid protocol \(shown(s)) (expected tcp, udp or both)")
        }
    }

    /// A sync daemon role.
    public static func role(_ r: String) throws -> DaemonState {
        guard let st = daemonState(r) else { throw UsageError("invalid daemon role \(shown(r)) (expected master or backup)") }
        return st
    }
    public static func daemonState(_ r: String) -> DaemonState? { r == "master" ? .master : r == "backup" ? .backup : nil }

    /// A port list `80,443,8000:8010`: ports 1..65535, ranges low:high with low <= high.
    public static func portList(_ s: String) throws -> [PortRange] {
        if s.isEmpty { throw UsageError("empty port list") }
        // Split at the ASCII ',' and ':' bytes (String.split walks Characters: ~15,000 instructions for "80,443",
        // on every bundle line of a restore file).
        var out: [PortRange] = []
        let u = s.utf8
        var start = u.startIndex
        while true {
            let end = u[start...].firstIndex(of: 44) ?? u.endIndex
            let item = Substring(u[start..<end])
            func bad() -> UsageError { UsageError("invalid port \(shown(String(item))) (expected 1..65535 or LOW:HIGH)") }
            let colon = item.utf8.firstIndex(of: 58)
            let loText = colon.map { Substring(item.utf8[..<$0]) } ?? item
            guard let lo = parseDecimal(loText), lo >= 1, lo <= 65535 else { throw bad() }
            var hi = lo
            if let c = colon {
                let hiText = Substring(item.utf8[item.utf8.index(after: c)...])
                guard hiText.utf8.firstIndex(of: 58) == nil else { throw bad() }
                guard let h = parseDecimal(hiText), h >= 1, h <= 65535 else { throw bad() }
                guard h >= lo else { throw UsageError("reversed port range \(shown(String(item)))") }
                hi = h
            }
            out.append(PortRange(low: UInt16(lo), high: UInt16(hi)))
            if end == u.endIndex { return out }
            start = u.index(after: end)
        }
    }

    /// A persistence netmask for `family`.
    public static func netmask(_ m: String, family: AddressFamily) throws -> UInt32 {
        guard let w = Netmask.parse(m, family: family) else {
            throw UsageError(family == .inet6
                ? "invalid IPv6 persistence netmask \(shown(m)) (expected a prefix length 1..128)"
                : "invalid persistence netmask \(shown(m)) (expected a mask like 255.255.255.0 or a prefix 1..32)")
        }
        return w
    }

    /// Cross-field checks of a service, as the kernel and ipvsadm apply them.
    public static func service(_ s: VirtualService) throws {
        if case .address(let p, let e) = s.key {
            if e.port == 0 && !s.flags.contains(.persistent) {
                throw UsageError("port 0 of \(s.key) needs persistence (-p)")
            }
            if s.flags.contains(.onePacket) && p != .udp {
                throw UsageError("one-packet scheduling (-o) is only for UDP and fwmark services, not \(s.key)")
            }
        }
    }

    /// The lowest mark not in `used`.
    public static func lowestFree(_ used: Set<UInt32>) -> UInt32 {
        var m: UInt32 = 1
        while used.contains(m) { m += 1 }
        return m
    }
}
