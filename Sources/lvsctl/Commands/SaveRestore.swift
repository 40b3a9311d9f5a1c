import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LVSCore
import LVSKit
#if canImport(Glibc)
import Glibc
#endif

/// `lvsctl save`.
struct Save: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Write the whole running state: services, real servers, thresholds, timeouts, daemons, bundles.",
        discussion: "Example: lvsctl save /etc/lvsctl/lvsctl.conf\nipvsadm equivalent: ipvsadm-save -n (which drops thresholds, timeouts, daemons and the mangle rules)")
    @Option(name: .of(.format, Options.save), help: .of(.format, Options.save)) var format: String = "lvsctl"
    @Argument(help: "Output file (default: standard output); written atomically.") var file: String?
    @OptionGroup var global: GlobalOptions

    var spec: SaveSpec {
        var s = SaveSpec(file: file)
        s.format = format
        return s
    }

    func run() throws { try Save.run(spec, netns: global.netns, client: { try global.client() }) }

    /// Both command-line paths (ArgumentParser's and ``Entry/runWithoutParser(_:)``).
    static func run(_ spec: SaveSpec, netns: String? = nil, client: () throws -> IPVSClient) throws {
        guard spec.format == "lvsctl" || spec.format == "ipvsadm" else {
            throw UsageError("invalid format \(shown(spec.format)) (expected lvsctl or ipvsadm)")
        }
        if let f = spec.file, f != "-", case .success(let st) = Syscall.stat(f), st.st_mode & S_IFMT == S_IFDIR {
            throw UsageError("\(shown(f)): is a directory, not a file to save to")
        }
        let c = try client()
        let text = try Saver.text(client: c, ipvsadm: spec.format == "ipvsadm",
                                  header: "lvsctl \(lvsctlVersion) configuration; load with: lvsctl restore FILE",
                                  monitor: spec.format == "ipvsadm" ? nil : MonitorStateFile.running(netns: netns),
                                  drained: { spec.format == "ipvsadm" ? nil : try DrainStateFile.read(drainStatePath(netns: netns)) },
                                  keep: { Entry.keptUntilExit.append($0) })
        if let f = spec.file, f != "-" {
            try makeParentDirectories(f)
            try writeFileAtomically(f, text)
        } else { emit(text) }
    }
}

/// `lvsctl restore`.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Load a saved state: validate every line first, then apply as one batch, rolling back on failure.",
        discussion: "Reads the lvsctl format or unmodified ipvsadm-save output.\nExample: lvsctl restore /etc/lvsctl/lvsctl.conf\nipvsadm equivalent: ipvsadm-restore < FILE (ipvsadm -C, then ipvsadm -R)\nwith --no-flush: ipvsadm -R < FILE")
    @Argument(help: "The file (default: standard input).") var file: String?
    @Flag(name: .of(.noFlush, Options.restore), help: .of(.noFlush, Options.restore)) var noFlush = false
    @Flag(name: .of(.dryRun, Options.restore), help: .of(.dryRun, Options.restore)) var dryRun = false
    @Option(name: .of(.wait, Options.restore), help: .of(.wait, Options.restore)) var wait: Double = 30
    @OptionGroup var global: GlobalOptions

    var spec: RestoreSpec {
        var r = RestoreSpec(file: file)
        r.noFlush = noFlush; r.dryRun = dryRun; r.wait = wait
        return r
    }

    func run() throws { try Restore.run(spec, client: { try global.client() }) }

    /// Both command-line paths: the file is read and checked before the client opens (`client` enters `--netns`).
    static func run(_ spec: RestoreSpec, client: () throws -> IPVSClient) throws {
        let f = try Loader.read(spec.file)
        if let note = f.monitorNote { notice(note) }
        if let lines = try Loader.restore(f, client: try client(), noFlush: spec.noFlush, dryRun: spec.dryRun, wait: spec.wait) {
            emit(lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n"))
        }
    }
}

/// `lvsctl apply`.
struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Reconcile the running state to a file with the fewest changes, printing the plan.",
        discussion: "Edits happen in place, so live connections survive where the kernel allows. Running it twice changes nothing the second time. With --check it is a drift check for monitoring: exit 0 when the kernel matches the file, 3 when it differs (the plan says how).\nExample: lvsctl apply /etc/lvsctl/lvsctl.conf --dry-run\nipvsadm equivalent: none (ipvsadm -R only adds; ipvsadm-restore, which runs ipvsadm -C first, replaces everything)")
    @Argument(help: "The desired state.") var file: String
    @Flag(name: .of(.dryRun, Options.apply), help: .of(.dryRun, Options.apply)) var dryRun = false
    @Flag(name: .of(.checkOnly, Options.apply), help: .of(.checkOnly, Options.apply)) var check = false
    @Option(name: .of(.wait, Options.apply), help: .of(.wait, Options.apply)) var wait: Double = 30
    @OptionGroup var global: GlobalOptions

    var spec: ApplySpec {
        var a = ApplySpec(file: file)
        a.dryRun = dryRun; a.check = check; a.wait = wait
        return a
    }

    func run() throws { try Apply.run(spec, client: { try global.client() }) }

    /// Both command-line paths: the file is read and checked before the client opens (`client` enters `--netns`).
    static func run(_ spec: ApplySpec, client: () throws -> IPVSClient) throws {
        let f = try Loader.read(spec.file)
        f.monitorNote.map(notice)
        var differs = false
        try Loader.apply(f, client: try client(), dryRun: spec.dryRun || spec.check, wait: spec.wait) { lines in
            differs = !lines.isEmpty
            emit(lines.isEmpty ? "no changes\n" : lines.joined(separator: "\n") + "\n")
        }
        if spec.check && differs { throw ExitStatus(3) }
    }
}
