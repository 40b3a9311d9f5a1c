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

/// `lvsctl zero [SERVICE]`.
struct Zero: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zero",
        abstract: "Zero the counters of one service or all (ipvsadm -Z).",
        discussion: "Example: lvsctl zero -t 192.0.2.10:80\nipvsadm equivalent: ipvsadm -Z -t 192.0.2.10:80")
    @OptionGroup var service: ServiceOptions
    @OptionGroup var global: GlobalOptions
    func run() throws {
        let key = try service.key(required: false)
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
    func run() throws { try global.client().perform(.flush) }
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
        @Option(name: .customLong("tcp"), help: "TCP established timeout.") var tcp: String?
        @Option(name: .customLong("tcpfin"), help: "TCP FIN timeout.") var tcpfin: String?
        @Option(name: .customLong("udp"), help: "UDP timeout.") var udp: String?
        @OptionGroup var global: GlobalOptions

        func model() throws -> Timeouts {
            if tcp == nil && tcpfin == nil && udp == nil { throw UsageError("give at least one of --tcp, --tcpfin, --udp") }
            // 0 means "leave unchanged", as in ipvsadm --set.
            func v(_ s: String?, _ n: String) throws -> UInt32 {
                try s.map { UInt32(try parseNumber($0, "\(n) timeout", 0...UInt64(Timeouts.maxValue))) } ?? 0
            }
            return Timeouts(tcp: try v(tcp, "tcp"), tcpFin: try v(tcpfin, "tcpfin"), udp: try v(udp, "udp"))
        }
        func run() throws {
            let t = try model()
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
        @Option(name: .customLong("mcast-interface"), help: "Multicast interface (default eth0, as ipvsadm).") var interface: String?
        @Option(name: .customLong("syncid"), help: "Sync id 0..255.") var syncid: String?
        @Option(name: .customLong("sync-maxlen"), help: "UDP payload size 1..65507.") var maxlen: String?
        @Option(name: .customLong("mcast-group"), help: "Multicast group (IPv4 or IPv6).") var group: String?
        @Option(name: .customLong("mcast-port"), help: "Multicast port 1..65535.") var port: String?
        @Option(name: .customLong("mcast-ttl"), help: "Multicast TTL 1..255.") var ttl: String?
        @OptionGroup var global: GlobalOptions

        func model() throws -> SyncDaemon {
            guard let st = parseRole(role) else { throw UsageError("invalid daemon role \(shown(role)) (expected master or backup)") }
            let ifn = interface ?? "eth0"
            guard !ifn.isEmpty, ifn.count < 16, ifn.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 47 }) else {
                throw UsageError("invalid interface name \(shown(ifn))")
            }
            var d = SyncDaemon(state: st, interface: ifn)
            if let s = syncid { d.syncID = UInt32(try parseNumber(s, "sync id", 0...255)) }
            if let m = maxlen { d.maxLength = UInt16(try parseNumber(m, "sync maxlen", 1...65507)) }
            if let p = port { d.port = UInt16(try parseNumber(p, "multicast port", 1...65535)) }
            if let t = ttl { d.ttl = UInt8(try parseNumber(t, "multicast ttl", 1...255)) }
            if let g = group {
                guard let a = IPAddress(g), a.isMulticast else { throw UsageError("invalid multicast group \(shown(g))") }
                d.group = a
            }
            return d
        }
        func run() throws {
            let d = try model()
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
            guard let st = parseRole(role) else { throw UsageError("invalid daemon role \(shown(role)) (expected master or backup)") }
            try global.client().perform(.stopDaemon(st))
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

func parseRole(_ r: String) -> DaemonState? { r == "master" ? .master : r == "backup" ? .backup : nil }

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
