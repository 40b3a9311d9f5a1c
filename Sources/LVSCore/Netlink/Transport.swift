/// The transport under the IPVS client: bytes out, bytes in, nothing more, so the layers above can be
/// exercised with a fake kernel in unit tests.
public protocol NetlinkTransport: AnyObject {
    /// The resolved generic-netlink family id of IPVS.
    var familyID: UInt16 { get }
    /// Sends one buffer of whole netlink messages in one `sendmsg`.
    func send(_ bytes: UnsafeRawBufferPointer) throws
    /// Receives one datagram into `buffer`, returning its full length (`MSG_TRUNC`): a length above
    /// `buffer.count` means the datagram did not fit and was cut.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A transport-level failure: opening the socket, resolving the family, or a send/receive error.
public struct NetlinkError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being done.
    public var operation: String
    /// The errno (positive), or 0 when none applies.
    public var errno: Int32
    /// Extra words for the admin.
    public var detail: String

    /// Creates a transport error.
    public init(operation: String, errno: Int32, detail: String = "") {
        self.operation = operation; self.errno = errno; self.detail = detail
    }

    /// `operation: reason`; EPERM/EACCES say that CAP_NET_ADMIN (root) is needed.
    public var description: String {
        if errno == 1 || errno == 13 { return "\(operation): needs CAP_NET_ADMIN (run as root)" }
        var s = "\(operation)"
        if errno != 0 { s += ": \(errnoText(errno))" }
        if !detail.isEmpty { s += ": \(detail)" }
        return s
    }
}
