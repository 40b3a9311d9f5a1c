import ArgumentParser
import Foundation
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
    var dests: [String: Int] = [:]
    var other: [String: Int] = [:]
    /// Where each service sits in the config being built (a fast lookup for `rs add`).
    var entryIndex: [ServiceKey: Int] = [:]
    var here: String { "\(file):\(current)" }

    /// The `FILE:LINE` of request `r`, if it came from the file.
    func line(of r: IPVSRequest) -> String? {
        let n: Int?
        switch r {
        case .addService(let s), .editService(let s): n = services[s.key]
        case .deleteService(let k): n = services[k]
        case .addDest(let k, let d), .editDest(let k, let d): n = dests["\(k) \(d.endpoint)"]
        case .deleteDest(let k, let e): n = dests["\(k) \(e)"]
        case .startDaemon(let d): n = other["daemon \(d.state)"]
        case .setTimeouts: n = other["timeout"]
        default: n = nil
        }
        return n.map { "\(file):\($0)" }
    }
}

/// Reads and parses configuration files in the lvsctl format or unmodified `ipvsadm-save` output.
enum ConfigFile {
    /// Reads `path` (`-` or nil: standard input). Directories, unreadable files and binary data are usage errors.
    static func read(_ path: String?) throws -> (name: String, text: String) {
        let name = path ?? "-"
        let data: Data
        if name == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: name, isDirectory: &isDir) else {
                throw UsageError("\(shown(name)): no such file")
            }
            if isDir.boolValue { throw UsageError("\(shown(name)): is a directory, not a configuration file") }
            guard let d = FileManager.default.contents(atPath: name) else { throw UsageError("\(shown(name)): cannot read (permission denied?)") }
            data = d
        }
        if data.contains(0) { throw UsageError("\(name): binary data (NUL byte), not a configuration file") }
        guard let text = String(data: data, encoding: .utf8) else { throw UsageError("\(name): not UTF-8 text") }
        return (name, text)
    }

    /// Splits a line into words: whitespace separated, `'...'` and `"..."` quoted, `#` starts a comment.
    static func tokenize(_ line: Substring) throws -> [String] {
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

    /// The commands allowed in files.
    static let allowed = "vs add, rs add, bundle add, timeout set, daemon start, dr setup (or ipvsadm-save -A/-a lines)"

    /// Parses a whole file onto `base`. Every error names `FILE:LINE`; nothing is applied here.
    static func parse(name: String, text: String, base: ClusterConfig) throws -> (ClusterConfig, SourceMap, [DRFileLine]) {
        var config = base
        var src = SourceMap(file: name)
        var dr: [DRFileLine] = []
        var lineNo = 0
        // "\r\n" is one Character in Swift: normalise CRLF files first so lines split as they should.
        let text = text.contains("\r\n") ? text.replacingOccurrences(of: "\r\n", with: "\n") : text
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            src.current = lineNo
            var line = raw
            if line.hasSuffix("\r") { line = line.dropLast() }
            do {
                var words = try tokenize(line)
                if words.isEmpty { continue }
                if words[0] == "lvsctl" { words.removeFirst() }
                if words.first == "-A" { words = ["vs", "add"] + words.dropFirst() }
                else if words.first == "-a" { words = ["rs", "add"] + words.dropFirst() }
                let normalized = Entry.normalizeArguments(words)
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
            let dr = try DirectRouting(firewall: IPTablesBackend())
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
        var s = VirtualService(key: try spec.key()!)
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
        } else { key = try spec.key()! }
        let d = try server.model(for: key)
        guard let i = source.entryIndex[key] ?? config.index(of: key) else { throw UsageError("service \(key) is not defined above this line") }
        let dk = "\(key) \(d.endpoint)"
        if source.dests[dk] != nil || config.entries[i].servers.contains(where: { $0.endpoint == d.endpoint }) {
            throw UsageError("real server \(d.endpoint) of \(key) is defined twice")
        }
        config.entries[i].servers.append(d)
        source.dests[dk] = source.current
    }
}

/// A fast scanner for the two lines that make up almost every file (`vs add`, `rs add`), so that restoring
/// tens of thousands of lines costs microseconds per line. Anything it does not recognise goes through the
/// full ArgumentParser grammar instead, which gives the same result (and the same error messages).
enum FastLine {
    /// The service-specifier options shared by `vs add` and `rs add`.
    static func serviceOption(_ o: String) -> Bool {
        ["-t", "--tcp-service", "-u", "--udp-service", "--sctp-service", "-f", "--fwmark-service", "-6"].contains(o)
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
