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
///
/// The bytes are written into zero-filled storage through raw stores, one per field; appending them to an array
/// one at a time (each append checking capacity and uniqueness) cost ~3,000 instructions per restore request.
public struct AttributeEncoder: Sendable {
    /// Zero-filled beyond `used`: `used` only grows, and only nested headers behind it are patched.
    private var storage: [UInt8]
    private var used = 0

    /// The encoded bytes so far, always 4-byte aligned.
    public var bytes: [UInt8] { storage.count == used ? storage : Array(storage[..<used]) }
    /// How many bytes are encoded so far.
    public var count: Int { used }

    /// Creates an empty encoder with room for `capacity` bytes (it grows as needed).
    public init(capacity: Int = 64) {
        // (Array(repeating:count:) stores the zeros one at a time; this is one memset.)
        storage = [UInt8](unsafeUninitializedCapacity: max(capacity, 16)) { b, n in
            b.baseAddress!.initialize(repeating: 0, count: b.count); n = b.count
        }
    }

    /// Appends `size` bytes written by `body` at fixed offsets into zeroed memory: for a whole group of attributes
    /// whose layout is known in advance (the destination nest of a restore), written with one uniqueness check.
    public mutating func fixed(_ size: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) {
        reserve(size)
        let at = used
        storage.withUnsafeMutableBytes { body(UnsafeMutableRawBufferPointer(rebasing: $0[at..<(at + size)])) }
        used += size
    }

    /// Appends one attribute with the given raw payload (`nla_put`).
    public mutating func put(_ type: UInt16, flags: UInt16 = 0, _ payload: some Collection<UInt8>) {
        let len = 4 + payload.count
        appendHeader(len: len, type: type | flags)
        if payload.withContiguousStorageIfAvailable({ appendRaw(UnsafeRawBufferPointer($0)) }) == nil {
            reserve(payload.count)
            for b in payload { storage[used] = b; used += 1 }
        }
        pad()
    }

    /// Appends a `u8` attribute (`nla_put_u8`).
    public mutating func u8(_ type: UInt16, _ v: UInt8) { appendHeader(len: 5, type: type); le(v); pad() }
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
        var s = s
        s.withUTF8 { u in
            appendHeader(len: 4 + u.count + 1, type: type)
            appendRaw(UnsafeRawBufferPointer(u))
        }
        skip(1)  // the NUL (storage is zero)
        pad()
    }
    /// Appends a nested attribute (`nla_nest_start`/`nla_nest_end`), with `NLA_F_NESTED` set as libnl 3.7 does
    /// (`flagged: false` writes it the way the kernel writes replies, without the flag).
    public mutating func nested(_ type: UInt16, flagged: Bool = true, _ body: (inout AttributeEncoder) -> Void) {
        let start = used
        appendHeader(len: 4, type: flagged ? type | nlaFlagNested : type)
        body(&self)
        let len = used - start
        storage[start] = UInt8(truncatingIfNeeded: len)
        storage[start + 1] = UInt8(truncatingIfNeeded: len >> 8)
    }
    /// Appends a 16-byte address field (`union nf_inet_addr`): the 4 or 16 address bytes, zero-padded to 16.
    public mutating func addr16(_ type: UInt16, _ address: [UInt8]) {
        appendHeader(len: 20, type: type)
        let n = min(address.count, 16)
        address.withUnsafeBytes { appendRaw(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        skip(16 - n)
    }
    /// Appends bytes that are already whole, aligned attributes (an encoding made earlier).
    public mutating func append(_ encoded: [UInt8]) { encoded.withUnsafeBytes { appendRaw($0) } }
    /// Appends an already decoded attribute unchanged.
    public mutating func raw(_ a: RawAttribute) { put(a.type, flags: a.flags, a.payload) }

    @inline(__always) mutating func appendHeader(len: Int, type: UInt16) {
        reserve(4)
        storage.withUnsafeMutableBytes {
            $0.storeBytes(of: UInt16(truncatingIfNeeded: len).littleEndian, toByteOffset: used, as: UInt16.self)
            $0.storeBytes(of: type.littleEndian, toByteOffset: used + 2, as: UInt16.self)
        }
        used += 4
    }
    @inline(__always) mutating func le<T: FixedWidthInteger>(_ v: T) {
        let n = MemoryLayout<T>.size
        reserve(n)
        storage.withUnsafeMutableBytes { $0.storeBytes(of: v.littleEndian, toByteOffset: used, as: T.self) }
        used += n
    }
    @inline(__always) mutating func pad() { skip((4 - used & 3) & 3) }

    /// Room for `n` more bytes; the new storage is zero.
    @inline(__always) private mutating func reserve(_ n: Int) {
        if used + n > storage.count { storage.append(contentsOf: repeatElement(0, count: max(storage.count, n))) }
    }
    /// `n` zero bytes.
    @inline(__always) private mutating func skip(_ n: Int) { reserve(n); used += n }
    private mutating func appendRaw(_ p: UnsafeRawBufferPointer) {
        guard p.count > 0 else { return }
        reserve(p.count)
        storage.withUnsafeMutableBytes { ($0.baseAddress! + used).copyMemory(from: p.baseAddress!, byteCount: p.count) }
        used += p.count
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
