import LVSCore
/// Text formats that match ipvsadm 1.31 byte for byte: `-Ln` (and its variants) and `-Sn`.

/// Which columns `list` prints, as ipvsadm's `--stats`, `--rate`, `--thresholds`, `--persistent-conn`, `--tun-info`.
public enum ListColumns: Sendable { case standard, stats, rate, thresholds, persistentConnections, tunnelInfo }

/// Renders tables the way ipvsadm does.
public enum IPVSAdmFormat {
    /// `IP Virtual Server version 1.2.1 (size=4096)`.
    public static func header(_ info: IPVSInfo) -> String {
        "IP Virtual Server version \(info.versionString) (size=\(info.connectionTableSize))\n"
    }

    /// The title lines of `ipvsadm -Ln` for the given columns.
    public static func title(_ c: ListColumns) -> String {
        let p = "Prot LocalAddress:Port"
        switch c {
        case .stats:
            return pad(p, 33) + " " + ["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"].map { lpad($0, 8) }.joined(separator: " ") + "\n  -> RemoteAddress:Port\n"
        case .rate:
            return pad(p, 33) + " " + ["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"].map { lpad($0, 8) }.joined(separator: " ") + "\n  -> RemoteAddress:Port\n"
        case .thresholds:
            return pad(p, 33) + " " + ["Uthreshold", "Lthreshold", "ActiveConn", "InActConn"].map { pad($0, 10) }.joined(separator: " ") + "\n  -> RemoteAddress:Port\n"
        case .persistentConnections:
            return pad(p, 33) + " " + pad("Weight", 9) + " " + pad("PersistConn", 11) + " " + pad("ActiveConn", 10) + " " + pad("InActConn", 10) + "\n  -> RemoteAddress:Port\n"
        case .tunnelInfo:
            return "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
        case .standard:
            return "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        }
    }

    /// The service name column: `TCP  192.0.2.1:80`, `FWM  80 IPv6`.
    /// With `names`, the address and port are names where the resolver has them (ipvsadm without `-n`).
    public static func serviceName(_ k: ServiceKey, names: NameResolver? = nil) -> String {
        switch k {
        case .fwmark(let m, let f): return "FWM  \(Int32(bitPattern: m))" + (f == .inet6 ? " IPv6" : "")
        case .address(let p, let e):
            let s = pad(p.label, 4) + " " + (names?.endpoint(e, proto: p) ?? e.description)
            return e.address.family == .inet6 ? s : String(s.prefix(33))
        }
    }

    /// The scheduler-flag list in parentheses or after `-b`.
    static func schedFlags(_ s: VirtualService) -> String {
        s.flags.schedFlagNames(for: s.scheduler).joined(separator: ",")
    }

    /// The lines of one service and its real servers, as `ipvsadm -Ln` prints them.
    /// With `names`, addresses and ports are printed as names where the resolver has them (ipvsadm's `-L`).
    public static func list(_ e: ServiceEntry, columns: ListColumns, exact: Bool, sorted: Bool = true,
                            names: NameResolver? = nil) -> String {
        if columns == .standard && names == nil {
            var b = TextBuffer()
            listStandard(e, sorted: sorted, into: &b)
            return b.string
        }
        let s = e.service
        let name = serviceName(s.key, names: names)
        // A fwmark service has no protocol of its own (ipvsadm leaves its real servers' ports as numbers).
        var proto: IPProtocol? = nil
        if case .address(let p, _) = s.key { proto = p }
        var out = ""
        let st = s.stats ?? Stats()
        switch columns {
        case .stats:
            out += pad(name, 33) + [st.connections, st.inPackets, st.outPackets, st.inBytes, st.outBytes].map { largeNumber($0, exact) }.joined()
        case .rate:
            out += pad(name, 33) + [st.cps, st.inPPS, st.outPPS, st.inBPS, st.outBPS].map { largeNumber($0, exact) }.joined()
        default:
            out += "\(name) \(s.scheduler)"
            if !s.flags.intersection(.schedMask).isEmpty { out += " (\(schedFlags(s)))" }
            if s.flags.contains(.persistent) {
                out += " persistent \(s.timeout)"
                if s.key.family == .inet && s.netmask != 0xFFFF_FFFF { out += " mask \(Netmask.ipv4Text(s.netmask))" }
                if s.key.family == .inet6 && s.netmask != 128 { out += " mask \(Int32(bitPattern: s.netmask))" }
                if let pe = s.persistenceEngine { out += " pe \(pe)" }
            }
            if s.flags.contains(.onePacket) { out += " ops" }
        }
        out += "\n"
        for d in sorted ? sortedDests(e.servers) : e.servers {
            var dn = names?.endpoint(d.endpoint, proto: proto) ?? d.endpoint.description
            if d.address.family != .inet6 { dn = String(dn.prefix(28)) }
            let ds = d.stats ?? Stats()
            switch columns {
            case .stats:
                out += "  -> " + pad(dn, 28) + [ds.connections, ds.inPackets, ds.outPackets, ds.inBytes, ds.outBytes].map { largeNumber($0, exact) }.joined()
            case .rate:
                out += "  -> " + pad(dn, 28) + " " + lpad("\(ds.cps)", 8) + " " + lpad("\(ds.inPPS)", 8) + " " + lpad("\(ds.outPPS)", 8)
                    + largeNumber(ds.inBPS, exact) + largeNumber(ds.outBPS, exact)
            case .thresholds:
                out += "  -> " + pad(dn, 28) + " " + [d.upperThreshold, d.lowerThreshold, d.activeConnections, d.inactiveConnections].map { pad("\($0)", 10) }.joined(separator: " ")
            case .persistentConnections:
                out += "  -> " + pad(dn, 28) + " " + pad("\(d.weight)", 9) + " " + pad("\(d.persistentConnections)", 11) + " " + pad("\(d.activeConnections)", 10) + " " + pad("\(d.inactiveConnections)", 10)
            case .tunnelInfo:
                out += "  -> " + pad(dn, 28) + " " + pad(d.forwarding.description, 7) + " " + pad(tunnelInfo(d) ?? "n/a", 13) + " " + pad("\(d.weight)", 6) + " " + pad("\(d.activeConnections)", 10) + " " + pad("\(d.inactiveConnections)", 10)
            case .standard:
                out += "  -> " + pad(dn, 28) + " " + pad(d.forwarding.description, 7) + " " + pad("\(d.weight)", 6) + " " + pad("\(d.activeConnections)", 10) + " " + pad("\(d.inactiveConnections)", 10)
            }
            out += "\n"
        }
        return out
    }

    /// The service specifier of `-Sn` lines: `-t 192.0.2.1:80`, `-f 80`, `-f 80 -6` (``ServiceKey/option``).
    static func keyOption(_ k: ServiceKey, into out: inout TextBuffer) {
        switch k {
        case .fwmark(let m, let f):
            out.append("-f "); out.decimal(UInt64(m))
            if f == .inet6 { out.append(" -6") }
        case .address(let p, let e):
            out.append(p.option); out.append(byte: 32); out.endpoint(e)
        }
    }

    /// The service line's flags after the scheduler in `-Ln`: ` (sh-port)`, ` persistent 60 mask ...`, ` ops`.
    static func serviceFlags(_ s: VirtualService, into out: inout TextBuffer) {
        if !s.flags.intersection(.schedMask).isEmpty { out.append(" ("); out.append(schedFlags(s)); out.append(")") }
        if s.flags.contains(.persistent) {
            out.append(" persistent "); out.decimal(UInt64(s.timeout))
            if s.key.family == .inet && s.netmask != 0xFFFF_FFFF { out.append(" mask "); out.append(Netmask.ipv4Text(s.netmask)) }
            if s.key.family == .inet6 && s.netmask != 128 { out.append(" mask "); out.decimal(Int64(Int32(bitPattern: s.netmask))) }
            if let pe = s.persistenceEngine { out.append(" pe "); out.append(pe) }
        }
        if s.flags.contains(.onePacket) { out.append(" ops") }
    }

    /// Appends the lines of one service and its real servers in the standard columns of `ipvsadm -Ln`, numeric:
    /// the same text as ``list(_:columns:exact:sorted:names:)``, written as bytes (a list of tens of thousands of
    /// services spends its time here).
    public static func listStandard(_ e: ServiceEntry, sorted: Bool = true, into out: inout TextBuffer) {
        let s = e.service
        let start = out.count
        switch s.key {
        case .fwmark(let m, let f):
            out.append("FWM  "); out.decimal(Int64(Int32(bitPattern: m)))
            if f == .inet6 { out.append(" IPv6") }
        case .address(let p, let ep):
            out.append(p.label); out.pad(from: start, to: 4); out.append(byte: 32); out.endpoint(ep)
            if ep.address.family != .inet6 { out.truncate(from: start, to: 33) }
        }
        out.append(byte: 32); out.append(s.scheduler.rawValue)
        serviceFlags(s, into: &out)
        out.append(byte: 10)
        for d in sorted ? sortedDests(e.servers) : e.servers {
            out.append("  -> ")
            let ds = out.count
            out.endpoint(d.endpoint)
            if d.address.family != .inet6 { out.truncate(from: ds, to: 28) }
            out.pad(from: ds, to: 28)
            out.append(byte: 32)
            let fs = out.count
            out.append(d.forwarding.description); out.pad(from: fs, to: 7)
            out.append(byte: 32); out.decimal(Int64(d.weight), left: 6)
            out.append(byte: 32); out.decimal(Int64(d.activeConnections), left: 10)
            out.append(byte: 32); out.decimal(Int64(d.inactiveConnections), left: 10)
            out.append(byte: 10)
        }
    }

    /// `gue:6080:-c`, `gre:+c`, `ipip`, or nil for a non-tunnel server.
    public static func tunnelInfo(_ d: RealServer) -> String? {
        guard d.forwarding == .tunnel else { return nil }
        let cs = ["-c", "+c", "r+c"][Int(d.tunnelChecksum.rawValue)]
        switch d.tunnelType {
        case .ipip: return "ipip"
        case .gue: return "gue:\(d.tunnelPort):\(cs)"
        case .gre: return "gre:\(cs)"
        }
    }

    /// The `-A` and `-a` lines of one service, as `ipvsadm -Sn` prints them.
    public static func save(_ e: ServiceEntry) -> String {
        var b = TextBuffer()
        save(e, into: &b)
        return b.string
    }

    /// Appends the `-A` and `-a` lines of one service, as `ipvsadm -Sn` prints them.
    public static func save(_ e: ServiceEntry, into out: inout TextBuffer) {
        let s = e.service
        var key = TextBuffer()
        keyOption(s.key, into: &key)
        out.append("-A "); out.append(contentsOf: key); out.append(" -s "); out.append(s.scheduler.rawValue)
        if s.flags.contains(.persistent) {
            out.append(" -p "); out.decimal(UInt64(s.timeout))
            if s.key.family == .inet && s.netmask != 0xFFFF_FFFF { out.append(" -M "); out.append(Netmask.ipv4Text(s.netmask)) }
            if s.key.family == .inet6 && s.netmask != 128 { out.append(" -M "); out.decimal(Int64(Int32(bitPattern: s.netmask))) }
        }
        if let pe = s.persistenceEngine { out.append(" --pe "); out.append(pe) }
        if s.flags.contains(.onePacket) { out.append(" -o") }
        if !s.flags.intersection(.schedMask).isEmpty { out.append(" -b "); out.append(schedFlags(s)) }
        out.append(byte: 10)
        for d in sortedDests(e.servers) {
            out.append("-a "); out.append(contentsOf: key); out.append(" -r "); out.endpoint(d.endpoint)
            out.append(byte: 32); out.append(d.forwarding.option); out.append(" -w "); out.decimal(Int64(d.weight))
            if d.forwarding == .tunnel {
                let opt = ["--tun-nocsum", "--tun-csum", "--tun-remcsum"][Int(d.tunnelChecksum.rawValue)]
                switch d.tunnelType {
                case .ipip: out.append(" --tun-type ipip")
                case .gue: out.append(" --tun-type gue --tun-port "); out.decimal(UInt64(d.tunnelPort)); out.append(byte: 32); out.append(opt)
                case .gre: out.append(" --tun-type gre "); out.append(opt)
                }
            }
            out.append(byte: 10)
        }
    }

    /// ipvsadm's `print_largenum`: 9 columns, with K/M/G/T above 10^8 unless `exact`.
    public static func largeNumber(_ i: UInt64, _ exact: Bool) -> String {
        if exact {
            let s = "\(i)"
            return lpad(s, s.count <= 8 ? 9 : s.count + 1)
        }
        if i < 100_000_000 { return lpad("\(i)", 9) }
        if i < 1_000_000_000 { return lpad("\(i / 1000)", 8) + "K" }
        if i < 100_000_000_000 { return lpad("\(i / 1_000_000)", 8) + "M" }
        if i < 100_000_000_000_000 { return lpad("\(i / 1_000_000_000)", 8) + "G" }
        return lpad("\(i / 1_000_000_000_000)", 8) + "T"
    }

    // MARK: ipvsadm's sort order (libipvs comparators, glibc merge sort)

    /// What the comparators read from a service or a real server, taken out once per element so that sorting
    /// never allocates: the fwmark, family and protocol, up to four address words and the port.
    struct SortKey {
        var mark: UInt32 = 0, family: UInt16 = 0, proto: UInt16 = 0
        var w0: UInt32 = 0, w1: UInt32 = 0, w2: UInt32 = 0, w3: UInt32 = 0
        var nwords = 0
        var port: UInt16 = 0

        init(address a: IPAddress?, port: UInt16) {
            self.port = port
            guard let a else { return }
            a.bytes.withUnsafeBufferPointer { b in
                func word(_ i: Int) -> UInt32 {
                    UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
                }
                nwords = b.count / 4
                w0 = word(0)
                if nwords == 4 { w1 = word(4); w2 = word(8); w3 = word(12) }
            }
        }
        /// The key of `ipvs_cmp_services`.
        init(service k: ServiceKey) {
            switch k {
            case .fwmark(let m, let f): self.init(address: nil, port: 0); mark = m; family = f.rawValue; proto = 6
            case .address(let p, let e): self.init(address: e.address, port: e.port); family = e.address.family.rawValue; proto = p.rawValue
            }
        }
        func word(_ i: Int) -> UInt32 { i == 0 ? w0 : i == 1 ? w1 : i == 2 ? w2 : w3 }
    }

    static func wrapCompare(_ a: UInt32, _ b: UInt32) -> Int32 { Int32(bitPattern: a &- b) }
    /// libipvs compares addresses word by word with a wrapping subtraction, over the shorter of the two.
    static func cmpAddr(_ a: SortKey, _ b: SortKey) -> Int32 {
        var r: Int32 = 0
        var i = 0
        let n = min(a.nwords, b.nwords)
        while r == 0 && i < n { r = wrapCompare(a.word(i), b.word(i)); i += 1 }
        return r
    }
    /// `ipvs_cmp_services`.
    static func cmpServices(_ a: SortKey, _ b: SortKey) -> Int32 {
        var r = wrapCompare(a.mark, b.mark); if r != 0 { return r }
        r = Int32(a.family) - Int32(b.family); if r != 0 { return r }
        r = Int32(a.proto) - Int32(b.proto); if r != 0 { return r }
        r = cmpAddr(a, b); if r != 0 { return r }
        return Int32(a.port) - Int32(b.port)
    }
    /// `ipvs_cmp_dests`.
    static func cmpDests(_ a: SortKey, _ b: SortKey) -> Int32 {
        let r = cmpAddr(a, b)
        return r != 0 ? r : Int32(a.port) - Int32(b.port)
    }
    /// glibc's `msort`: a stable top-down merge sort (halves of n/2 and n - n/2, ties to the left), so that even
    /// ipvsadm's wrapping comparator gives its order. Sorts indices into `keys` in place, with one scratch buffer.
    static func mergeSortOrder(_ keys: [SortKey], _ cmp: (SortKey, SortKey) -> Int32) -> [Int] {
        var order = Array(0..<keys.count)
        if keys.count <= 1 { return order }
        var tmp = [Int](repeating: 0, count: keys.count)
        keys.withUnsafeBufferPointer { k in
            order.withUnsafeMutableBufferPointer { a in
                tmp.withUnsafeMutableBufferPointer { t in
                    func sort(_ lo: Int, _ n: Int) {
                        if n <= 1 { return }
                        let n1 = n / 2
                        sort(lo, n1); sort(lo + n1, n - n1)
                        var i = lo, j = lo + n1, o = 0
                        let iEnd = lo + n1, jEnd = lo + n
                        while i < iEnd && j < jEnd {
                            if cmp(k[a[i]], k[a[j]]) <= 0 { t[o] = a[i]; i += 1 } else { t[o] = a[j]; j += 1 }
                            o += 1
                        }
                        while i < iEnd { t[o] = a[i]; i += 1; o += 1 }
                        for x in 0..<o { a[lo + x] = t[x] }  // what is left of the right half is already in place
                    }
                    sort(0, keys.count)
                }
            }
        }
        return order
    }
    /// Services in ipvsadm's order.
    public static func sortedServices(_ s: [ServiceEntry]) -> [ServiceEntry] {
        mergeSortOrder(s.map { SortKey(service: $0.service.key) }, cmpServices).map { s[$0] }
    }
    /// Real servers in ipvsadm's order.
    public static func sortedDests(_ d: [RealServer]) -> [RealServer] {
        if d.count <= 1 { return d }
        return mergeSortOrder(d.map { SortKey(address: $0.address, port: $0.port) }, cmpDests).map { d[$0] }
    }
}

/// Left-justifies `s` in `w` columns (`%-Ns`).
@inlinable public func pad(_ s: String, _ w: Int) -> String {
    let n = s.count; return n >= w ? s : s + String(repeating: " ", count: w - n)
}
/// Right-justifies `s` in `w` columns (`%Ns`).
@inlinable public func lpad(_ s: String, _ w: Int) -> String {
    let n = s.count; return n >= w ? s : String(repeating: " ", count: w - n) + s
}
