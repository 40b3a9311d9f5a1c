// rtnetlink through libnl-route-3 (with Socket.swift, the only files that call libnl): interfaces and addresses,
// for `lvsctl dr`. Each function names the libnl call it wraps.
import CNetlink
#if canImport(Glibc)
import Glibc
#endif

/// A network interface of the current network namespace.
public struct NetworkInterface: Hashable, Sendable {
    /// The interface index (`ifindex`).
    public var index: Int32
    /// The interface name, e.g. `eth0`.
    public var name: String
    /// `IFF_UP`.
    public var isUp: Bool
    /// `IFF_LOOPBACK`.
    public var isLoopback: Bool
}

/// An address assigned to an interface.
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    /// The index of the interface holding the address.
    public var interfaceIndex: Int32
    /// The name of the interface holding the address.
    public var interfaceName: String
    /// The address.
    public var address: IPAddress
    /// The prefix length.
    public var prefixLength: Int
    /// `ADDR/PREFIX dev IF`, as `ip addr` prints it.
    public var description: String { "\(address)/\(prefixLength) dev \(interfaceName)" }

    /// Whether `a` lies in this address's subnet.
    public func contains(_ a: IPAddress) -> Bool {
        guard a.family == address.family else { return false }
        var bits = prefixLength
        for (x, y) in zip(a.bytes, address.bytes) {
            if bits <= 0 { return true }
            let mask: UInt8 = bits >= 8 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if x & mask != y & mask { return false }
            bits -= 8
        }
        return true
    }
}

/// One rtnetlink socket (`nl_socket_alloc`, `nl_connect(NETLINK_ROUTE)`), opened in the current namespace.
public final class RouteSocket {
    private let sock: OpaquePointer

    /// Opens and connects the socket in the current network namespace.
    public init() throws {
        guard let s = nl_socket_alloc() else { throw NetlinkError(operation: "nl_socket_alloc", errno: ENOMEM) }
        let rc = nl_connect(s, NETLINK_ROUTE)
        if rc < 0 {
            nl_socket_free(s)
            throw NetlinkError(operation: "open rtnetlink socket", errno: libnlErrno(rc))
        }
        sock = s
    }

    deinit { nl_socket_free(sock) }

    /// Every interface (`rtnl_link_alloc_cache`).
    public func interfaces() throws -> [NetworkInterface] {
        var cache: OpaquePointer?
        let rc = rtnl_link_alloc_cache(sock, AF_UNSPEC, &cache)
        guard rc >= 0, let c = cache else { throw NetlinkError(operation: "list interfaces", errno: libnlErrno(rc)) }
        defer { nl_cache_free(c) }
        return Self.objects(of: c).map { o in
            let flags = rtnl_link_get_flags(o)
            return NetworkInterface(index: rtnl_link_get_ifindex(o), name: rtnl_link_get_name(o).map { String(cString: $0) } ?? "?",
                                    isUp: flags & UInt32(IFF_UP) != 0, isLoopback: flags & UInt32(IFF_LOOPBACK) != 0)
        }
    }

    /// The objects of a libnl cache (`nl_cache_get_first`, `nl_cache_get_next`).
    private static func objects(of cache: OpaquePointer) -> [OpaquePointer] {
        var out: [OpaquePointer] = []
        var obj = nl_cache_get_first(cache)
        while let o = obj { out.append(o); obj = nl_cache_get_next(o) }
        return out
    }

    /// Every IPv4 and IPv6 address (`rtnl_addr_alloc_cache`). `known` saves listing the interfaces again.
    public func addresses(interfaces known: [NetworkInterface]? = nil) throws -> [InterfaceAddress] {
        let names = Dictionary(try (known ?? interfaces()).map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
        var cache: OpaquePointer?
        let rc = rtnl_addr_alloc_cache(sock, &cache)
        guard rc >= 0, let c = cache else { throw NetlinkError(operation: "list addresses", errno: libnlErrno(rc)) }
        defer { nl_cache_free(c) }
        var out: [InterfaceAddress] = []
        for o in Self.objects(of: c) {
            let fam = rtnl_addr_get_family(o)
            if fam == AF_INET || fam == AF_INET6, let local = rtnl_addr_get_local(o), let raw = nl_addr_get_binary_addr(local) {
                let n = Int(nl_addr_get_len(local))
                let bytes = Array(UnsafeRawBufferPointer(start: raw, count: n))
                if let a = IPAddress(bytes: bytes) {
                    let idx = rtnl_addr_get_ifindex(o)
                    out.append(InterfaceAddress(interfaceIndex: idx, interfaceName: names[idx] ?? "if\(idx)", address: a,
                                                prefixLength: Int(rtnl_addr_get_prefixlen(o))))
                }
            }
        }
        return out
    }

    /// Adds `address/prefix` to interface `index` (`rtnl_addr_add` with `NLM_F_EXCL`), scope global.
    public func addAddress(_ address: IPAddress, prefixLength: Int, interface index: Int32) throws {
        try withAddr(address, prefixLength, index) { a in
            let rc = rtnl_addr_add(sock, a, NLM_F_EXCL)
            if rc < 0 { throw NetlinkError(operation: "add address \(address)/\(prefixLength)", errno: libnlErrno(rc)) }
        }
    }

    /// Removes `address/prefix` from interface `index` (`rtnl_addr_delete`).
    public func deleteAddress(_ address: IPAddress, prefixLength: Int, interface index: Int32) throws {
        try withAddr(address, prefixLength, index) { a in
            let rc = rtnl_addr_delete(sock, a, 0)
            if rc < 0 { throw NetlinkError(operation: "delete address \(address)/\(prefixLength)", errno: libnlErrno(rc)) }
        }
    }

    /// Builds a `struct rtnl_addr` (`rtnl_addr_alloc`, `nl_addr_build`, `rtnl_addr_set_*`).
    private func withAddr(_ address: IPAddress, _ prefix: Int, _ index: Int32, _ body: (OpaquePointer) throws -> Void) throws {
        guard let a = rtnl_addr_alloc() else { throw NetlinkError(operation: "rtnl_addr_alloc", errno: ENOMEM) }
        defer { rtnl_addr_put(a) }
        let fam = address.family == .inet ? AF_INET : AF_INET6
        guard let local = address.bytes.withUnsafeBytes({ nl_addr_build(fam, $0.baseAddress, $0.count) }) else {
            throw NetlinkError(operation: "nl_addr_build", errno: ENOMEM)
        }
        defer { nl_addr_put(local) }
        rtnl_addr_set_ifindex(a, index)
        rtnl_addr_set_family(a, fam)
        nl_addr_set_prefixlen(local, Int32(prefix))
        let rc = rtnl_addr_set_local(a, local)
        if rc < 0 { throw NetlinkError(operation: "rtnl_addr_set_local", errno: libnlErrno(rc)) }
        rtnl_addr_set_prefixlen(a, Int32(prefix))
        try body(a)
    }
}
