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
    static func parse(name: String, text: String, base: ClusterConfig) throws -> (ClusterConfig, SourceMap, [DRLine]) {
        var config = base
        var src = SourceMap(file: name)
        var dr: [DRLine] = []
        var lineNo = 0
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
                let parsed: ParsableCommand
                do {
                    parsed = try LVSCtl.parseAsRoot(Entry.normalizeArguments(words))
                } catch {
                    throw UsageError(Entry.usageMessage(error))
                }
                if let d = parsed as? DRLine {
                    dr.append(d); continue
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

/// A `dr setup` line of a file (applied by `restore` on real servers).
protocol DRLine {
    func applyFromFile() throws
}

extension VS.Add: ConfigLine {
    func add(to config: inout ClusterConfig, source: inout SourceMap) throws {
        let s = try model()
        if config.index(of: s.key) != nil { throw UsageError("service \(s.key) is defined twice") }
        config.entries.append(ServiceEntry(service: s, servers: []))
        source.services[s.key] = source.current
    }
}

extension RS.Add: ConfigLine {
    func add(to config: inout ClusterConfig, source: inout SourceMap) throws {
        let key: ServiceKey
        if let b = target.bundle {
            if target.service.given { throw UsageError("give either a service or --bundle, not both") }
            guard let bundle = config.bundles.first(where: { $0.name == b }) else {
                throw UsageError("bundle \(shown(b)) is not defined above this line")
            }
            key = bundle.serviceKey
        } else { key = try target.service.key()! }
        let d = try model(for: key)
        guard let i = config.index(of: key) else { throw UsageError("service \(key) is not defined above this line") }
        if config.entries[i].servers.contains(where: { $0.endpoint == d.endpoint }) {
            throw UsageError("real server \(d.endpoint) of \(key) is defined twice")
        }
        config.entries[i].servers.append(d)
        source.dests["\(key) \(d.endpoint)"] = source.current
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
