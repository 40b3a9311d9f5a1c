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

/// `lvsctl bundle add|delete|list`.
struct Bundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Firewall-mark bundles: mangle MARK rules plus the fwmark virtual service, as one unit.",
        discussion: """
        Example: lvsctl bundle add web --vip 192.0.2.10 --ports 80,443 --mark 80 -s rr -p 60
        ipvsadm equivalent: iptables -t mangle -A PREROUTING ... -j MARK --set-mark 80 plus ipvsadm -A -f 80 -s rr -p 60
        Guide: Documentation/firewall-mark-bundles.md
        """,
        subcommands: [Add.self, Delete.self, List.self, Migrate.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Mark VIP:ports in the mangle table and create the fwmark service for them.",
            discussion: """
            Example: lvsctl bundle add web --vip 192.0.2.10 --ports 80,443 --mark 80 -s rr -p 60
            ipvsadm equivalent: iptables -t mangle -A PREROUTING -p tcp -d 192.0.2.10/32 -m multiport --dports 80,443 -j MARK --set-mark 80; ipvsadm -A -f 80 -s rr -p 60
            """)
        @Argument(help: "Bundle name.") var name: String
        @Option(name: .of(.vip, Options.bundle), help: .of(.vip, Options.bundle)) var vips: [String] = []
        @Option(name: .of(.ports, Options.bundle), help: .of(.ports, Options.bundle)) var ports: String
        @Option(name: .of(.proto, Options.bundle), help: .of(.proto, Options.bundle)) var proto: String = "tcp"
        @Option(name: .of(.mark, Options.bundle), help: .of(.mark, Options.bundle)) var mark: String?
        @OptionGroup var settings: ServiceSettings
        @OptionGroup var global: GlobalOptions

        var spec: BundleSpec {
            BundleSpec(name: name, vips: vips, ports: ports, proto: proto, mark: mark, settings: settings.spec)
        }

        func run() throws { try Add.run(spec, enter: global.enter) }

        /// Both command-line paths (ArgumentParser's and ``Entry/runWithoutParser(_:)``); `enter` enters `--netns`.
        static func run(_ spec: BundleSpec, enter: () throws -> Void) throws {
            _ = try spec.model()
            try enter()
            let (b, notes) = try BundleStore.system().addBundle(spec, client: try IPVSClient())
            notes.forEach(notice)
            if spec.mark == nil { emit("bundle \(b.name): mark \(b.mark)\n") }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Remove a bundle: its mangle rules and its fwmark service (with its real servers).",
            discussion: "Example: lvsctl bundle delete web\nipvsadm equivalent: iptables -t mangle -D PREROUTING ... -j MARK --set-mark 80 (each rule) plus ipvsadm -D -f 80")
        @Argument(help: "Bundle name.") var name: String
        @OptionGroup var global: GlobalOptions
        func run() throws { try Delete.run(name, enter: global.enter) }

        static func run(_ name: String, enter: () throws -> Void) throws {
            try Validate.bundleName(name)
            try enter()
            try BundleStore.system().deleteBundle(named: name, client: try IPVSClient())
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Show bundles with their VIPs, ports, mark, rules and service.",
            discussion: "Example: lvsctl bundle list --json\nipvsadm equivalent: iptables-save -t mangle plus ipvsadm -Ln")
        @OptionGroup var output: OutputOptions
        @OptionGroup var global: GlobalOptions
        func run() throws { try List.run(json: output.json, enter: global.enter) }

        static func run(json: Bool, enter: () throws -> Void) throws {
            try enter()
            let store = try BundleStore.system()
            let bundles = try store.bundles()
            let client = try IPVSClient()
            let table = try client.table()
            struct JB: Encodable {
                var name: String, vips: [String], ports: [String], proto: String, mark: UInt32, family: String
                var rules: [String], service: JSONService?
            }
            struct Doc: Encodable { var schema = jsonSchemaVersion; var bundles: [JB] }
            let docs = bundles.map { b in
                JB(name: b.name, vips: b.vips.map(\.description), ports: b.ports.map(\.description), proto: b.protoName,
                   mark: b.mark, family: b.family.description,
                   rules: store.describe(b),
                   service: table.first { $0.service.key == b.serviceKey }.map(JSONService.init))
            }
            if json { try printJSON(Doc(bundles: docs)); return }
            var out = ""
            for d in docs {
                out += "bundle \(d.name): mark \(d.mark) \(d.proto) \(d.vips.joined(separator: ",")) ports \(d.ports.joined(separator: ","))\n"
                if let s = d.service {
                    out += "  service \(s.spec) -s \(s.scheduler)" + (s.persistence.map { " persistent \($0.timeout)" } ?? "") + ", \(s.real_servers.count) real server(s)\n"
                } else { out += "  service MISSING (fwmark \(d.mark) not in IPVS)\n" }
                for r in d.rules { out += "  rule: \(r)\n" }
            }
            emit(out)
        }
    }
}

extension Bundle {
    /// `lvsctl bundle migrate --to nftables|iptables-legacy`.
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Move lvsctl's firewall rules (bundles, dr redirect and ARP rules) to the other firewall backend.",
            discussion: """
            The new rules are written and read back first, then the old ones removed; when a step fails, what was \
            written is taken out again, so either the old or the new rules are in place, never neither. IPVS is not touched.
            Example: lvsctl bundle migrate --to nftables
            ipvsadm equivalent: none (by hand: iptables-legacy-save, translate, nft -f, then delete the old rules)
            """)
        @Option(name: .customLong("to"), help: "nftables or iptables-legacy.") var to: String
        @Option(name: .customLong("wait"), help: "Seconds to wait for another lvsctl command to finish (default 30).") var wait: Double = 30
        @OptionGroup var global: GlobalOptions

        func run() throws {
            guard let parsed = FirewallSelection.parse(to), let target = parsed else {
                throw UsageError("invalid --to \(shown(to)) (expected nftables or iptables-legacy)")
            }
            try global.enter()
            let lines = try withLvsctlLock(wait: wait) { try FirewallMigration.migrate(to: target) }
            emit(lines.joined(separator: "\n") + "\n")
        }
    }
}
