/// The lvsctl saved format: one lvsctl command per line, in the CLI's own grammar, `#` comments.
public enum LVSCtlFormat {
    /// The options of a service after its specifier: `-t A:P -s rr -p 300 -M 255.255.255.0 --pe sip -o -b sh-port`.
    public static func serviceArguments(_ s: VirtualService) -> String {
        "\(s.key.option) " + settingsArguments(s)
    }

    /// The scheduling and persistence options of a service: `-s rr -p 300 ...`.
    public static func settingsArguments(_ s: VirtualService) -> String {
        var a = "-s \(s.scheduler)"
        if s.flags.contains(.persistent) {
            a += " -p \(s.timeout)"
            if s.netmask != VirtualService.fullNetmask(s.key.family) { a += " -M \(Netmask.text(s.netmask, family: s.key.family))" }
        }
        if let pe = s.persistenceEngine { a += " --pe \(pe)" }
        if s.flags.contains(.onePacket) { a += " -o" }
        let f = s.flags.schedFlagNames(for: s.scheduler)
        if !f.isEmpty { a += " -b " + f.joined(separator: ",") }
        return a
    }

    /// The options of a real server: `-r A:P -g -w 1 [-x U] [-y L] [--tun-type ...]`.
    public static func serverArguments(_ d: RealServer) -> String {
        var a = "-r \(d.endpoint) \(d.forwarding.option) -w \(d.weight)"
        if d.upperThreshold != 0 { a += " -x \(d.upperThreshold)" }
        if d.lowerThreshold != 0 { a += " -y \(d.lowerThreshold)" }
        if d.forwarding == .tunnel {
            a += " --tun-type \(d.tunnelType)"
            if d.tunnelType == .gue { a += " --tun-port \(d.tunnelPort)" }
            if d.tunnelType != .ipip { a += " --tun-\(d.tunnelChecksum)" }
        }
        return a
    }

    /// The options of a sync daemon: `master --mcast-interface eth0 --syncid 1 ...`.
    public static func daemonArguments(_ d: SyncDaemon) -> String {
        var a = "\(d.state) --mcast-interface \(d.interface) --syncid \(d.syncID)"
        if let m = d.maxLength { a += " --sync-maxlen \(m)" }
        if let g = d.group { a += " --mcast-group \(g)" }
        if let p = d.port { a += " --mcast-port \(p)" }
        if let t = d.ttl { a += " --mcast-ttl \(t)" }
        return a
    }

    /// The `bundle add` line of a bundle with its service settings.
    public static func bundleLine(_ b: MarkBundle, service: VirtualService?) -> String {
        var a = "bundle add \(b.name)"
        for v in b.vips { a += " --vip \(v)" }
        a += " --ports " + b.ports.map(\.description).joined(separator: ",")
        a += " --proto \(b.protoName) --mark \(b.mark)"
        if let s = service { a += " " + settingsArguments(s) }
        return a
    }

    /// The whole state as a file. Bundles replace the `vs add` line of their fwmark service.
    public static func render(_ c: ClusterConfig, header: String? = nil, extraLines: [String] = []) -> String {
        var out = ""
        if let h = header { out += h.split(separator: "\n", omittingEmptySubsequences: false).map { "# \($0)\n" }.joined() }
        if let t = c.timeouts { out += "timeout set --tcp \(t.tcp) --tcpfin \(t.tcpFin) --udp \(t.udp)\n" }
        let bundleKeys = Dictionary(c.bundles.map { ($0.serviceKey, $0) }, uniquingKeysWith: { a, _ in a })
        for e in IPVSAdmFormat.sortedServices(c.entries) {
            if let b = bundleKeys[e.service.key] {
                out += bundleLine(b, service: e.service) + "\n"
            } else {
                out += "vs add " + serviceArguments(e.service) + "\n"
            }
            for d in IPVSAdmFormat.sortedDests(e.servers) { out += "rs add \(e.service.key) " + serverArguments(d) + "\n" }
        }
        for b in c.bundles where !c.entries.contains(where: { $0.service.key == b.serviceKey }) {
            out += bundleLine(b, service: nil) + "\n"
        }
        for d in c.daemons { out += "daemon start " + daemonArguments(d) + "\n" }
        for l in extraLines { out += l + "\n" }
        return out
    }
}
