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

/// The service a template belongs to: `fwmark 80` or `192.0.2.10:80`.
func virtualName(_ c: Connection) -> String { c.templateFwmark.map { "fwmark \($0)" } ?? c.virtual.description }

/// `lvsctl persistence set|clear|show`.
struct Persistence: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "persistence",
        abstract: "Client affinity: keep a client on one real server across connections (and across a bundle's ports).",
        discussion: "Example: lvsctl persistence set -t 192.0.2.10:80 --timeout 600 --netmask 255.255.255.0\nipvsadm equivalent: ipvsadm -E -t 192.0.2.10:80 -s <same scheduler> -p 600 -M 255.255.255.0",
        subcommands: [Set.self, Clear.self, Show.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Turn on persistence for a service or bundle, leaving its other settings alone.",
            discussion: "Example: lvsctl persistence set --bundle web --timeout 600\nipvsadm equivalent: ipvsadm -E -f 80 -s <same scheduler> -p 600")
        @OptionGroup var target: RS.Target
        @Option(name: .customLong("timeout"), help: "Seconds (default 360, as ipvsadm -p).") var timeout: String?
        @Option(name: .customLong("netmask"), help: "Client granularity: IPv4 mask or prefix, IPv6 prefix length.") var netmask: String?
        @Option(name: .customLong("pe"), help: "Persistence engine, e.g. sip.") var pe: String?
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let t = try timeout.map { UInt32(try Validate.number($0, "persistence timeout", 1...UInt64(Timeouts.maxValue))) } ?? LVSCore.Persistence.defaultTimeout
            if let p = pe { try Validate.moduleName(p, what: "persistence engine") }
            if let k = try target.provisionalKey(), let m = netmask { _ = try Validate.netmask(m, family: k.family) }
            let c = try global.client()
            try Edits.service(try target.key(global), client: c) { s in
                var p = s.persistence ?? LVSCore.Persistence(timeout: t, netmask: VirtualService.fullNetmask(s.key.family))
                p.timeout = t
                if let m = netmask { p.netmask = try Validate.netmask(m, family: s.key.family) }
                if let e = pe { p.engine = e }
                s.persistence = p
            }
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "clear",
            abstract: "Turn persistence off for a service or bundle.",
            discussion: "Example: lvsctl persistence clear -t 192.0.2.10:80\nipvsadm equivalent: ipvsadm -E -t 192.0.2.10:80 -s <same scheduler> (without -p)")
        @OptionGroup var target: RS.Target
        @OptionGroup var global: GlobalOptions
        func run() throws {
            _ = try target.provisionalKey()
            let c = try global.client()
            try Edits.service(try target.key(global), client: c) { $0.persistence = nil }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "List live persistence templates: client network -> real server, and time left.",
            discussion: "Example: lvsctl persistence show\nipvsadm equivalent: ipvsadm -Lnc | grep NONE")
        @OptionGroup var output: OutputOptions
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let t = try readConnections(global).filter(\.isTemplate)
            if output.json {
                struct T: Encodable { var client: String; var virtual: String; var real_server: String; var expires: UInt32; var protocol_: String
                    enum CodingKeys: String, CodingKey { case client, virtual, real_server, expires, protocol_ = "protocol" } }
                struct Doc: Encodable { var schema = jsonSchemaVersion; var templates: [T] }
                try printJSON(Doc(templates: t.map { T(client: $0.client.address.description, virtual: virtualName($0),
                                                       real_server: $0.destination.description, expires: $0.expires, protocol_: $0.proto) }))
                return
            }
            var out = pad("client", 40) + " " + pad("virtual", 24) + " " + pad("real server", 24) + " expires\n"
            for c in t {
                out += pad(c.client.address.description, 40) + " " + pad(virtualName(c), 24) + " " + pad(c.destination.description, 24) + " \(c.expires)s\n"
            }
            emit(out)
        }
    }
}
