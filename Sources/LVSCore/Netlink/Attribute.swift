/// Netlink attribute (`struct nlattr`) encoding and decoding, pure Swift, no I/O.
///
/// Every place that knows about 4-byte alignment, `NLA_F_NESTED` and byte order lives here.

/// `NLA_F_NESTED`: set on the type of an attribute that holds other attributes.
public let nlaFlagNested: UInt16 = 0x8000
/// `NLA_F_NET_BYTEORDER`.
public let nlaFlagNetByteOrder: UInt16 = 0x4000
/// `NLA_TYPE_MASK`: the type bits of `nla_type`.
public let nlaTypeMask: UInt16 = 0x3FFF

/// Rounds `n` up to the netlink alignment of 4 bytes (`NLA_ALIGN` / `NLMSG_ALIGN`).
@inlinable public func netlinkAlign(_ n: Int) -> Int { (n + 3) & ~3 }

/// One raw netlink attribute: its type (without flag bits), whether `NLA_F_NESTED` was set, and its payload.
///
/// This is the "other" case of every typed attribute set, so attributes from newer kernels survive a round trip.
public struct RawAttribute: Hashable, Sendable {
    /// The attribute type, `nla_type & NLA_TYPE_MASK`.
    public var type: UInt16
    /// The flag bits of `nla_type` (`NLA_F_NESTED`, `NLA_F_NET_BYTEORDER`).
    public var flags: UInt16
    /// The payload, without header or padding.
    public var payload: [UInt8]

    /// Creates a raw attribute.
    public init(type: UInt16, flags: UInt16 = 0, payload: [UInt8]) {
        self.type = type; self.flags = flags; self.payload = payload
    }
}

/// Why a byte sequence could not be decoded. Decoding never traps; it throws one of these.
public struct DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being decoded when the bytes ran out or made no sense.
    public var context: String
    /// The problem, in words.
    public var reason: String
    /// Creates a decode error.
    public init(_ context: String, _ reason: String) { self.context = context; self.reason = reason }
    /// `malformed netlink data (CONTEXT): REASON`.
    public var description: String { "malformed netlink data (\(context)): \(reason)" }
}

/// Builds a sequence of netlink attributes (`nla_put_*` in libnl), with padding and nesting handled here.
public struct AttributeEncoder: Sendable {
    /// The encoded bytes so far, always 4-byte aligned.
    public private(set) var bytes: [UInt8]

    /// Creates an empty encoder.
    public init(capacity: Int = 64) { bytes = []; bytes.reserveCapacity(capacity) }

    /// Appends one attribute with the given raw payload (`nla_put`).
    public mutating func put(_ type: UInt16, flags: UInt16 = 0, _ payload: some Collection<UInt8>) {
        let len = 4 + payload.count
        appendHeader(len: len, type: type | flags)
        bytes.append(contentsOf: payload)
        pad()
    }

    /// Appends a `u8` attribute (`nla_put_u8`).
    public mutating func u8(_ type: UInt16, _ v: UInt8) { put(type, CollectionOfOne(v)) }
    /// Appends a host-order (little-endian) `u16` attribute (`nla_put_u16`).
    public mutating func u16(_ type: UInt16, _ v: UInt16) { appendHeader(len: 6, type: type); le(v); pad() }
    /// Appends a network-order `u16` attribute (`nla_put_be16`): ports and tunnel ports.
    public mutating func be16(_ type: UInt16, _ v: UInt16) { appendHeader(len: 6, type: type); le(v.byteSwapped); pad() }
    /// Appends a host-order `u32` attribute (`nla_put_u32`).
    public mutating func u32(_ type: UInt16, _ v: UInt32) { appendHeader(len: 8, type: type); le(v) }
    /// Appends a host-order `u64` attribute (`nla_put_u64`).
    public mutating func u64(_ type: UInt16, _ v: UInt64) { appendHeader(len: 12, type: type); le(v) }
    /// Appends a NUL-terminated string attribute (`nla_put_string`).
    public mutating func string(_ type: UInt16, _ s: String) {
        var u = Array(s.utf8); u.append(0); put(type, u)
    }
    /// Appends a nested attribute (`nla_nest_start`/`nla_nest_end`), with `NLA_F_NESTED` set as libnl 3.7 does
    /// (`flagged: false` writes it the way the kernel writes replies, without the flag).
    public mutating func nested(_ type: UInt16, flagged: Bool = true, _ body: (inout AttributeEncoder) -> Void) {
        let start = bytes.count
        appendHeader(len: 4, type: flagged ? type | nlaFlagNested : type)
        body(&self)
        let len = bytes.count - start
        bytes[start] = UInt8(truncatingIfNeeded: len)
        bytes[start + 1] = UInt8(truncatingIfNeeded: len >> 8)
    }
    /// Appends a 16-byte address field (`union nf_inet_addr`): the 4 or 16 address bytes, zero-padded to 16.
    public mutating func addr16(_ type: UInt16, _ address: [UInt8]) {
        appendHeader(len: 20, type: type)
        bytes.append(contentsOf: address)
        for _ in address.count..<16 { bytes.append(0) }
    }
    /// Appends an already decoded attribute unchanged.
    public mutating func raw(_ a: RawAttribute) { put(a.type, flags: a.flags, a.payload) }

    @inline(__always) mutating func appendHeader(len: Int, type: UInt16) {
        le(UInt16(truncatingIfNeeded: len)); le(type)
    }
    @inline(__always) mutating func le<T: FixedWidthInteger>(_ v: T) {
        // byte by byte: append(contentsOf:) of a raw buffer takes the slow generic path
        for i in 0..<MemoryLayout<T>.size { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
    @inline(__always) mutating func pad() {
        while bytes.count & 3 != 0 { bytes.append(0) }
    }
}

/// Iterates over a sequence of netlink attributes (`nla_for_each_attr`), checking every length.
public struct AttributeDecoder: Sequence, IteratorProtocol {
    let bytes: ArraySlice<UInt8>
    var offset: Int
    /// The first error met; iteration stops there. Check it once after the loop, or use ``decodeAll(_:context:)``.
    public private(set) var error: DecodeError?
    let context: String

    /// Creates a decoder over `bytes`, which must hold whole attributes.
    public init(_ bytes: ArraySlice<UInt8>, context: String = "attributes") {
        self.bytes = bytes; self.offset = bytes.startIndex; self.context = context
    }

    /// The next attribute, or nil at the end or on error.
    public mutating func next() -> RawAttribute? {
        guard error == nil, offset < bytes.endIndex else { return nil }
        let remaining = bytes.endIndex - offset
        guard remaining >= 4 else {
            error = DecodeError(context, "\(remaining) trailing bytes, too short for an attribute header"); return nil
        }
        let len = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
        let rawType = UInt16(bytes[offset + 2]) | UInt16(bytes[offset + 3]) << 8
        guard len >= 4 else { error = DecodeError(context, "attribute length \(len) is below the header size"); return nil }
        guard len <= remaining else {
            error = DecodeError(context, "attribute type \(rawType & nlaTypeMask) claims \(len) bytes, only \(remaining) left"); return nil
        }
        let payload = Array(bytes[(offset + 4)..<(offset + len)])
        offset += Swift.min(netlinkAlign(len), remaining)
        return RawAttribute(type: rawType & nlaTypeMask, flags: rawType & ~nlaTypeMask, payload: payload)
    }

    /// Decodes every attribute in `bytes`, throwing the first error.
    public static func decodeAll(_ bytes: ArraySlice<UInt8>, context: String = "attributes") throws -> [RawAttribute] {
        var d = AttributeDecoder(bytes, context: context)
        var out: [RawAttribute] = []
        while let a = d.next() { out.append(a) }
        if let e = d.error { throw e }
        return out
    }
}

extension RawAttribute {
    /// True when `NLA_F_NESTED` was set.
    public var isNestedFlagged: Bool { flags & nlaFlagNested != 0 }
    /// The payload as a host-order `u8`, or a thrown error if the length is wrong.
    public func u8(_ ctx: String) throws -> UInt8 { try fixed(ctx, 1) }
    /// The payload as a host-order `u16`.
    public func u16(_ ctx: String) throws -> UInt16 { try fixed(ctx, 2) }
    /// The payload as a network-order `u16`, returned in host order.
    public func be16(_ ctx: String) throws -> UInt16 { (try fixed(ctx, 2) as UInt16).byteSwapped }
    /// The payload as a host-order `u32`.
    public func u32(_ ctx: String) throws -> UInt32 { try fixed(ctx, 4) }
    /// The payload as a host-order `u64`.
    public func u64(_ ctx: String) throws -> UInt64 { try fixed(ctx, 8) }
    /// The payload as a NUL-terminated string (the NUL and anything after it dropped).
    public func string(_ ctx: String) throws -> String {
        let end = payload.firstIndex(of: 0) ?? payload.endIndex
        guard let s = String(validating: payload[..<end], as: UTF8.self) else {
            throw DecodeError(ctx, "string attribute is not valid UTF-8")
        }
        return s
    }
    /// The nested attributes inside this one.
    public func nested(_ ctx: String) throws -> [RawAttribute] {
        try AttributeDecoder.decodeAll(payload[...], context: ctx)
    }

    func fixed<T: FixedWidthInteger>(_ ctx: String, _ size: Int) throws -> T {
        guard payload.count == size else {
            throw DecodeError(ctx, "attribute type \(type): length \(payload.count), expected \(size)")
        }
        var v: T = 0
        for i in 0..<size { v |= T(payload[i]) << (8 * i) }
        return v  // host order is little-endian on every Linux target lvsctl supports

    }
}
