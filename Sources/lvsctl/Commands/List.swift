import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import LVSCore
import LVSKit

/// Encodes a value as sorted, pretty JSON with a final newline.
func printJSON<T: Encodable>(_ v: T) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var d = try enc.encode(v)
    d.append(10)
    d.withUnsafeBytes { _ = writeAll(1, $0) }
}

/// Writes text to stdout in one call.
func emit(_ s: String) { writeStandardOutput(s) }

/// `lvsctl list`: the table, laid out like `ipvsadm -Ln`.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List virtual services and real servers, like ipvsadm -Ln.",
        discussion: "Example: lvsctl list --stats\nipvsadm equivalent: ipvsadm -Ln --stats")
    @OptionGroup var service: ServiceOptions
    @Flag(name: [.customShort("n"), .customLong("numeric")], help: "Numeric output (the default; accepted for ipvsadm habits).")
    var numeric = false
    @Flag(name: .customLong("resolve"), help: "Print host and service names (resolver, /etc/services) instead of numbers, as ipvsadm -L without -n.")
    var resolve = false
    @Flag(name: .customLong("stats"), help: "Counters.") var stats = false
    @Flag(name: .customLong("rate"), help: "Rates.") var rate = false
    @Flag(name: .customLong("thresholds"), help: "Thresholds.") var thresholds = false
    @Flag(name: .customLong("persistent-conn"), help: "Persistent connection counts.") var persistentConn = false
    @Flag(name: .customLong("tun-info"), help: "Tunnel details.") var tunInfo = false
    @Flag(name: .customLong("exact"), help: "Exact numbers, no K/M/G.") var exact = false
    @Flag(name: .customLong("sort"), help: "Sort (the default, as ipvsadm).") var sort = false
    @Flag(name: .customLong("nosort"), help: "Kernel order.") var nosort = false
    @OptionGroup var output: OptionsJSON
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if [stats, rate, thresholds, persistentConn, tunInfo].filter({ $0 }).count > 1 {
            throw ValidationError("give one of --stats, --rate, --thresholds, --persistent-conn, --tun-info")
        }
        if sort && nosort { throw ValidationError("--sort conflicts with --nosort") }
        if resolve && numeric { throw ValidationError("--resolve conflicts with -n/--numeric") }
        if resolve && output.json { throw ValidationError("--resolve has no effect with --json (addresses stay numeric)") }
    }

    var columns: ListColumns {
        stats ? .stats : rate ? .rate : thresholds ? .thresholds : persistentConn ? .persistentConnections : tunInfo ? .tunnelInfo : .standard
    }

    func run() throws {
        let key = try service.spec.key(required: false)
        let c = try global.client()
        var table = try c.table(key, stats: output.json || columns == .stats || columns == .rate)
        if !nosort { table = IPVSAdmFormat.sortedServices(table) }
        if output.json {
            try printJSON(JSONList(services: table.map(JSONService.init)))
            return
        }
        var out = TextBuffer(capacity: 64 + table.count * 320)
        if key == nil { out.append(IPVSAdmFormat.header(try c.info())) }
        out.append(IPVSAdmFormat.title(columns))
        if columns == .standard && !resolve {
            for e in table { IPVSAdmFormat.listStandard(e, sorted: !nosort, into: &out) }
        } else {
            let names = resolve ? NameResolver() : nil
            for e in table { out.append(IPVSAdmFormat.list(e, columns: columns, exact: exact, sorted: !nosort, names: names)) }
        }
        out.write(to: 1)
        Entry.keptUntilExit.append(table)
    }
}

/// `--json` as an option group.
typealias OptionsJSON = OutputOptions
