#if canImport(Glibc)
import Glibc
#endif

/// Reads a descriptor to its end (`read(2)`, retried on EINTR). Returns nil, with `errno` set, on a read error.
/// /proc files report size 0, so this reads in chunks rather than by size.
public func readToEnd(_ fd: Int32) -> [UInt8]? {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        guard case .success(let n) = chunk.withUnsafeMutableBytes({ Syscall.read(fd, into: $0) }) else { return nil }
        if n == 0 { return out }
        out.append(contentsOf: chunk[..<n])
    }
}

/// Reads a whole file by path (`open(2)` with O_CLOEXEC, then ``readToEnd(_:)``); nil when it cannot be read.
public func readFile(_ path: String, flags: Int32 = 0) -> [UInt8]? {
    guard case .success(let fd) = Syscall.open(path, O_RDONLY | O_CLOEXEC | flags) else { return nil }
    defer { Syscall.close(fd) }
    return readToEnd(fd)
}

/// Writes all of `bytes` to a descriptor (`write(2)`, retried on EINTR and short writes). Returns false on error.
@discardableResult
public func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var off = 0
    while off < bytes.count {
        guard case .success(let n) = Syscall.write(fd, UnsafeRawBufferPointer(rebasing: bytes[off...])) else { return false }
        off += n
    }
    return true
}

/// Writes a string's UTF-8 to standard output in one `write(2)` sequence.
public func writeStandardOutput(_ s: String) {
    var s = s
    _ = s.withUTF8 { writeAll(1, UnsafeRawBufferPointer($0)) }
}

/// Writes a string's UTF-8 to standard error in one `write(2)` sequence (e.g. a progress line).
public func writeStandardError(_ s: String) {
    var s = s
    _ = s.withUTF8 { writeAll(2, UnsafeRawBufferPointer($0)) }
}

extension String {
    /// The string without leading and trailing whitespace and newlines.
    public var trimmingWhitespace: String {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map(index(after:)) ?? start
        return start < end ? String(self[start..<end]) : ""
    }
}
