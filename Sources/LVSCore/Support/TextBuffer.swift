#if canImport(Glibc)
import Glibc
#endif

/// A growing byte buffer for the large text outputs (`list`, `save` of tens of thousands of lines): numbers,
/// addresses and padded columns are written as bytes, without a `String` per field. All text is ASCII or UTF-8;
/// column widths count bytes, which equals characters for everything the kernel reports (ASCII names).
public struct TextBuffer {
    /// The text so far.
    public private(set) var bytes: [UInt8] = []

    /// Creates an empty buffer with room for `capacity` bytes.
    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// The number of bytes written.
    @inline(__always) public var count: Int { bytes.count }

    /// Appends a literal.
    @inline(__always) public mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends a string's UTF-8.
    @inline(__always) public mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Appends another buffer's text.
    @inline(__always) public mutating func append(contentsOf other: TextBuffer) { bytes.append(contentsOf: other.bytes) }

    /// Appends one byte.
    @inline(__always) public mutating func append(byte: UInt8) { bytes.append(byte) }

    /// Appends `n` spaces.
    @inline(__always) public mutating func spaces(_ n: Int) {
        var i = 0
        while i < n { bytes.append(32); i += 1 }
    }

    /// Left-justifies what was written since `start` in `width` columns (`%-Ns`).
    @inline(__always) public mutating func pad(from start: Int, to width: Int) { spaces(width - (bytes.count - start)) }

    /// Cuts what was written since `start` to at most `limit` bytes (`%.Ns`).
    @inline(__always) public mutating func truncate(from start: Int, to limit: Int) {
        if bytes.count - start > limit { bytes.removeLast(bytes.count - start - limit) }
    }

    /// The number of decimal digits of `v`.
    @inline(__always) static func digits(_ v: UInt64) -> Int {
        var n = 1, x = v
        while x >= 10 { x /= 10; n += 1 }
        return n
    }

    /// Appends `v` in decimal.
    public mutating func decimal(_ v: UInt64) {
        if v < 10 { bytes.append(48 + UInt8(v)); return }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for the 20 digits of UInt64.max
        withUnsafeMutableBytes(of: &tmp) { t in
            var i = t.count, x = v
            repeat { i -= 1; t[i] = 48 + UInt8(x % 10); x /= 10 } while x > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: t[i...]))
        }
    }

    /// Appends `v` in decimal, with a minus sign when negative.
    public mutating func decimal(_ v: Int64) {
        if v < 0 { bytes.append(45); decimal(v.magnitude) } else { decimal(UInt64(v)) }
    }

    /// Appends `v` right-justified in `width` columns (`%Nu`).
    public mutating func decimal(_ v: UInt64, right width: Int) {
        spaces(width - TextBuffer.digits(v))
        decimal(v)
    }

    /// Appends `v` left-justified in `width` columns (`%-Nd`).
    public mutating func decimal(_ v: Int64, left width: Int) {
        let start = bytes.count
        decimal(v)
        pad(from: start, to: width)
    }

    /// Appends an address: IPv4 dotted quad directly, IPv6 through `inet_ntop`.
    public mutating func address(_ a: IPAddress) {
        if a.family == .inet {
            let b = a.bytes
            decimal(UInt64(b[0])); bytes.append(46); decimal(UInt64(b[1])); bytes.append(46)
            decimal(UInt64(b[2])); bytes.append(46); decimal(UInt64(b[3]))
            return
        }
        var buf = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &buf) { out in
            let p = out.baseAddress!.assumingMemoryBound(to: CChar.self)
            let ok = a.bytes.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, p, socklen_t(out.count)) }
            if ok == nil { bytes.append(63); return }
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: out.baseAddress, count: strlen(p)))
        }
    }

    /// Appends `ADDR:PORT`, IPv6 in brackets (``Endpoint/description``).
    public mutating func endpoint(_ e: Endpoint) {
        if e.address.family == .inet6 { bytes.append(91); address(e.address); bytes.append(93) } else { address(e.address) }
        bytes.append(58)
        decimal(UInt64(e.port))
    }

    /// The text as a `String`.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Writes the text to a descriptor; false on a write error.
    @discardableResult
    public func write(to fd: Int32) -> Bool { bytes.withUnsafeBytes { writeAll(fd, $0) } }
}
