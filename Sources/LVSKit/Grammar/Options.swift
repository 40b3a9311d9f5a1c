/// What an option sets in a spec value. One case per meaning; options of different commands with the same meaning
/// share a case (`--ports` of `bundle add` and of `dr setup`).
public enum Opt: UInt8, Hashable, Sendable, CaseIterable {
    // the service specifier
    case tcp, udp, sctp, fwmark, ipv6
    // scheduling and persistence
    case scheduler, schedFlags, persistent, netmask, pe, ops
    // a real server
    case realServer, gatewaying, ipip, masquerading, weight, upper, lower, tunType, tunPort, tunNoCsum, tunCsum, tunRemCsum
    case bundle
    // rs drain
    case remove
    // bundle add and dr setup
    case vip, ports, proto, mark, method, interface, dryRun
    // timeout set
    case tcpTimeout, tcpfinTimeout, udpTimeout
    // daemon start
    case mcastInterface, syncid, syncMaxlen, mcastGroup, mcastPort, mcastTTL
    // restore, apply and save
    case noFlush, wait, format, checkOnly
    // list and --json
    case numeric, resolve, stats, rate, thresholds, persistentConn, tunInfo, exact, sort, nosort, json
    // check and sorry lines (lvsctl monitor)
    case checkType, checkPort, interval, timeout, rise, fall, onFail, slowStart, path, host, expect, body, insecure
    case send, receive, exec
    // every kernel-facing command
    case netns, firewall
}

/// One option of lvsctl's command-line grammar: its names, its value (nil for a flag), its help. The executable's
/// ArgumentParser declarations take their names and help from here (so `--help`, the man pages and the
/// completions describe exactly what ``Grammar`` parses), and a unit test compares the two option by option.
public struct OptionDef: Sendable {
    public let opt: Opt
    /// `-w`, `--weight`: the spellings, short first.
    public let names: [String]
    /// The value's name as ArgumentParser shows it (`<weight>`, the long name): nil for a flag.
    public let valueName: String?
    public let help: String
    /// A repeatable option (`--vip`) collects its values; any other keeps its last value, as ArgumentParser does.
    public let repeatable: Bool
    /// True for an option a line must have.
    public let required: Bool

    init(_ opt: Opt, _ names: [String], _ takesValue: Bool, _ help: String, repeatable: Bool = false, required: Bool = false) {
        self.opt = opt; self.names = names; self.help = help
        valueName = takesValue ? String(names.last!.drop { $0 == "-" }) : nil
        self.repeatable = repeatable; self.required = required
    }

    /// The spelling ArgumentParser names in its messages (the long one).
    public var displayName: String { names.last! }
}

/// The options, grouped as the commands use them.
public enum Options {
    public static let service: [OptionDef] = [
        OptionDef(.tcp, ["-t", "--tcp-service"], true, "TCP service ADDR:PORT ([ADDR6]:PORT); ADDR alone is port 0."),
        OptionDef(.udp, ["-u", "--udp-service"], true, "UDP service ADDR:PORT; ADDR alone is port 0."),
        OptionDef(.sctp, ["--sctp-service"], true, "SCTP service ADDR:PORT; ADDR alone is port 0."),
        OptionDef(.fwmark, ["-f", "--fwmark-service"], true, "Firewall-mark service MARK (1..4294967295)."),
        OptionDef(.ipv6, ["-6"], false, "The fwmark service is IPv6 (with -f)."),
    ]
    public static let settings: [OptionDef] = [
        OptionDef(.scheduler, ["-s", "--scheduler"], true, "Scheduler (rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh ...); default wlc."),
        OptionDef(.schedFlags, ["-b", "--sched-flags"], true, "Scheduler flags: sh-fallback,sh-port | mh-fallback,mh-port | flag-1,flag-2,flag-3."),
        OptionDef(.persistent, ["-p", "--persistent"], true, "Persistence timeout in seconds (alone: 360)."),
        OptionDef(.netmask, ["-M", "--netmask"], true, "Persistence granularity: IPv4 mask or prefix, IPv6 prefix length."),
        OptionDef(.pe, ["--pe"], true, "Persistence engine, e.g. sip."),
        OptionDef(.ops, ["-o", "--ops"], false, "One-packet scheduling (UDP and fwmark services)."),
    ]
    public static let server: [OptionDef] = [
        OptionDef(.realServer, ["-r", "--real-server"], true, "Real server ADDR[:PORT] or [ADDR6][:PORT].", required: true),
        OptionDef(.gatewaying, ["-g", "--gatewaying"], false, "Direct routing (the default)."),
        OptionDef(.ipip, ["-i", "--ipip"], false, "Tunnelling (IP-in-IP, GUE or GRE)."),
        OptionDef(.masquerading, ["-m", "--masquerading"], false, "NAT."),
        OptionDef(.weight, ["-w", "--weight"], true, "Weight 0..65535 (default 1)."),
        OptionDef(.upper, ["-x", "--u-threshold"], true, "Upper connection threshold (0 = none)."),
        OptionDef(.lower, ["-y", "--l-threshold"], true, "Lower connection threshold (0 = none)."),
        OptionDef(.tunType, ["--tun-type"], true, "Tunnel type: ipip, gue, gre (with -i)."),
        OptionDef(.tunPort, ["--tun-port"], true, "GUE tunnel port 1..65535."),
        OptionDef(.tunNoCsum, ["--tun-nocsum"], false, "No tunnel checksum."),
        OptionDef(.tunCsum, ["--tun-csum"], false, "Tunnel checksum."),
        OptionDef(.tunRemCsum, ["--tun-remcsum"], false, "Remote tunnel checksum offload (GUE)."),
    ]
    /// `rs drain SERVICE -r ADDR[:PORT] [--timeout SECS] [--remove]` (not a file line: a command that waits).
    public static let drain: [OptionDef] = [
        OptionDef(.realServer, ["-r", "--real-server"], true, "Real server ADDR[:PORT] or [ADDR6][:PORT].", required: true),
        OptionDef(.timeout, ["--timeout"], true, "Seconds to wait for its connections to end (default: no limit; 0: look once)."),
        OptionDef(.remove, ["--remove"], false, "Delete the server from the service once it is drained."),
    ]
    /// `rs undrain SERVICE -r ADDR[:PORT]`.
    public static let undrain: [OptionDef] = [
        OptionDef(.realServer, ["-r", "--real-server"], true, "Real server ADDR[:PORT] or [ADDR6][:PORT].", required: true),
    ]
    public static let bundleTarget = OptionDef(.bundle, ["--bundle"], true, "The firewall-mark bundle whose service the server joins.")
    public static let bundle: [OptionDef] = [
        OptionDef(.vip, ["--vip"], true, "A virtual IP (repeatable; one family).", repeatable: true),
        OptionDef(.ports, ["--ports"], true, "Ports and ranges, e.g. 80,443 or 8000:8010.", required: true),
        OptionDef(.proto, ["--proto"], true, "tcp, udp or both (default tcp)."),
        OptionDef(.mark, ["--mark"], true, "Firewall mark (default: the lowest free one)."),
    ]
    public static let timeouts: [OptionDef] = [
        OptionDef(.tcpTimeout, ["--tcp"], true, "TCP established timeout."),
        OptionDef(.tcpfinTimeout, ["--tcpfin"], true, "TCP FIN timeout."),
        OptionDef(.udpTimeout, ["--udp"], true, "UDP timeout."),
    ]
    public static let daemon: [OptionDef] = [
        OptionDef(.mcastInterface, ["--mcast-interface"], true, "Multicast interface (default eth0, as ipvsadm)."),
        OptionDef(.syncid, ["--syncid"], true, "Sync id 0..255."),
        OptionDef(.syncMaxlen, ["--sync-maxlen"], true, "UDP payload size 1..65507."),
        OptionDef(.mcastGroup, ["--mcast-group"], true, "Multicast group (IPv4 or IPv6)."),
        OptionDef(.mcastPort, ["--mcast-port"], true, "Multicast port 1..65535."),
        OptionDef(.mcastTTL, ["--mcast-ttl"], true, "Multicast TTL 1..255."),
    ]
    public static let drSetup: [OptionDef] = [
        OptionDef(.vip, ["--vip"], true, "A virtual IP (repeatable).", repeatable: true),
        OptionDef(.method, ["--method"], true, "sysctl (default), arptables or redirect."),
        OptionDef(.interface, ["--interface"], true, "The interface facing the director (default: the one whose subnet holds the VIP)."),
        OptionDef(.ports, ["--ports"], true, "redirect only: ports and ranges, e.g. 80,443."),
        OptionDef(.proto, ["--proto"], true, "redirect only: tcp (default), udp or both."),
        OptionDef(.dryRun, ["--dry-run"], false, "Print what would change; change nothing."),
    ]
    /// `check SERVICE -r ADDR[:PORT] --type T [options]`: a health check `lvsctl monitor` runs.
    public static let check: [OptionDef] = [
        OptionDef(.checkType, ["--type"], true, "tcp, http, https, udp or exec.", required: true),
        OptionDef(.checkPort, ["--port"], true, "Port to check (default: the real server's; required for fwmark services)."),
        OptionDef(.interval, ["--interval"], true, "Seconds between checks (default 5)."),
        OptionDef(.timeout, ["--timeout"], true, "Seconds a check may take (default 3)."),
        OptionDef(.rise, ["--rise"], true, "Passes in a row that bring a server up (default 2)."),
        OptionDef(.fall, ["--fall"], true, "Failures in a row that take a server down (default 3)."),
        OptionDef(.onFail, ["--on-fail"], true, "quiesce (weight 0, connections kept; default) or remove."),
        OptionDef(.slowStart, ["--slow-start"], true, "Seconds over which a recovered server's weight climbs back (default 0)."),
        OptionDef(.path, ["--path"], true, "http/https: the path to GET (default /)."),
        OptionDef(.host, ["--host"], true, "http/https: the Host header and TLS server name."),
        OptionDef(.expect, ["--expect"], true, "http/https: status codes that pass, e.g. 200-399 (default) or 200,301-302."),
        OptionDef(.body, ["--body"], true, "http/https: a regular expression the body must match."),
        OptionDef(.insecure, ["--insecure"], false, "https: do not verify the certificate."),
        OptionDef(.send, ["--send"], true, "udp: the datagram to send."),
        OptionDef(.receive, ["--receive"], true, "udp: a regular expression the reply must match."),
        OptionDef(.exec, ["--exec"], true, "exec: 'PROGRAM ARG...' run without a shell (%h address, %p port); exit 0 = up."),
    ]
    /// `list`'s own options (with the service specifier and `--json`).
    public static let list: [OptionDef] = [
        OptionDef(.numeric, ["-n", "--numeric"], false, "Numeric output (the default; accepted for ipvsadm habits)."),
        OptionDef(.resolve, ["--resolve"], false, "Print host and service names (resolver, /etc/services) instead of numbers, as ipvsadm -L without -n."),
        OptionDef(.stats, ["--stats"], false, "Counters."),
        OptionDef(.rate, ["--rate"], false, "Rates."),
        OptionDef(.thresholds, ["--thresholds"], false, "Thresholds."),
        OptionDef(.persistentConn, ["--persistent-conn"], false, "Persistent connection counts."),
        OptionDef(.tunInfo, ["--tun-info"], false, "Tunnel details."),
        OptionDef(.exact, ["--exact"], false, "Exact numbers, no K/M/G."),
        OptionDef(.sort, ["--sort"], false, "Sort (the default, as ipvsadm)."),
        OptionDef(.nosort, ["--nosort"], false, "Kernel order."),
    ]
    /// `restore`'s options (with its optional FILE).
    public static let restore: [OptionDef] = [
        OptionDef(.noFlush, ["--no-flush"], false, "Add to the running state instead of replacing it."),
        OptionDef(.dryRun, ["--dry-run"], false, "Validate and print the plan; change nothing."),
        OptionDef(.wait, ["--wait"], true, "Seconds to wait for another lvsctl command to finish (default 30)."),
    ]
    /// `--json`, which every listing command takes.
    public static let apply: [OptionDef] = [
        OptionDef(.dryRun, ["--dry-run"], false, "Print the plan; change nothing."),
        OptionDef(.checkOnly, ["--check"], false, "Print the plan and exit 0 if the kernel matches FILE, 3 if not; change nothing."),
        OptionDef(.wait, ["--wait"], true, "Seconds to wait for another lvsctl command to finish (default 30)."),
    ]
    public static let save: [OptionDef] = [
        OptionDef(.format, ["--format"], true, "lvsctl (default) or ipvsadm (exactly ipvsadm -Sn)."),
    ]
    public static let output: [OptionDef] = [
        OptionDef(.json, ["--json"], false, "Print JSON (schema: Documentation/json-output.md)."),
    ]
    public static let global: [OptionDef] = [
        OptionDef(.netns, ["--netns"], true, "Act inside the named network namespace (/run/netns/NAME)."),
        OptionDef(.firewall, ["--firewall"], true, "Firewall backend: auto (default; also $LVSCTL_FIREWALL), nftables or iptables-legacy."),
    ]

    /// The definition of `opt` in `group`.
    public static func def(_ opt: Opt, in group: [OptionDef]) -> OptionDef { group.first { $0.opt == opt }! }
}
