import LVSCore
/// The IPVS connection table, read from `/proc/net/ip_vs_conn` (there is no netlink command for it).

/// One line of `/proc/net/ip_vs_conn`.
public struct Connection: Hashable, Sendable {
    /// `TCP`, `UDP`, `SCTP`, or `IP` (templates of fwmark services).
    public var proto: String
    /// The client address and port (port 0 in a persistence template).
    public var client: Endpoint
    /// The virtual service address and port (for a fwmark template, the mark as an IPv4 address).
    public var virtual: Endpoint
    /// The real server the connection (or template) is bound to.
    public var destination: Endpoint
    /// `ESTABLISHED`, `SYN_RECV`, ..., `NONE` for persistence templates.
    public var state: String
    /// Seconds left.
    public var expires: UInt32
    /// The persistence engine name (e.g. `sip`), with `--persistent-conn`.
    public var peName: String?
    /// The persistence engine data (e.g. a SIP Call-ID).
    public var peData: String?
    /// True for a persistence template (client network -> real server): templates carry client port 0
    /// (real connections never do); older kernels also print state NONE.
    public var isTemplate: Bool { client.port == 0 || state == "NONE" }
    /// For a fwmark template the kernel prints the mark as the virtual address (0.0.0.81): the mark, else nil.
    public var templateFwmark: UInt32? {
        guard isTemplate, proto == "IP", virtual.address.family == .inet else { return nil }
        let b = virtual.address.bytes
        return UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
    }
}

/// Parser for `/proc/net/ip_vs_conn`.
public enum ConnectionTable {
    /// The path the kernel exposes.
    public static let path = "/proc/net/ip_vs_conn"

    /// Reads and parses ``path`` (a /proc file reports size 0: read to the end).
    public static func read() throws -> [Connection] {
        guard let bytes = readFile(path) else { throw SystemError("cannot read \(path)") }
        return parse(String(decoding: bytes, as: UTF8.self))
    }

    /// Parses the file's text; the title line is skipped and malformed lines are ignored.
    public static func parse(_ text: String) -> [Connection] {
        var out: [Connection] = []
        for (i, line) in text.split(separator: "\n").enumerated() where i > 0 {
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard f.count >= 9,
                  let c = address(f[1]), let cp = UInt16(f[2], radix: 16),
                  let v = address(f[3]), let vp = UInt16(f[4], radix: 16),
                  let d = address(f[5]), let dp = UInt16(f[6], radix: 16),
                  let exp = UInt32(f[8]) else { continue }
            out.append(Connection(proto: f[0], client: Endpoint(address: c, port: cp), virtual: Endpoint(address: v, port: vp),
                                  destination: Endpoint(address: d, port: dp), state: f[7], expires: exp,
                                  peName: f.count > 9 ? f[9] : nil, peData: f.count > 10 ? f[10...].joined(separator: " ") : nil))
        }
        return out
    }

    /// An address as the kernel prints it: 8 hex digits (IPv4) or `%pI6` (full IPv6).
    static func address(_ s: String) -> IPAddress? {
        if s.contains(":") { return IPAddress(s) }
        guard s.count == 8, let v = UInt32(s, radix: 16) else { return nil }
        return IPAddress(bytes: [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)])
    }

    /// ipvsadm's `-Lnc` lines (title included).
    /// With `names`, addresses and ports are names where the resolver has them (ipvsadm's `-Lc`).
    public static func format(_ conns: [Connection], persistent: Bool, names: NameResolver? = nil) -> String {
        var out = "IPVS connection entries\n"
        if persistent {
            out += "pro expire \(pad("state", 11)) \(pad("source", 18)) \(pad("virtual", 18)) \(pad("destination", 18)) \(pad("pe name", 16)) pe_data\n"
        } else {
            out += "pro expire \(pad("state", 11)) \(pad("source", 18)) \(pad("virtual", 18)) destination\n"
        }
        for c in conns {
            let exp = (c.expires / 60 < 10 ? "0" : "") + "\(c.expires / 60):" + (c.expires % 60 < 10 ? "0" : "") + "\(c.expires % 60)"
            let proto: IPProtocol = c.proto == "UDP" ? .udp : c.proto == "TCP" ? .tcp : .sctp
            func name(_ e: Endpoint) -> String { names?.endpoint(e, proto: proto) ?? e.description }
            let head = "\(pad(c.proto, 3)) \(pad(exp, 6)) \(pad(c.state, 11)) \(pad(name(c.client), 18)) \(pad(name(c.virtual), 18)) "
            if persistent, let n = c.peName, let d = c.peData {
                out += head + "\(pad(name(c.destination), 16)) \(pad(n, 18)) \(d)\n"
            } else {
                out += head + "\(name(c.destination))\n"
            }
        }
        return out
    }
}
