import LVSCore

// From a parsed file to what the monitor runs, and back to file lines: the `check` and `sorry` lines as
// ``HealthCheck`` and ``SorryServer`` values, the table the monitor loads before its first round, and the canonical
// text of each line (what `save` writes while a monitor runs).

extension HealthCheck {
    /// The check of a file's `check` line.
    public init(_ l: CheckLine) {
        let c = l.check
        let kind: CheckKind
        switch c.kind {
        case .tcp: kind = .tcp
        case .http: kind = .http(HTTPCheck(path: c.path, host: c.host, expect: c.expect, body: c.body))
        case .https: kind = .https(HTTPCheck(path: c.path, host: c.host, expect: c.expect, body: c.body, insecure: c.insecure))
        case .udp: kind = .udp(UDPCheck(send: c.send, receive: c.receive))
        case .exec: kind = .exec(ExecCheck(argv: c.exec))
        }
        self.init(service: l.service, server: l.server, kind: kind, port: c.port == l.server.port ? nil : c.port,
                  interval: c.interval, timeout: c.timeout, rise: c.rise, fall: c.fall,
                  onFail: c.remove ? .remove : .quiesce, slowStart: c.slowStart)
    }

    /// The `check` line that reads back as this check, with only the options that differ from the defaults.
    public var line: String {
        var a = ["check"] + service.option.split(separator: " ").map(String.init) + ["-r", server.description, "--type", kind.name]
        if let p = port { a += ["--port", String(p)] }
        if interval != Self.defaultInterval { a += ["--interval", formatSeconds(interval)] }
        if timeout != Self.defaultTimeout { a += ["--timeout", formatSeconds(timeout)] }
        if rise != Self.defaultRise { a += ["--rise", String(rise)] }
        if fall != Self.defaultFall { a += ["--fall", String(fall)] }
        if onFail != .quiesce { a += ["--on-fail", onFail.rawValue] }
        if slowStart != 0 { a += ["--slow-start", formatSeconds(slowStart)] }
        switch kind {
        case .tcp: break
        case .http(let h), .https(let h):
            if h.path != "/" { a += ["--path", h.path] }
            if let host = h.host { a += ["--host", host] }
            if h.expect != HTTPCheck.defaultExpect {
                a += ["--expect", h.expect.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
                    .joined(separator: ",")]
            }
            if let b = h.body { a += ["--body", b] }
            if h.insecure { a.append("--insecure") }
        case .udp(let u):
            if let s = u.send { a += ["--send", s] }
            if let r = u.receive { a += ["--receive", r] }
        case .exec(let e):
            a += ["--exec", e.argv.map(quotedWord).joined(separator: " ")]
        }
        return a.map(quotedWord).joined(separator: " ")
    }
}

extension SorryServer {
    /// The `sorry` line that reads back as this sorry server.
    public var line: String {
        var a = "sorry \(service.option) -r \(server.endpoint)"
        switch server.forwarding {
        case .masquerade: a += " -m"
        case .tunnel: a += " -i"
        case .directRoute, .local, .bypass: a += " -g"
        }
        if server.weight != 1 { a += " -w \(server.weight)" }
        return a
    }
}

/// A word as the file tokenizer (``ConfigFile/tokenize(_:)``) reads it back: bare when it has no blank, quote or
/// `#`, else quoted (single quotes, double quotes, or quoted pieces side by side when it holds both kinds).
func quotedWord(_ w: String) -> String {
    if !w.isEmpty, !w.contains(where: { $0 == " " || $0 == "\t" || $0 == "'" || $0 == "\"" || $0 == "#" }) { return w }
    if !w.contains("'") { return "'\(w)'" }
    if !w.contains("\"") { return "\"\(w)\"" }
    return w.split(separator: "'", omittingEmptySubsequences: false).map { "'\($0)'" }.joined(separator: "\"'\"")
}

extension MonitorConfig {
    /// The services, checks and sorry servers of a parsed file.
    public init(_ file: Loader.File) {
        self.init(config: file.desired, checks: file.source.checks.map(HealthCheck.init),
                  sorry: file.source.sorry.map { SorryServer(service: $0.service, server: $0.server) })
    }

    /// The table `monitor` loads (with `apply`) before its checks have decided anything, given the kernel's table:
    /// the file as configured, except that a checked server already in the kernel keeps the weight it has there (it
    /// was serving, or was quiesced, before the monitor started), a checked server not in the kernel comes in at
    /// weight 0 (absent with `--on-fail remove`): no server gets traffic before it has passed a check. A sorry
    /// server in the kernel stays as it is until the first round decides.
    public func startupConfig(kernel: [ServiceEntry]) -> ClusterConfig {
        var running: [ServiceKey: [Endpoint: RealServer]] = [:]
        for e in kernel {
            var m: [Endpoint: RealServer] = [:]
            for d in e.servers { m[d.endpoint] = d }
            running[e.service.key] = m
        }
        var checked = Set<ServerRef>(), removed = Set<ServerRef>()
        for c in checks {
            checked.insert(c.ref)
            if c.onFail == .remove { removed.insert(c.ref) }
        }
        var c = config
        for i in c.entries.indices {
            let key = c.entries[i].service.key
            c.entries[i].servers = c.entries[i].servers.compactMap { d in
                let ref = ServerRef(service: key, server: d.endpoint)
                guard checked.contains(ref) else { return d }
                var x = d
                if let k = running[key]?[d.endpoint] { x.weight = k.weight; return x }
                if removed.contains(ref) { return nil }
                x.weight = 0
                return x
            }
            for s in sorry where s.service == key {
                guard let k = running[key]?[s.server.endpoint], !c.entries[i].servers.contains(where: { $0.endpoint == s.server.endpoint }) else { continue }
                var x = s.server
                x.weight = k.weight
                c.entries[i].servers.append(x)
            }
        }
        return c
    }

    /// The check and sorry lines, in file order (checks first).
    public var lines: [String] { checks.map(\.line) + sorry.map(\.line) }
}
