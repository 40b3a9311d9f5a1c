#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import LVSCore

// The state file of a running monitor (`/run/lvsctl/monitor.json`, one per network namespace): every check with its
// state, since when, its last result and latency; every monitored server with its configured and current weight;
// the check and sorry lines. Written atomically (a temporary file renamed over it), so a reader never sees half a
// file, even after `kill -9`. `monitor status` prints it; `save` reads it to write configured weights.

/// The state file's path for a network namespace (nil: the current one).
public func monitorStatePath(netns: String?) -> String {
    if let env = Syscall.getenv("LVSCTL_MONITOR_STATE"), !env.isEmpty { return env }
    return netns.map { "/run/lvsctl/monitor-\($0).json" } ?? "/run/lvsctl/monitor.json"
}

/// The JSON form of the state file (schema 1; documented in Documentation/health-checks.md).
public struct MonitorStateFile: Codable, Hashable, Sendable {
    /// The schema version.
    public var schema = jsonSchemaVersion
    /// The monitor's process ID.
    public var pid: Int32
    /// The configuration file it runs.
    public var file: String
    /// The network namespace it runs in (nil: the one of the process that started it).
    public var netns: String?
    /// When it started (UTC, ISO 8601).
    public var started: String
    /// When this file was written.
    public var updated: String
    /// True once the first round of checks has decided every server's state.
    public var ready: Bool
    /// Every check.
    public var checks: [Check]
    /// Every monitored real server and sorry server.
    public var servers: [Server]
    /// The check and sorry lines, as `save` writes them.
    public var lines: [String]

    /// One check.
    public struct Check: Codable, Hashable, Sendable {
        /// The service (`-t 192.0.2.10:80`, `-f 1`).
        public var service: String
        /// The real server as the kernel holds it (port 0 under a fwmark service).
        public var server: String
        /// The address and port checked.
        public var target: String
        /// `tcp`, `http`, `https`, `udp` or `exec`.
        public var type: String
        /// `unknown`, `up` or `down`.
        public var state: String
        /// Since when (UTC, ISO 8601).
        public var since: String
        /// Passes and failures in a row.
        public var passes, failures: Int
        /// The last result's words, when there is one.
        public var last_result: String?
        /// Whether the last result passed.
        public var last_passed: Bool?
        /// When the last result came (UTC, ISO 8601).
        public var last_time: String?
        /// The last result's latency in milliseconds.
        public var latency_ms: Double?
        /// The check's timing: seconds between checks and per check, passes to rise, failures to fall.
        public var interval, timeout: Double
        /// Passes in a row that bring it up, failures that bring it down.
        public var rise, fall: Int
        /// `quiesce` or `remove`.
        public var on_fail: String
    }

    /// One server the monitor owns.
    public struct Server: Codable, Hashable, Sendable {
        /// The service.
        public var service: String
        /// The real server (`ADDR:PORT`).
        public var server: String
        /// `up`, `down` or `unknown` (a server without checks is up).
        public var health: String
        /// True when the monitor keeps it in the service.
        public var present: Bool
        /// The weight the monitor gives it now.
        public var weight: Int32
        /// The weight of the configuration file.
        public var configured_weight: Int32
        /// Why: `up`, `down: ...`, `slow start: weight 3 of 10`, `sorry server: ...`.
        public var reason: String
        /// True for a sorry server.
        public var sorry: Bool
        /// How packets reach it: `masq`, `route`, `tunnel`, `local` or `bypass` (for `save` of a removed server).
        public var forwarding: String?
        /// Its connection thresholds as configured.
        public var upper_threshold, lower_threshold: UInt32?
    }

    /// Reads the state file at `path`: nil when there is none; throws when it is not a monitor state file.
    public static func read(_ path: String) throws -> MonitorStateFile? {
        let fd: Int32
        switch Syscall.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) {
        case .success(let d): fd = d
        case .failure(.noSuchFileOrDirectory): return nil
        case .failure(let e): throw SystemError("cannot read \(path): \(e)")
        }
        defer { Syscall.close(fd) }
        let data = Data(readToEnd(fd) ?? [])
        do { return try JSONDecoder().decode(MonitorStateFile.self, from: data) } catch {
            throw SystemError("\(path) is not an lvsctl monitor state file")
        }
    }

    /// True while the process that wrote it runs (and is an lvsctl).
    public var running: Bool {
        guard Syscall.processExists(pid) else { return false }
        guard let comm = readSmallFile("/proc/\(pid)/comm") else { return true }
        return comm.hasPrefix("lvsctl")
    }

    /// The state of the monitor of this namespace, when one runs: its state file, if the process that wrote it is alive.
    public static func running(netns: String?) -> MonitorStateFile? {
        guard let s = try? read(monitorStatePath(netns: netns)), s.running else { return nil }
        return s
    }

    /// Writes a state file to `path` atomically (mode 0644), creating the directory, its entries streamed in 64 KiB
    /// at a time (``encode(schema:pid:file:netns:started:updated:ready:checks:servers:lines:into:flush:)``): the
    /// monitor passes sequences that make one entry at a time, so a monitor of 10,000 checks holds no array of
    /// entries and no whole file in memory. Rewritten every few seconds: renamed into place (never seen
    /// half-written), not fsynced (/run is tmpfs).
    static func write<Checks: Sequence, Servers: Sequence>(
        to path: String, pid: Int32, file: String, netns: String?, started: String, updated: String, ready: Bool,
        checks: Checks, servers: Servers, lines: [String]
    ) throws where Checks.Element == Check, Servers.Element == Server {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex { _ = Syscall.mkdir(String(path[..<slash]), 0o755) }
        try writeFileAtomically(path, durable: false) { write in
            var w = JSONBytes(capacity: 70_000)
            encode(schema: jsonSchemaVersion, pid: pid, file: file, netns: netns, started: started, updated: updated,
                   ready: ready, checks: checks, servers: servers, lines: lines, into: &w) { w in
                _ = w.bytes.withUnsafeBytes { write($0) }
                w.bytes.removeAll(keepingCapacity: true)
            }
            w.bytes.append(10)
            _ = w.bytes.withUnsafeBytes { write($0) }
        }
    }

    /// The file's JSON: what `JSONEncoder` with sorted keys writes (compact, keys in order, nil fields left out),
    /// written by hand because a monitor of 10,000 checks rewrites it often and the encoder cost it seconds of CPU
    /// under emulation. `MonitorFileTests` checks it byte for byte against JSONEncoder.
    func encode(into w: inout JSONBytes) {
        Self.encode(schema: schema, pid: pid, file: file, netns: netns, started: started, updated: updated, ready: ready,
                    checks: checks, servers: servers, lines: lines, into: &w, flush: { _ in })
    }

    /// ``encode(into:)`` from sequences, which the monitor makes one entry at a time from its checks and desired
    /// table: no array of 10,000 entries and no whole file in memory. `flush` is called whenever `w` holds more
    /// than 64 KiB (it writes the bytes out and empties `w.bytes`).
    static func encode<Checks: Sequence, Servers: Sequence>(
        schema: Int, pid: Int32, file: String, netns: String?, started: String, updated: String, ready: Bool,
        checks: Checks, servers: Servers, lines: [String], into w: inout JSONBytes, flush: (inout JSONBytes) -> Void
    ) where Checks.Element == Check, Servers.Element == Server {
        w.open()
        w.key("checks"); w.beginArray()
        for c in checks {
            w.open()
            w.key("failures"); w.int(c.failures)
            w.key("fall"); w.int(c.fall)
            w.key("interval"); w.double(c.interval)
            if let v = c.last_passed { w.key("last_passed"); w.bool(v) }
            if let v = c.last_result { w.key("last_result"); w.string(v) }
            if let v = c.last_time { w.key("last_time"); w.string(v) }
            if let v = c.latency_ms { w.key("latency_ms"); w.double(v) }
            w.key("on_fail"); w.string(c.on_fail)
            w.key("passes"); w.int(c.passes)
            w.key("rise"); w.int(c.rise)
            w.key("server"); w.string(c.server)
            w.key("service"); w.string(c.service)
            w.key("since"); w.string(c.since)
            w.key("state"); w.string(c.state)
            w.key("target"); w.string(c.target)
            w.key("timeout"); w.double(c.timeout)
            w.key("type"); w.string(c.type)
            w.close()
            if w.bytes.count > 65_536 { flush(&w) }
        }
        w.endArray()
        w.key("file"); w.string(file)
        w.key("lines"); w.beginArray()
        for l in lines {
            w.string(l)
            if w.bytes.count > 65_536 { flush(&w) }
        }
        w.endArray()
        if let v = netns { w.key("netns"); w.string(v) }
        w.key("pid"); w.int(Int(pid))
        w.key("ready"); w.bool(ready)
        w.key("schema"); w.int(schema)
        w.key("servers"); w.beginArray()
        for v in servers {
            w.open()
            w.key("configured_weight"); w.int(Int(v.configured_weight))
            if let f = v.forwarding { w.key("forwarding"); w.string(f) }
            w.key("health"); w.string(v.health)
            if let t = v.lower_threshold { w.key("lower_threshold"); w.int(Int(t)) }
            w.key("present"); w.bool(v.present)
            w.key("reason"); w.string(v.reason)
            w.key("server"); w.string(v.server)
            w.key("service"); w.string(v.service)
            w.key("sorry"); w.bool(v.sorry)
            if let t = v.upper_threshold { w.key("upper_threshold"); w.int(Int(t)) }
            w.key("weight"); w.int(Int(v.weight))
            w.close()
            if w.bytes.count > 65_536 { flush(&w) }
        }
        w.endArray()
        w.key("started"); w.string(started)
        w.key("updated"); w.string(updated)
        w.close()
    }

    /// `save` while this monitor runs: the kernel's table with the configured weight of every monitored server (not
    /// the quiesced 0s or a slow start's step), without the sorry servers the monitor added.
    public func configured(_ c: ClusterConfig) -> ClusterConfig {
        var weights: [String: Int32] = [:]
        var sorry = Set<String>()
        for s in servers {
            if s.sorry { sorry.insert(s.service + " " + s.server) } else { weights[s.service + " " + s.server] = s.configured_weight }
        }
        var out = c
        for i in out.entries.indices {
            let key = out.entries[i].service.key.option
            out.entries[i].servers = out.entries[i].servers.compactMap { d in
                let k = key + " " + d.endpoint.description
                if sorry.contains(k) { return nil }
                var x = d
                if let w = weights[k] { x.weight = w }
                return x
            }
            // A configured server the monitor removed (down with --on-fail remove) is saved as configured.
            let have = Set(out.entries[i].servers.map(\.endpoint.description))
            for s in servers where !s.sorry && !s.present && s.service == key && !have.contains(s.server) {
                guard let (a, p) = try? Endpoint.parse(s.server) else { continue }
                let fwd = ForwardingMethod.allJSONNames[s.forwarding ?? "route"] ?? .directRoute
                out.entries[i].servers.append(RealServer(address: a, port: p ?? 0, forwarding: fwd, weight: s.configured_weight,
                                                         upperThreshold: s.upper_threshold ?? 0,
                                                         lowerThreshold: s.lower_threshold ?? 0))
            }
        }
        return out
    }
}

/// A small file's text (e.g. under /proc), nil when it cannot be read.
func readSmallFile(_ path: String) -> String? {
    guard case .success(let fd) = Syscall.open(path, O_RDONLY | O_CLOEXEC) else { return nil }
    defer { Syscall.close(fd) }
    return readToEnd(fd).map { String(decoding: $0, as: UTF8.self) }
}

/// Seconds since the epoch as `2026-12-02T05:01:02Z` (UTC, whole seconds) or with milliseconds (`millis`).
public func isoTime(_ t: Double, millis: Bool = false) -> String {
    var secs = time_t(t.rounded(.down))
    var tm = Glibc.tm()
    gmtime_r(&secs, &tm)
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    var s = "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))"
    if millis {
        let ms = Int((t - t.rounded(.down)) * 1000)
        s += "." + String(repeating: "0", count: ms < 10 ? 2 : ms < 100 ? 1 : 0) + "\(ms)"
    }
    return s + "Z"
}

/// ``isoTime(_:millis:)`` for many times at once: each whole second is formatted once.
struct ISOTimes {
    /// Each second's text without and with its `Z`.
    private var seconds: [Int64: (base: String, whole: String)] = [:]
    /// `2026-11-30T00:53:20Z`, or with milliseconds `2026-11-30T00:53:20.250Z`.
    mutating func format(_ t: Double, millis: Bool = false) -> String {
        let whole = t.rounded(.down)
        let key = Int64(whole)
        let texts: (base: String, whole: String)
        if let b = seconds[key] { texts = b } else {
            let full = isoTime(whole)
            texts = (String(full.dropLast()), full)
            if seconds.count > 4096 { seconds = [:] }
            seconds[key] = texts
        }
        guard millis else { return texts.whole }
        let ms = Int((t - whole) * 1000)
        return texts.base + (ms < 10 ? ".00" : ms < 100 ? ".0" : ".") + String(ms) + "Z"
    }
}

extension ForwardingMethod {
    /// The methods by their JSON names (`masq`, `route`, ...).
    static let allJSONNames: [String: ForwardingMethod] = Dictionary(
        uniqueKeysWithValues: [ForwardingMethod.masquerade, .local, .tunnel, .directRoute, .bypass].map { ($0.jsonName, $0) })
}

/// Compact JSON written into bytes, commas placed by the writer: ``MonitorStateFile``'s encoder. A monitor of
/// 10,000 checks writes megabytes at a time, so keys, plain strings and numbers go in with bulk copies, not byte by
/// byte.
struct JSONBytes {
    var bytes: [UInt8] = []
    /// True right after `{`, `[` or a key: the next value or key needs no comma.
    private var fresh = true

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    private mutating func comma() {
        if !fresh { bytes.append(UInt8(ascii: ",")) }
        fresh = false
    }
    mutating func open() { comma(); bytes.append(UInt8(ascii: "{")); fresh = true }
    mutating func close() { bytes.append(UInt8(ascii: "}")); fresh = false }
    /// A key (a literal that needs no escaping), quoted, and its colon.
    mutating func key(_ k: StaticString) {
        comma()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        fresh = true
    }
    mutating func string(_ v: String) { comma(); quoted(v) }
    mutating func int(_ v: Int) { comma(); decimal(v) }
    mutating func bool(_ v: Bool) { comma(); v ? raw("true") : raw("false") }
    /// A number as JSONEncoder writes it: whole values without a fraction (`5`), others in their shortest form.
    mutating func double(_ v: Double) {
        comma()
        if v.isFinite, v == v.rounded(), abs(v) < 1e15 { decimal(Int(v)) } else {
            bytes.append(contentsOf: v.description.utf8)
        }
    }
    mutating func beginArray() {
        comma()
        bytes.append(UInt8(ascii: "["))
        fresh = true
    }
    mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        fresh = false
    }
    private mutating func raw(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
    /// An integer in decimal, made in a small buffer and copied once.
    private mutating func decimal(_ v: Int) {
        if v >= 0 && v < 10 { bytes.append(UInt8(ascii: "0") + UInt8(v)); return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf in
            var n = v.magnitude, i = 20
            repeat {
                i -= 1
                buf[i] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            } while n > 0
            if v < 0 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i..<20]))
        }
    }
    /// True for the bytes JSONEncoder escapes: `"`, `\`, `/` and the control characters.
    private static func escaped(_ b: UInt8) -> Bool {
        b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b == UInt8(ascii: "/")
    }
    private mutating func quoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings need no escaping: copied whole.
        let copied = s.utf8.withContiguousStorageIfAvailable { buf -> Bool in
            guard !buf.contains(where: Self.escaped) else { return false }
            bytes.append(contentsOf: buf)
            return true
        }
        if copied != true {
            for b in s.utf8 {
                switch b {
                case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
                case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "\\")); bytes.append(b)  // as JSONEncoder does
                case 0x0A: raw("\\n")
                case 0x0D: raw("\\r")
                case 0x09: raw("\\t")
                case 0x08: raw("\\b")
                case 0x0C: raw("\\f")
                case ..<0x20:
                    let hex: StaticString = "0123456789abcdef"
                    raw("\\u00")
                    bytes.append(hex.utf8Start[Int(b >> 4)]); bytes.append(hex.utf8Start[Int(b & 15)])
                default: bytes.append(b)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
