import LVSCore

/// One line of lvsctl's configuration grammar, as spec values: what a file line (or a command line of the same
/// command) asks for, before it is checked against the rest of the file or the kernel.
public enum Line: Equatable, Sendable {
    /// `vs add` / `-A`
    case service(ServiceSpec, SettingsSpec)
    /// `rs add` / `-a`; `bundle` is `--bundle NAME` instead of a service specifier.
    case server(ServiceSpec, bundle: String?, ServerSpec)
    case bundle(BundleSpec)
    case timeouts(TimeoutSpec)
    case daemon(DaemonSpec)
    case drSetup(DRSetupSpec)
    /// `firewall nftables|iptables-legacy|auto` (nil: auto).
    case firewall(FirewallKind?)
    /// `check SERVICE -r ADDR[:PORT] --type T [options]`, for `lvsctl monitor`; `bundle` as in `rs add`.
    case check(ServiceSpec, bundle: String?, CheckSpec)
    /// `sorry SERVICE -r ADDR[:PORT] [-g|-m|-i] [-w W]`, for `lvsctl monitor`.
    case sorry(ServiceSpec, bundle: String?, SorrySpec)
    /// `sysctl set NAME=VALUE ...`: IPVS sysctls.
    case sysctl(SysctlSpec)
}

/// The grammar of configuration lines: one tokenizer and one option parser for every command a file may hold
/// (`vs add`, `rs add`, `bundle add`, `timeout set`, `daemon start`, `dr setup`, `sysctl set`, `firewall`, and ipvsadm-save's
/// `-A`/`-a`). The options come from ``Options``, the table the executable's ArgumentParser declarations are
/// built from, and the values go into the same spec structs the commands use; so a line means in a file what it
/// means on the command line. Usage errors are worded as ArgumentParser words them (`Unknown option '--x'`,
/// `Missing value for '-w <weight>'`).
public enum Grammar {
    /// The commands allowed in files.
    public static let allowed = "vs add, rs add, bundle add, timeout set, daemon start, dr setup, sysctl set, firewall, check, sorry (or ipvsadm-save -A/-a lines)"

    /// The shape of one command: its words, positional arguments and options.
    struct Command {
        let options: [OptionDef]
        let positionals: [String]
        /// True when the positionals may be left out (`restore [FILE]`).
        let optionalPositionals: Bool
        /// True when the last positional takes every remaining argument, at least one (`sysctl set NAME=VALUE ...`).
        let variadic: Bool
        let table: [String: OptionDef]
        init(_ groups: [[OptionDef]], positionals: [String] = [], optionalPositionals: Bool = false, variadic: Bool = false) {
            options = groups.flatMap { $0 } + Options.global
            self.positionals = positionals
            self.optionalPositionals = optionalPositionals
            self.variadic = variadic
            var t: [String: OptionDef] = [:]
            for o in options { for n in o.names { t[n] = o } }
            table = t
        }
    }
    static let vsAdd = Command([Options.service, Options.settings])
    static let rsAdd = Command([Options.service, [Options.bundleTarget], Options.server])
    static let bundleAdd = Command([Options.bundle, Options.settings], positionals: ["name"])
    static let timeoutSet = Command([Options.timeouts])
    static let daemonStart = Command([Options.daemon], positionals: ["role"])
    static let drSetup = Command([Options.drSetup])
    static let sysctlSet = Command([], positionals: ["settings"], variadic: true)
    static let list = Command([Options.service, Options.list, Options.output])
    static let restore = Command([Options.restore], positionals: ["file"], optionalPositionals: true)
    static let apply = Command([Options.apply], positionals: ["file"])
    static let save = Command([Options.save], positionals: ["file"], optionalPositionals: true)
    static let bundleDelete = Command([], positionals: ["name"])
    static let bundleList = Command([Options.output])

    /// Parses the words after `restore` (the command line only). A `--wait` that is not a number of seconds is
    /// refused here as unknown; ArgumentParser then gives its own message for it.
    public static func parseRestore(_ words: [String]) throws -> RestoreSpec {
        let v = try values(words, restore)
        var r = RestoreSpec(file: v.positionals.first)
        r.noFlush = v.has(.noFlush); r.dryRun = v.has(.dryRun)
        if let w = v[.wait] {
            r.wait = try seconds(w)
        }
        return r
    }

    /// Parses the words after `apply` (the command line only), as ``parseRestore``.
    public static func parseApply(_ words: [String]) throws -> ApplySpec {
        let v = try values(words, apply)
        var a = ApplySpec(file: v.positionals[0])
        a.dryRun = v.has(.dryRun)
        a.check = v.has(.checkOnly)
        if let w = v[.wait] { a.wait = try seconds(w) }
        return a
    }

    /// Parses the words after `save` (the command line only). The format's value is checked by the command.
    public static func parseSave(_ words: [String]) throws -> SaveSpec {
        let v = try values(words, save)
        var s = SaveSpec(file: v.positionals.first)
        if let f = v[.format] { s.format = f }
        return s
    }

    /// Parses the words after `bundle delete` (the command line only): the bundle's name.
    public static func parseBundleDelete(_ words: [String]) throws -> String {
        try values(words, bundleDelete).positionals[0]
    }

    /// Parses the words after `bundle list` (the command line only): whether `--json` was given.
    public static func parseBundleList(_ words: [String]) throws -> Bool {
        try values(words, bundleList).has(.json)
    }

    /// A `--wait` value; one that is not a number of seconds is refused here, and ArgumentParser then gives its own
    /// message for it.
    static func seconds(_ w: String) throws -> Double {
        guard let d = Double(w), d.isFinite else { throw UsageError("invalid --wait \(shown(w))") }
        return d
    }

    /// Parses the words after `list` (the command line only: `list` is not a file line).
    public static func parseList(_ words: [String]) throws -> ListSpec {
        let v = try values(words, list)
        var l = ListSpec(service: serviceSpec(v))
        l.numeric = v.has(.numeric); l.resolve = v.has(.resolve); l.stats = v.has(.stats); l.rate = v.has(.rate)
        l.thresholds = v.has(.thresholds); l.persistentConn = v.has(.persistentConn); l.tunInfo = v.has(.tunInfo)
        l.exact = v.has(.exact); l.sort = v.has(.sort); l.nosort = v.has(.nosort); l.json = v.has(.json)
        return l
    }

    static let check = Command([Options.service, [Options.bundleTarget], [Options.def(.realServer, in: Options.server)], Options.check])
    static let sorry = Command([Options.service, [Options.bundleTarget],
                                Options.server.filter { [.realServer, .gatewaying, .ipip, .masquerading, .weight].contains($0.opt) }])

    /// The commands the grammar reads, by their words (the file-line commands, and `list`, `restore`, `apply`,
    /// `save`, `bundle delete` and `bundle list`, which the command line runs without ArgumentParser), with their
    /// options (global ones included) and positional arguments: what `--help` of the same command must list (a unit
    /// test compares them). `fileOnly` lines (`check`, `sorry`) have no command of their own.
    public static let commands: [(words: String, options: [OptionDef], positionals: [String], fileOnly: Bool)] = [
        ("vs add", vsAdd, false), ("rs add", rsAdd, false), ("bundle add", bundleAdd, false), ("timeout set", timeoutSet, false),
        ("daemon start", daemonStart, false), ("dr setup", drSetup, false), ("sysctl set", sysctlSet, false), ("list", list, false), ("restore", restore, false),
        ("apply", apply, false), ("save", save, false), ("bundle delete", bundleDelete, false), ("bundle list", bundleList, false),
        ("check", check, true), ("sorry", sorry, true),
    ].map { ($0.0, $0.1.options, $0.1.positionals, $0.2) }

    /// The values of one parsed command.
    struct Values {
        var single: [Opt: String] = [:]
        var multi: [Opt: [String]] = [:]
        var flags: Set<Opt> = []
        var positionals: [String] = []
        subscript(_ o: Opt) -> String? { single[o] }
        func has(_ o: Opt) -> Bool { flags.contains(o) }
    }

    /// Parses one line's words (already tokenized; a leading `lvsctl` allowed). Throws a ``UsageError`` for a line
    /// that is not a configuration line or that does not parse.
    public static func parse(_ words: [String]) throws -> Line {
        var w = words[...]
        if w.first == "lvsctl" { w = w.dropFirst() }
        guard let first = w.first else { throw UsageError("'' cannot appear in a configuration file (allowed: \(allowed))") }
        if first == "firewall" {
            guard w.count == 2, let k = FirewallSelection.parse(w[w.startIndex + 1]) else {
                throw UsageError("invalid firewall line \(shown(w.joined(separator: " "))) (expected firewall nftables, firewall iptables-legacy or firewall auto)")
            }
            return .firewall(k)
        }
        let rest: ArraySlice<String>
        let kind: String
        if first == "-A" { kind = "vs add"; rest = w.dropFirst() }
        else if first == "check" || first == "sorry" { kind = first; rest = w.dropFirst() }
        else if first == "-a" { kind = "rs add"; rest = w.dropFirst() }
        else {
            let second = w.dropFirst().first ?? ""
            switch (first, second) {
            case ("vs", "add"), ("virtual-server", "add"): kind = "vs add"
            case ("rs", "add"), ("real-server", "add"): kind = "rs add"
            case ("bundle", "add"): kind = "bundle add"
            case ("timeout", "set"): kind = "timeout set"
            case ("daemon", "start"): kind = "daemon start"
            case ("dr", "setup"): kind = "dr setup"
            case ("sysctl", "set"): kind = "sysctl set"
            default:
                throw UsageError("\(shown(w.prefix(2).joined(separator: " "))) cannot appear in a configuration file (allowed: \(allowed))")
            }
            rest = w.dropFirst(2)
        }
        let words = normalize(Array(rest))
        try rejectNegativeNumbers(words)
        switch kind {
        case "vs add":
            let v = try values(words, vsAdd)
            return .service(serviceSpec(v), settingsSpec(v))
        case "rs add":
            let v = try values(words, rsAdd)
            return .server(serviceSpec(v), bundle: v[.bundle], serverSpec(v))
        case "bundle add":
            let v = try values(words, bundleAdd)
            return .bundle(BundleSpec(name: v.positionals[0], vips: v.multi[.vip] ?? [], ports: v[.ports]!,
                                      proto: v[.proto] ?? "tcp", mark: v[.mark], settings: settingsSpec(v)))
        case "timeout set":
            let v = try values(words, timeoutSet)
            return .timeouts(TimeoutSpec(tcp: v[.tcpTimeout], tcpfin: v[.tcpfinTimeout], udp: v[.udpTimeout]))
        case "daemon start":
            let v = try values(words, daemonStart)
            return .daemon(DaemonSpec(role: v.positionals[0], interface: v[.mcastInterface], syncid: v[.syncid],
                                      maxlen: v[.syncMaxlen], group: v[.mcastGroup], port: v[.mcastPort], ttl: v[.mcastTTL]))
        case "check":
            let v = try values(words, check)
            var c = CheckSpec(realServer: v[.realServer] ?? "", type: v[.checkType] ?? "")
            c.port = v[.checkPort]; c.interval = v[.interval]; c.timeout = v[.timeout]; c.rise = v[.rise]; c.fall = v[.fall]
            c.onFail = v[.onFail]; c.slowStart = v[.slowStart]; c.path = v[.path]; c.host = v[.host]; c.expect = v[.expect]
            c.body = v[.body]; c.insecure = v.has(.insecure); c.send = v[.send]; c.receive = v[.receive]; c.exec = v[.exec]
            return .check(serviceSpec(v), bundle: v[.bundle], c)
        case "sorry":
            let v = try values(words, sorry)
            return .sorry(serviceSpec(v), bundle: v[.bundle], SorrySpec(server: serverSpec(v)))
        case "sysctl set":
            return .sysctl(SysctlSpec(settings: try values(words, sysctlSet).positionals))
        default:
            let v = try values(words, drSetup)
            return .drSetup(DRSetupSpec(vips: v.multi[.vip] ?? [], method: v[.method] ?? "sysctl", interface: v[.interface],
                                        ports: v[.ports], proto: v[.proto], dryRun: v.has(.dryRun)))
        }
    }

    static func serviceSpec(_ v: Values) -> ServiceSpec {
        ServiceSpec(tcp: v[.tcp], udp: v[.udp], sctp: v[.sctp], fwmark: v[.fwmark], ipv6: v.has(.ipv6))
    }
    static func settingsSpec(_ v: Values) -> SettingsSpec {
        SettingsSpec(scheduler: v[.scheduler], schedFlags: v[.schedFlags], persistent: v[.persistent], netmask: v[.netmask],
                     pe: v[.pe], ops: v.has(.ops))
    }
    static func serverSpec(_ v: Values) -> ServerSpec {
        ServerSpec(realServer: v[.realServer] ?? "", gatewaying: v.has(.gatewaying), ipip: v.has(.ipip),
                   masquerading: v.has(.masquerading), weight: v[.weight], upper: v[.upper], lower: v[.lower],
                   tunType: v[.tunType], tunPort: v[.tunPort], tunNoCsum: v.has(.tunNoCsum), tunCsum: v.has(.tunCsum),
                   tunRemCsum: v.has(.tunRemCsum))
    }

    /// Reads options and positionals as ArgumentParser does: `--name value`, `--name=value`, `-n value`, `-n=value`,
    /// grouped short options (`-gm`, `-gw 3`), a value never starting with `-`, the last value of a repeated option
    /// kept (repeatable options collect them), `--` ending the options. Its errors come in ArgumentParser's order: a
    /// missing value at once; then a missing positional or required option (in declaration order); then the first
    /// unknown option or unexpected argument.
    static func values(_ words: [String], _ c: Command) throws -> Values {
        var v = Values()
        var i = 0
        var onlyPositionals = false
        var firstStray: UsageError?
        func stray(_ e: UsageError) { if firstStray == nil { firstStray = e } }
        func take(_ d: OptionDef, _ value: String) {
            if d.repeatable { v.multi[d.opt, default: []].append(value) } else { v.single[d.opt] = value }
        }
        func nextValue(_ d: OptionDef, _ spelled: String) throws -> String {
            guard i + 1 < words.count, !looksLikeOption(words[i + 1]) else {
                throw UsageError("Missing value for '\(spelled) <\(d.valueName!)>'")
            }
            i += 1
            return words[i]
        }
        while i < words.count {
            let w = words[i]
            if onlyPositionals || !looksLikeOption(w) {
                if v.positionals.count < c.positionals.count || c.variadic { v.positionals.append(w) } else { stray(UsageError("Unexpected argument '\(w)'")) }
            } else if w == "--" {
                onlyPositionals = true
            } else if w.hasPrefix("--") {
                var name = w, attached: String?
                if let eq = w.firstIndex(of: "=") { name = String(w[..<eq]); attached = String(w[w.index(after: eq)...]) }
                if let d = c.table[name] {
                    if d.valueName != nil { take(d, try attached ?? nextValue(d, name)) }
                    else if let a = attached { stray(UsageError("The option '\(name)' does not take any value, but '\(a)' was specified.")) }
                    else { v.flags.insert(d.opt) }
                } else { stray(unknownOption(name, c, suggest: true)) }
            } else if let d = c.table[w] {
                if d.valueName == nil { v.flags.insert(d.opt) } else { take(d, try nextValue(d, w)) }
            } else if let eq = w.firstIndex(of: "="), let d = c.table[String(w[..<eq])], d.valueName != nil {
                take(d, String(w[w.index(after: eq)...]))  // -w=3
            } else {
                // A group of short options: flags, the last of which may take the next word as its value.
                let shorts = w.dropFirst().map { "-" + String($0) }
                let defs = shorts.map { c.table[$0] }
                if shorts.count < 2 || defs.allSatisfy({ $0 == nil }) {
                    stray(unknownOption(w, c, suggest: shorts.count > 1))
                } else if let n = defs.firstIndex(where: { $0 == nil }) {
                    stray(UsageError("Unknown option '\(shorts[n])'"))
                } else if defs.dropLast().contains(where: { $0!.valueName != nil }) {
                    stray(unknownOption(w, c, suggest: true))
                } else {
                    for (n, d) in defs.enumerated() {
                        if d!.valueName == nil { v.flags.insert(d!.opt) } else { take(d!, try nextValue(d!, shorts[n])) }
                    }
                }
            }
            i += 1
        }
        if v.positionals.count < c.positionals.count && !c.optionalPositionals {
            let p = c.positionals[v.positionals.count]
            throw UsageError("Missing expected argument '<\(p)>\(c.variadic && p == c.positionals.last ? " ..." : "")'")
        }
        for d in c.options where d.required {
            if d.repeatable ? v.multi[d.opt] == nil : v.single[d.opt] == nil {
                throw UsageError("Missing expected argument '\(d.displayName) <\(d.valueName!)>'")
            }
        }
        if let e = firstStray { throw e }
        return v
    }

    /// A word ArgumentParser reads as an option rather than a value: `-x`, `--x`, but not `-` (standard input).
    static func looksLikeOption(_ w: String) -> Bool { w.utf8.count > 1 && w.utf8.first == 45 }

    /// ArgumentParser's message for an unknown option, with its suggestion of a long name less than 4 edits away
    /// (none for a single short option).
    static func unknownOption(_ name: String, _ c: Command, suggest: Bool) -> UsageError {
        if !suggest { return UsageError("Unknown option '\(name)'") }
        let longs = c.options.flatMap(\.names).filter { $0.hasPrefix("--") } + ["--help"]
        var best: (String, Int)?
        for l in longs {
            let d = editDistance(l, name)
            if d < 4 && (best == nil || d < best!.1) { best = (l, d) }
        }
        if let (b, _) = best { return UsageError("Unknown option '\(name)'. Did you mean '\(b)'?") }
        return UsageError("Unknown option '\(name)'")
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let s = Array(a.utf8), t = Array(b.utf8)
        if s.isEmpty { return t.count }
        if t.isEmpty { return s.count }
        var prev = Array(0...t.count), cur = [Int](repeating: 0, count: t.count + 1)
        for i in 1...s.count {
            cur[0] = i
            for j in 1...t.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (s[i - 1] == t[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[t.count]
    }

    /// ipvsadm's `-p` takes an optional value; lvsctl's grammar (like ArgumentParser) reads the next word as it.
    /// When `-p`/`--persistent` is not followed by a number, the default (360 s) is inserted, so `-p` alone works
    /// as in ipvsadm.
    public static func normalize(_ a: [String]) -> [String] {
        guard a.contains(where: { $0 == "-p" || $0 == "--persistent" }) else { return a }
        var out: [String] = []
        var i = 0
        while i < a.count {
            out.append(a[i])
            if a[i] == "-p" || a[i] == "--persistent" {
                let next = i + 1 < a.count ? a[i + 1] : nil
                if next == nil || next!.hasPrefix("-") && !(next!.dropFirst().allSatisfy(\.isNumber) && next!.count > 1) {
                    out.append(String(LVSCore.Persistence.defaultTimeout))
                }
            }
            i += 1
        }
        return out
    }

    /// No lvsctl option takes a negative number, and ArgumentParser reads `-w -1` as a missing value followed by
    /// an unknown option `-1`, a message that does not name the value. A negative number after an option is
    /// therefore reported here, naming both. (`-6` is a flag, not a number.)
    public static func rejectNegativeNumbers(_ a: [String]) throws {
        for i in a.indices.dropFirst() {
            // Bytes, not Characters: this runs on every line of a restore file.
            let w = a[i].utf8
            guard w.count > 1, w.first == 45, let d = w.dropFirst().first, d >= 48, d <= 57, a[i] != "-6" else { continue }
            let prev = a[i - 1]
            guard prev.utf8.first == 45, prev != "--", prev != "-6" else { continue }
            throw UsageError("invalid value \(shown(a[i])) for \(shown(prev)) (negative numbers are not accepted)")
        }
    }
}
