#if canImport(Glibc)
import Glibc
#endif
import LVSCore

/// The running state including bundles, read through one client.
public func runningState(_ client: any IPVSControl, _ store: BundleStore) throws -> ClusterConfig {
    var c = try client.runningState()
    c.bundles = try store.bundles()
    return c
}

/// Turns SIGINT/SIGTERM into a flag the executor polls, so an interrupted restore rolls back.
public enum Interrupts {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0
    public static func install() {
        signal(SIGINT) { _ in Interrupts.flag = 1 }
        signal(SIGTERM) { _ in Interrupts.flag = 1 }
    }
    public static var raised: Bool { flag != 0 }
}

extension DRFileLine {
    /// Plans the file's dr lines (nil when there are none); errors name the line of the VIP they concern.
    public static func plan(_ lines: [DRFileLine]) throws -> (DirectRouting, DirectRouting.Plan)? {
        if lines.isEmpty { return nil }
        do {
            let dr = try DirectRouting(firewall: try Firewall.backend())
            return (dr, try dr.plan(lines.map(\.request)))
        } catch let e as DRError {
            let at = lines.first { l in e.description.contains("VIP \(l.request.vip) ") || e.description.contains("'\(l.request.interface ?? "\u{0}")'") }
            let msg = at.map { "\($0.file):\($0.line): \(e.description)" } ?? e.description
            if e.isUsage { throw UsageError(msg) }
            throw DRError(msg)
        }
    }
}

/// `restore [FILE] [--no-flush] [--dry-run] [--wait SECS]` as typed.
public struct RestoreSpec: Equatable, Sendable {
    public var file: String?
    public var noFlush = false, dryRun = false
    public var wait = 30.0
    public init(file: String? = nil) { self.file = file }
}

/// `apply FILE [--dry-run|--check] [--wait SECS]`.
public struct ApplySpec: Equatable, Sendable {
    public var file: String
    public var dryRun = false
    /// `--check`: a dry run that exits 3 when the plan is not empty (the kernel differs from the file).
    public var check = false
    public var wait = 30.0
    public init(file: String) { self.file = file }
}

/// `save [FILE] [--format lvsctl|ipvsadm]`.
public struct SaveSpec: Equatable, Sendable {
    public var file: String?
    public var format = "lvsctl"
    public init(file: String? = nil) { self.file = file }
}

/// Loading a configuration file into the kernel: `restore` (replace, or add with `--no-flush`) and `apply`
/// (reconcile with the fewest changes). Both parse the whole file first, take lvsctl's lock, plan against the
/// running state, and apply the `dr` lines, the bundle rules and the IPVS batch with rollback: a failing step (or
/// SIGINT/SIGTERM) undoes the earlier ones.
public enum Loader {
    /// A parsed file, ready to plan.
    public struct File {
        public var name: String
        public var desired: ClusterConfig
        public var source: SourceMap
        public var dr: [DRFileLine]
        /// The note restore and apply print for the file's `check` and `sorry` lines, which they leave to
        /// `lvsctl monitor`; nil when there are none.
        public var monitorNote: String? {
            let n = source.checks.count + source.sorry.count
            return n == 0 ? nil : "note: \(n) check and sorry line\(n == 1 ? "" : "s") take effect under lvsctl monitor"
        }
    }

    /// Reads and parses `path` (nil or `-`: standard input). Nothing is applied.
    public static func read(_ path: String?) throws -> File {
        let (name, text) = try ConfigFile.read(path)
        let (desired, src, dr) = try ConfigFile.parse(name: name, text: text, base: ClusterConfig())
        return File(name: name, desired: desired, source: src, dr: dr)
    }

    /// `restore`: returns the plan's lines for a dry run (nothing changed), else applies it and returns nil.
    /// The file's `sysctl set` knobs are set; the others are left as they are (a restore does not reset them).
    public static func restore(_ file: File, client: any IPVSControl, noFlush: Bool, dryRun: Bool, wait: Double,
                               sysctls dir: IPVSSysctlDirectory = .kernel) throws -> [String]? {
        var desired = file.desired
        let src = file.source, name = file.name
        Firewall.useFileLine(desired.firewall, file: name, line: src.other["firewall"])
        let store = try BundleStore.system()
        return try withLvsctlLock(wait: wait) {
            let current = try runningState(client, store)
            if noFlush { desired = try merge(desired, onto: current, source: src, file: name) }
            let plan = noFlush ? Planner.diff(from: current, to: desired) : Planner.load(desired, flush: true, current: current)
            let sysctls = try Sysctls.plan(Sysctls.settings(of: desired), in: dir, lineOf: src.line(ofSysctl:))
            let dr = try DRFileLine.plan(file.dr)
            if dryRun {
                let (_, fw) = try commitBundleRules(store, from: current.bundles, to: desired.bundles, dryRun: true)
                return sysctls.map(\.description) + (dr?.1.changes ?? []) + fw + plan.map(Planner.describe)
            }
            try applyChanges(plan, current: current, desired: desired, client: client, store: store, source: src, dr: dr,
                             sysctls: sysctls, sysctlDirectory: dir)
            return nil
        }
    }

    /// `apply`: prints (through `show`) the plan that aligns the kernel with the file, then applies it unless `dryRun`.
    /// The file's `sysctl set` knobs are planned and set like the rest; the knobs it does not name are left alone.
    public static func apply(_ file: File, client: any IPVSControl, dryRun: Bool, wait: Double,
                             sysctls dir: IPVSSysctlDirectory = .kernel, show: ([String]) -> Void) throws {
        var desired = file.desired
        let src = file.source
        Firewall.useFileLine(desired.firewall, file: file.name, line: src.other["firewall"])
        let store = try BundleStore.system()
        try withLvsctlLock(wait: wait) {
            let current = try runningState(client, store)
            if desired.timeouts == nil { desired.timeouts = current.timeouts }
            let plan = Planner.diff(from: current, to: desired)
            let sysctls = try Sysctls.plan(Sysctls.settings(of: desired), in: dir, lineOf: src.line(ofSysctl:))
            let dr = try DRFileLine.plan(file.dr)
            let (_, fw) = try commitBundleRules(store, from: current.bundles, to: desired.bundles, dryRun: true)
            show(sysctls.map(\.description) + (dr?.1.changes ?? []) + fw + plan.map(Planner.describe))
            if dryRun { return }
            try applyChanges(plan, current: current, desired: desired, client: client, store: store, source: src, dr: dr,
                             sysctls: sysctls, sysctlDirectory: dir)
        }
    }

    /// `restore --no-flush`: the file's services, real servers, bundles, timeouts and daemons added to the running
    /// state; anything the file defines that already exists is refused (naming its line) before anything changes.
    public static func merge(_ desired: ClusterConfig, onto current: ClusterConfig, source src: SourceMap, file name: String) throws -> ClusterConfig {
        var merged = current
        for e in desired.entries {
            if let i = merged.index(of: e.service.key) {
                if !(e.service.key.isFwmark && desired.bundles.contains { $0.serviceKey == e.service.key }) || merged.entries[i].service.config != e.service.config {
                    if src.services[e.service.key] != nil { throw UsageError("\(src.line(of: .addService(e.service)) ?? name): service \(e.service.key) already exists") }
                }
                for d in e.servers {
                    if merged.entries[i].servers.contains(where: { $0.endpoint == d.endpoint }) {
                        throw UsageError("\(src.line(of: .addDest(e.service.key, d)) ?? name): real server \(d.endpoint) of \(e.service.key) already exists")
                    }
                    merged.entries[i].servers.append(d)
                }
            } else { merged.entries.append(e) }
        }
        for b in desired.bundles {
            if current.bundles.contains(where: { $0.name == b.name }) { throw UsageError("\(name): bundle \(shown(b.name)) already exists") }
            merged.bundles.append(b)
        }
        if let t = desired.timeouts { merged.timeouts = t }
        merged.sysctls.merge(desired.sysctls) { _, new in new }
        merged.daemons += desired.daemons.filter { d in !current.daemons.contains { $0.state == d.state } }
        return merged
    }
}

/// Applies a firewall change for every family whose lvsctl mangle rules differ; returns an undo closure (and, for a
/// dry run, the lines of the change instead of making it).
public func commitBundleRules(_ store: BundleStore, from current: [MarkBundle], to desired: [MarkBundle], dryRun: Bool) throws -> (() -> Void, [String]) {
    var undo: [() -> Void] = []
    var lines: [String] = []
    for f in [AddressFamily.inet, .inet6] {
        let old = try store.rules(f)
        let keepForeign = old.filter { !$0.owner.hasPrefix("bundle ") }
        let new = keepForeign + desired.filter { $0.family == f }.flatMap(\.rules)
        if old == new || (store.firewall.kind == .nftables && Set(old) == Set(new)) { continue }  // nft: no order
        if dryRun {  // the plan's lines are printed only for a dry run
            let oldSet = Set(old), newSet = Set(new)
            let k = store.firewall.kind
            for r in old where !newSet.contains(r) { lines.append("- " + ruleText(r, k, program: false)) }
            for r in new where !oldSet.contains(r) { lines.append("+ " + ruleText(r, k, program: false)) }
            continue
        }
        do {
            try store.firewall.replaceRules(new, table: .mangle, family: f)
        } catch {
            undo.reversed().forEach { $0() }
            throw error
        }
        undo.append { try? store.firewall.replaceRules(old, table: .mangle, family: f) }
    }
    return ({ undo.reversed().forEach { $0() } }, lines)
}

/// The apply step shared by `restore` and `apply`: the file's IPVS sysctls (first, so that `sync_ports` and the
/// other sync knobs are in place before the daemons start), its `dr` lines (planned before anything changed), the
/// bundle rules, then the IPVS plan with rollback (SIGINT/SIGTERM included); a failure undoes the earlier parts.
public func applyChanges(_ plan: [IPVSRequest], current: ClusterConfig, desired: ClusterConfig, client: any IPVSControl,
                         store: BundleStore, source src: SourceMap, dr: (DirectRouting, DirectRouting.Plan)?,
                         sysctls: [SysctlChange] = [], sysctlDirectory: IPVSSysctlDirectory = .kernel) throws {
    Interrupts.install()
    let undoSysctls = try Sysctls.execute(sysctls, in: sysctlDirectory, lineOf: src.line(ofSysctl:))
    let undoDR: () -> Void
    do {
        undoDR = try dr.map { try $0.0.execute($0.1) } ?? {}
    } catch {
        undoSysctls()
        throw error
    }
    let undoFirewall: () -> Void
    do {
        (undoFirewall, _) = try commitBundleRules(store, from: current.bundles, to: desired.bundles, dryRun: false)
    } catch {
        undoDR()
        undoSysctls()
        throw error
    }
    do {
        try Executor(client: client).run(plan, before: current, lineOf: { src.line(of: plan[$0]) },
                                         interrupted: { Interrupts.raised })
    } catch {
        undoFirewall()
        undoDR()
        undoSysctls()
        throw error
    }
}

/// What `save` writes.
public enum Saver {
    /// The running state in the lvsctl format (with the bundles, the dr lines of this namespace and, when the admin
    /// chose it, the firewall backend; with `monitor`, the running monitor's weights and lines), or exactly as `ipvsadm -Sn` (`ipvsadm: true`). `keep` receives the big table
    /// so the caller can leave its freeing to the process exit.
    /// With `drained` (reads the namespace's drain state), a drained server is written with its recorded weight, not the
    /// kernel's 0.
    public static func text(client: any IPVSControl, ipvsadm: Bool, header: String, monitor: MonitorStateFile? = nil,
                            sysctlDirectory: IPVSSysctlDirectory = .kernel, drained: () throws -> DrainStateFile? = { nil },
                            keep: (Any) -> Void) throws -> String {
        if ipvsadm {
            let table = IPVSAdmFormat.sortedServices(try client.table(stats: false))
            var out = TextBuffer(capacity: table.count * 256)
            for e in table { IPVSAdmFormat.save(e, into: &out) }
            keep(table)
            return out.string
        }
        var state = try runningState(client, try BundleStore.system())
        let choice = Firewall.choice()
        if choice.worthSaving { state.firewall = choice.kind }  // the admin's choice survives a restore elsewhere
        // The IPVS sysctls that differ from the kernel's defaults (a restore sets them and leaves the others alone).
        let (sysctls, notes) = try Sysctls.saved(sysctlDirectory)
        for s in sysctls { state.sysctls[s.name] = s.value }
        let header = ([header] + notes).joined(separator: "\n")
        var extra = try savedDRLines()
        if let d = try drained() { state = d.configured(state) }  // read after the kernel (no privilege: refused there)
        // While a monitor runs here: the configured weights (not its quiesced 0s), without its sorry servers, and
        // its check and sorry lines.
        if let m = monitor {
            state = m.configured(state)
            extra += m.lines
        }
        return LVSCtlFormat.render(state, header: header, extraLines: extra)
    }

    /// The `dr setup` lines `save` writes: one per recorded VIP of this namespace.
    public static func savedDRLines() throws -> [String] {
        let dr = try DirectRouting(firewall: try Firewall.backend())
        return try dr.loadState().records.compactMap { $0.request?.setupLine }
    }
}

/// Creates the missing directories above `path` (mode 0755), as `mkdir -p` would: `lvsctl save
/// /etc/lvsctl/lvsctl.conf` works on a machine where lvsctl was not installed with `make install`.
public func makeParentDirectories(_ path: String) throws {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
    let dir = String(path[..<slash])
    if case .success = Syscall.stat(dir) { return }
    try makeParentDirectories(dir)
    switch Syscall.mkdir(dir, 0o755) {
    case .success, .failure(.fileExists): return
    case .failure(let e): throw SystemError("cannot create directory \(shown(dir)): \(e)")
    }
}
