// With Route.swift, the only files that call libnl. Each function names the libnl call it wraps.
import CNetlink
#if canImport(Glibc)
import Glibc
#endif

/// A generic-netlink socket opened with libnl-genl, with the IPVS family resolved once.
public final class GenericNetlinkSocket: NetlinkTransport {
    private let sock: OpaquePointer
    private let fd: Int32
    /// The resolved IPVS family id.
    public let familyID: UInt16

    /// Opens the socket (`nl_socket_alloc`, `genl_connect`) and resolves `family` (`genl_ctrl_resolve`).
    /// When the family is missing, runs `/sbin/modprobe MODULE` once and retries, as ipvsadm does.
    public init(family: String = IPVSFamily.name, module: String? = "ip_vs") throws {
        guard let s = nl_socket_alloc() else { throw NetlinkError(operation: "nl_socket_alloc", errno: ENOMEM) }
        sock = s
        let rc = genl_connect(s)
        if rc < 0 {
            nl_socket_free(s)
            throw NetlinkError(operation: "open generic netlink socket", errno: libnlErrno(rc))
        }
        fd = nl_socket_get_fd(s)
        // A large receive buffer so that the acks and errors of a 64 KiB batch always fit.
        let size: Int32 = 8 << 20
        if case .failure = Syscall.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size) {
            _ = Syscall.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size)
        }
        _ = Syscall.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, size)
        var id = genl_ctrl_resolve(s, family)
        if id < 0, let m = module {
            _ = runProgram("/sbin/modprobe", ["modprobe", "-q", m])
            id = genl_ctrl_resolve(s, family)
        }
        guard id > 0 else {
            nl_socket_free(s)
            throw NetlinkError(operation: "resolve generic netlink family \(family)", errno: 0,
                               detail: "IPVS is not available in this kernel (is the ip_vs module loaded? `modprobe ip_vs` failed)")
        }
        familyID = UInt16(id)
    }

    deinit { nl_socket_free(sock) }

    /// The netlink port id of the socket (`nl_socket_get_local_port`).
    public var portID: UInt32 { nl_socket_get_local_port(sock) }

    /// `send(2)` on the libnl socket's descriptor.
    public func send(_ bytes: UnsafeRawBufferPointer) throws {
        if case .failure(let e) = Syscall.send(fd, bytes) { throw NetlinkError(operation: "netlink send", errno: e.rawValue) }
    }

    /// `recv(2)` with `MSG_TRUNC` on the libnl socket's descriptor: the datagram's full length.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        switch Syscall.recv(fd, into: buffer, flags: Int32(MSG_TRUNC)) {
        case .success(let n): return n
        case .failure(let e): throw NetlinkError(operation: "netlink receive", errno: e.rawValue)
        }
    }
}

/// Converts a libnl error code (`-NLE_*`) to an errno (`nl_syserr2nlerr` in reverse, for the common ones).
func libnlErrno(_ rc: Int32) -> Int32 {
    // The NLE_* numbers of libnl-3's <netlink/errno.h>.
    switch -rc {
    case 2: return EINTR          // NLE_INTR
    case 3: return EBADF          // NLE_BAD_SOCK
    case 4: return EAGAIN         // NLE_AGAIN
    case 5: return ENOMEM         // NLE_NOMEM (also ENOBUFS)
    case 6: return EEXIST         // NLE_EXIST
    case 7: return EINVAL         // NLE_INVAL
    case 8: return ERANGE         // NLE_RANGE
    case 10: return EOPNOTSUPP    // NLE_OPNOTSUPP
    case 11: return EAFNOSUPPORT  // NLE_AF_NOSUPPORT
    case 12: return ENOENT        // NLE_OBJ_NOTFOUND
    case 19: return EADDRNOTAVAIL // NLE_NOADDR
    case 25: return EBUSY         // NLE_BUSY
    case 27: return EACCES        // NLE_NOACCESS
    case 28: return EPERM         // NLE_PERM
    case 31: return ENODEV        // NLE_NODEV
    default: return EIO
    }
}

/// Enters the named network namespace `/run/netns/NAME` (`setns(2)`), before any socket is opened.
public func enterNetworkNamespace(_ name: String) throws {
    guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
        throw NetlinkError(operation: "network namespace '\(name)'", errno: EINVAL, detail: "not a namespace name")
    }
    let path = "/run/netns/\(name)"
    let nfd: Int32
    switch Syscall.open(path, O_RDONLY | O_CLOEXEC) {
    case .success(let d): nfd = d
    case .failure(let e): throw NetlinkError(operation: "network namespace '\(name)'", errno: e.rawValue, detail: "cannot open \(path)")
    }
    defer { Syscall.close(nfd) }
    if case .failure(let e) = Syscall.setNetworkNamespace(nfd) {
        throw NetlinkError(operation: "enter network namespace '\(name)'", errno: e.rawValue)
    }
}
