import ArgumentParser
import LVSCore
import LVSKit

/// `lvsctl sysctl show|set`: the IPVS sysctls of a network namespace.
struct SysctlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sysctl",
        abstract: "Show or set the IPVS sysctls (/proc/sys/net/ipv4/vs/) of the network namespace.",
        discussion: "Example: lvsctl sysctl set expire_nodest_conn=1 expire_quiescent_template=1\nipvsadm equivalent: none (sysctl -w net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.expire_quiescent_template=1)",
        subcommands: [Show.self, Set.self])

    /// Enters the namespace and opens the IPVS client once: that loads ip_vs when needed (the folder exists only
    /// then), and refuses a run without CAP_NET_ADMIN with the words every other command uses, although the files
    /// themselves are world-readable.
    static func directory(_ global: GlobalOptions) throws -> IPVSSysctlDirectory {
        try global.enter()
        _ = try IPVSClient().info()
        return IPVSSysctlDirectory.kernel
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show every IPVS sysctl the running kernel has, with its value and its default.",
            discussion: "Knobs whose value differs from the Linux 6.1 default are marked 'changed'; these are what 'lvsctl save' writes as sysctl set lines.\nExample: lvsctl sysctl show --explain\nipvsadm equivalent: none (sysctl net.ipv4.vs)")
        @Argument(help: "Knobs to show, e.g. expire_nodest_conn (default: all).") var names: [String] = []
        @Flag(name: .customLong("explain"), help: "One line of explanation and advice under each knob.") var explain = false
        @OptionGroup var output: OutputOptions
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let rows = try Sysctls.rows(try SysctlCommand.directory(global), names: names)
            if output.json { try printJSON(JSONSysctls(rows)); return }
            emit(SysctlCommand.table(rows, explain: explain))
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set IPVS sysctls: every value is checked first, then all are written (or none).",
            discussion: "NAME may also be written net.ipv4.vs.NAME. A bad value or an unknown knob exits 2 before anything is written; a knob the running kernel lacks exits 1. If the kernel refuses a value, the knobs already written get their old values back.\nExample: lvsctl sysctl set expire_nodest_conn=1 'sync_threshold=3 100'\nipvsadm equivalent: none (sysctl -w net.ipv4.vs.expire_nodest_conn=1 'net.ipv4.vs.sync_threshold=3 100')")
        @Argument(help: "NAME=VALUE, e.g. expire_nodest_conn=1.") var settings: [String]
        @OptionGroup var global: GlobalOptions

        var spec: SysctlSpec { SysctlSpec(settings: settings) }
        func run() throws {
            _ = try spec.model()  // bad input exits 2 before the namespace is entered
            try Sysctls.set(spec, in: try SysctlCommand.directory(global))
        }
    }

    /// `sysctl show`'s table: name, value, default, and `changed` / `read-only here` marks.
    static func table(_ rows: [Sysctls.Row], explain: Bool) -> String {
        let nw = max(4, rows.map(\.name.count).max() ?? 0) + 2
        let vw = max(5, rows.map(\.value.count).max() ?? 0) + 2
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(1, w - s.count)) }
        var out = pad("Name", nw) + pad("Value", vw) + "Default\n"
        for r in rows {
            let d = r.knob.map { k in k.defaultValue ?? "(\(k.defaultNote ?? "varies"))" } ?? "(unknown to lvsctl)"
            var marks: [String] = []
            if r.changed == true { marks.append("changed") }
            if !r.writable { marks.append("read-only here") }
            let line = pad(r.name, nw) + pad(r.value, vw) + (marks.isEmpty ? d : pad(d, 9) + marks.joined(separator: ", "))
            out += line + "\n"
            if explain, let k = r.knob { out += "    \(k.explanation) Accepts: \(k.rule.description).\n" }
        }
        return out
    }
}
