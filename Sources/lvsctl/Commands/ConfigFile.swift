import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import LVSCore

/// A command that may appear as a line of a configuration file.
protocol ConfigLine {
    /// Adds what the line describes to `config`, throwing a ``UsageError`` when it conflicts.
    func add(to config: inout ClusterConfig, source: inout SourceMap) throws
}

/// Where each service and real server of a parsed file came from, for `FILE:LINE` errors.
struct SourceMap {
    var file = "-"
    var current = 0
    var services: [ServiceKey: Int] = [:]
    /// The real servers in file order (searched only when an error needs a line number).
    var dests: [(key: DestKey, line: Int)] = []
    var other: [String: Int] = [:]
    /// Where each service sits in the config being built (a fast lookup for `rs add`).
    var entryIndex: [ServiceKey: Int] = [:]
    /// The last service specifier parsed and its key: the `rs add` lines after a `vs add` repeat it.
    var lastSpec = ServiceSpec()
    var lastKey: ServiceKey?
    /// The service the last `rs add` line joined and its index in the config (the next lines usually repeat it).
    var lastEntry: (key: ServiceKey, index: Int)?
    /// ``QuickLine``'s last service specifier (its bytes and protocol) and key.
    var quickSpec: [UInt8] = []
    var quickProto = IPProtocol.tcp
    var quickKey: ServiceKey?
    /// True when `spec` is the last specifier parsed (compared in place, without copying it).
    func isLastSpec(_ spec: ServiceSpec) -> Bool {
        lastKey != nil && lastSpec.tcp == spec.tcp && lastSpec.udp == spec.udp && lastSpec.sctp == spec.sctp
            && lastSpec.fwmark == spec.fwmark && lastSpec.ipv6 == spec.ipv6
    }
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

    func destLine(_ k: DestKey) -> Int? { dests.last(where: { $0.key == k })?.line }

    /// The `FILE:LINE` of request `r`, if it came from the file.
    func line(of r: IPVSRequest) -> String? {
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
struct DestKey: Hashable {
    var service: ServiceKey
    var endpoint: Endpoint
}

/// Reads and parses configuration files in the lvsctl format or unmodified `ipvsadm-save` output.
enum ConfigFile {
    /// Reads `path` (`-` or nil: standard input). Directories, unreadable files and binary data are usage errors.
    /// Reads a file to its end with read(2), so that pipes, /dev/stdin and `<(...)` work like regular files.
    static func readWholeFile(_ name: String) throws -> Data {
        let fd = open(name, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            switch e {
            case ENOENT: throw UsageError("\(shown(name)): no such file")
            case EACCES: throw UsageError("\(shown(name)): cannot read (permission denied)")
            default: throw UsageError("\(shown(name)): cannot open (\(String(cString: strerror(e))))")
            }
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            throw UsageError("\(shown(name)): is a directory, not a configuration file")
        }
        // A device (/dev/zero, a tty) is not a file to read to its end; pipes and sockets are.
        if (st.st_mode & S_IFMT) != S_IFREG && (st.st_mode & S_IFMT) != S_IFIFO && (st.st_mode & S_IFMT) != S_IFSOCK {
            throw UsageError("\(shown(name)): not a regular file")
        }
        guard let bytes = readToEnd(fd) else {
            throw UsageError("\(shown(name)): cannot read (\(String(cString: strerror(errno))))")
        }
        return Data(bytes)
    }

    static func read(_ path: String?) throws -> (name: String, text: String) {
        let name = path ?? "-"
        let data: Data
        if name == "-" {
            guard let d = readToEnd(0) else { throw UsageError("-: cannot read standard input (\(errnoText(errno)))") }
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
    static func tokenize(_ line: Substring) throws -> [String] {
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
    /// False when no word of `line` starts with `-` followed by a digit (nearly every line): the negative-number
    /// check then has nothing to find and is skipped.
    static func mayHoldNegativeNumber(_ line: Substring) -> Bool {
        // Over the contiguous bytes: stepping through Substring.utf8 by index costs ~40 instructions a byte.
        let r = line.utf8.withContiguousStorageIfAvailable { b -> Bool in
            var prev: UInt8 = 32, dash = false
            for c in b {
                if dash && c >= 48 && c <= 57 { return true }
                dash = c == 45 && (prev == 32 || prev == 9 || prev == 34 || prev == 39)
                prev = c
            }
            return false
        }
        return r ?? true
    }

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

    /// The commands allowed in files.
    static let allowed = "vs add, rs add, bundle add, timeout set, daemon start, dr setup, firewall (or ipvsadm-save -A/-a lines)"

    /// Parses a whole file onto `base`. Every error names `FILE:LINE`; nothing is applied here.
    static func parse(name: String, text: String, base: ClusterConfig) throws -> (ClusterConfig, SourceMap, [DRFileLine]) {
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
            if bytes.withUnsafeBufferPointer({ QuickLine.add(UnsafeBufferPointer(rebasing: $0[r]), to: &config, source: &src) }) {
                continue
            }
            let lo = utf8.index(utf8.startIndex, offsetBy: r.lowerBound), hi = utf8.index(lo, offsetBy: r.count)
            var line = Substring(utf8[lo..<hi])
            if r.count > 0 && utf8[utf8.index(before: hi)] == 13 { line = line.dropLast() }
            do {
                var words = try tokenize(line)
                if words.isEmpty { continue }
                if words[0] == "lvsctl" { words.removeFirst() }
                if words.first == "firewall" {  // `firewall nftables|iptables-legacy`: the backend the file asks for
                    guard words.count == 2, let k = FirewallSelection.parse(words[1]) else {
                        throw UsageError("invalid firewall line \(shown(words.joined(separator: " "))) (expected firewall nftables, firewall iptables-legacy or firewall auto)")
                    }
                    if let prev = src.other["firewall"] { throw UsageError("firewall is already set at line \(prev)") }
                    src.other["firewall"] = lineNo
                    config.firewall = k
                    continue
                }
                if words.first == "-A" { words = ["vs", "add"] + words.dropFirst() }
                else if words.first == "-a" { words = ["rs", "add"] + words.dropFirst() }
                // (normalizeArguments only ever changes a line holding -p or --persistent)
                let normalized = words.contains(where: { $0 == "-p" || $0 == "--persistent" }) ? Entry.normalizeArguments(words) : words
                if mayHoldNegativeNumber(line) { try Entry.rejectNegativeNumbers(normalized) }
                if let fast = FastLine.parse(normalized) {
                    try fast.add(to: &config, source: &src)
                    continue
                }
                let parsed: ParsableCommand
                do {
                    parsed = try LVSCtl.parseAsRoot(normalized)
                } catch {
                    throw UsageError(Entry.usageMessage(error))
                }
                if let d = parsed as? DRLine {
                    for r in try d.requests() {
                        if let prev = dr.first(where: { $0.request.vip == r.vip }) {
                            throw UsageError("VIP \(r.vip) is already set up at line \(prev.line)")
                        }
                        dr.append(DRFileLine(file: name, line: lineNo, request: r))
                    }
                    continue
                }
                guard let c = parsed as? ConfigLine else {
                    throw UsageError("\(shown(words.prefix(2).joined(separator: " "))) cannot appear in a configuration file (allowed: \(allowed))")
                }
                try c.add(to: &config, source: &src)
            } catch let e as UsageError {
                throw UsageError("\(name):\(lineNo): \(e.description)")
            } catch {
                throw UsageError("\(name):\(lineNo): \(Entry.usageMessage(error))")
            }
        }
        return (config, src, dr)
    }
}

/// A `dr setup` line of a file (applied by `restore` and `apply` on real servers).
protocol DRLine {
    func requests() throws -> [DRRequest]
}

/// One VIP of a file's `dr setup` lines, with where it came from.
struct DRFileLine {
    var file: String
    var line: Int
    var request: DRRequest

    /// Plans the file's dr lines (nil when there are none); errors name the line of the VIP they concern.
    static func plan(_ lines: [DRFileLine]) throws -> (DirectRouting, DirectRouting.Plan)? {
        if lines.isEmpty { return nil }
        do {
            let dr = try DirectRouting(firewall: try Firewall.backend())
            return (dr, try dr.plan(lines.map(\.request)))
        } catch let e as DRError {
            let at = lines.first { l in e.description.contains("VIP \(l.request.vip) ") || e.description.contains("'\(l.request.interface ?? "\u{0}")'") }
            let msg = at.map { "\($0.file):\($0.line): \(e.description)" } ?? e.description
            if e.isUsage { throw UsageError(msg) }
            throw DRError(msg)
        }
    }
}

extension VS.Add: ConfigLine {
    func add(to config: inout ClusterConfig, source: inout SourceMap) throws {
        try ServiceLine(spec: service.spec, settings: settings.spec).add(to: &config, source: &source)
    }
}

extension RS.Add: ConfigLine {
    func add(to config: inout ClusterConfig, source: inout SourceMap) throws {
        try ServerLine(spec: target.service.spec, bundle: target.bundle, server: server.spec).add(to: &config, source: &source)
    }
}

/// A `vs add` / `-A` line.
struct ServiceLine: ConfigLine {
    var spec: ServiceSpec
    var settings: SettingsSpec
    func add(to config: inout ClusterConfig, source: inout SourceMap) throws {
        var s = VirtualService(key: try FastLine.key(spec, &source))
        try settings.apply(to: &s, isNew: true)
        if source.entryIndex[s.key] != nil { throw UsageError("service \(s.key) is defined twice") }
        config.entries.append(ServiceEntry(service: s, servers: []))
        source.services[s.key] = source.current
        source.entryIndex[s.key] = config.entries.count - 1
    }
}

/// An `rs add` / `-a` line.
struct ServerLine: ConfigLine {
    var spec: ServiceSpec
    var bundle: String?
    var server: ServerSpec
    func add(to config: inout ClusterConfig, source: inout SourceMap) throws {
        let key: ServiceKey
        if let b = bundle {
            if spec.given { throw UsageError("give either a service or --bundle, not both") }
            guard let bundle = config.bundles.first(where: { $0.name == b }) else {
                throw UsageError("bundle \(shown(b)) is not defined above this line")
            }
            key = bundle.serviceKey
        } else { key = try FastLine.key(spec, &source) }
        let d = try FastLine.model(server, for: key)
        let cached = source.lastEntry.flatMap { $0.key == key && $0.index < config.entries.count ? $0.index : nil }
        guard let i = cached ?? source.entryIndex[key] ?? config.index(of: key) else { throw UsageError("service \(key) is not defined above this line") }
        // (every real server recorded in source.dests is also in config.entries[i].servers, so this one check covers both)
        if config.entries[i].servers.contains(where: { $0.endpoint == d.endpoint }) {
            throw UsageError("real server \(d.endpoint) of \(key) is defined twice")
        }
        config.entries[i].servers.append(d)
        source.lastEntry = (key, i)
        source.dests.append((DestKey(service: key, endpoint: d.endpoint), source.current))
    }
}

/// A fast scanner for the two lines that make up almost every file (`vs add`, `rs add`), so that restoring
/// tens of thousands of lines costs microseconds per line. Anything it does not recognise goes through the
/// full ArgumentParser grammar instead, which gives the same result (and the same error messages).
enum FastLine {
    /// The service-specifier options shared by `vs add` and `rs add`.
    static func serviceOption(_ o: String) -> Bool {
        switch o {
        case "-t", "--tcp-service", "-u", "--udp-service", "--sctp-service", "-f", "--fwmark-service", "-6": return true
        default: return false
        }
    }

    /// `spec.key()`, remembering the last specifier so that the `rs add` lines of a service do not parse it again,
    /// and parsing plain `A.B.C.D[:PORT]` services without the general endpoint parser (no port: port 0, as
    /// ``parseServiceEndpoint(_:)`` and ipvsadm read it).
    static func key(_ spec: ServiceSpec, _ source: inout SourceMap) throws -> ServiceKey {
        if source.isLastSpec(spec), let k = source.lastKey { return k }
        var key: ServiceKey?
        if spec.fwmark == nil, !spec.ipv6 {
            let given = [spec.tcp, spec.udp, spec.sctp]
            if given.filter({ $0 != nil }).count == 1, let i = given.firstIndex(where: { $0 != nil }),
               let (a, p) = plainIPv4Endpoint(given[i]!) {
                try checkUnicast(a, what: "virtual service address")
                key = .address([IPProtocol.tcp, .udp, .sctp][i], Endpoint(address: a, port: p ?? 0))
            }
        }
        let k = try key ?? spec.key()!
        source.lastSpec = spec
        source.lastKey = k
        return k
    }

    /// `server.model(for: key)`, parsing a plain `A.B.C.D[:PORT]` real server of an IPv4 service without the
    /// general endpoint parser; the port rules are those of ``ServerSpec/endpoint(for:forwarding:)``.
    static func model(_ server: ServerSpec, for key: ServiceKey) throws -> RealServer {
        guard key.family == .inet, let (a, p) = plainIPv4Endpoint(server.realServer) else { return try server.model(for: key) }
        try checkUnicast(a, what: "real server address")
        let fwd = server.forwardingGiven ?? .directRoute
        var port = p ?? key.port ?? 0
        if let sp = key.port, fwd == .directRoute || fwd == .tunnel { port = sp }
        var d = RealServer(address: a, port: port, forwarding: fwd)
        // A plain weight (1..5 digits, in range) is set here rather than through parseNumber, which costs ~2,500
        // instructions a call; apply() reads nothing back from d.weight, so the result and errors are the same.
        var sv = server
        var weight: Int32?
        if let w = sv.weight, let v = smallDecimal(w), v <= Int(RealServer.maxWeight) { weight = Int32(v); sv.weight = nil }
        try sv.apply(to: &d, isNew: true)
        if let w = weight { d.weight = w }
        return d
    }

    /// 1..5 decimal digits as a number (what parseDecimal gives for them), else nil.
    static func smallDecimal(_ s: String) -> Int? {
        var s = s
        return s.withUTF8 { smallDecimal($0) }
    }
    static func smallDecimal(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        var v = 0, n = 0
        for c in b {
            guard c >= 48, c <= 57, n < 5 else { return nil }
            v = v * 10 + Int(c - 48); n += 1
        }
        return n > 0 ? v : nil
    }

    /// Parses exactly `A.B.C.D` or `A.B.C.D:PORT` in canonical form (octets 0..255 without leading zeros, as
    /// `inet_pton` accepts them; a decimal port up to 65535). Anything else is nil, for the general parser.
    static func plainIPv4Endpoint(_ text: String) -> (IPAddress, UInt16?)? {
        var t = text
        return t.withUTF8 { plainIPv4Endpoint($0) }
    }
    static func plainIPv4Endpoint(_ b: UnsafeBufferPointer<UInt8>) -> (IPAddress, UInt16?)? {
        var octets: [UInt8] = []
        octets.reserveCapacity(4)
        var i = 0
        while true {
            var v = 0, n = 0
            while i < b.count, b[i] >= 48, b[i] <= 57, n < 4 { v = v * 10 + Int(b[i] - 48); n += 1; i += 1 }
            if n == 0 || n > 3 || v > 255 || (n > 1 && b[i - n] == 48) { return nil }
            octets.append(UInt8(v))
            if octets.count == 4 { break }
            guard i < b.count, b[i] == 46 else { return nil }
            i += 1
        }
        guard let a = IPAddress(bytes: octets) else { return nil }
        if i == b.count { return (a, nil) }
        guard b[i] == 58, b.count - i - 1 >= 1, b.count - i - 1 <= 5 else { return nil }
        var port = 0
        for j in (i + 1)..<b.count {
            guard b[j] >= 48, b[j] <= 57 else { return nil }
            port = port * 10 + Int(b[j] - 48)
        }
        return port <= 65535 ? (a, UInt16(port)) : nil
    }

    static func parse(_ w: [String]) -> ConfigLine? {
        guard w.count >= 2, w[1] == "add" else { return nil }
        var spec = ServiceSpec()
        var i = 2
        func value() -> String? { i += 1; return i < w.count ? w[i] : nil }
        if w[0] == "vs" || w[0] == "virtual-server" {
            var st = SettingsSpec()
            while i < w.count {
                switch w[i] {
                case let o where serviceOption(o):
                    if o == "-6" { spec.ipv6 = true; break }
                    guard let v = value() else { return nil }
                    spec.set(o, v)
                case "-s", "--scheduler": guard let v = value() else { return nil }; st.scheduler = v
                case "-b", "--sched-flags": guard let v = value() else { return nil }; st.schedFlags = v
                case "-p", "--persistent": guard let v = value() else { return nil }; st.persistent = v
                case "-M", "--netmask": guard let v = value() else { return nil }; st.netmask = v
                case "--pe": guard let v = value() else { return nil }; st.pe = v
                case "-o", "--ops": st.ops = true
                default: return nil
                }
                i += 1
            }
            return ServiceLine(spec: spec, settings: st)
        }
        if w[0] == "rs" || w[0] == "real-server" {
            var sv = ServerSpec(realServer: "")
            var bundle: String?
            var haveR = false
            while i < w.count {
                switch w[i] {
                case let o where serviceOption(o):
                    if o == "-6" { spec.ipv6 = true; break }
                    guard let v = value() else { return nil }
                    spec.set(o, v)
                case "--bundle": guard let v = value() else { return nil }; bundle = v
                case "-r", "--real-server": guard let v = value() else { return nil }; sv.realServer = v; haveR = true
                case "-g", "--gatewaying": sv.gatewaying = true
                case "-i", "--ipip": sv.ipip = true
                case "-m", "--masquerading": sv.masquerading = true
                case "-w", "--weight": guard let v = value() else { return nil }; sv.weight = v
                case "-x", "--u-threshold": guard let v = value() else { return nil }; sv.upper = v
                case "-y", "--l-threshold": guard let v = value() else { return nil }; sv.lower = v
                case "--tun-type": guard let v = value() else { return nil }; sv.tunType = v
                case "--tun-port": guard let v = value() else { return nil }; sv.tunPort = v
                case "--tun-nocsum": sv.tunNoCsum = true
                case "--tun-csum": sv.tunCsum = true
                case "--tun-remcsum": sv.tunRemCsum = true
                default: return nil
                }
                i += 1
            }
            return haveR ? ServerLine(spec: spec, bundle: bundle, server: sv) : nil
        }
        if w[0] == "bundle" {
            // bundle add NAME --vip V [--vip V...] --ports P [--proto P] [--mark M] [settings]; anything unusual
            // (options before the name, repeated single options, --netns, --opt=value) takes the full grammar.
            guard w.count >= 3, !w[2].hasPrefix("-") else { return nil }
            var b = BundleSpec(name: w[2], vips: [], ports: "", settings: SettingsSpec())
            var seen = Set<String>()
            func value() -> String? { i += 1; return i < w.count && !w[i].hasPrefix("-") ? w[i] : nil }
            i = 3
            while i < w.count {
                let o = w[i]
                if o != "--vip" {
                    let canonical: String
                    switch o {
                    case "-s": canonical = "--scheduler"
                    case "-b": canonical = "--sched-flags"
                    case "-p": canonical = "--persistent"
                    case "-M": canonical = "--netmask"
                    case "-o": canonical = "--ops"
                    default: canonical = o
                    }
                    if !seen.insert(canonical).inserted { return nil }
                }
                switch o {
                case "--vip": guard let v = value() else { return nil }; b.vips.append(v)
                case "--ports": guard let v = value() else { return nil }; b.ports = v
                case "--proto": guard let v = value() else { return nil }; b.proto = v
                case "--mark": guard let v = value() else { return nil }; b.mark = v
                case "-s", "--scheduler": guard let v = value() else { return nil }; b.settings.scheduler = v
                case "-b", "--sched-flags": guard let v = value() else { return nil }; b.settings.schedFlags = v
                case "-p", "--persistent": guard let v = value() else { return nil }; b.settings.persistent = v
                case "-M", "--netmask": guard let v = value() else { return nil }; b.settings.netmask = v
                case "--pe": guard let v = value() else { return nil }; b.settings.pe = v
                case "-o", "--ops": b.settings.ops = true
                default: return nil
                }
                i += 1
            }
            return seen.contains("--ports") ? b : nil
        }
        return nil
    }
}

extension Timeout.Set: ConfigLine {
    func add(to config: inout ClusterConfig, source: inout SourceMap) throws {
        let t = try model()
        let old = config.timeouts ?? Timeouts(tcp: 0, tcpFin: 0, udp: 0)
        config.timeouts = Timeouts(tcp: t.tcp == 0 ? old.tcp : t.tcp, tcpFin: t.tcpFin == 0 ? old.tcpFin : t.tcpFin,
                                   udp: t.udp == 0 ? old.udp : t.udp)
        source.other["timeout"] = source.current
    }
}

extension Daemon.Start: ConfigLine {
    func add(to config: inout ClusterConfig, source: inout SourceMap) throws {
        let d = try model()
        if config.daemons.contains(where: { $0.state == d.state }) { throw UsageError("\(d.state) sync daemon is defined twice") }
        config.daemons.append(d)
        source.other["daemon \(d.state)"] = source.current
    }
}
