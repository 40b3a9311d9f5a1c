import ArgumentParser
import LVSKit

// The ArgumentParser declarations of the options lvsctl's grammar shares with its file lines. Names and help come
// from the grammar's table (`LVSKit.Options`), so `--help`, the man pages and the completions describe what the
// file parser reads; each group turns its values into the library's spec value and nothing else.

extension NameSpecification {
    /// The names of option `opt` of `group` in the grammar's table.
    static func of(_ opt: Opt, _ group: [OptionDef]) -> NameSpecification {
        let d = Options.def(opt, in: group)
        return NameSpecification(d.names.map { n -> NameSpecification.Element in
            n.hasPrefix("--") ? .customLong(String(n.dropFirst(2))) : .customShort(Character(String(n.dropFirst())))
        })
    }
}

extension ArgumentHelp {
    /// The help of option `opt` of `group` in the grammar's table.
    static func of(_ opt: Opt, _ group: [OptionDef]) -> ArgumentHelp { ArgumentHelp(Options.def(opt, in: group).help) }
}

/// The service specifier: `-t ADDR:PORT | -u ADDR:PORT | --sctp-service ADDR:PORT | -f MARK [-6]`.
struct ServiceOptions: ParsableArguments {
    @Option(name: .of(.tcp, Options.service), help: .of(.tcp, Options.service)) var tcp: String?
    @Option(name: .of(.udp, Options.service), help: .of(.udp, Options.service)) var udp: String?
    @Option(name: .of(.sctp, Options.service), help: .of(.sctp, Options.service)) var sctp: String?
    @Option(name: .of(.fwmark, Options.service), help: .of(.fwmark, Options.service)) var fwmark: String?
    @Flag(name: .of(.ipv6, Options.service), help: .of(.ipv6, Options.service)) var ipv6 = false

    var spec: ServiceSpec { ServiceSpec(tcp: tcp, udp: udp, sctp: sctp, fwmark: fwmark, ipv6: ipv6) }
}

/// Scheduling and persistence options of a virtual service: `-s -b -p -M --pe -o`.
struct ServiceSettings: ParsableArguments {
    @Option(name: .of(.scheduler, Options.settings), help: .of(.scheduler, Options.settings)) var scheduler: String?
    @Option(name: .of(.schedFlags, Options.settings), help: .of(.schedFlags, Options.settings)) var schedFlags: String?
    @Option(name: .of(.persistent, Options.settings), help: .of(.persistent, Options.settings)) var persistent: String?
    @Option(name: .of(.netmask, Options.settings), help: .of(.netmask, Options.settings)) var netmask: String?
    @Option(name: .of(.pe, Options.settings), help: .of(.pe, Options.settings)) var pe: String?
    @Flag(name: .of(.ops, Options.settings), help: .of(.ops, Options.settings)) var ops = false

    var spec: SettingsSpec {
        SettingsSpec(scheduler: scheduler, schedFlags: schedFlags, persistent: persistent, netmask: netmask, pe: pe, ops: ops)
    }
}

/// Real-server options: `-r ADDR[:PORT] [-g|-i|-m] [-w W] [-x U] [-y L] [--tun-type T --tun-port P --tun-*csum]`.
struct RealServerOptions: ParsableArguments {
    @Option(name: .of(.realServer, Options.server), help: .of(.realServer, Options.server)) var realServer: String
    @Flag(name: .of(.gatewaying, Options.server), help: .of(.gatewaying, Options.server)) var gatewaying = false
    @Flag(name: .of(.ipip, Options.server), help: .of(.ipip, Options.server)) var ipip = false
    @Flag(name: .of(.masquerading, Options.server), help: .of(.masquerading, Options.server)) var masquerading = false
    @Option(name: .of(.weight, Options.server), help: .of(.weight, Options.server)) var weight: String?
    @Option(name: .of(.upper, Options.server), help: .of(.upper, Options.server)) var upper: String?
    @Option(name: .of(.lower, Options.server), help: .of(.lower, Options.server)) var lower: String?
    @Option(name: .of(.tunType, Options.server), help: .of(.tunType, Options.server)) var tunType: String?
    @Option(name: .of(.tunPort, Options.server), help: .of(.tunPort, Options.server)) var tunPort: String?
    @Flag(name: .of(.tunNoCsum, Options.server), help: .of(.tunNoCsum, Options.server)) var tunNoCsum = false
    @Flag(name: .of(.tunCsum, Options.server), help: .of(.tunCsum, Options.server)) var tunCsum = false
    @Flag(name: .of(.tunRemCsum, Options.server), help: .of(.tunRemCsum, Options.server)) var tunRemCsum = false

    var spec: ServerSpec {
        ServerSpec(realServer: realServer, gatewaying: gatewaying, ipip: ipip, masquerading: masquerading, weight: weight,
                   upper: upper, lower: lower, tunType: tunType, tunPort: tunPort, tunNoCsum: tunNoCsum, tunCsum: tunCsum,
                   tunRemCsum: tunRemCsum)
    }
}
