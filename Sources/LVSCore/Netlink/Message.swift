/// Netlink message framing (`struct nlmsghdr`, `struct genlmsghdr`, `struct nlmsgerr`), pure Swift.

/// `NLM_F_*` request flags.
public struct NetlinkFlags: OptionSet, Hashable, Sendable {
    /// The `NLM_F_*` bits.
    public let rawValue: UInt16
    /// Wraps raw bits.
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// `NLM_F_REQUEST`.
    public static let request = NetlinkFlags(rawValue: 0x1)
    /// `NLM_F_MULTI`.
    public static let multi = NetlinkFlags(rawValue: 0x2)
    /// `NLM_F_ACK`.
    public static let ack = NetlinkFlags(rawValue: 0x4)
    /// `NLM_F_DUMP_INTR`: the dump was interrupted by a change; its result may be inconsistent.
    public static let dumpInterrupted = NetlinkFlags(rawValue: 0x10)
    /// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`).
    public static let dump = NetlinkFlags(rawValue: 0x300)
}

/// `NLMSG_ERROR`.
public let nlmsgError: UInt16 = 2
/// `NLMSG_DONE`.
public let nlmsgDone: UInt16 = 3
/// `GENL_ID_CTRL`: the generic-netlink controller family.
public let genlIDCtrl: UInt16 = 0x10

/// One decoded netlink message: the header fields and the payload after `struct nlmsghdr`.
public struct NetlinkMessage: Hashable, Sendable {
    /// `nlmsg_type`: the family id, or `NLMSG_ERROR` / `NLMSG_DONE`.
    public var type: UInt16
    /// `nlmsg_flags`.
    public var flags: NetlinkFlags
    /// `nlmsg_seq`.
    public var seq: UInt32
    /// `nlmsg_pid`.
    public var pid: UInt32
    /// Everything after the 16-byte header, without trailing alignment.
    public var payload: ArraySlice<UInt8>

    /// For `NLMSG_ERROR`, the (negative) errno it carries: 0 is an ack.
    public func errorCode() throws -> Int32 {
        guard payload.count >= 4 else { throw DecodeError("nlmsgerr", "payload of \(payload.count) bytes") }
        let i = payload.startIndex
        let v = UInt32(payload[i]) | UInt32(payload[i + 1]) << 8 | UInt32(payload[i + 2]) << 16 | UInt32(payload[i + 3]) << 24
        return Int32(bitPattern: v)
    }

    /// For a generic-netlink message: the command byte and the attributes after `struct genlmsghdr`.
    public func genl() throws -> (cmd: UInt8, version: UInt8, attributes: ArraySlice<UInt8>) {
        guard payload.count >= 4 else { throw DecodeError("genlmsghdr", "payload of \(payload.count) bytes") }
        let i = payload.startIndex
        return (payload[i], payload[i + 1], payload[(i + 4)...])
    }

    /// Splits a receive buffer into messages (`NLMSG_OK` / `NLMSG_NEXT`), checking every length.
    public static func split(_ buf: ArraySlice<UInt8>) throws -> [NetlinkMessage] {
        var out: [NetlinkMessage] = []
        var off = buf.startIndex
        while off < buf.endIndex {
            let rem = buf.endIndex - off
            guard rem >= 16 else { throw DecodeError("nlmsghdr", "\(rem) trailing bytes, too short for a header") }
            let len = Int(readLE32(buf, off))
            guard len >= 16, len <= rem else { throw DecodeError("nlmsghdr", "message length \(len) with \(rem) bytes left") }
            let type = UInt16(buf[off + 4]) | UInt16(buf[off + 5]) << 8
            let flags = UInt16(buf[off + 6]) | UInt16(buf[off + 7]) << 8
            out.append(NetlinkMessage(type: type, flags: NetlinkFlags(rawValue: flags), seq: readLE32(buf, off + 8),
                                      pid: readLE32(buf, off + 12), payload: buf[(off + 16)..<(off + len)]))
            off += min(netlinkAlign(len), rem)
        }
        return out
    }
}

@inline(__always) func readLE32(_ b: ArraySlice<UInt8>, _ i: Int) -> UInt32 {
    UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
}

/// Appends whole generic-netlink messages to one buffer, so a batch goes out in one `sendmsg`.
public struct MessageWriter: Sendable {
    /// The encoded messages.
    public private(set) var bytes: [UInt8] = []
    /// The end offset of each message, in order.
    public private(set) var ends: [Int] = []

    /// Creates an empty writer with room for `capacity` bytes.
    public init(capacity: Int = 0) { if capacity > 0 { bytes.reserveCapacity(capacity) } }

    /// Appends one generic-netlink request: `nlmsghdr`, `genlmsghdr` (`cmd`, `version`) and the attributes.
    public mutating func append(family: UInt16, flags: NetlinkFlags, seq: UInt32, cmd: UInt8, version: UInt8,
                                attributes: [UInt8], pid: UInt32 = 0) {
        let len = 16 + 4 + attributes.count
        put32(UInt32(len)); put16(family); put16(flags.rawValue); put32(seq); put32(pid)
        bytes.append(cmd); bytes.append(version); bytes.append(0); bytes.append(0)
        bytes.append(contentsOf: attributes)
        while bytes.count & 3 != 0 { bytes.append(0) }
        ends.append(bytes.count)
    }

    /// Sets `NLM_F_ACK` on the message that starts at `offset`.
    public mutating func addAck(atMessageStarting offset: Int) {
        bytes[offset + 6] |= UInt8(NetlinkFlags.ack.rawValue)
    }

    mutating func put16(_ v: UInt16) { bytes.append(UInt8(v & 0xff)); bytes.append(UInt8(v >> 8)) }
    mutating func put32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8((v >> (8 * UInt32(i))) & 0xff)) } }
}
