import LVSCore
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
        var b = TextBuffer()
        serverArguments(d, into: &b)
        return b.string
    }

    /// Appends ``serverArguments(_:)`` to a buffer.
    public static func serverArguments(_ d: RealServer, into a: inout TextBuffer) {
        a.append("-r "); a.endpoint(d.endpoint); a.append(byte: 32); a.append(d.forwarding.option)
        a.append(" -w "); a.decimal(Int64(d.weight))
        if d.upperThreshold != 0 { a.append(" -x "); a.decimal(UInt64(d.upperThreshold)) }
        if d.lowerThreshold != 0 { a.append(" -y "); a.decimal(UInt64(d.lowerThreshold)) }
        if d.forwarding == .tunnel {
            a.append(" --tun-type "); a.append(d.tunnelType.description)
            if d.tunnelType == .gue { a.append(" --tun-port "); a.decimal(UInt64(d.tunnelPort)) }
            if d.tunnelType != .ipip { a.append(" --tun-"); a.append(d.tunnelChecksum.description) }
        }
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
        var out = TextBuffer(capacity: 256 + c.entries.count * 256)
        if let h = header { out.append(h.split(separator: "\n", omittingEmptySubsequences: false).map { "# \($0)\n" }.joined()) }
        if let f = c.firewall { out.append("firewall \(f.rawValue)\n") }
        if let t = c.timeouts { out.append("timeout set --tcp \(t.tcp) --tcpfin \(t.tcpFin) --udp \(t.udp)\n") }
        for s in Sysctls.settings(of: c) { out.append("sysctl set \(s.word)\n") }
        let bundleKeys = Dictionary(c.bundles.map { ($0.serviceKey, $0) }, uniquingKeysWith: { a, _ in a })
        var prefix = TextBuffer()
        for e in IPVSAdmFormat.sortedServices(c.entries) {
            if let b = bundleKeys[e.service.key] {
                out.append(bundleLine(b, service: e.service)); out.append(byte: 10)
            } else {
                out.append("vs add "); out.append(serviceArguments(e.service)); out.append(byte: 10)
            }
            if e.servers.isEmpty { continue }
            prefix = TextBuffer()
            prefix.append("rs add "); IPVSAdmFormat.keyOption(e.service.key, into: &prefix); prefix.append(byte: 32)
            for d in IPVSAdmFormat.sortedDests(e.servers) {
                out.append(contentsOf: prefix); serverArguments(d, into: &out); out.append(byte: 10)
            }
        }
        let serviceKeys = Set(c.entries.map(\.service.key))
        for b in c.bundles where !serviceKeys.contains(b.serviceKey) {
            out.append(bundleLine(b, service: nil)); out.append(byte: 10)
        }
        for d in c.daemons { out.append("daemon start "); out.append(daemonArguments(d)); out.append(byte: 10) }
        for l in extraLines { out.append(l); out.append(byte: 10) }
        return out.string
    }
}
