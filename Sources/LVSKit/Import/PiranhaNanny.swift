import LVSCore

// nanny's health checks as lvsctl `check` and `sorry` lines (for `lvsctl monitor`, issue #19).
//
// What nanny did, from piranha's lvsd.c, lvsconfig.c and nanny.c as read (not run) in the ssocopsacc/piranha copy
// of Red Hat's piranha (one nanny process per active real server; that copy's TLS additions to nanny left aside):
// - lvsd ran `nanny -t TIMEOUT -a REENTRY [-s SEND] [-x EXPECT] [--regex] [-e PROGRAM] [-q] [-u] -p PORT -r RPORT`:
//   the virtual's `timeout` (default 10) is nanny's interval, not pulse's `keepalive` (the heartbeat). PORT is the
//   virtual's port, RPORT the server's (its own `port`, else the virtual's at its `server` line), the port checked.
// - Each round: the check (connect, send, read: each step with `timeout` seconds; send_program with an alarm of
//   `timeout` seconds), then a sleep of `timeout` seconds.
// - An active server goes out at its first failed check. A failed server re-enters after `reentry / timeout`
//   (integer division) passes in a row, at least 1 (at start-up the first pass brings it in).
// - Out means removed (`ipvsadm -d`), or weight 0 with `-q` (`quiesce_server = 1`); nanny's default is removal.
// - Entering, the weight starts at weight >> 5 (at least 1) and doubles every 20 / timeout rounds (each round when
//   `timeout` > 20) up to the configured weight; a configured weight of 0 becomes 1.
// - The check: `send_program` if set (run without a shell, `%h`/`%p` replaced as whole words; the output, less its
//   last character, must equal `expect`; a run that fails or times out counts as up when `expect` is set, every run
//   fails without `expect`), else connect to RPORT, write `send` if set, and if `expect` is set read one buffer
//   and compare its first strlen(expect) bytes with it (`*`: any reply; with `use_regex`, a POSIX regex searched in
//   the first 254 bytes). With no send, expect or program and PORT 80: `GET / HTTP/1.0\r\n\r\n`, expecting "HTTP".
//   UDP (`-u`): send, then wait for a datagram. `\n \r \t \\ \' \"` in send and expect are escapes.
// - lvsd added `sorry_server` (the virtual's port, the network's forwarding method, weight 1) while no nanny of the
//   virtual reported its server up, and deleted it when one did.

extension Piranha {
    /// A real server of a virtual block, for its check line.
    struct NannyServer {
        var name: String
        var line: Int
        /// The server as its `rs add` line has it.
        var server: RealServer
        /// The port nanny checked (`-r`): the server's own `port`, else the virtual's at the `server` line.
        var checkedPort: UInt16
        var active: Bool
    }

    /// The check type and its options, from send/expect/send_program.
    struct NannyKind {
        /// `--type ...` and the options that go with it (the port aside).
        var args: [String]
        var needsPort = true
        /// `# note:` lines explaining the mapping.
        var notes: [String] = []
        /// When set, the check lines are written commented out, after this note.
        var unusable: String?
        /// Keys read that the mapping leaves aside, with why.
        var ignored: [IgnoredKey] = []
    }

    /// The nanny keys a virtual block converts (they never appear as `# ignored:` unless said).
    static let nannyKeys: Set<String> = ["send", "expect", "use_regex", "send_program", "timeout", "reentry",
                                         "quiesce_server", "sorry_server", "load_monitor"]

    /// The `check`/`sorry` lines and notes of one virtual block, and the nanny keys it does not convert.
    static func nannyLines(_ s: Settings, virtualName: String, key: ServiceKey, keyOption: String, proto: IPProtocol,
                           virtualPort: UInt16, forwarding: ForwardingMethod,
                           servers: [NannyServer]) throws -> (lines: [String], ignored: [IgnoredKey], any: Bool) {
        var ignored: [IgnoredKey] = []
        // Values first: every one is checked, whether or not a server uses it.
        let send = try s["send"].map { unescape(try single($0)) }
        let expect = try s["expect"].map { unescape(try single($0)) }
        let useRegex = try s["use_regex"].map { try boolean($0) } ?? false
        let program = try s["send_program"].map { try programWords($0) }
        let timeout = try s["timeout"].map { Int(try number($0, 1...3600)) } ?? 10
        let reentrySetting = try s["reentry"].map { Int(try number($0, 0...86400)) }
        let quiesce = try s["quiesce_server"].map { try boolean($0) } ?? false
        var sorry: IPAddress?
        if let ss = s["sorry_server"] {
            let a = try ip(try single(ss), ss, what: "sorry server address")
            if a.family != key.family && forwarding != .tunnel {
                throw ParseError(line: ss.line, "sorry server \(a) is \(a.family) but virtual \(shown(virtualName)) is \(key.family); mixed families need network = tunnel")
            }
            sorry = a
        }
        if let l = s["load_monitor"] {
            let v = try single(l)
            ignored.append(IgnoredKey(key: l.key, value: l.raw, line: l.line, reason: v == "none"
                ? "nanny read no load average (none); lvsctl monitor keeps the configured weights too"
                : "nanny scaled the weights by the real servers' load average (\(display(v)) over rsh/ssh); lvsctl monitor keeps the configured weights"))
        }
        let health = ["send", "expect", "use_regex", "send_program", "timeout", "reentry", "quiesce_server", "sorry_server"]
        guard !servers.isEmpty || health.contains(where: { s[$0] != nil }) else { return ([], ignored, false) }

        var lines = ["# Health checks for lvsctl monitor, from nanny's settings:"]
        let kind = try nannyKind(s, send: send, expect: expect, useRegex: useRegex, program: program, proto: proto,
                                 virtualPort: virtualPort)
        ignored += kind.ignored
        lines += kind.notes

        // Timing: nanny's interval is `timeout`, and one failure takes a server out.
        let t = String(timeout)
        if let ts = s["timeout"] {
            lines.append("# note: timeout = \(display(ts.raw)) (line \(ts.line)): nanny checked every \(t) s, waited up to \(t) s for each answer, and took a server out at its first failure: --interval \(t) --timeout \(t) --fall 1")
        } else {
            lines.append("# note: no 'timeout': nanny's default, a check every 10 s taking up to 10 s, a server out at its first failure: --interval 10 --timeout 10 --fall 1")
        }
        let reentry = reentrySetting == nil || reentrySetting == 0 ? 180 : reentrySetting!
        var rise = max(1, reentry / timeout)
        let what: String
        if let rs = s["reentry"] {
            what = "reentry = \(display(rs.raw)) (line \(rs.line))" + (reentrySetting == 0 ? ", nanny's default 180 s" : "")
        } else {
            what = "no 'reentry': nanny's default 180 s"
        }
        var riseText = "a failed server came back after \(reentry) / \(timeout) = \(rise) passes in a row (rounded down, at least 1, as nanny counted): --rise \(rise)"
        if rise > 100 {
            riseText = "a failed server came back after \(reentry) / \(timeout) = \(rise) passes in a row; lvsctl allows at most 100: --rise 100 (about \(100 * timeout) s)"
            rise = 100
        }
        lines.append("# note: \(what): \(riseText)")
        if let q = s["quiesce_server"] {
            lines.append(quiesce
                ? "# note: quiesce_server = \(display(q.raw)) (line \(q.line)): nanny set a failed server's weight to 0, keeping its connections: --on-fail quiesce"
                : "# note: quiesce_server = \(display(q.raw)) (line \(q.line)): nanny removed a failed server from the table: --on-fail remove")
        } else {
            lines.append("# note: no 'quiesce_server': nanny's default 0 removed a failed server from the table: --on-fail remove")
        }
        let timing = ["--interval", t, "--timeout", t, "--rise", String(rise), "--fall", "1", "--on-fail", quiesce ? "quiesce" : "remove"]

        // Slow start: nanny doubled the weight from weight/32 every `step` seconds.
        let step = timeout > 20 ? timeout : (20 / timeout) * timeout
        func slowStart(_ w: Int32) -> Int {
            var cur = max(1, w >> 5), n = 0
            while cur < w { cur = min(w, cur << 1); n += 1 }
            return n * step
        }
        if servers.contains(where: { slowStart($0.server.weight) > 0 }) {
            lines.append("# note: nanny brought a server in at weight/32 (at least 1) and doubled it about every \(step) s up to its weight: --slow-start of \(step) s per doubling (lvsctl climbs linearly, and only after a recovery)")
        }

        var body: [String] = []
        var commented: [String] = []
        for n in servers {
            var l = ["-r", n.server.endpoint.description] + kind.args
            var portNote: String?
            if n.checkedPort == 0 {
                if kind.needsPort {
                    portNote = "# note: server \(n.name) (line \(n.line)): nanny checked port 0, which cannot answer; give the check a --port and remove the '# ' below"
                }
            } else if (key.isFwmark && kind.needsPort) || n.checkedPort != n.server.port {
                l += ["--port", String(n.checkedPort)]
            }
            l += timing
            let ss = slowStart(n.server.weight)
            if ss > 0 { l += ["--slow-start", String(ss)] }
            let text = "check \(keyOption) " + l.map(lvsctlWord).joined(separator: " ")
            var note: [String] = []
            if n.server.weight == 0 && n.active {
                note.append("# note: server \(n.name) (line \(n.line)) has weight 0: nanny gave it weight 1 once its check passed; lvsctl keeps 0 (write -w 1 on its rs add line for nanny's behaviour)")
            }
            if let p = portNote { note.append(p) }
            if !n.active {
                commented.append("# inactive server \(n.name) (line \(n.line)): remove the '# ' below with its rs add line above")
                commented += note
                commented.append("# " + text)
            } else if portNote != nil || kind.unusable != nil {
                body += note
                body.append("# " + text)
            } else {
                body += note
                body.append(text)
            }
        }
        if let u = kind.unusable, !servers.isEmpty { lines.append(u) }
        lines += body + commented
        if servers.isEmpty { lines.append("# (no real servers, so no check lines)") }

        if let a = sorry, let ss = s["sorry_server"] {
            let ep = Endpoint(address: a, port: virtualPort)
            if let same = servers.first(where: { $0.active && $0.server.address == a && $0.server.port == virtualPort }) {
                ignored.append(IgnoredKey(key: ss.key, value: ss.raw, line: ss.line,
                                          reason: "it is real server \(same.name) (line \(same.line)) itself; lvsctl wants a sorry server outside the service"))
            } else {
                lines.append("# note: sorry_server = \(display(ss.raw)) (line \(ss.line)): lvsd added it (the virtual's port, \(forwarding.option), weight 1) while no real server was up")
                lines.append("sorry \(keyOption) -r \(ep) \(forwarding.option) -w 1")
            }
        }
        return (lines, ignored, true)
    }

    /// The check type from send, expect, use_regex and send_program, as nanny read them.
    static func nannyKind(_ s: Settings, send: String?, expect: String?, useRegex: Bool, program: [String]?,
                          proto: IPProtocol, virtualPort: UInt16) throws -> NannyKind {
        func kv(_ k: String) -> String? { s[k].map { "\(k) = \(display($0.raw)) (line \($0.line))" } }
        func told(_ keys: [String]) -> String { keys.compactMap(kv).joined(separator: ", ") }
        func ignore(_ k: String, _ reason: String) -> IgnoredKey? {
            s[k].map { IgnoredKey(key: k, value: $0.raw, line: $0.line, reason: reason) }
        }
        // A send or expect text in a note, its control characters written as lvs.cf writes them (\r, \n, \t).
        let q = { (t: String) in "\"" + display(t.replacing("\r\n", with: "\\r\\n").replacing("\r", with: "\\r")
            .replacing("\n", with: "\\n").replacing("\t", with: "\\t")) + "\"" }
        // An empty expect passed on any reply, as "*" did.
        var expect = expect == "" ? "*" : expect

        // send_program: an exec check.
        if let argv = program {
            var k = NannyKind(args: ["--type", "exec", "--exec", execValue(argv)], needsPort: false)
            k.ignored += [ignore("send", "send_program takes precedence; nanny did not send it"),
                          ignore("use_regex", "nanny compared send_program's output exactly (use_regex applies to send/expect)")]
                .compactMap { $0 }
            let head = "# note: " + told(["send_program", "expect"]) + ": nanny ran it without a shell"
            if let e = expect {
                k.notes.append(head + " and wanted its output to be \(q(e)) (a run that failed or timed out counted as up); lvsctl runs it the same way but goes by its exit status, 0 = up: make it exit non-zero when the server is down (--type exec)")
            } else {
                k.notes.append(head + "; without expect nanny counted every run as failed (its servers never came up); lvsctl goes by the exit status, 0 = up (--type exec)")
            }
            if argv.contains(where: { $0 != "%h" && $0 != "%p" && ($0.contains("%h") || $0.contains("%p")) }) {
                k.notes.append("# note: nanny replaced %h and %p only as whole words, so where they are part of a word it passed them as written: they are written %%h and %%p below (use %h or %p to get the address or port)")
            }
            return k
        }

        // The conversation nanny had (its port-80 default when nothing is set).
        var send = send
        var defaulted = false
        if send == nil && expect == nil && virtualPort == 80 {
            send = "GET / HTTP/1.0\r\n\r\n"; expect = "HTTP"; defaulted = true
        }
        // Without expect, use_regex is reported as ignored (noExpectRegex below), so the notes leave it out.
        let keys = told(expect == nil ? ["send"] : ["send", "expect", "use_regex"])
        let said = defaulted ? "no send, expect or send_program on port 80 (nanny's default check" + (kv("use_regex").map { ", " + $0 } ?? "") + ")" : keys
        let noExpectRegex = ignore("use_regex", "no expect, so nanny matched nothing")
        let wanted = { (e: String) in useRegex ? "a reply matching the regular expression \(q(e))" : "a reply starting with \(q(e))" }

        if proto == .udp {
            guard let text = send, !text.isEmpty else {
                var k = NannyKind(args: ["--type", "udp", "--send", "TEXT", "--receive", "REGEX"])
                k.notes.append("# note: " + (keys.isEmpty ? "protocol udp with no send" : "protocol udp, \(keys)")
                               + ": nanny sent nothing and waited for a reply, so its check could not pass (lvsctl needs a datagram to send too)")
                k.unusable = "# note: write the datagram and the reply your service gives (--send TEXT --receive REGEX) and remove the '# ' below"
                if expect == nil, let i = noExpectRegex { k.ignored.append(i) }
                return k
            }
            var receive = ""
            var how = "passed on any reply"
            if let e = expect, e != "*", !e.isEmpty {
                receive = useRegex ? try regexForLine(e, s["expect"]) : "^" + regexLiteral(e)
                how = "wanted " + wanted(e)
            }
            let controls = text.unicodeScalars.contains { $0.value < 32 || $0.value == 127 }
            var k = NannyKind(args: ["--type", "udp"] + option("--send", controls ? display(text) : text) + option("--receive", receive))
            if expect == nil, let i = noExpectRegex { k.ignored.append(i) }
            k.notes.append("# note: protocol udp, \(said): nanny sent \(q(text)) and \(how) (--type udp)")
            if controls {
                k.unusable = "# note: the datagram has control characters, which a check line cannot hold (shown escaped below); send it with an exec check, or edit --send and remove the '# '"
            }
            return k
        }

        // TCP.
        guard let text = send ?? expect.map({ _ in "" }) else {
            // Neither send nor expect (and not port 80): nanny connected and closed.
            var k = NannyKind(args: ["--type", "tcp"])
            if let i = noExpectRegex { k.ignored.append(i) }
            return k
        }
        if let req = send.flatMap(httpRequest) {
            guard let e = expect, !e.isEmpty else {
                var k = NannyKind(args: ["--type", "tcp"])
                if let i = noExpectRegex { k.ignored.append(i) }
                k.notes.append("# note: \(said): nanny sent the request and read no reply, so its check was a connect (--type tcp); for an HTTP check write --type http --path \(lvsctlWord(req.path)) instead")
                return k
            }
            var args = ["--type", "http", "--path", req.path]
            if let h = req.host { args += ["--host", h] }
            var notes: [String] = []
            let codes: [Int]
            var extra: [String] = []
            if e == "*" {
                codes = Array(100...599)
            } else if useRegex {
                codes = try regexStatusCodes(e, s["expect"])
            } else {
                (codes, extra) = prefixStatusCodes(e)
            }
            let get = "nanny sent \(req.method) \(display(req.path))"
            if codes.isEmpty {
                let how = useRegex
                    ? "searched the first 254 bytes of the reply for \(q(e)), which matches no HTTP status line"
                    : "wanted the reply to start with \(q(e)), which no HTTP status line does (so the check never passed against an HTTP/1.x server)"
                notes.append("# note: \(said): \(get) and \(how); lvsctl checks the status code instead (200-399 by default): test the body with --body REGEX, or keep nanny's test in a script run by an exec check (--type http)")
            } else {
                let ranges = statusRanges(codes)
                args += ["--expect", ranges]
                let any = codes.count == 500
                let how = e == "*" ? "any reply" : useRegex ? "a status line matching \(q(e))" : "a reply starting with \(q(e))"
                notes.append("# note: \(said): \(get) and wanted \(how): \(any ? "any HTTP status" : "status \(ranges)") (--type http --expect \(ranges))")
                if useRegex {
                    notes.append("# note: nanny searched the regular expression in the first 254 bytes of the reply (status line and headers); lvsctl compares the status code only (test the body with --body REGEX)")
                }
                if !extra.isEmpty { notes.append("# note: not compared by lvsctl: " + extra.joined(separator: ", ")) }
            }
            notes += req.notes
            return NannyKind(args: args, notes: notes)
        }
        // Any other conversation: lvsctl's tcp check only connects.
        var k = NannyKind(args: ["--type", "tcp"])
        var parts: [String] = []
        if !text.isEmpty { parts.append("sent \(q(text))") }
        if let e = expect, !e.isEmpty { parts.append("wanted " + (e == "*" ? "any reply" : wanted(e))) }
        if expect == nil, let i = noExpectRegex { k.ignored.append(i) }
        if expect == nil || expect == "" {
            k.notes.append("# note: \(said): nanny sent \(q(text)) and read no reply, so its check was a connect (--type tcp)")
        } else {
            k.notes.append("# note: \(said): nanny \(parts.joined(separator: " and ")); lvsctl's tcp check only connects, so that conversation is not reproduced (--type tcp): to keep it, run a script with an exec check (--type exec --exec '/PATH/TO/SCRIPT %h %p', exit 0 = up)")
        }
        return k
    }

    // MARK: - Values

    /// nanny's `convert_str`: `\n \r \t \\ \' \"` become the characters (in strings of 2 characters or more);
    /// any other backslash stays.
    static func unescape(_ s: String) -> String {
        guard s.count > 1, s.contains("\\") else { return s }
        var out = "", pending = false
        for c in s {
            if pending {
                switch c {
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "\\", "'", "\"": out.append(c)
                default: out.append("\\"); out.append(c)
                }
                pending = false
            } else if c == "\\" {
                pending = true
            } else {
                out.append(c)
            }
        }
        if pending { out.append("\\") }
        return out
    }

    /// `send_program`'s words as nanny split them (on blanks), the program an absolute path.
    static func programWords(_ s: Setting) throws -> [String] {
        let v = try single(s)
        let words = v.split(separator: " ").map(String.init)
        guard let program = words.first else { throw ParseError(line: s.line, "send_program needs a program") }
        guard program.hasPrefix("/") else {
            throw ParseError(line: s.line, "invalid send_program \(shown(v)): the program must be an absolute path (lvsctl runs it without a shell or PATH search)")
        }
        if let bad = words.first(where: { $0.unicodeScalars.contains { $0.value < 32 || $0.value == 127 } }) {
            throw ParseError(line: s.line, "invalid send_program \(shown(v)): \(shown(bad)) has a control character, which a check line cannot hold")
        }
        return words
    }

    /// The `--exec` value: nanny's words, `%` doubled except in the whole words `%h` and `%p` (nanny replaced only those).
    static func execValue(_ words: [String]) -> String {
        words.map { w in lvsctlWord(w == "%h" || w == "%p" ? w : w.replacing("%", with: "%%")) }
            .joined(separator: " ")
    }

    /// An option and its value as words; a value that looks like an option is attached (`--send=-x`).
    static func option(_ name: String, _ value: String) -> [String] {
        value.utf8.count > 1 && value.utf8.first == 45 ? [name + "=" + value] : [name, value]
    }

    /// One word of an lvsctl line, quoted when it has to be (blanks, quotes, a leading `#`, empty).
    static func lvsctlWord(_ s: String) -> String {
        if !s.isEmpty, s.first != "#", s.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value != 127 && $0 != "'" && $0 != "\"" }) {
            return s
        }
        if !s.contains("'") { return "'\(s)'" }
        if !s.contains("\"") { return "\"\(s)\"" }
        return s.split(separator: "'", omittingEmptySubsequences: false).map { "'\($0)'" }.joined(separator: "\"'\"")
    }

    /// An HTTP request nanny sent: `GET|HEAD TARGET HTTP/1.x`, header lines, an empty line.
    struct HTTPRequest {
        var method: String
        var path: String
        var host: String?
        var notes: [String] = []
    }

    /// `send` as an HTTP/1.x GET or HEAD request lvsctl can make, or nil.
    static func httpRequest(_ send: String) -> HTTPRequest? {
        let text: String = send.replacing("\r\n", with: "\n")
        guard text.hasSuffix("\n\n") else { return nil }
        var lines = text.dropLast(2).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return nil }
        let first: [String] = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard first.count == 3, ["GET", "HEAD"].contains(first[0]), ["HTTP/1.0", "HTTP/1.1"].contains(first[2]) else { return nil }
        guard first[1].hasPrefix("/"), first[1].utf8.allSatisfy({ $0 > 32 && $0 != 127 }) else { return nil }
        var r = HTTPRequest(method: first[0], path: first[1])
        if r.method == "HEAD" { r.notes.append("# note: nanny sent HEAD; lvsctl sends GET") }
        var others: [String] = []
        for h in lines {
            guard let colon = h.firstIndex(of: ":"), colon != h.startIndex else { return nil }
            let name = String(h[..<colon])
            let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
            var host = String(h[h.index(after: colon)...].drop(while: blank))
            while let last = host.last, blank(last) { host.removeLast() }
            guard name.lowercased() == "host" else { others.append(name); continue }
            if let c = host.lastIndex(of: ":"), !host.contains("["), host[host.index(after: c)...].allSatisfy({ $0.isNumber }) {
                host = String(host[..<c])
                r.notes.append("# note: the Host header's port is left out: lvsctl sends Host: \(display(host))")
            }
            let hostByte: (UInt8) -> Bool = { b in
                (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 46
            }
            if !host.isEmpty, host.utf8.count <= 253, host.utf8.allSatisfy(hostByte) {
                r.host = host
            } else {
                others.append(name)
            }
        }
        if !others.isEmpty {
            r.notes.append("# note: lvsctl sends its own request headers; not sent: " + others.map(display).joined(separator: ", "))
        }
        return r
    }

    /// The status codes whose status line starts with `expect` (nanny compared the first bytes of the reply), and
    /// what `expect` says beyond the code (the version, a reason phrase, header lines), which lvsctl does not compare.
    static func prefixStatusCodes(_ expect: String) -> ([Int], [String]) {
        let nl = expect.firstIndex(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
        let first = nl.map { String(expect[..<$0]) } ?? expect
        var codes: [Int] = []
        var reason = ""
        for code in 100...599 {
            for v in ["1.0", "1.1"] {
                let line = "HTTP/\(v) \(code)"
                if first.count <= line.count ? line.hasPrefix(first) : first.hasPrefix(line + " ") {
                    codes.append(code)
                    if first.count > line.count + 1 { reason = String(first.dropFirst(line.count + 1)) }
                    break
                }
            }
        }
        var extra: [String] = []
        if !codes.isEmpty {
            if first.count >= 8 { extra.append("the HTTP version (\(display(String(first.prefix(8)))))") }
            if !reason.isEmpty { extra.append("the reason phrase \"\(display(reason))\"") }
            if nl != nil && !expect[nl!...].allSatisfy({ $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) { extra.append("the header lines after the status line") }
        }
        return (codes, extra)
    }

    /// The status codes whose status line (`HTTP/1.x CODE REASON`, the standard reason phrase) the regular
    /// expression `expect` matches somewhere, as nanny's regexec searched it.
    static func regexStatusCodes(_ expect: String, _ setting: Setting?) throws -> [Int] {
        let r = try compiled(expect, setting)
        var codes: [Int] = []
        for code in 100...599 {
            let reason = reasonPhrases[code] ?? "Status"
            if ["1.0", "1.1"].contains(where: { v in (try? r.firstMatch(in: "HTTP/\(v) \(code) \(reason)\r\n")) != nil }) {
                codes.append(code)
            }
        }
        return codes
    }

    /// `expect` compiled as lvsctl's checks compile it; a ParseError naming the line when it does not.
    static func compiled(_ expect: String, _ setting: Setting?) throws -> Regex<AnyRegexOutput> {
        do { return try Regex(expect) } catch {
            throw ParseError(line: setting?.line ?? 0, "invalid expect \(shown(expect)) with use_regex = 1: not a regular expression lvsctl can read")
        }
    }

    /// `expect` with use_regex as a `--receive` value: checked, control characters written as escapes.
    static func regexForLine(_ expect: String, _ setting: Setting?) throws -> String {
        _ = try compiled(expect, setting)
        return escapeControls(expect)
    }

    /// A regular expression matching `text` literally, control characters written as escapes.
    static func regexLiteral(_ text: String) -> String {
        var out = ""
        for u in text.unicodeScalars {
            if "\\^$.|?*+()[]{}".unicodeScalars.contains(u) { out += "\\" }
            out.unicodeScalars.append(u)
        }
        return escapeControls(out)
    }

    /// Control characters as regex escapes (`\r`, `\n`, `\t`, `\x{7f}`), so that the line holds none.
    static func escapeControls(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u.value {
            case 10: out += "\\n"
            case 13: out += "\\r"
            case 9: out += "\\t"
            case 0..<32, 127: out += "\\x{\(String(u.value, radix: 16))}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Sorted codes as `--expect` ranges: `200,301-302`.
    static func statusRanges(_ codes: [Int]) -> String {
        var out: [String] = []
        var i = 0
        let c = codes.sorted()
        while i < c.count {
            var j = i
            while j + 1 < c.count && c[j + 1] == c[j] + 1 { j += 1 }
            out.append(i == j ? "\(c[i])" : "\(c[i])-\(c[j])")
            i = j + 1
        }
        return out.joined(separator: ",")
    }

    /// The standard reason phrases (RFC 9110), for matching a regular expression against a status line.
    static let reasonPhrases: [Int: String] = [
        100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted",
        203: "Non-Authoritative Information", 204: "No Content", 205: "Reset Content", 206: "Partial Content",
        300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
        305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized",
        402: "Payment Required", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
        407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
        411: "Length Required", 412: "Precondition Failed", 413: "Content Too Large", 414: "URI Too Long",
        415: "Unsupported Media Type", 416: "Range Not Satisfiable", 417: "Expectation Failed", 421: "Misdirected Request",
        422: "Unprocessable Content", 426: "Upgrade Required", 500: "Internal Server Error", 501: "Not Implemented",
        502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    ]
}
