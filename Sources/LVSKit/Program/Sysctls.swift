import LVSCore

/// One change of an IPVS sysctl a plan makes: the knob, the kernel's value, the wanted one.
public struct SysctlChange: Equatable, Sendable {
    /// The knob.
    public var name: String
    /// The kernel's value before.
    public var from: String
    /// The value to write.
    public var to: String
    /// A change.
    public init(name: String, from: String, to: String) { self.name = name; self.from = from; self.to = to }

    /// The plan line: `~ sysctl expire_nodest_conn 0 -> 1` (values holding a blank quoted).
    public var description: String {
        func q(_ v: String) -> String { v.contains(" ") || v.isEmpty ? "'\(v)'" : v }
        return "~ sysctl \(name) \(q(from)) -> \(q(to))"
    }
}

/// The IPVS sysctls (`/proc/sys/net/ipv4/vs/`) as lvsctl shows, plans, sets and saves them. Every function takes
/// the folder to act on (``IPVSSysctlDirectory/kernel`` outside tests), in the network namespace the thread is in.
public enum Sysctls {
    /// One knob of `sysctl show`.
    public struct Row: Equatable, Sendable {
        /// The knob.
        public var name: String
        /// Its value now.
        public var value: String
        /// lvsctl's table entry; nil for a knob this lvsctl does not know (a newer kernel's).
        public var knob: IPVSSysctl? { IPVSSysctl.named(name) }
        /// False when the file is read-only here (`debug_level` outside the initial namespace).
        public var writable: Bool
        /// True when the value differs from the 6.1 default; nil when the default is not a fixed value.
        public var changed: Bool? {
            guard let k = knob, let d = k.defaultValue else { return nil }
            return k.differs(kernel: value, from: d)
        }
    }

    /// The knobs of `names` (every knob the kernel has when empty), with their values. A name lvsctl does not know
    /// and the kernel does not have is a ``UsageError``; a known knob the kernel lacks is a ``SysctlError`` (exit 1).
    public static func rows(_ dir: IPVSSysctlDirectory, names: [String] = []) throws -> [Row] {
        guard let present = try dir.names() else { throw notLoaded }
        var wanted = present
        if !names.isEmpty {
            wanted = []
            for word in names {
                let n = IPVSSysctl.knobName(word)
                if !present.contains(n) {
                    if IPVSSysctl.named(n) == nil { throw UsageError("unknown IPVS sysctl \(shown(n)) (lvsctl sysctl show lists them)") }
                    throw SysctlError(name: n, operation: "read", errno: Errno.noSuchFileOrDirectory.rawValue)
                }
                if !wanted.contains(n) { wanted.append(n) }
            }
        }
        return try wanted.map { Row(name: $0, value: try dir.read($0), writable: dir.isWritable($0)) }
    }

    /// The error for a kernel without the IPVS sysctl folder.
    static var notLoaded: SystemError { SystemError("IPVS is not loaded: no /proc/sys/net/ipv4/vs (modprobe ip_vs)") }

    /// The changes that give the kernel `settings` (each already checked by its rule): one per knob whose value
    /// does not already mean the wanted one. Refuses (exit 1, naming the knob and, through `lineOf`, the file line)
    /// a knob the running kernel lacks, and one it would have to change that is read-only here. Nothing is written.
    public static func plan(_ settings: [SysctlSetting], in dir: IPVSSysctlDirectory, lineOf: (String) -> String? = { _ in nil }) throws -> [SysctlChange] {
        if settings.isEmpty { return [] }
        func at(_ n: String) -> String { lineOf(n).map { "\($0): " } ?? "" }
        guard try dir.names() != nil else { throw notLoaded }
        var out: [SysctlChange] = []
        for s in settings {
            guard dir.exists(s.name) else {
                let hint = s.name.hasPrefix("lblc") ? " (load module ip_vs_\(s.name.prefix { $0 != "_" }) first)" : ""
                throw SystemError(at(s.name) + SysctlError(name: s.name, operation: "read", errno: Errno.noSuchFileOrDirectory.rawValue).description + hint)
            }
            let now: String
            do { now = try dir.read(s.name) } catch let e as SysctlError { throw SystemError(at(s.name) + e.description) }
            guard let knob = IPVSSysctl.named(s.name), knob.differs(kernel: now, from: s.value) else { continue }
            if !dir.isWritable(s.name) {
                throw SystemError(at(s.name) + "net.ipv4.vs.\(s.name) is read-only in this network namespace (a global knob: set it in the initial namespace)")
            }
            out.append(SysctlChange(name: s.name, from: now, to: s.value))
        }
        return out
    }

    /// Writes `changes` in order. If the kernel refuses one, the ones already written get their old values back
    /// and a ``SystemError`` names the refusal (and its file line through `lineOf`). Returns the undo, which puts
    /// every written knob back (newest first) when a later step of restore or apply fails.
    public static func execute(_ changes: [SysctlChange], in dir: IPVSSysctlDirectory,
                               lineOf: (String) -> String? = { _ in nil }) throws -> () -> Void {
        var done: [SysctlChange] = []
        let undo = { () -> [String] in
            var failed: [String] = []
            for c in done.reversed() {
                do { try dir.write(c.name, c.from) } catch { failed.append("\(error)") }
            }
            return failed
        }
        for c in changes {
            do {
                try dir.write(c.name, c.to)
            } catch {
                let failed = undo()
                let at = lineOf(c.name).map { "\($0): " } ?? ""
                let rest = done.isEmpty ? "; nothing changed"
                    : failed.isEmpty ? "; the sysctls already set were put back, nothing changed"
                    : "; ROLLBACK INCOMPLETE: \(failed.joined(separator: "; "))"
                throw SystemError(at + "\(error)" + rest)
            }
            done.append(c)
        }
        return { _ = undo() }
    }

    /// `sysctl set`: checks every setting (exit 2), plans them against the kernel (exit 1 for a knob it lacks),
    /// then writes them, putting back the ones written if a later one is refused. Returns the changes made.
    @discardableResult
    public static func set(_ spec: SysctlSpec, in dir: IPVSSysctlDirectory) throws -> [SysctlChange] {
        let settings = try spec.model()
        let changes = try plan(settings, in: dir)
        _ = try execute(changes, in: dir)
        return changes
    }

    /// What `save` writes: every knob whose value differs from its 6.1 default (knobs without a fixed default and
    /// knobs lvsctl does not know are left out), in lvsctl's form; and a note for each value that lvsctl's rule
    /// would refuse on restore (set by hand to something the kernel took), which is left out too.
    public static func saved(_ dir: IPVSSysctlDirectory) throws -> (settings: [SysctlSetting], notes: [String]) {
        guard let names = try dir.names() else { return ([], []) }
        var settings: [SysctlSetting] = [], notes: [String] = []
        for n in names {
            guard let knob = IPVSSysctl.named(n), let d = knob.defaultValue else { continue }
            let v = try dir.read(n)
            if !knob.differs(kernel: v, from: d) { continue }
            // A boolean the kernel holds as 5 is saved as 1; an automatic defense mode 2 as 1.
            var value = knob.rule.canonical(v)
            if value == nil, knob.rule == .boolean { value = "1" }
            if knob.rule == .defenseMode, value == "2" { value = "1" }
            if let v = value { settings.append(SysctlSetting(name: n, value: v)) } else {
                notes.append("sysctl \(n)=\(v) is not saved: lvsctl accepts \(knob.rule.description)")
            }
        }
        return (settings, notes)
    }

    /// The settings of a parsed file in name order (the order they are planned and written in).
    public static func settings(of config: ClusterConfig) -> [SysctlSetting] {
        config.sysctls.keys.sorted().map { SysctlSetting(name: $0, value: config.sysctls[$0]!) }
    }
}
