#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import LVSCore

/// Where each service and real server of a parsed file came from, for `FILE:LINE` errors.
public struct SourceMap {
    public var file = "-"
    public var current = 0
    public var services: [ServiceKey: Int] = [:]
    /// The real servers in file order (searched only when an error needs a line number).
    public var dests: [(key: DestKey, line: Int)] = []
    public var other: [String: Int] = [:]
    /// Where each service sits in the config being built (a fast lookup for `rs add`).
    public var entryIndex: [ServiceKey: Int] = [:]
    /// The `check` and `sorry` lines (for `lvsctl monitor`; restore and apply leave them alone).
    public var checks: [CheckLine] = []
    public var sorry: [SorryLine] = []
    /// The last service specifier parsed and its key: the `rs add` lines after a `vs add` repeat it.
    var lastSpec = ServiceSpec()
    var lastKey: ServiceKey?
    /// The service the last `rs add` line joined and its index in the config (the next lines usually repeat it).
    var lastEntry: (key: ServiceKey, index: Int)?
    /// ``QuickLine``'s last service specifier (its bytes and protocol) and key.
    var quickSpec: [UInt8] = []
    var quickProto = IPProtocol.tcp
    var quickKey: ServiceKey?
    public init(file: String = "-") { self.file = file }
    var here: String { "\(file):\(current)" }

    /// The marks of the fwmark services and bundles read so far, kept up to date incrementally (a file only ever
    /// appends to the config while it is read), so that 1,000 bundle lines do not rebuild the set 1,000 times.
    var marks = Set<UInt32>()
    var marksSeen = (entries: 0, bundles: 0)
    var bundleNames = Set<String>()
    var namesSeen = 0
    /// True when a bundle called `name` is in `config` (incrementally indexed, as `usedMarks`).
    mutating func hasBundle(_ name: String, _ config: ClusterConfig) -> Bool {
        if namesSeen > config.bundles.count { bundleNames = []; namesSeen = 0 }
        for b in config.bundles[namesSeen...] { bundleNames.insert(b.name) }
        namesSeen = config.bundles.count
        return bundleNames.contains(name)
    }
    mutating func usedMarks(_ config: ClusterConfig) -> Set<UInt32> {
        if marksSeen.entries > config.entries.count || marksSeen.bundles > config.bundles.count {
            marks = []; marksSeen = (0, 0)
        }
        for e in config.entries[marksSeen.entries...] { if case .fwmark(let m, _) = e.service.key { marks.insert(m) } }
        for b in config.bundles[marksSeen.bundles...] { marks.insert(b.mark) }
        marksSeen = (config.entries.count, config.bundles.count)
        return marks
    }

    public func destLine(_ k: DestKey) -> Int? { dests.last(where: { $0.key == k })?.line }

    /// The `FILE:LINE` of the file's `sysctl set` line for knob `name`, if any.
    public func line(ofSysctl name: String) -> String? { other["sysctl \(name)"].map { "\(file):\($0)" } }

    /// The `FILE:LINE` of request `r`, if it came from the file.
    public func line(of r: IPVSRequest) -> String? {
        let n: Int?
        switch r {
        case .addService(let s), .editService(let s): n = services[s.key]
        case .deleteService(let k): n = services[k]
        case .addDest(let k, let d), .editDest(let k, let d): n = destLine(DestKey(service: k, endpoint: d.endpoint))
        case .deleteDest(let k, let e): n = destLine(DestKey(service: k, endpoint: e))
        case .startDaemon(let d): n = other["daemon \(d.state)"]
        case .setTimeouts: n = other["timeout"]
        default: n = nil
        }
        return n.map { "\(file):\($0)" }
    }
}

/// A real server of a service, as a dictionary key.
public struct DestKey: Hashable {
    public var service: ServiceKey
    public var endpoint: Endpoint
    public init(service: ServiceKey, endpoint: Endpoint) { self.service = service; self.endpoint = endpoint }
}

/// Reads and parses configuration files in the lvsctl format or unmodified `ipvsadm-save` output.
public enum ConfigFile {
    /// Reads `path` (`-` or nil: standard input). Directories, unreadable files and binary data are usage errors.
    /// Reads a file to its end with read(2), so that pipes, /dev/stdin and `<(...)` work like regular files.
    public static func readWholeFile(_ name: String) throws -> Data {
        let fd: Int32
        switch Syscall.open(name, O_RDONLY | O_CLOEXEC) {
        case .success(let f): fd = f
        case .failure(.noSuchFileOrDirectory): throw UsageError("\(shown(name)): no such file")
        case .failure(.permissionDenied): throw UsageError("\(shown(name)): cannot read (permission denied)")
        case .failure(let e): throw UsageError("\(shown(name)): cannot open (\(e))")
        }
        defer { Syscall.close(fd) }
        let type = ((try? Syscall.fstat(fd).get())?.st_mode ?? 0) & S_IFMT
        if type == S_IFDIR { throw UsageError("\(shown(name)): is a directory, not a configuration file") }
        // A device (/dev/zero, a tty) is not a file to read to its end; pipes and sockets are.
        if type != S_IFREG && type != S_IFIFO && type != S_IFSOCK { throw UsageError("\(shown(name)): not a regular file") }
        guard let bytes = readToEnd(fd) else { throw UsageError("\(shown(name)): cannot read (\(Errno.current))") }
        return Data(bytes)
    }

    public static func read(_ path: String?) throws -> (name: String, text: String) {
        let name = path ?? "-"
        let data: Data
        if name == "-" {
            guard let d = readToEnd(0) else { throw UsageError("-: cannot read standard input (\(Errno.current))") }
            data = Data(d)
        } else {
            data = try readWholeFile(name)
        }
        // memchr, not Data.contains: that walks the bytes through an iterator, ~10 instructions... per byte on a 2 MB file.
        let hasNUL = data.withUnsafeBytes { $0.count > 0 && memchr($0.baseAddress!, 0, $0.count) != nil }
        if hasNUL { throw UsageError("\(name): binary data (NUL byte), not a configuration file") }
        guard let text = String(data: data, encoding: .utf8) else { throw UsageError("\(name): not UTF-8 text") }
        return (name, text)
    }

    /// Splits a line into words: whitespace separated, `'...'` and `"..."` quoted, `#` starts a comment.
    public static func tokenize(_ line: Substring) throws -> [String] {
        if let words = tokenizePlainASCII(line) { return words }
        var out: [String] = []
        var cur = ""
        var inWord = false
        var quote: Character?
        for ch in line {
            if let q = quote {
                if ch == q { quote = nil } else { cur.append(ch) }
                continue
            }
            if ch == "'" || ch == "\"" { quote = ch; inWord = true; continue }
            if ch == "#" && !inWord { break }
            if ch == " " || ch == "\t" {
                if inWord { out.append(cur); cur = ""; inWord = false }
                continue
            }
            if ch.asciiValue.map({ $0 < 32 }) ?? false { throw UsageError("control character \(shown(String(ch)))") }
            cur.append(ch); inWord = true
        }
        if quote != nil { throw UsageError("unterminated quote") }
        if inWord { out.append(cur) }
        return out
    }

    /// ``tokenize(_:)`` for the common line: printable ASCII (and tabs) without quotes. Returns nil for anything
    /// else (quotes, control characters, non-ASCII), which the general tokenizer handles, errors included.
    static func tokenizePlainASCII(_ line: Substring) -> [String]? {
        let r = line.utf8.withContiguousStorageIfAvailable { b -> [String]? in
            var out: [String] = []
            out.reserveCapacity(16)
            var start = -1
            for i in 0..<b.count {
                let c = b[i]
                if c == 32 || c == 9 {
                    if start >= 0 { out.append(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)); start = -1 }
                    continue
                }
                if c < 32 || c >= 127 || c == 34 || c == 39 { return nil }  // control, non-ASCII, " or '
                if start < 0 {
                    if c == 35 { break }  // '#' at the start of a word: a comment
                    start = i
                }
            }
            if start >= 0 { out.append(String(decoding: UnsafeBufferPointer(rebasing: b[start..<b.count]), as: UTF8.self)) }
            return out
        }
        return r ?? nil
    }

    /// Parses a whole file onto `base`. Every error names `FILE:LINE`; nothing is applied here.
    public static func parse(name: String, text: String, base: ClusterConfig) throws -> (ClusterConfig, SourceMap, [DRFileLine]) {
        var config = base
        var src = SourceMap(file: name)
        var dr: [DRFileLine] = []
        var lineNo = 0
        // "\r\n" is one Character in Swift: normalise CRLF files first so lines split as they should.
        // (Foundation's contains() is slow on big texts: look for a CR byte first.)
        var text = text
        if text.withUTF8({ $0.count > 0 && memchr($0.baseAddress!, 13, $0.count) != nil }) && text.contains("\r\n") {
            text = text.replacing("\r\n", with: "\n")
        }
        // Splitting the UTF-8 bytes at LF gives the same lines as splitting the characters (LF always ends a
        // grapheme once CRLF is gone), much faster: find the byte ranges with memchr, then slice.
        let ranges: [Range<Int>] = text.withUTF8 { b in
            var out: [Range<Int>] = []
            guard let base = b.baseAddress else { return [0..<0] }
            var start = 0
            while start <= b.count {
                let p = start < b.count ? memchr(base + start, 10, b.count - start) : nil
                let end = p.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? b.count
                out.append(start..<end)
                start = end + 1
            }
            return out
        }
        let utf8 = text.utf8
        let bytes = Array(utf8)
        // A big file is mostly services with a few real servers each: size the lookups once instead of regrowing
        // (and rehashing) them a dozen times.
        src.services.reserveCapacity(ranges.count / 5)
        src.entryIndex.reserveCapacity(ranges.count / 5)
        src.dests.reserveCapacity(ranges.count)
        config.entries.reserveCapacity(ranges.count / 5)
        for r in ranges {
            lineNo += 1
            src.current = lineNo
            // The grammar's quickest path first: the vs/rs add lines of save and ipvsadm-save, straight from the bytes.
            if bytes.withUnsafeBufferPointer({ QuickLine.add(UnsafeBufferPointer(rebasing: $0[r]), to: &config, source: &src) }) {
                continue
            }
            let lo = utf8.index(utf8.startIndex, offsetBy: r.lowerBound), hi = utf8.index(lo, offsetBy: r.count)
            var line = Substring(utf8[lo..<hi])
            if r.count > 0 && utf8[utf8.index(before: hi)] == 13 { line = line.dropLast() }
            do {
                let words = try tokenize(line)
                if words.isEmpty { continue }
                try add(try Grammar.parse(words), to: &config, source: &src, dr: &dr)
            } catch let e as UsageError {
                throw UsageError("\(name):\(lineNo): \(e.description)")
            }
        }
        return (config, src, dr)
    }

    /// Adds one parsed line to `config` (and its `dr setup` VIPs to `dr`), throwing a ``UsageError`` when it conflicts
    /// with the lines above it.
    public static func add(_ line: Line, to config: inout ClusterConfig, source: inout SourceMap, dr: inout [DRFileLine]) throws {
        switch line {
        case .firewall(let k):
            if let prev = source.other["firewall"] { throw UsageError("firewall is already set at line \(prev)") }
            source.other["firewall"] = source.current
            config.firewall = k
        case .service(let spec, let settings):
            var s = VirtualService(key: try source.key(spec))
            try settings.apply(to: &s, isNew: true)
            if source.entryIndex[s.key] != nil { throw UsageError("service \(s.key) is defined twice") }
            config.entries.append(ServiceEntry(service: s, servers: []))
            source.services[s.key] = source.current
            source.entryIndex[s.key] = config.entries.count - 1
        case .server(let spec, let bundle, let server):
            let key = try serviceKey(spec, bundle: bundle, config, &source)
            let d = try server.model(for: key)
            let cached = source.lastEntry.flatMap { $0.key == key && $0.index < config.entries.count ? $0.index : nil }
            guard let i = cached ?? source.entryIndex[key] ?? config.index(of: key) else { throw UsageError("service \(key) is not defined above this line") }
            // (every real server recorded in source.dests is also in config.entries[i].servers, so this one check covers both)
            if config.entries[i].servers.contains(where: { $0.endpoint == d.endpoint }) {
                throw UsageError("real server \(d.endpoint) of \(key) is defined twice")
            }
            config.entries[i].servers.append(d)
            source.lastEntry = (key, i)
            source.dests.append((DestKey(service: key, endpoint: d.endpoint), source.current))
        case .bundle(let spec):
            var (b, s) = try spec.model()
            if source.hasBundle(b.name, config) { throw UsageError("bundle \(shown(b.name)) is defined twice") }
            let used = source.usedMarks(config)
            if b.mark == 0 { b.mark = Validate.lowestFree(used) }
            else if used.contains(b.mark) { throw UsageError("mark \(b.mark) is already used by another bundle or fwmark service") }
            s.key = b.serviceKey
            config.bundles.append(b)
            config.entries.append(ServiceEntry(service: s, servers: []))
            source.services[s.key] = source.current
            source.entryIndex[s.key] = config.entries.count - 1
        case .timeouts(let spec):
            let t = try spec.model()
            let old = config.timeouts ?? Timeouts(tcp: 0, tcpFin: 0, udp: 0)
            config.timeouts = Timeouts(tcp: t.tcp == 0 ? old.tcp : t.tcp, tcpFin: t.tcpFin == 0 ? old.tcpFin : t.tcpFin,
                                       udp: t.udp == 0 ? old.udp : t.udp)
            source.other["timeout"] = source.current
        case .daemon(let spec):
            let d = try spec.model()
            if config.daemons.contains(where: { $0.state == d.state }) { throw UsageError("\(d.state) sync daemon is defined twice") }
            config.daemons.append(d)
            source.other["daemon \(d.state)"] = source.current
        case .check(let spec, let bundle, let check):
            let key = try serviceKey(spec, bundle: bundle, config, &source)
            guard let i = config.index(of: key) else { throw UsageError("service \(key) is not defined above this line") }
            guard let d = try ServerSpec(realServer: check.realServer).match(in: config.entries[i].servers, of: key) else {
                throw UsageError("real server \(shown(check.realServer)) of \(key) is not defined above this line")
            }
            source.checks.append(CheckLine(line: source.current, service: key, server: d.endpoint,
                                           check: try check.checked(for: key, endpoint: d.endpoint)))
        case .sorry(let spec, let bundle, let sorry):
            let key = try serviceKey(spec, bundle: bundle, config, &source)
            guard let i = config.index(of: key) else { throw UsageError("service \(key) is not defined above this line") }
            let d = try sorry.server.model(for: key)
            if config.entries[i].servers.contains(where: { $0.endpoint == d.endpoint }) {
                throw UsageError("sorry server \(d.endpoint) is a real server of \(key); give a server outside the service")
            }
            if let prev = source.sorry.first(where: { $0.service == key }) {
                throw UsageError("\(key) already has a sorry server at line \(prev.line)")
            }
            source.sorry.append(SorryLine(line: source.current, service: key, server: d))
        case .sysctl(let spec):
            for s in try spec.model() {
                if let prev = source.other["sysctl \(s.name)"] { throw UsageError("sysctl \(s.name) is already set at line \(prev)") }
                source.other["sysctl \(s.name)"] = source.current
                config.sysctls[s.name] = s.value
            }
        case .drSetup(let spec):
            for r in try spec.requests() {
                if let prev = dr.first(where: { $0.request.vip == r.vip }) {
                    throw UsageError("VIP \(r.vip) is already set up at line \(prev.line)")
                }
                dr.append(DRFileLine(file: source.file, line: source.current, request: r))
            }
        }
    }
}

extension ConfigFile {
    /// The service of an `rs add`, `check` or `sorry` line: its specifier, or the bundle defined above.
    static func serviceKey(_ spec: ServiceSpec, bundle: String?, _ config: ClusterConfig, _ source: inout SourceMap) throws -> ServiceKey {
        guard let b = bundle else { return try source.key(spec) }
        if spec.given { throw UsageError("give either a service or --bundle, not both") }
        guard let bundle = config.bundles.first(where: { $0.name == b }) else {
            throw UsageError("bundle \(shown(b)) is not defined above this line")
        }
        return bundle.serviceKey
    }
}

/// A `check` line of a file, checked against the lines above it.
public struct CheckLine: Equatable, Sendable {
    public var line: Int
    public var service: ServiceKey
    public var server: Endpoint
    public var check: CheckSpec.Checked
}

/// A `sorry` line of a file.
public struct SorryLine: Equatable, Sendable {
    public var line: Int
    public var service: ServiceKey
    public var server: RealServer
}

extension SourceMap {
    /// `spec.key()`, remembering the last specifier so that the `rs add` lines of a service do not parse it again,
    /// and parsing plain `A.B.C.D[:PORT]` services without the general endpoint parser (no port: port 0, as
    /// ``Validate/serviceEndpoint(_:)`` and ipvsadm read it).
    public mutating func key(_ spec: ServiceSpec) throws -> ServiceKey {
        if lastKey != nil && lastSpec == spec, let k = lastKey { return k }
        var key: ServiceKey?
        if spec.fwmark == nil, !spec.ipv6 {
            let given = [spec.tcp, spec.udp, spec.sctp]
            if given.filter({ $0 != nil }).count == 1, let i = given.firstIndex(where: { $0 != nil }),
               let (a, p) = QuickLine.plainIPv4Endpoint(given[i]!) {
                try Validate.unicast(a, what: "virtual service address")
                key = .address([IPProtocol.tcp, .udp, .sctp][i], Endpoint(address: a, port: p ?? 0))
            }
        }
        let k = try key ?? spec.requiredKey()
        lastSpec = spec
        lastKey = k
        return k
    }
}

/// One VIP of a file's `dr setup` lines, with where it came from.
public struct DRFileLine {
    public var file: String
    public var line: Int
    public var request: DRRequest
}
