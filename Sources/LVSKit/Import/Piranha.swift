import LVSCore
/// Reads Piranha's `lvs.cf` (Red Hat's pulse/lvsd/nanny LVS suite) and converts it to the lvsctl format.
///
/// The grammar follows piranha's `lvsconfig.c`: `KEY = VALUE` lines, `virtual NAME {` blocks with
/// `server NAME {` blocks inside, `failover NAME {` blocks, `#` comment lines and `"`/`'` quoted values.
/// The conversion follows what piranha's `lvsd` and `nanny` passed to ipvsadm: only active virtual servers
/// and active real servers are loaded, `network` chooses the forwarding method of every real server, and
/// `persistent`/`pmask` become `-p`/`-M`. nanny's health checks become `check` and `sorry` lines for
/// `lvsctl monitor` (PiranhaNanny.swift). Keys lvsctl does not act on (heartbeat, load monitoring, VIP
/// interfaces) are never dropped silently: each becomes an ``IgnoredKey`` and a `# ignored:` comment.
///
/// Everything here is pure: no file, kernel or name-service access, so it can be unit-tested and fuzzed.
public enum Piranha {
    // MARK: - Errors and reports

    /// A syntax error or a bad value in `lvs.cf`; `line` is 1-based and `message` names the bad value.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The line of `lvs.cf` the error is on.
        public var line: Int
        /// One line, naming the key and the bad value.
        public var message: String
        /// Creates an error.
        public init(line: Int, _ message: String) { self.line = line; self.message = message }
        /// `line N: message`.
        public var description: String { "line \(line): \(message)" }
    }

    /// A key of `lvs.cf` that the conversion does not turn into an lvsctl command, and why.
    public struct IgnoredKey: Equatable, Sendable {
        /// The key (or a block, `failover NAME`).
        public var key: String
        /// The value as written, or nil for a whole block.
        public var value: String?
        /// The line it is on.
        public var line: Int
        /// Why lvsctl does not act on it.
        public var reason: String
        /// Creates a report.
        public init(key: String, value: String?, line: Int, reason: String) {
            self.key = key; self.value = value; self.line = line; self.reason = reason
        }
        /// The output comment: `# ignored: KEY = VALUE (line N): reason`.
        public var comment: String {
            let kv = value.map { "\(key) = \(display($0))" } ?? key
            return "# ignored: \(kv) (line \(line)): \(reason)"
        }
    }

    // MARK: - Syntax

    /// One `KEY = VALUE ...` line.
    public struct Setting: Equatable, Sendable {
        /// The key.
        public var key: String
        /// The words after `=`, quotes removed.
        public var words: [String]
        /// The text after `=` as written (quotes kept), for reports.
        public var raw: String
        /// The line it is on.
        public var line: Int
    }

    /// A `virtual`, `failover` or `server` block.
    public struct Block: Equatable, Sendable {
        /// `virtual`, `failover` or `server`.
        public var kind: String
        /// The name after the kind.
        public var name: String
        /// The line of `KIND NAME {`.
        public var line: Int
        /// The line of the closing `}`.
        public var endLine: Int
        /// The `KEY = VALUE` lines, in file order.
        public var settings: [Setting]
        /// The `server` blocks of a `virtual` block.
        public var servers: [Block]
    }

    /// A parsed `lvs.cf`: the global settings and the blocks, in file order.
    public struct Document: Equatable, Sendable {
        /// The `KEY = VALUE` lines outside any block.
        public var globals: [Setting] = []
        /// The `virtual` and `failover` blocks.
        public var blocks: [Block] = []
    }

    /// Splits one line into words like `lvsconfig.c`'s tokenizer: blank-separated, a word starting with `"`
    /// or `'` runs to the matching quote (blanks included). An unquoted word starting with `#` ends the line.
    /// Returns the words and, for each, the text as written.
    static func tokenize(_ line: Substring, lineNo: Int) throws -> [(word: String, raw: Substring)] {
        var out: [(String, Substring)] = []
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if c == " " || c == "\t" { i = line.index(after: i); continue }
            let start = i
            if c == "\"" || c == "'" {
                guard let close = line[line.index(after: i)...].firstIndex(of: c) else {
                    throw ParseError(line: lineNo, "unterminated quote \(c) in \(shown(String(line[i...])))")
                }
                out.append((String(line[line.index(after: i)..<close]), line[start...close]))
                i = line.index(after: close)
                continue
            }
            if c == "#" { break }
            while i < line.endIndex, line[i] != " ", line[i] != "\t" { i = line.index(after: i) }
            out.append((String(line[start..<i]), line[start..<i]))
        }
        return out
    }

    /// Parses the syntax of `lvs.cf`: blocks and `KEY = VALUE` lines. Values are checked by `convert(_:source:)` (the `Document` overload).
    /// Accepts `KEY=VALUE` without blanks too. Throws ``ParseError`` naming the line.
    public static func parse(_ text: String) throws -> Document {
        var doc = Document()
        // The block being read: a virtual/failover, and the server inside it.
        var outer: Block?
        var inner: Block?
        var lineNo = 0
        // "\r\n" is one Character in Swift: split on both forms.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNo += 1
            var line = rawLine
            if line.hasSuffix("\r") { line = line.dropLast() }
            if let bad = line.unicodeScalars.first(where: { ($0.value < 32 && $0 != "\t") || $0.value == 127 }) {
                throw ParseError(line: lineNo, "control character \(shown(String(bad))) in the line")
            }
            var toks = try tokenize(line, lineNo: lineNo)
            if toks.isEmpty { continue }
            // `KEY=VALUE` and `KEY =VALUE` / `KEY= VALUE`: split the `=` off.
            if toks[0].raw.first != "\"", toks[0].raw.first != "'", let eq = toks[0].word.firstIndex(of: "="), toks[0].word != "=" {
                let w = toks[0].word
                let key = String(w[..<eq]), rest = String(w[w.index(after: eq)...])
                var split: [(word: String, raw: Substring)] = [(key, Substring(key)), ("=", "=")]
                if !rest.isEmpty { split.append((rest, Substring(rest))) }
                toks.replaceSubrange(0...0, with: split)
            } else if toks.count > 1, toks[1].word.hasPrefix("="), toks[1].word != "=", toks[1].raw.first == "=" {
                let rest = String(toks[1].word.dropFirst())
                toks.replaceSubrange(1...1, with: [("=", "="), (rest, Substring(rest))])
            }
            let words = toks.map { $0.word }
            if words == ["}"] {
                if var s = inner {
                    s.endLine = lineNo; outer?.servers.append(s); inner = nil
                } else if var b = outer {
                    b.endLine = lineNo; doc.blocks.append(b); outer = nil
                } else {
                    throw ParseError(line: lineNo, "'}' without an open virtual or server block")
                }
                continue
            }
            let first = words[0]
            if words.count >= 2 && words[1] != "=" && (first == "virtual" || first == "failover" || first == "server") {
                guard words.count == 3, words[2] == "{" else {
                    throw ParseError(line: lineNo, "expected '\(first) NAME {' on one line, got \(shown(String(line.drop { $0 == " " || $0 == "\t" })))")
                }
                if first == "server" {
                    if let i = inner {
                        throw ParseError(line: lineNo, "server \(shown(words[1])) inside server \(shown(i.name)) (line \(i.line)); is a '}' missing?")
                    }
                    guard let o = outer else { throw ParseError(line: lineNo, "server \(shown(words[1])) is outside a virtual block") }
                    guard o.kind == "virtual" else { throw ParseError(line: lineNo, "server \(shown(words[1])) inside failover \(shown(o.name))") }
                    inner = Block(kind: "server", name: words[1], line: lineNo, endLine: lineNo, settings: [], servers: [])
                } else {
                    if let o = outer {
                        throw ParseError(line: lineNo, "\(first) \(shown(words[1])) inside \(o.kind) \(shown(o.name)) (line \(o.line)); is a '}' missing?")
                    }
                    outer = Block(kind: first, name: words[1], line: lineNo, endLine: lineNo, settings: [], servers: [])
                }
                continue
            }
            guard words.count >= 2, words[1] == "=", !first.isEmpty else {
                throw ParseError(line: lineNo, "expected 'KEY = VALUE', got \(shown(String(line.drop { $0 == " " || $0 == "\t" })))")
            }
            let s = Setting(key: first, words: Array(words.dropFirst(2)),
                            raw: toks.dropFirst(2).map { String($0.raw) }.joined(separator: " "), line: lineNo)
            if inner != nil { inner!.settings.append(s) } else if outer != nil { outer!.settings.append(s) } else { doc.globals.append(s) }
        }
        if let s = inner { throw ParseError(line: s.line, "server \(shown(s.name)) is not closed with '}' before the end of the file") }
        if let b = outer { throw ParseError(line: b.line, "\(b.kind) \(shown(b.name)) is not closed with '}' before the end of the file") }
        return doc
    }

    // MARK: - Conversion

    /// The result of a conversion.
    public struct Conversion: Sendable {
        /// The lvsctl file: one command per line, `#` comments; valid input for `lvsctl restore`.
        public var text: String
        /// What was not converted, in file order (also in `text` as `# ignored:` comments).
        public var ignored: [IgnoredKey]
        /// The state `text` describes: what `lvsctl restore` of it loads.
        public var config: ClusterConfig
    }

    /// Converts an `lvs.cf` text; `source` names the file in the header comment. Throws ``ParseError``.
    public static func convert(_ text: String, source: String) throws -> Conversion {
        try convert(parse(text), source: source)
    }

    /// Reasons for keys lvsctl does not act on, by key.
    static let globalReasons: [String: String] = {
        var r: [String: String] = [:]
        let noFailover = "lvsctl does no router failover (keepalived or pacemaker can)"
        for k in ["primary", "primary_private", "primary_shared", "backup", "backup_private", "backup_shared", "backup_active"] {
            r[k] = "LVS router role for pulse's failover; " + noFailover
        }
        for k in ["heartbeat", "heartbeat_port", "keepalive", "deadtime", "monitor_links", "hard_shutdown", "heartbeat_dev"] {
            r[k] = "pulse heartbeat between the LVS routers; " + noFailover
        }
        r["keepalive"] = "pulse heartbeat between the LVS routers (nanny's checks ran every 'timeout' seconds of each virtual, not every keepalive); " + noFailover
        r["active_cmd"] = "script pulse ran on becoming the active router; " + noFailover
        r["inactive_cmd"] = "script pulse ran on becoming the standby router; " + noFailover
        r["nat_router"] = "floating NAT gateway address that pulse brought up; lvsctl does not manage addresses (real servers still route through it)"
        r["nat_nmask"] = "netmask of the floating NAT gateway address; lvsctl does not manage addresses"
        r["service"] = "selects lvs or fos for pulse; the virtual servers are what lvsctl converts"
        for k in ["serial_no", "debug_level", "rsh_command", "sync", "ipvsadm", "reservation_conflict_action"] {
            r[k] = "piranha's own setting; no lvsctl equivalent"
        }
        return r
    }()

    static let virtualReasons: [String: String] = [
        "vip_nmask": "netmask of the VIP that pulse brought up; lvsctl does not manage VIPs",
        "client_monitor": "the health-check program lvsd ran (nanny); the check lines are for lvsctl monitor",
        "master": "piranha file synchronisation; no lvsctl equivalent",
        "dirs": "piranha file synchronisation; no lvsctl equivalent",
        "start_cmd": "failover-service command, not IPVS",
        "stop_cmd": "failover-service command, not IPVS",
    ]
    static let serverReasons: [String: String] = ["log_file": "piranha logging; no lvsctl equivalent"]
    static let unknownKey = "not a piranha lvs.cf key lvsctl knows; not converted"

    /// Collects settings by key, last one winning as in piranha; earlier duplicates are reported.
    struct Settings {
        var byKey: [String: Setting] = [:]
        var order: [Setting] = []
        var ignored: [IgnoredKey] = []
        init(_ list: [Setting]) {
            for s in list {
                if let old = byKey[s.key] {
                    ignored.append(IgnoredKey(key: old.key, value: old.raw, line: old.line, reason: "overridden by line \(s.line) (the last value wins, as in piranha)"))
                    order.removeAll { $0.line == old.line }
                }
                byKey[s.key] = s; order.append(s)
            }
        }
        subscript(_ k: String) -> Setting? { byKey[k] }
    }

    /// Converts a parsed `lvs.cf`. Throws ``ParseError`` for bad values, naming the key, the value and the line.
    public static func convert(_ doc: Document, source: String) throws -> Conversion {
        var ignored: [IgnoredKey] = []
        var config = ClusterConfig()
        var head: [String] = [
            "# lvsctl configuration converted from piranha's \(display(source)) by 'lvsctl import piranha'.",
            "# Load it with: lvsctl restore FILE. Piranha keys lvsctl does not act on are listed as '# ignored:' comments.",
        ]
        var anyChecks = false

        // Global settings.
        let g = Settings(doc.globals)
        ignored += g.ignored
        var forwarding = ForwardingMethod.masquerade
        if let n = g["network"] {
            let v = try single(n)
            switch v {
            case "direct": forwarding = .directRoute
            case "nat": forwarding = .masquerade
            case "tunnel": forwarding = .tunnel
            default: throw ParseError(line: n.line, "invalid network \(shown(v)) (expected direct, nat or tunnel)")
            }
            head.append("# network = \(v) (line \(n.line)): every real server uses \(forwardingWords(forwarding)) (\(forwarding.option)).")
        } else {
            head.append("# No 'network' key: piranha's default is nat, so every real server uses NAT (-m).")
        }
        var timeouts: (tcp: UInt32, fin: UInt32, udp: UInt32, given: Bool) = (0, 0, 0, false)
        for (k, path) in [("tcp_timeout", 0), ("tcpfin_timeout", 1), ("udp_timeout", 2)] {
            guard let s = g[k] else { continue }
            let v = try number(s, 0...UInt64(Timeouts.maxValue))
            timeouts.given = true
            switch path { case 0: timeouts.tcp = UInt32(v); case 1: timeouts.fin = UInt32(v); default: timeouts.udp = UInt32(v) }
        }
        if timeouts.given { config.timeouts = Timeouts(tcp: timeouts.tcp, tcpFin: timeouts.fin, udp: timeouts.udp) }
        var daemonNote: [String] = []
        let syncOn = try g["syncdaemon"].map { try boolean($0) } ?? false
        if syncOn {
            var ifname = "eth0"
            if let s = g["syncd_iface"] {
                ifname = try single(s)
                guard !ifname.isEmpty, ifname.count < 16, ifname.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 47 }) else {
                    throw ParseError(line: s.line, "invalid syncd_iface \(shown(ifname)) (an interface name of 1..15 characters)")
                }
            }
            let id = try g["syncd_id"].map { UInt32(try number($0, 0...255)) } ?? 0
            let d = SyncDaemon(state: .master, interface: ifname, syncID: id)
            config.daemons.append(d)
            var backup = d; backup.state = .backup
            daemonNote = [
                "# syncdaemon = 1 (line \(g["syncdaemon"]!.line)): pulse ran the master sync daemon on the active router and a backup",
                "# daemon on the standby router. On the standby, use instead: daemon start \(LVSCtlFormat.daemonArguments(backup))",
            ]
        } else {
            if let sd = g["syncdaemon"] {
                head.append("# note: syncdaemon = \(display(sd.raw)) (line \(sd.line)): piranha started no sync daemon, so no 'daemon start' line.")
            }
            for k in ["syncd_iface", "syncd_id"] {
                if let s = g[k] { ignored.append(IgnoredKey(key: k, value: s.raw, line: s.line, reason: "syncdaemon is not 1, so piranha started no sync daemon")) }
            }
        }
        let converted: Set<String> = ["network", "tcp_timeout", "tcpfin_timeout", "udp_timeout", "syncdaemon", "syncd_iface", "syncd_id"]
        for s in g.order where !converted.contains(s.key) {
            var reason = globalReasons[s.key] ?? unknownKey
            if s.key == "service", s.words.first == "fos" {
                reason = "pulse ran failover services (fos), not these virtual servers; they are converted anyway"
            }
            ignored.append(IgnoredKey(key: s.key, value: s.raw, line: s.line, reason: reason))
        }
        let globalIgnored = ignored.sorted { $0.line < $1.line }

        // Virtual servers.
        var body: [String] = []
        var seen: [ServiceKey: (String, Int)] = [:]
        for b in doc.blocks {
            if b.kind == "failover" {
                let fo = IgnoredKey(key: "failover \(b.name) { ... }", value: nil, line: b.line,
                                    reason: "a failover service (fos, lines \(b.line)-\(b.endLine)) is not IPVS; not converted")
                ignored.append(fo)
                body += ["", fo.comment]
                continue
            }
            let v = try virtual(b, forwarding: forwarding)
            if !v.active {
                // Commented out whole, with its notes and the keys it does not convert, so that nothing in it is lost.
                let missing = v.placeholder ? "; no 'address', written VIP below" : ""
                body.append("")
                body.append("# inactive virtual \(b.name) skipped (line \(b.line): \(v.activeText)\(missing)); piranha's lvsd did not load it")
                body += v.notes.dropFirst()
                body += v.lines.map { "# " + $0 }
                ignored += v.ignored
                body += v.ignored.map(\.comment)
                continue
            }
            if let (other, line) = seen[v.entry.service.key] {
                throw ParseError(line: b.line, "virtual \(shown(b.name)) is the same service \(v.entry.service.key) as virtual \(shown(other)) (line \(line))")
            }
            seen[v.entry.service.key] = (b.name, b.line)
            anyChecks = anyChecks || v.checks
            config.entries.append(v.entry)
            ignored += v.ignored
            body.append("")
            body += v.notes
            body += v.lines
            body += v.ignored.map(\.comment)
        }

        var out = head
        if anyChecks {
            out.insert("# nanny's health checks are 'check' and 'sorry' lines: lvsctl monitor runs them; restore and apply skip them.", at: 2)
        }
        if !globalIgnored.isEmpty { out.append(""); out += globalIgnored.map(\.comment) }
        if let t = config.timeouts {
            out.append("")
            out.append("timeout set --tcp \(t.tcp) --tcpfin \(t.tcpFin) --udp \(t.udp)")
        }
        out += body
        if let d = config.daemons.first {
            out.append("")
            out += daemonNote
            out.append("daemon start " + LVSCtlFormat.daemonArguments(d))
        }
        ignored.sort { $0.line < $1.line }
        return Conversion(text: out.joined(separator: "\n") + "\n", ignored: ignored, config: config)
    }

    /// One converted virtual block.
    struct Virtual {
        var active: Bool
        var activeText: String
        /// True for an inactive virtual without an address: its lines say `VIP` where the address goes.
        var placeholder = false
        var entry: ServiceEntry
        var lines: [String]
        var notes: [String]
        var ignored: [IgnoredKey]
        /// True when `lines` has check or sorry lines (or their notes).
        var checks = false
    }

    /// Converts one `virtual` block: its `vs add` line, the `rs add` lines of its servers (inactive ones
    /// commented out), comments, and the keys it does not convert.
    static func virtual(_ b: Block, forwarding: ForwardingMethod) throws -> Virtual {
        let s = Settings(b.settings)
        var ignored = s.ignored
        var notes = ["# virtual \(b.name) (line \(b.line))"]
        let active = try s["active"].map { try boolean($0) } ?? false
        let activeText = s["active"].map { "active = \($0.raw)" } ?? "no 'active = 1'"

        var address: IPAddress?
        if let a = s["address"] {
            guard a.words.count == 1 || a.words.count == 2 else {
                throw ParseError(line: a.line, a.words.isEmpty ? "address needs a value" : "unexpected \(shown(a.words[2])) after address = \(a.words[0]) \(a.words[1])")
            }
            address = try ip(a.words[0], a, what: "virtual server address")
            if a.words.count == 2 {
                ignored.append(IgnoredKey(key: "address (interface)", value: a.words[1], line: a.line,
                                          reason: "pulse brought the VIP up on this interface; lvsctl does not manage VIPs"))
            }
        }
        var mark: UInt32 = 0
        if let f = s["fwmark"] { mark = UInt32(try number(f, 0...0xFFFF_FFFF)) }
        var proto = IPProtocol.tcp
        if let p = s["protocol"] {
            switch try single(p) {
            case "tcp": proto = .tcp
            case "udp": proto = .udp
            default: throw ParseError(line: p.line, "invalid protocol \(shown(p.words[0])) (expected tcp or udp)")
            }
        }
        var port: UInt16 = 80
        if let p = s["port"] { port = try portNumber(p) }
        let key: ServiceKey
        // How the lines name the service: the key, or `-t VIP:PORT` for an inactive virtual without an address.
        var keyText: String?
        if mark != 0 {
            key = .fwmark(mark, address?.family ?? .inet)
        } else {
            if let a = address {
                key = .address(proto, Endpoint(address: a, port: port))
            } else if !active {
                // Piranha parses such a block (address 0.0.0.0) and only fails when it starts it. It is converted
                // with the placeholder VIP, so that its port, scheduler, persistence and servers still show.
                let family = b.servers.lazy.compactMap { $0.settings.last { $0.key == "address" }?.words.first.flatMap(IPAddress.init) }.first?.family
                key = .address(proto, Endpoint(address: IPAddress(bytes: [UInt8](repeating: 0, count: family == .inet6 ? 16 : 4))!, port: port))
                keyText = "\(proto.option) VIP:\(port)"
            } else {
                throw ParseError(line: b.line, "virtual \(shown(b.name)) has no address (and no fwmark)")
            }
            if s["port"] == nil { notes.append("# (no 'port' key: piranha's default, 80)") }
        }
        let keyOption = keyText ?? key.option
        var svc = VirtualService(key: key)
        if let sch = s["scheduler"] {
            let name = try single(sch)
            guard Scheduler.known.contains(name) else {
                throw ParseError(line: sch.line, "invalid scheduler \(shown(name)) (expected one of \(Scheduler.known.joined(separator: " ")))")
            }
            svc.scheduler = Scheduler(name)
        }
        var persistent: UInt32 = 0
        if let p = s["persistent"] { persistent = UInt32(try number(p, 0...UInt64(Timeouts.maxValue))) }
        // Keys whose value means "off" or "the default" change no option; a note (in line order) says they were read.
        var keyNotes: [(line: Int, text: String)] = []
        if let f = s["fwmark"], mark == 0 {
            keyNotes.append((f.line, "# note: fwmark = \(display(f.raw)) (line \(f.line)): 0 is no firewall mark, so the service is the address and port"))
        }
        if let p = s["persistent"], persistent == 0 {
            keyNotes.append((p.line, "# note: persistent = \(display(p.raw)) (line \(p.line)): 0 is no persistence, as in piranha (no -p)"))
        }
        if persistent > 0 {
            svc.flags.insert(.persistent)
            svc.timeout = persistent
            svc.netmask = VirtualService.fullNetmask(key.family)
        }
        if let m = s["pmask"] {
            let text = try single(m)
            if text == "0.0.0.0" {
                ignored.append(IgnoredKey(key: "pmask", value: m.raw, line: m.line, reason: "piranha treated 0.0.0.0 as no netmask"))
            } else {
            guard let w = Netmask.parse(text, family: key.family), IPAddress(text) != nil || key.family == .inet6 else {
                throw ParseError(line: m.line, "invalid pmask \(shown(text)) (expected a netmask like 255.255.255.0)")
            }
            if persistent > 0 {
                svc.netmask = w
                if w == VirtualService.fullNetmask(key.family) {
                    keyNotes.append((m.line, "# note: pmask = \(display(m.raw)) (line \(m.line)): the whole address, the default with -p, so no -M"))
                }
            } else {
                ignored.append(IgnoredKey(key: "pmask", value: m.raw, line: m.line, reason: "no persistence (persistent is missing or 0), so piranha did not use it either"))
            }
            }
        }
        notes += keyNotes.sorted { $0.line < $1.line }.map(\.text)
        if case .address(_, let e) = key, e.port == 0, persistent == 0 {
            throw ParseError(line: s["port"]?.line ?? b.line, "port 0 of virtual \(shown(b.name)) needs persistence (persistent = SECONDS)")
        }
        if mark != 0 {
            notes.append("# fwmark \(mark): piranha relied on your own iptables rules marking this virtual's packets with \(mark); keep them.")
            let okName = !b.name.isEmpty && b.name.count <= 64 && b.name.first != "-" && b.name.first != "."
                && b.name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 || $0 == 46 || $0 == 45 }
            let hint = "bundle add \(okName ? b.name : "NAME") --vip \(address?.description ?? "VIP") --ports PORTS --mark \(mark) "
                + LVSCtlFormat.settingsArguments(svc)
            notes.append("# Or let lvsctl own the rules: replace the vs add line below with (PORTS: the ports your rules mark)")
            notes.append("#   " + hint)
            if let p = s["protocol"] {
                ignored.append(IgnoredKey(key: "protocol", value: p.raw, line: p.line, reason: "a fwmark service matches any protocol; piranha used this only to choose nanny's check (tcp or udp, below)"))
            }
        }
        var lines = ["vs add \(keyOption) " + LVSCtlFormat.settingsArguments(svc)]
        var servers: [RealServer] = []
        var seenServers: [Endpoint: (String, Int)] = [:]
        var checked: [NannyServer] = []
        for sb in b.servers {
            let ss = Settings(sb.settings)
            var sIgnored = ss.ignored
            let sActive = try ss["active"].map { try boolean($0) } ?? false
            var weight: Int32 = 1
            if let w = ss["weight"] { weight = Int32(try number(w, 0...UInt64(RealServer.maxWeight))) }
            var rport: UInt16? = nil
            if let p = ss["port"] { rport = try portNumber(p) }
            for k in ss.order where !["address", "active", "weight", "port"].contains(k.key) {
                sIgnored.append(IgnoredKey(key: k.key, value: k.raw, line: k.line, reason: serverReasons[k.key] ?? unknownKey))
            }
            guard let aSetting = ss["address"] else {
                if !sActive {
                    lines.append("# inactive server \(sb.name) (line \(sb.line)) has no address; piranha did not add it")
                    ignored += sIgnored
                    continue
                }
                throw ParseError(line: sb.line, "server \(shown(sb.name)) of virtual \(shown(b.name)) has no address")
            }
            let ra = try ip(try single(aSetting), aSetting, what: "real server address")
            if ra.family != key.family && forwarding != .tunnel {
                throw ParseError(line: aSetting.line, "real server \(ra) is \(ra.family) but virtual \(shown(b.name)) is \(key.family); mixed families need network = tunnel")
            }
            // The port piranha's nanny gave ipvsadm: the server's own port, else the virtual's port as it stood at the
            // `server NAME {` line (lvsconfig.c copies it there; 80 by default), so a `port` key after the server
            // blocks does not reach them. ipvsadm replaces it by the service port for direct routing and
            // tunnelling, except for fwmark services.
            let portSetting = b.settings.last { $0.key == "port" && $0.line < sb.line }
            let portHere = try portSetting.map { try portNumber($0) } ?? 80
            let dport: UInt16
            switch (forwarding, key) {
            case (.masquerade, .address): dport = rport ?? portHere
            case (_, .address(_, let e)): dport = e.port
            case (_, .fwmark): dport = rport ?? portHere
            }
            if rport == nil, dport == portHere, portHere != port, let later = s["port"] {
                let was = portSetting.map { "\(portHere) (line \($0.line))" } ?? "\(portHere) (the default)"
                lines.append("# note: port = \(display(later.raw)) (line \(later.line)) comes after server \(sb.name) (line \(sb.line)), so as in piranha \(sb.name) keeps the virtual's port at that line: \(was); add 'port = \(port)' to its block to change it")
            }
            if let p = ss["port"], forwarding != .masquerade, !key.isFwmark, rport != key.port {
                sIgnored.append(IgnoredKey(key: "port", value: p.raw, line: p.line,
                                           reason: "with \(forwardingWords(forwarding)) the kernel keeps the service's port (nanny checked this one: the check's --port)"))
            }
            if key.isFwmark && forwarding == .masquerade && dport != 0 && !notes.contains(where: { $0.hasPrefix("# NAT to a fwmark") }) {
                notes.append("# NAT to a fwmark service: as in piranha, connections go to port \(dport) of the real servers (write ADDR:0 to keep each connection's port).")
            }
            let d = RealServer(address: ra, port: dport, forwarding: forwarding, weight: weight)
            let line = "rs add \(keyOption) " + LVSCtlFormat.serverArguments(d)
            checked.append(NannyServer(name: sb.name, line: sb.line, server: d, checkedPort: rport ?? portHere, active: sActive))
            if !sActive {
                lines.append("# inactive server \(sb.name) (line \(sb.line)): piranha did not add it; remove the '# ' below to add it")
                lines.append("# " + line)
                ignored += sIgnored
                continue
            }
            if let (other, l) = seenServers[d.endpoint] {
                throw ParseError(line: sb.line, "server \(shown(sb.name)) is the same real server \(d.endpoint) as server \(shown(other)) (line \(l))")
            }
            seenServers[d.endpoint] = (sb.name, sb.line)
            servers.append(d)
            lines.append(line)
            ignored += sIgnored
        }
        let nanny = try nannyLines(s, virtualName: b.name, key: key, keyOption: keyOption, proto: proto, virtualPort: port,
                                   forwarding: forwarding, servers: checked)
        lines += nanny.lines
        ignored += nanny.ignored
        let convertedKeys = nannyKeys.union(["active", "address", "fwmark", "protocol", "port", "scheduler", "persistent", "pmask"])
        for k in s.order where !convertedKeys.contains(k.key) {
            ignored.append(IgnoredKey(key: k.key, value: k.raw, line: k.line, reason: virtualReasons[k.key] ?? unknownKey))
        }
        ignored.sort { $0.line < $1.line }
        return Virtual(active: active, activeText: activeText, placeholder: keyText != nil, entry: ServiceEntry(service: svc, servers: servers),
                       lines: lines, notes: notes, ignored: ignored, checks: nanny.any)
    }

    // MARK: - Values

    static func forwardingWords(_ f: ForwardingMethod) -> String {
        switch f { case .masquerade: "NAT"; case .tunnel: "tunnelling"; default: "direct routing" }
    }

    /// The one value of a setting.
    static func single(_ s: Setting) throws -> String {
        guard let v = s.words.first else { throw ParseError(line: s.line, "\(s.key) needs a value") }
        if s.words.count > 1 { throw ParseError(line: s.line, "unexpected \(shown(s.words[1])) after \(s.key) = \(v)") }
        return v
    }

    /// A number as piranha's `strtol(..., 0)` reads it: decimal or 0x hex. A leading 0 (octal to piranha) is refused.
    static func number(_ s: Setting, _ range: ClosedRange<UInt64>) throws -> UInt64 {
        let v = try single(s)
        var n: UInt64?
        if v.hasPrefix("0x") || v.hasPrefix("0X") {
            let h = v.dropFirst(2)
            if !h.isEmpty, h.count <= 16, h.allSatisfy(\.isHexDigit) { n = UInt64(h, radix: 16) }
        } else if v.count > 1 && v.hasPrefix("0") && v.allSatisfy(\.isNumber) {
            throw ParseError(line: s.line, "invalid \(s.key) \(shown(v)): piranha reads a leading 0 as octal; write the number in decimal")
        } else {
            n = parseDecimal(v)
        }
        guard let x = n, range.contains(x) else {
            throw ParseError(line: s.line, "invalid \(s.key) \(shown(v)) (expected \(range.lowerBound)..\(range.upperBound))")
        }
        return x
    }

    /// `0` or `1`.
    static func boolean(_ s: Setting) throws -> Bool {
        let v = try single(s)
        guard v == "0" || v == "1" else { throw ParseError(line: s.line, "invalid \(s.key) \(shown(v)) (expected 0 or 1)") }
        return v == "1"
    }

    /// Service names piranha's `getservbyname()` would commonly find, so named ports convert without /etc/services.
    static let portNames: [String: UInt16] = [
        "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "http": 80, "www": 80, "pop3": 110, "nntp": 119,
        "imap": 143, "imap2": 143, "ldap": 389, "https": 443, "smtps": 465, "submission": 587, "ldaps": 636,
        "imaps": 993, "pop3s": 995, "mysql": 3306, "postgresql": 5432,
    ]

    /// A port: a number 0..65535 or a common service name.
    static func portNumber(_ s: Setting) throws -> UInt16 {
        let v = try single(s)
        if let p = portNames[v] { return p }
        if !(v.first?.isNumber ?? false) {
            throw ParseError(line: s.line, "invalid \(s.key) \(shown(v)) (expected 0..65535 or a common service name such as http)")
        }
        return UInt16(try number(s, 0...65535))
    }

    /// A usable unicast address. Host names are refused: the conversion does not resolve names.
    static func ip(_ text: String, _ s: Setting, what: String) throws -> IPAddress {
        guard let a = IPAddress(text) else {
            throw ParseError(line: s.line, "invalid \(what) \(shown(text)) (an IP address; host names are not resolved)")
        }
        guard a.isUsableUnicast else {
            throw ParseError(line: s.line, "\(what) \(shown(text)) is not a usable unicast address")
        }
        return a
    }

    /// Shows a value in an error message: quoted, control characters escaped, long values cut.
    static func shown(_ s: String) -> String { "'\(display(s))'" }

    /// A value made safe for one comment or message line: control characters escaped, at most 120 characters.
    static func display(_ s: String) -> String {
        var t = ""
        for u in s.unicodeScalars {
            if u.value < 32 || u.value == 127 { t += (u.value < 16 ? "\\x0" : "\\x") + String(u.value, radix: 16) } else { t.unicodeScalars.append(u) }
        }
        if t.count > 120 { t = String(t.prefix(117)) + "..." }
        return t
    }
}
