#if canImport(Glibc)
import Glibc
#endif

/// Turns addresses and ports into names for `list --resolve` and `connections --resolve`, the way ipvsadm does
/// without `-n`: the host's name from the resolver (`/etc/hosts`, then DNS, as nsswitch.conf says) and the port's
/// name from `/etc/services`, each falling back to the number. Every answer is cached, so a table with many real
/// servers on one address asks the resolver once.
///
/// One difference from ipvsadm 1.31, on purpose: ipvsadm asks `gethostbyaddr` for IPv6 addresses with an IPv4
/// length, so they never resolve; here they do.
public final class NameResolver {
    private var hosts: [IPAddress: String] = [:]
    private var services: [UInt32: String] = [:]

    /// A resolver with empty caches.
    public init() {}

    /// The host name of `a`, or nil when the resolver has none.
    public func host(_ a: IPAddress) -> String? {
        if let h = hosts[a] { return h.isEmpty ? nil : h }
        var name = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        /// getnameinfo(3) of one socket address (sockaddr_in or sockaddr_in6), by its own size.
        func lookup<S>(_ sa: S) -> Int32 {
            withUnsafePointer(to: sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    getnameinfo($0, socklen_t(MemoryLayout<S>.size), &name, socklen_t(name.count), nil, 0, NI_NAMEREQD)
                }
            }
        }
        let rc: Int32
        if a.family == .inet {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: a.bytes) }
            rc = lookup(sin)
        } else {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: a.bytes) }
            rc = lookup(sin6)
        }
        let h = rc == 0 ? String(cString: name) : ""
        hosts[a] = h
        return h.isEmpty ? nil : h
    }

    /// The service name of `port` for `proto` (TCP or UDP: ipvsadm names no other protocol's ports, nor those of
    /// a fwmark service's real servers, whose protocol is nil here).
    public func service(_ port: UInt16, proto: IPProtocol?) -> String? {
        guard let proto, proto == .tcp || proto == .udp else { return nil }
        let key = UInt32(port) << 8 | UInt32(proto.rawValue)
        if let s = services[key] { return s.isEmpty ? nil : s }
        var ent = servent()
        var result: UnsafeMutablePointer<servent>? = nil
        var buf = [CChar](repeating: 0, count: 4096)
        let rc = getservbyport_r(Int32(port.bigEndian), proto == .tcp ? "tcp" : "udp", &ent, &buf, buf.count, &result)
        let s = (rc == 0 && result != nil && ent.s_name != nil) ? String(cString: ent.s_name) : ""
        services[key] = s
        return s.isEmpty ? nil : s
    }

    /// ipvsadm's `addrport_to_anyname`: `name:service` (IPv6 in brackets), each part falling back to its number,
    /// cut at 59 bytes as ipvsadm's 60-byte buffer does.
    public func endpoint(_ e: Endpoint, proto: IPProtocol?) -> String {
        let h = host(e.address) ?? e.address.description
        let p = service(e.port, proto: proto) ?? "\(e.port)"
        let s = e.address.family == .inet6 ? "[\(h)]:\(p)" : "\(h):\(p)"
        let u = Array(s.utf8)
        return u.count <= 59 ? s : String(decoding: u[..<59], as: UTF8.self)
    }

    /// The port of a service name in `/etc/services` (`http` -> 80), as ipvsadm accepts in `ADDR:PORT`; nil when
    /// the name is unknown or not a plain name.
    public static func port(named name: String) -> UInt16? {
        guard let f = name.utf8.first, (f >= 65 && f <= 90) || (f >= 97 && f <= 122), name.utf8.count < 64,
              name.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 })
        else { return nil }
        var ent = servent()
        var result: UnsafeMutablePointer<servent>? = nil
        var buf = [CChar](repeating: 0, count: 4096)
        guard getservbyname_r(name, nil, &ent, &buf, buf.count, &result) == 0, result != nil else { return nil }
        return UInt16(bigEndian: UInt16(truncatingIfNeeded: ent.s_port))
    }
}
