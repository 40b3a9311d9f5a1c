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

/// `lvsctl zero [SERVICE]`.
struct Zero: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zero",
        abstract: "Zero the counters of one service or all (ipvsadm -Z).",
        discussion: "Example: lvsctl zero -t 192.0.2.10:80\nipvsadm equivalent: ipvsadm -Z -t 192.0.2.10:80")
    @OptionGroup var service: ServiceOptions
    @OptionGroup var global: GlobalOptions
    func run() throws {
        let key = try service.spec.key(required: false)
        try global.client().perform(.zero(key))
    }
}

/// `lvsctl clear`.
struct Clear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear",
        abstract: "Delete every virtual service and real server (ipvsadm -C). Bundle rules stay; see 'bundle delete'.",
        discussion: "Example: lvsctl clear\nipvsadm equivalent: ipvsadm -C")
    @OptionGroup var global: GlobalOptions
    func run() throws {
        try global.client().perform(.flush)
        LVSKit.Drain.forget(netns: global.netns) { _ in true }
    }
}

/// `lvsctl timeout show|set`.
struct Timeout: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeout",
        abstract: "Show or set connection timeouts (ipvsadm --set / -L --timeout).",
        discussion: "Example: lvsctl timeout set --tcp 900\nipvsadm equivalent: ipvsadm --set 900 0 0",
        subcommands: [Show.self, Set.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show the TCP, TCP FIN and UDP timeouts.",
            discussion: "Example: lvsctl timeout show\nipvsadm equivalent: ipvsadm -L --timeout")
        @OptionGroup var output: OutputOptions
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let t = try global.client().timeouts()
            if output.json {
                struct Doc: Encodable { var schema = jsonSchemaVersion; var tcp, tcpfin, udp: UInt32 }
                try printJSON(Doc(tcp: t.tcp, tcpfin: t.tcpFin, udp: t.udp))
            } else {
                emit("Timeout (tcp tcpfin udp): \(t.tcp) \(t.tcpFin) \(t.udp)\n")
            }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set timeouts in seconds; options not given stay unchanged.",
            discussion: "Example: lvsctl timeout set --tcp 900 --tcpfin 120 --udp 300\nipvsadm equivalent: ipvsadm --set 900 120 300")
        @Option(name: .of(.tcpTimeout, Options.timeouts), help: .of(.tcpTimeout, Options.timeouts)) var tcp: String?
        @Option(name: .of(.tcpfinTimeout, Options.timeouts), help: .of(.tcpfinTimeout, Options.timeouts)) var tcpfin: String?
        @Option(name: .of(.udpTimeout, Options.timeouts), help: .of(.udpTimeout, Options.timeouts)) var udp: String?
        @OptionGroup var global: GlobalOptions

        var spec: TimeoutSpec { TimeoutSpec(tcp: tcp, tcpfin: tcpfin, udp: udp) }
        func run() throws {
            let t = try spec.model()
            try global.client().perform(.setTimeouts(t))
        }
    }
}

/// `lvsctl daemon start|stop|show`.
struct Daemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Start, stop or show the connection-sync daemons (ipvsadm --start-daemon/--stop-daemon).",
        discussion: "Example: lvsctl daemon start backup --mcast-interface eth1 --syncid 7\nipvsadm equivalent: ipvsadm --start-daemon backup --mcast-interface eth1 --syncid 7",
        subcommands: [Start.self, Stop.self, Show.self])

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start",
            abstract: "Start a master or backup sync daemon.",
            discussion: "Example: lvsctl daemon start master --mcast-interface eth0 --syncid 1\nipvsadm equivalent: ipvsadm --start-daemon master --mcast-interface eth0 --syncid 1")
        @Argument(help: "master or backup") var role: String
        @Option(name: .of(.mcastInterface, Options.daemon), help: .of(.mcastInterface, Options.daemon)) var interface: String?
        @Option(name: .of(.syncid, Options.daemon), help: .of(.syncid, Options.daemon)) var syncid: String?
        @Option(name: .of(.syncMaxlen, Options.daemon), help: .of(.syncMaxlen, Options.daemon)) var maxlen: String?
        @Option(name: .of(.mcastGroup, Options.daemon), help: .of(.mcastGroup, Options.daemon)) var group: String?
        @Option(name: .of(.mcastPort, Options.daemon), help: .of(.mcastPort, Options.daemon)) var port: String?
        @Option(name: .of(.mcastTTL, Options.daemon), help: .of(.mcastTTL, Options.daemon)) var ttl: String?
        @OptionGroup var global: GlobalOptions

        var spec: DaemonSpec {
            DaemonSpec(role: role, interface: interface, syncid: syncid, maxlen: maxlen, group: group, port: port, ttl: ttl)
        }
        func run() throws {
            let d = try spec.model()
            try global.client().perform(.startDaemon(d))
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop",
            abstract: "Stop the master or backup sync daemon.",
            discussion: "Example: lvsctl daemon stop master\nipvsadm equivalent: ipvsadm --stop-daemon master")
        @Argument(help: "master or backup") var role: String
        @OptionGroup var global: GlobalOptions
        func run() throws {
            try global.client().perform(.stopDaemon(try Validate.role(role)))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show running sync daemons.",
            discussion: "Example: lvsctl daemon show\nipvsadm equivalent: ipvsadm -L --daemon")
        @OptionGroup var output: OutputOptions
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let ds = try global.client().daemons()
            if output.json {
                struct D: Encodable { var role: String; var interface: String; var syncid: UInt32; var maxlen: UInt16?; var group: String?; var port: UInt16?; var ttl: UInt8? }
                struct Doc: Encodable { var schema = jsonSchemaVersion; var daemons: [D] }
                try printJSON(Doc(daemons: ds.map { D(role: $0.state.description, interface: $0.interface, syncid: $0.syncID, maxlen: $0.maxLength, group: $0.group?.description, port: $0.port, ttl: $0.ttl) }))
                return
            }
            emit(ds.map(daemonLine).joined())
        }
    }
}

/// ipvsadm's `-L --daemon` line.
func daemonLine(_ d: SyncDaemon) -> String {
    var s = "\(d.state) sync daemon (mcast=\(d.interface), syncid=\(d.syncID)"
    if let m = d.maxLength, m != 0 { s += ", maxlen=\(m)" }
    if let g = d.group { s += ", group=\(g)" }
    if let p = d.port, p != 0 { s += ", port=\(p)" }
    if let t = d.ttl, t != 0 { s += ", ttl=\(t)" }
    return s + ")\n"
}


/// `lvsctl info`.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "IPVS version, connection-table size, and the firewall backend in use (and why).",
        discussion: "Example: lvsctl info\nipvsadm equivalent: the first line of ipvsadm -Ln")
    @OptionGroup var output: OutputOptions
    @OptionGroup var global: GlobalOptions
    func run() throws {
        let i = try global.client().info()
        let fw = Firewall.choice()
        if output.json {
            struct FW: Encodable { var backend: String; var reason: String; var explicit: Bool; var holding: [String]; var legacy_available: Bool }
            struct Doc: Encodable { var schema = jsonSchemaVersion; var version: String; var connection_table_size: UInt32; var firewall: FW }
            try printJSON(Doc(version: i.versionString, connection_table_size: i.connectionTableSize,
                              firewall: FW(backend: fw.kind.rawValue, reason: fw.reason, explicit: fw.explicit,
                                           holding: fw.holding.map(\.rawValue), legacy_available: fw.legacyAvailable)))
        } else {
            emit(IPVSAdmFormat.header(i) + "Firewall backend: \(fw.kind.rawValue) (\(fw.reason))\n"
                 + (fw.conflict.map { "Warning: \($0)\n" } ?? ""))
        }
    }
}
