#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An address family: `AF_INET` or `AF_INET6`.
public enum AddressFamily: UInt16, Hashable, Sendable, Codable, CustomStringConvertible {
    /// `AF_INET` (2).
    case inet = 2
    /// `AF_INET6` (10).
    case inet6 = 10
    /// `ipv4` or `ipv6`.
    public var description: String { self == .inet ? "ipv4" : "ipv6" }
}

/// An IPv4 or IPv6 address, stored in network byte order (4 or 16 bytes).
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The family of the address.
    public let family: AddressFamily
    /// The address bytes in network order: 4 for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// Hashes the family and the bytes in one call (the synthesized hash feeds the bytes one at a time, which made
    /// hashing a service key cost ~1,800 instructions); equal addresses still hash equally.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(family)
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Creates an address from raw network-order bytes (4 or 16 of them).
    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4: family = .inet
        case 16: family = .inet6
        default: return nil
        }
        self.bytes = bytes
    }

    /// Parses dotted-quad IPv4 or textual IPv6 (`inet_pton`). Brackets and scope ids are not accepted here.
    public init?(_ text: String) {
        if text.contains(":") {
            var a = in6_addr()
            guard inet_pton(AF_INET6, text, &a) == 1 else { return nil }
            family = .inet6
            bytes = withUnsafeBytes(of: &a) { Array($0) }
        } else {
            var a = in_addr()
            // inet_pton rejects the octal/hex/short forms inet_aton would accept; that is deliberate.
            guard inet_pton(AF_INET, text, &a) == 1 else { return nil }
            family = .inet
            bytes = withUnsafeBytes(of: &a) { Array($0) }
        }
    }

    /// The canonical text form (`inet_ntop`), e.g. `192.0.2.1` or `2001:db8::1`.
    public var description: String {
        var buf = [CChar](repeating: 0, count: 64)
        let af = family == .inet ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { src in inet_ntop(af, src.baseAddress, &buf, socklen_t(buf.count)) }
        guard ok != nil else { return "?" }
        return String(cString: buf)
    }

    /// The address in a 16-byte IPVS field: IPv4 is zero-padded after its 4 bytes (`union nf_inet_addr`).
    public var ipvsField: [UInt8] { family == .inet ? bytes + [UInt8](repeating: 0, count: 12) : bytes }

    /// Reads an address from the 16-byte IPVS field starting at `offset` of a reply buffer (the caller checked
    /// that 16 bytes are there): one array of 4 or 16 bytes, for the dump decoders.
    init(ipvsField b: UnsafeBufferPointer<UInt8>, at offset: Int, family: AddressFamily) {
        self.family = family
        self.bytes = Array(UnsafeBufferPointer(rebasing: b[offset..<(offset + (family == .inet ? 4 : 16))]))
    }

    /// Reads an address from a 16-byte IPVS field for the given family.
    public init(ipvsField f: [UInt8], family: AddressFamily) throws {
        guard f.count == 16 || (family == .inet && f.count >= 4) else {
            throw DecodeError("address", "address field of \(f.count) bytes")
        }
        self.family = family
        self.bytes = family == .inet ? Array(f[0..<4]) : f
    }

    /// The text form used in `ADDR:PORT`: IPv6 in brackets.
    public var bracketed: String { family == .inet6 ? "[\(description)]" : description }

    /// True for 0.0.0.0 / ::.
    public var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } }
    /// True for IPv4 224.0.0.0/4 and IPv6 ff00::/8.
    public var isMulticast: Bool { family == .inet ? bytes[0] >= 224 && bytes[0] <= 239 : bytes[0] == 0xff }
    /// True for 127.0.0.0/8 and ::1.
    public var isLoopback: Bool { family == .inet ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1] }
    /// True for 255.255.255.255.
    public var isBroadcast: Bool { family == .inet && bytes.allSatisfy { $0 == 0xff } }
    /// True for IPv4 addresses above 240.0.0.0 other than broadcast (reserved class E).
    public var isReservedClassE: Bool { family == .inet && bytes[0] >= 240 && !isBroadcast }
    /// True for `::ffff:a.b.c.d`.
    public var isIPv4Mapped: Bool {
        family == .inet6 && bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
    }
    /// True when the address can be a unicast VIP or real server: not unspecified, multicast, broadcast,
    /// class E or IPv4-mapped.
    public var isUsableUnicast: Bool {
        !isUnspecified && !isMulticast && !isBroadcast && !isReservedClassE && !isIPv4Mapped
    }

    /// Orders IPv4 before IPv6, then by the bytes (ipvsadm's sort order).
    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        if a.family != b.family { return a.family.rawValue < b.family.rawValue }
        return a.bytes.lexicographicallyPrecedes(b.bytes)
    }

    /// Decodes an address from its text form.
    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let a = IPAddress(s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad address \(s)"))
        }
        self = a
    }
    /// Encodes the text form.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer(); try c.encode(description)
    }
}

/// The transport protocol of a virtual service (`IPVS_SVC_ATTR_PROTOCOL`).
public enum IPProtocol: UInt16, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// `IPPROTO_TCP`.
    case tcp = 6
    /// `IPPROTO_UDP`.
    case udp = 17
    /// `IPPROTO_SCTP`.
    case sctp = 132
    /// `tcp`, `udp` or `sctp`.
    public var description: String {
        switch self { case .tcp: "tcp"; case .udp: "udp"; case .sctp: "sctp" }
    }
    /// The upper-case label ipvsadm prints (`TCP`, `UDP`, `SCTP`).
    public var label: String { description.uppercased() }
    /// The ipvsadm / lvsctl service option (`-t`, `-u`, `--sctp-service`).
    public var option: String {
        switch self { case .tcp: "-t"; case .udp: "-u"; case .sctp: "--sctp-service" }
    }
}

/// An address and port, as written `ADDR:PORT` or `[ADDR6]:PORT`.
public struct Endpoint: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The address.
    public var address: IPAddress
    /// The port in host order; 0 means "any" (only with persistence).
    public var port: UInt16
    /// Creates an endpoint.
    public init(address: IPAddress, port: UInt16) { self.address = address; self.port = port }
    /// `ADDR:PORT`, with IPv6 addresses bracketed.
    public var description: String { "\(address.bracketed):\(port)" }
    /// Orders by address, then port.
    public static func < (a: Endpoint, b: Endpoint) -> Bool {
        a.address != b.address ? a.address < b.address : a.port < b.port
    }

    /// Why an `ADDR[:PORT]` text was rejected.
    public enum ParseError: Error, Equatable { case badAddress(String), badPort(String), missingPort }

    /// Parses `ADDR[:PORT]` or `[ADDR6][:PORT]`; `port` is nil when none was written.
    public static func parse(_ text: String) throws -> (address: IPAddress, port: UInt16?) {
        var host = text
        var portText: String? = nil
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ParseError.badAddress(text) }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw ParseError.badAddress(text) }
                portText = String(rest.dropFirst())
            }
        } else if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon {
            host = String(text[..<colon]); portText = String(text[text.index(after: colon)...])
        } else if text.contains(":") {
            // A bare IPv6 address without brackets: accepted only with no port.
            host = text
        }
        guard let addr = IPAddress(host) else { throw ParseError.badAddress(host) }
        guard let p = portText else { return (addr, nil) }
        guard let n = parseDecimal(p), n <= 65535 else { throw ParseError.badPort(p) }
        return (addr, UInt16(n))
    }
}

/// Parses a plain decimal number: digits only, no sign, no hex or octal prefixes, at most 10 digits.
public func parseDecimal(_ s: some StringProtocol) -> UInt64? {
    // One pass over the bytes (no Character counting, no generic integer parsing): it runs for every port,
    // weight and mark of a restore file.
    var v: UInt64 = 0, n = 0
    for c in s.utf8 {
        guard c >= 48, c <= 57, n < 20 else { return nil }
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (r, o2) = m.addingReportingOverflow(UInt64(c - 48))
        if o1 || o2 { return nil }
        v = r; n += 1
    }
    return n > 0 ? v : nil
}
