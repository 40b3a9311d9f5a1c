import LVSCore
#if canImport(Glibc)
import Glibc
#endif

/// Restore's quickest path, for the two line shapes that make up nearly every big file: the `vs add` / `rs add`
/// lines `lvsctl save` writes and the `-A` / `-a` lines `ipvsadm-save` writes, for IPv4 TCP and UDP services:
///
///     vs add -t 192.0.2.1:80 -s wlc              -A -t 192.0.2.1:80 -s wlc
///     rs add -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 1
///
/// The line is read straight from the file's bytes into the model: no word Strings, no option table, no spec
/// structs (~2,000 instructions a line).
///
/// It only takes lines it can prove valid: IPv4 `ADDR[:PORT]` in canonical form with a unicast address (a `vs add`
/// line only with a port of 1..65535: port 0, written or left out, needs `-p`, which this path does not read; the
/// `rs add` lines of a port-0 service defined above are taken), a well-formed scheduler name, `-g` or `-m`, a weight of 0..65535, each option once, a new service
/// or a real server of a service defined above. Anything else (another option, a value it cannot parse, a line that
/// is an error, a comment, a quote) returns false and goes through ``Grammar``, which gives the errors.
/// QuickLineTests checks that both paths build the same configuration and source map.
public enum QuickLine {
    /// Adds the line `b` (without its newline) to `config`; false when the line is not one this path takes.
    public static func add(_ b: UnsafeBufferPointer<UInt8>, to config: inout ClusterConfig, source: inout SourceMap) -> Bool {
        guard let base = b.baseAddress else { return false }
        let n = b.count
        // Printable ASCII and tabs only; no quotes and no '#' (comments take the tokenizer).
        for c in b where (c < 32 && c != 9) || c >= 127 || c == 34 || c == 39 || c == 35 { return false }
        var i = 0
        func next() -> Range<Int>? {
            while i < n && (b[i] == 32 || b[i] == 9) { i += 1 }
            if i == n { return nil }
            let s = i
            while i < n && b[i] != 32 && b[i] != 9 { i += 1 }
            return s..<i
        }
        func eq(_ r: Range<Int>, _ s: StaticString) -> Bool {
            r.count == s.utf8CodeUnitCount && memcmp(base + r.lowerBound, s.utf8Start, r.count) == 0
        }
        guard var w = next() else { return false }
        if eq(w, "lvsctl") { guard let x = next() else { return false }; w = x }
        let isService: Bool
        if eq(w, "-A") { isService = true }
        else if eq(w, "-a") { isService = false }
        else if eq(w, "vs") || eq(w, "virtual-server") {
            guard let a = next(), eq(a, "add") else { return false }
            isService = true
        } else if eq(w, "rs") || eq(w, "real-server") {
            guard let a = next(), eq(a, "add") else { return false }
            isService = false
        } else { return false }

        var proto: IPProtocol?, spec: Range<Int>?, sched: Range<Int>?, real: Range<Int>?, weight: Range<Int>?
        var fwd: ForwardingMethod?
        while let o = next() {
            if eq(o, "-t") || eq(o, "--tcp-service") || eq(o, "-u") || eq(o, "--udp-service") {
                guard proto == nil, let v = next() else { return false }
                proto = eq(o, "-t") || eq(o, "--tcp-service") ? .tcp : .udp
                spec = v
            } else if isService {
                guard eq(o, "-s") || eq(o, "--scheduler"), sched == nil, let v = next() else { return false }
                sched = v
            } else if eq(o, "-r") || eq(o, "--real-server") {
                guard real == nil, let v = next() else { return false }
                real = v
            } else if eq(o, "-w") || eq(o, "--weight") {
                guard weight == nil, let v = next() else { return false }
                weight = v
            } else if eq(o, "-g") || eq(o, "--gatewaying") {
                guard fwd == nil else { return false }
                fwd = .directRoute
            } else if eq(o, "-m") || eq(o, "--masquerading") {
                guard fwd == nil else { return false }
                fwd = .masquerade
            } else { return false }
        }
        guard let p = proto, let sr = spec else { return false }

        // The service key; the rs lines after a vs line repeat its specifier, so the last one is remembered.
        let key: ServiceKey
        if let k = source.quickKey, source.quickProto == p, source.quickSpec.count == sr.count,
           source.quickSpec.withUnsafeBufferPointer({ memcmp($0.baseAddress!, base + sr.lowerBound, sr.count) == 0 }) {
            key = k
        } else {
            guard let (a, port) = plainIPv4Endpoint(UnsafeBufferPointer(rebasing: b[sr])), isUnicast(a) else { return false }
            // No port is port 0, as in ipvsadm (``ServiceSpec/key(required:)``).
            key = .address(p, Endpoint(address: a, port: port ?? 0))
            source.quickSpec = Array(b[sr]); source.quickProto = p; source.quickKey = key
        }
        // A port-0 service needs -p, which this path does not read: the slower path reads it or refuses the line.
        if isService && key.port == 0 { return false }

        if isService {
            var s = VirtualService(key: key)
            if let r = sched {
                let name = String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self)
                guard Validate.isModuleName(name) else { return false }
                s.scheduler = Scheduler(name)
            }
            if source.entryIndex[key] != nil { return false }  // defined twice: the slower path says so
            var servers: [RealServer] = []
            servers.reserveCapacity(4)  // room for the usual real servers without regrowing
            config.entries.append(ServiceEntry(service: s, servers: servers))
            source.services[key] = source.current
            source.entryIndex[key] = config.entries.count - 1
            return true
        }

        guard let rr = real, let (a, rp) = plainIPv4Endpoint(UnsafeBufferPointer(rebasing: b[rr])), isUnicast(a),
              let servicePort = key.port else { return false }
        let f = fwd ?? .directRoute
        // ipvsadm's port rules: a missing port is the service's; direct routing always uses the service's.
        let port = f == .directRoute ? servicePort : (rp ?? servicePort)
        var d = RealServer(address: a, port: port, forwarding: f)
        if let r = weight {
            guard let v = smallDecimal(UnsafeBufferPointer(rebasing: b[r])), v <= Int(RealServer.maxWeight) else { return false }
            d.weight = Int32(v)
        }
        let cached = source.lastEntry.flatMap { $0.key == key && $0.index < config.entries.count ? $0.index : nil }
        guard let at = cached ?? source.entryIndex[key] else { return false }  // not defined above: the slower path says so
        if config.entries[at].servers.contains(where: { $0.port == port && $0.address == a }) { return false }  // twice
        config.entries[at].servers.append(d)
        source.lastEntry = (key, at)
        source.dests.append((DestKey(service: key, endpoint: Endpoint(address: a, port: port)), source.current))
        return true
    }

    static func isUnicast(_ a: IPAddress) -> Bool { Validate.isUnicast(a) }

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
}
