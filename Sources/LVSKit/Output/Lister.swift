#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LVSCore

/// `list`'s options as typed.
public struct ListSpec: Equatable, Sendable {
    public var service: ServiceSpec
    public var numeric = false, resolve = false, stats = false, rate = false, thresholds = false
    public var persistentConn = false, tunInfo = false, exact = false, sort = false, nosort = false, json = false
    public init(service: ServiceSpec = ServiceSpec()) { self.service = service }

    /// Options that exclude each other (exit 2).
    public func validate() throws {
        if [stats, rate, thresholds, persistentConn, tunInfo].filter({ $0 }).count > 1 {
            throw UsageError("give one of --stats, --rate, --thresholds, --persistent-conn, --tun-info")
        }
        if sort && nosort { throw UsageError("--sort conflicts with --nosort") }
        if resolve && numeric { throw UsageError("--resolve conflicts with -n/--numeric") }
        if resolve && json { throw UsageError("--resolve has no effect with --json (addresses stay numeric)") }
    }

    /// The columns asked for.
    public var columns: ListColumns {
        stats ? .stats : rate ? .rate : thresholds ? .thresholds : persistentConn ? .persistentConnections : tunInfo ? .tunnelInfo : .standard
    }
}

/// `list`: the table, laid out like `ipvsadm -Ln` (or as JSON), written to standard output.
public enum Lister {
    /// Reads the table (one service with `-t`/`-u`/`-f`) and writes it. `keep` receives the table, whose freeing the
    /// caller leaves to the process exit.
    public static func write(_ spec: ListSpec, client: any IPVSControl, keep: (Any) -> Void) throws {
        let key = try spec.service.key(required: false)
        let columns = spec.columns
        var table = try client.table(key, stats: spec.json || columns == .stats || columns == .rate)
        if !spec.nosort { table = IPVSAdmFormat.sortedServices(table) }
        if spec.json {
            try printJSON(JSONList(services: table.map(JSONService.init)))
            return
        }
        var out = TextBuffer(capacity: 64 + table.count * 320)
        if key == nil { out.append(IPVSAdmFormat.header(try client.info())) }
        out.append(IPVSAdmFormat.title(columns))
        if columns == .standard && !spec.resolve {
            for e in table { IPVSAdmFormat.listStandard(e, sorted: !spec.nosort, into: &out) }
        } else {
            let names = spec.resolve ? NameResolver() : nil
            for e in table { out.append(IPVSAdmFormat.list(e, columns: columns, exact: spec.exact, sorted: !spec.nosort, names: names)) }
        }
        out.write(to: 1)
        keep(table)
    }
}

/// Encodes a value as sorted, pretty JSON with a final newline, on standard output.
public func printJSON<T: Encodable>(_ v: T) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var d = try enc.encode(v)
    d.append(10)
    d.withUnsafeBytes { _ = writeAll(1, $0) }
}
