import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LVSCore
#if canImport(Glibc)
import Glibc
#endif

/// The running state including bundles, read through one client.
func runningState(_ client: IPVSClient, _ store: BundleStore) throws -> ClusterConfig {
    var c = try client.runningState()
    c.bundles = try store.bundles()
    return c
}

/// lvsctl's own lock. Every command that changes the firewall (bundle add/delete, dr setup/teardown, restore, apply)
/// holds it across the whole change: reading what exists, choosing a mark, writing the rules and the IPVS half, and
/// any rollback. Without it two commands each read the same chain, and the last commit wins (a lost bundle).
let lvsctlLockPath = "/run/lvsctl/lock"

/// Runs `body` holding lvsctl's lock (`withFileLock` on ``lvsctlLockPath``), waiting at most `wait` seconds.
/// Not reentrant (flock locks an open file, so a second take in the same process waits for itself until `wait`
/// runs out): `body` must not call anything that takes it again.
func withLvsctlLock<T>(wait: Double = 30, _ body: () throws -> T) throws -> T {
    try withFileLock(lvsctlLockPath, timeout: wait, purpose: "another lvsctl command is changing IPVS or the firewall", body)
}

/// `lvsctl save`.
struct Save: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Write the whole running state: services, real servers, thresholds, timeouts, daemons, bundles.",
        discussion: "Example: lvsctl save /etc/lvsctl/lvsctl.conf\nipvsadm equivalent: ipvsadm-save -n (which drops thresholds, timeouts, daemons and the mangle rules)")
    @Option(name: .customLong("format"), help: "lvsctl (default) or ipvsadm (exactly ipvsadm -Sn).") var format: String = "lvsctl"
    @Argument(help: "Output file (default: standard output); written atomically.") var file: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        guard format == "lvsctl" || format == "ipvsadm" else { throw UsageError("invalid format \(shown(format)) (expected lvsctl or ipvsadm)") }
        if let f = file, f != "-" {
            var st = stat()
            if stat(f, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { throw UsageError("\(shown(f)): is a directory, not a file to save to") }
        }
        let client = try global.client()
        let text: String
        if format == "ipvsadm" {
            let table = IPVSAdmFormat.sortedServices(try client.table(stats: false))
            var out = TextBuffer(capacity: table.count * 256)
            for e in table { IPVSAdmFormat.save(e, into: &out) }
            text = out.string
            Entry.keptUntilExit.append(table)
        } else {
            var state = try runningState(client, try BundleStore.system())
            let choice = Firewall.choice()
            if choice.worthSaving { state.firewall = choice.kind }  // the admin's choice survives a restore elsewhere
            text = LVSCtlFormat.render(state, header: "lvsctl \(lvsctlVersion) configuration; load with: lvsctl restore FILE",
                                       extraLines: try DRSaved.savedLines())
        }
        if let f = file, f != "-" {
            try makeParentDirectories(f)
            try writeFileAtomically(f, text)
        } else { emit(text) }
    }
}

/// Creates the missing directories above `path` (mode 0755), as `mkdir -p` would: `lvsctl save
/// /etc/lvsctl/lvsctl.conf` works on a machine where lvsctl was not installed with `make install`.
func makeParentDirectories(_ path: String) throws {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
    let dir = String(path[..<slash])
    var st = stat()
    if stat(dir, &st) == 0 { return }
    try makeParentDirectories(dir)
    if mkdir(dir, 0o755) != 0 && errno != EEXIST {
        throw UsageErrorSystem("cannot create directory \(shown(dir)): \(String(cString: strerror(errno)))")
    }
}

/// Turns SIGINT/SIGTERM into a flag the executor polls, so an interrupted restore rolls back.
enum Interrupts {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0
    static func install() {
        signal(SIGINT) { _ in Interrupts.flag = 1 }
        signal(SIGTERM) { _ in Interrupts.flag = 1 }
    }
    static var raised: Bool { flag != 0 }
}

/// Applies a firewall change for every family whose lvsctl mangle rules differ; returns an undo closure.
func commitBundleRules(_ store: BundleStore, from current: [MarkBundle], to desired: [MarkBundle], dryRun: Bool) throws -> (() -> Void, [String]) {
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

/// The apply step shared by `restore` and `apply`: the file's `dr` lines (planned before anything changed), the
/// bundle rules, then the IPVS plan with rollback (SIGINT/SIGTERM included); a failure undoes the earlier parts.
func applyChanges(_ plan: [IPVSRequest], current: ClusterConfig, desired: ClusterConfig, client: IPVSClient,
                  store: BundleStore, source src: SourceMap, dr: (DirectRouting, DirectRouting.Plan)?) throws {
    Interrupts.install()
    let undoDR = try dr.map { try $0.0.execute($0.1) } ?? {}
    let undoFirewall: () -> Void
    do {
        (undoFirewall, _) = try commitBundleRules(store, from: current.bundles, to: desired.bundles, dryRun: false)
    } catch {
        undoDR()
        throw error
    }
    do {
        try Executor(client: client).run(plan, before: current, lineOf: { src.line(of: plan[$0]) },
                                         interrupted: { Interrupts.raised })
    } catch {
        undoFirewall()
        undoDR()
        throw error
    }
}

/// `lvsctl restore`.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Load a saved state: validate every line first, then apply as one batch, rolling back on failure.",
        discussion: "Reads the lvsctl format or unmodified ipvsadm-save output.\nExample: lvsctl restore /etc/lvsctl/lvsctl.conf\nipvsadm equivalent: ipvsadm-restore < FILE (ipvsadm -C, then ipvsadm -R)\nwith --no-flush: ipvsadm -R < FILE")
    @Argument(help: "The file (default: standard input).") var file: String?
    @Flag(name: .customLong("no-flush"), help: "Add to the running state instead of replacing it.") var noFlush = false
    @Flag(name: .customLong("dry-run"), help: "Validate and print the plan; change nothing.") var dryRun = false
    @Option(name: .customLong("wait"), help: "Seconds to wait for another lvsctl command to finish (default 30).") var wait: Double = 30
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let (name, text) = try ConfigFile.read(file)
        var (desired, src, drLines) = try ConfigFile.parse(name: name, text: text, base: ClusterConfig())
        let client = try global.client()
        Firewall.useFileLine(desired.firewall, file: name, line: src.other["firewall"])
        let store = try BundleStore.system()
        try withLvsctlLock(wait: wait) {
            let current = try runningState(client, store)
            if noFlush {
                // Merge onto the running state; conflicts are refused before anything changes.
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
                merged.daemons += desired.daemons.filter { d in !current.daemons.contains { $0.state == d.state } }
                desired = merged
            }
            let plan = noFlush ? Planner.diff(from: current, to: desired) : Planner.load(desired, flush: true, current: current)
            let dr = try DRFileLine.plan(drLines)
            if dryRun {
                let (_, fw) = try commitBundleRules(store, from: current.bundles, to: desired.bundles, dryRun: true)
                let lines = (dr?.1.changes ?? []) + fw + plan.map(Planner.describe)
                emit(lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n"))
                return
            }
            try applyChanges(plan, current: current, desired: desired, client: client, store: store, source: src, dr: dr)
        }
    }
}

/// `lvsctl apply`.
struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Reconcile the running state to a file with the fewest changes, printing the plan.",
        discussion: "Edits happen in place, so live connections survive where the kernel allows. Running it twice changes nothing the second time.\nExample: lvsctl apply /etc/lvsctl/lvsctl.conf --dry-run\nipvsadm equivalent: none (ipvsadm -R only adds; ipvsadm-restore, which runs ipvsadm -C first, replaces everything)")
    @Argument(help: "The desired state.") var file: String
    @Flag(name: .customLong("dry-run"), help: "Print the plan; change nothing.") var dryRun = false
    @Option(name: .customLong("wait"), help: "Seconds to wait for another lvsctl command to finish (default 30).") var wait: Double = 30
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let (name, text) = try ConfigFile.read(file)
        var (desired, src, drLines) = try ConfigFile.parse(name: name, text: text, base: ClusterConfig())
        let client = try global.client()
        Firewall.useFileLine(desired.firewall, file: name, line: src.other["firewall"])
        let store = try BundleStore.system()
        try withLvsctlLock(wait: wait) {
            let current = try runningState(client, store)
            if desired.timeouts == nil { desired.timeouts = current.timeouts }
            let plan = Planner.diff(from: current, to: desired)
            let dr = try DRFileLine.plan(drLines)
            let (_, fw) = try commitBundleRules(store, from: current.bundles, to: desired.bundles, dryRun: true)
            let lines = (dr?.1.changes ?? []) + fw + plan.map(Planner.describe)
            emit(lines.isEmpty ? "no changes\n" : lines.joined(separator: "\n") + "\n")
            if dryRun { return }
            try applyChanges(plan, current: current, desired: desired, client: client, store: store, source: src, dr: dr)
        }
    }
}
