import LVSCore

/// `check SERVICE -r ADDR[:PORT] --type tcp|http|https|udp|exec [options]` as typed.
public struct CheckSpec: Equatable, Sendable {
    public var realServer: String
    public var type: String
    public var port: String?, interval: String?, timeout: String?, rise: String?, fall: String?, onFail: String?
    public var slowStart: String?, path: String?, host: String?, expect: String?, body: String?
    public var insecure = false
    public var send: String?, receive: String?, exec: String?

    public init(realServer: String, type: String) { self.realServer = realServer; self.type = type }

    /// The check's values, checked.
    public struct Checked: Equatable, Sendable {
        public enum Kind: String, Sendable, CaseIterable { case tcp, http, https, udp, exec }
        public var kind: Kind
        /// The port probed: `--port`, else the real server's.
        public var port: UInt16
        public var interval = 5.0, timeout = 3.0
        public var rise = 2, fall = 3
        public var remove = false
        public var slowStart = 0.0
        public var path = "/", host: String?
        /// Status codes that pass, as inclusive ranges.
        public var expect: [ClosedRange<Int>] = [200...399]
        public var body: String?
        public var insecure = false
        public var send: String?, receive: String?
        /// The program and its arguments, `%h` and `%p` not yet replaced.
        public var exec: [String] = []
    }

    /// Checks every value for a real server at `endpoint` of service `key` (exit 2 on a bad one, naming it).
    public func checked(for key: ServiceKey, endpoint: Endpoint) throws -> Checked {
        guard let kind = Checked.Kind(rawValue: type) else {
            throw UsageError("invalid check type \(shown(type)) (expected tcp, http, https, udp or exec)")
        }
        var c = Checked(kind: kind, port: endpoint.port)
        if let p = port { c.port = UInt16(try Validate.number(p, "check port", 1...65535)) }
        else if key.isFwmark && kind != .exec { throw UsageError("a check of fwmark service \(key) needs --port (its real servers have no port)") }
        else if endpoint.port == 0 && kind != .exec { throw UsageError("real server \(endpoint) has port 0: give the check a --port") }
        if let v = interval { c.interval = try Self.seconds(v, "check interval", 0.1...86400) }
        if let v = timeout { c.timeout = try Self.seconds(v, "check timeout", 0.1...3600) }
        if let v = rise { c.rise = Int(try Validate.number(v, "rise", 1...100)) }
        if let v = fall { c.fall = Int(try Validate.number(v, "fall", 1...100)) }
        if let v = onFail {
            guard v == "quiesce" || v == "remove" else { throw UsageError("invalid --on-fail \(shown(v)) (expected quiesce or remove)") }
            c.remove = v == "remove"
        }
        if let v = slowStart { c.slowStart = try Self.seconds(v, "slow start", 0...86400) }
        let web = kind == .http || kind == .https
        func only(_ given: Bool, _ option: String, _ kinds: String) throws {
            if given { throw UsageError("\(option) applies to \(kinds) checks only, not \(kind.rawValue)") }
        }
        try only(!web && (path != nil), "--path", "http and https")
        try only(!web && (host != nil), "--host", "http and https")
        try only(!web && (expect != nil), "--expect", "http and https")
        try only(!web && (body != nil), "--body", "http and https")
        try only(kind != .https && insecure, "--insecure", "https")
        try only(kind != .udp && (send != nil || receive != nil), send != nil ? "--send" : "--receive", "udp")
        try only(kind != .exec && exec != nil, "--exec", "exec")
        if let p = path {
            guard p.hasPrefix("/"), p.utf8.allSatisfy({ $0 > 32 && $0 != 127 }) else {
                throw UsageError("invalid check path \(shown(p)) (starts with /, no spaces or control characters)")
            }
            c.path = p
        }
        if let h = host {
            guard !h.isEmpty, h.utf8.count <= 253, h.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 46 }) else {
                throw UsageError("invalid check host \(shown(h)) (a host name: letters, digits, - and .)")
            }
            c.host = h
        }
        if let e = expect { c.expect = try Self.statusCodes(e) }
        if let b = body { try Self.regex(b, "--body"); c.body = b }
        c.insecure = insecure
        if kind == .udp {
            guard let s = send, !s.isEmpty else { throw UsageError("a udp check needs --send TEXT and --receive REGEX") }
            guard let r = receive else { throw UsageError("a udp check needs --receive REGEX") }
            try Self.regex(r, "--receive")
            c.send = s; c.receive = r
        }
        if kind == .exec {
            guard let e = exec else { throw UsageError("an exec check needs --exec 'PROGRAM ARG...'") }
            let argv = try ConfigFile.tokenize(Substring(e))
            guard let program = argv.first, program.hasPrefix("/") else {
                throw UsageError("invalid --exec \(shown(e)) (the program is an absolute path; it runs without a shell)")
            }
            c.exec = argv
        }
        return c
    }

    /// Seconds: a decimal number with up to 3 decimals, in `range`.
    static func seconds(_ s: String, _ what: String, _ range: ClosedRange<Double>) throws -> Double {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parseDecimal(parts[0]), parts.count == 1 || (1...3).contains(parts[1].count),
              parts.count == 1 || parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw UsageError("invalid \(what) \(shown(s)) (seconds, e.g. 5 or 0.5)")
        }
        let v = Double(whole) + (parts.count == 2 ? Double(String(parts[1]))! / pow10(parts[1].count) : 0)
        guard range.contains(v) else { throw UsageError("invalid \(what) \(shown(s)) (expected \(range.lowerBound)..\(range.upperBound) seconds)") }
        return v
    }
    private static func pow10(_ n: Int) -> Double { n == 1 ? 10 : n == 2 ? 100 : 1000 }

    /// `200-399`, `200,301-302`: HTTP status codes 100..599.
    static func statusCodes(_ s: String) throws -> [ClosedRange<Int>] {
        var out: [ClosedRange<Int>] = []
        for item in s.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = item.split(separator: "-", omittingEmptySubsequences: false)
            guard ends.count <= 2, let lo = parseDecimal(ends[0]), let hi = ends.count == 2 ? parseDecimal(ends[1]) : lo,
                  (100...599).contains(lo), (100...599).contains(hi), lo <= hi else {
                throw UsageError("invalid --expect \(shown(s)) (status codes 100..599, e.g. 200-399 or 200,301-302)")
            }
            out.append(Int(lo)...Int(hi))
        }
        return out
    }

    /// A regular expression the monitor can compile.
    static func regex(_ r: String, _ option: String) throws {
        do { _ = try Regex(r) } catch { throw UsageError("invalid \(option) regular expression \(shown(r))") }
    }
}

/// `sorry SERVICE -r ADDR[:PORT] [-g|-m|-i] [-w W]`: a server added while none of the service's real servers is up.
public struct SorrySpec: Equatable, Sendable {
    public var server: ServerSpec
    public init(server: ServerSpec) { self.server = server }
}
