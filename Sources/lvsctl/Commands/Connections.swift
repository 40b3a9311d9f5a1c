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

/// Reads `/proc/net/ip_vs_conn` in the current (or chosen) namespace.
func readConnections(_ global: GlobalOptions) throws -> [Connection] {
    try global.enter()
    // Loads ip_vs if needed, so the proc file exists. The proc file itself is world-readable; the IPVS GET
    // needs CAP_NET_ADMIN like every other command, so an unprivileged run gets the same clear refusal.
    _ = try IPVSClient().info()
    return try ConnectionTable.read()
}

/// A refusal by the system (exit 1) that is not a kernel errno.

/// `lvsctl connections`.
struct Connections: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connections",
        abstract: "The connection table, as ipvsadm -Lnc.",
        discussion: "Example: lvsctl connections\nipvsadm equivalent: ipvsadm -Lnc")
    @Flag(name: .customLong("persistent-conn"), help: "Show persistence-engine columns.") var persistent = false
    @Flag(name: [.customShort("n"), .customLong("numeric")], help: "Numeric (the default).") var numeric = false
    @Flag(name: .customLong("resolve"), help: "Print host and service names instead of numbers, as ipvsadm -Lc without -n.")
    var resolve = false
    @OptionGroup var output: OutputOptions
    @OptionGroup var global: GlobalOptions
    func validate() throws {
        if resolve && numeric { throw ValidationError("--resolve conflicts with -n/--numeric") }
        if resolve && output.json { throw ValidationError("--resolve has no effect with --json (addresses stay numeric)") }
    }
    func run() throws {
        let conns = try readConnections(global)
        if output.json {
            try printJSON(ConnectionsDoc(conns))
        } else {
            emit(ConnectionTable.format(conns, persistent: persistent, names: resolve ? NameResolver() : nil))
        }
    }
}

/// JSON form of the connection table.
struct ConnectionsDoc: Encodable {
    struct C: Encodable {
        var protocol_: String, client: String, virtual: String, destination: String, state: String, expires: UInt32, template: Bool
        var pe_name: String?, pe_data: String?
        enum CodingKeys: String, CodingKey { case protocol_ = "protocol", client, virtual, destination, state, expires, template, pe_name, pe_data }
    }
    var schema = jsonSchemaVersion
    var connections: [C]
    init(_ cs: [Connection]) {
        connections = cs.map { C(protocol_: $0.proto, client: $0.client.description, virtual: $0.virtual.description,
                                 destination: $0.destination.description, state: $0.state, expires: $0.expires,
                                 template: $0.isTemplate, pe_name: $0.peName, pe_data: $0.peData) }
    }
}
