/// Builds and parses the binary `struct ipt_entry` / `struct ip6t_entry` records libiptc takes and returns,
/// in pure Swift. Layouts are those of the Linux UAPI headers on LP64 (checked against the C headers by
/// `iptcLayoutMismatches()` in IPTC.swift); multi-byte fields are in host order unless the kernel says otherwise
/// (addresses are network order).
enum XTEntryCodec {
    /// `XT_ALIGN`: 8 on every LP64 target (alignment of `__u64`).
    static func align(_ n: Int) -> Int { (n + 7) & ~7 }

    /// `struct xt_entry_match` / `xt_entry_target` header: u16 size, char name[29], u8 revision.
    static let extHeaderSize = 32
    static let extNameLength = 29

    // Payload sizes (before XT_ALIGN).
    static let tcpInfoSize = 12          // struct xt_tcp
    static let udpInfoSize = 10          // struct xt_udp
    static let multiportV1Size = 48      // struct xt_multiport_v1
    static let multiportPflagsOffset = 32
    static let multiportInvertOffset = 47
    static let commentInfoSize = 256     // struct xt_comment_info
    static let markTginfo2Size = 8       // struct xt_mark_tginfo2
    static let standardVerdictSize = 4   // struct xt_standard_target minus header
    static let natIPv4CompatSize = 20    // struct nf_nat_ipv4_multi_range_compat
    static let natRangeSize = 40         // struct nf_nat_range (IPv6 REDIRECT revision 0)

    /// Offsets within the fixed entry header of one family.
    struct Layout: Sendable {
        let entrySize: Int, addressLength: Int
        let src: Int, dst: Int, smsk: Int, dmsk: Int, ifaces: Int
        let proto: Int, flags: Int, invflags: Int, nfcache: Int
        let targetOffset: Int, nextOffset: Int, comefrom: Int, counters: Int
        /// `flags` value for a rule with `-p` (IP6T_F_PROTO for IPv6; IPv4 has no such flag).
        let protoFlag: UInt8
        /// Bytes from `ifaces` covering iniface, outiface and both masks.
        var ifacesLength: Int { 64 }

        /// `struct ipt_entry` (112 bytes).
        static let ipv4 = Layout(entrySize: 112, addressLength: 4, src: 0, dst: 4, smsk: 8, dmsk: 12, ifaces: 16,
                                 proto: 80, flags: 82, invflags: 83, nfcache: 84,
                                 targetOffset: 88, nextOffset: 90, comefrom: 92, counters: 96, protoFlag: 0)
        /// `struct ip6t_entry` (168 bytes); `tos` at 130 is left 0.
        static let ipv6 = Layout(entrySize: 168, addressLength: 16, src: 0, dst: 16, smsk: 32, dmsk: 48, ifaces: 64,
                                 proto: 128, flags: 131, invflags: 132, nfcache: 136,
                                 targetOffset: 140, nextOffset: 142, comefrom: 144, counters: 152, protoFlag: 0x01)
        static func of(_ f: AddressFamily) -> Layout { f == .inet ? .ipv4 : .ipv6 }
    }

    // MARK: - Byte helpers

    static func put<T: FixedWidthInteger>(_ v: T, _ buf: inout [UInt8], at off: Int) {
        withUnsafeBytes(of: v) { for (i, b) in $0.enumerated() { buf[off + i] = b } }
    }
    static func get<T: FixedWidthInteger>(_ t: T.Type, _ buf: [UInt8], at off: Int) -> T {
        var v: T = 0
        withUnsafeMutableBytes(of: &v) { dst in for i in 0..<dst.count { dst[i] = buf[off + i] } }
        return v
    }
    /// A NUL-terminated C string read from `buf[off..<off+max]`.
    static func cString(_ buf: [UInt8], at off: Int, max: Int) -> String {
        let end = min(off + max, buf.count)
        var stop = off
        while stop < end && buf[stop] != 0 { stop += 1 }
        return String(decoding: buf[off..<stop], as: UTF8.self)
    }

    /// One match or target: header name/revision plus payload (padded to XT_ALIGN).
    struct Extension: Equatable {
        var name: String
        var revision: UInt8
        var data: [UInt8]
        func encoded() -> [UInt8] {
            let size = XTEntryCodec.align(XTEntryCodec.extHeaderSize + data.count)
            var b = [UInt8](repeating: 0, count: size)
            XTEntryCodec.put(UInt16(size), &b, at: 0)
            for (i, c) in name.utf8.prefix(XTEntryCodec.extNameLength - 1).enumerated() { b[2 + i] = c }
            b[31] = revision
            for (i, c) in data.enumerated() { b[32 + i] = c }
            return b
        }
    }

    // MARK: - Building

    /// The entry for one lvsctl rule (caller has validated it).
    static func entry(for rule: FirewallRule) -> [UInt8] {
        var matches: [Extension] = []
        if rule.ports.count == 1 {
            let p = rule.ports[0]
            var d = [UInt8](repeating: 0, count: rule.proto == .tcp ? tcpInfoSize : udpInfoSize)
            put(UInt16(0), &d, at: 0); put(UInt16(0xFFFF), &d, at: 2)      // spts: any
            put(p.low, &d, at: 4); put(p.high, &d, at: 6)                   // dpts
            matches.append(Extension(name: rule.proto.description, revision: 0, data: d))
        } else if rule.ports.count > 1 {
            var d = [UInt8](repeating: 0, count: multiportV1Size)
            d[0] = 1                                                        // XT_MULTIPORT_DESTINATION
            var i = 0
            for p in rule.ports {
                put(p.low, &d, at: 2 + 2 * i)
                if p.isSingle {
                    i += 1
                } else {
                    d[multiportPflagsOffset + i] = 1
                    put(p.high, &d, at: 2 + 2 * (i + 1))
                    i += 2
                }
            }
            d[1] = UInt8(i)                                                 // count (slots)
            matches.append(Extension(name: "multiport", revision: 1, data: d))
        }
        matches.append(commentMatch(rule.comment))
        let target: Extension
        switch rule.action {
        case .mark(let m):
            var d = [UInt8](repeating: 0, count: markTginfo2Size)
            put(m, &d, at: 0); put(UInt32.max, &d, at: 4)
            target = Extension(name: "MARK", revision: 2, data: d)
        case .redirect:
            if rule.family == .inet {
                var d = [UInt8](repeating: 0, count: natIPv4CompatSize)
                put(UInt32(1), &d, at: 0)                                   // rangesize = 1, no flags
                target = Extension(name: "REDIRECT", revision: 0, data: d)
            } else {
                target = Extension(name: "REDIRECT", revision: 0, data: [UInt8](repeating: 0, count: natRangeSize))
            }
        }
        return entry(family: rule.family, destination: rule.destination, proto: UInt16(rule.proto.rawValue),
                     matches: matches, target: target)
    }

    /// `-A PREROUTING -m comment --comment lvsctl -j LVSCTL`: a standard target naming the chain
    /// (libiptc turns the name into the jump offset).
    static func jumpEntry(family: AddressFamily, chain: String = FirewallRule.chain,
                          comment: String = FirewallRule.jumpComment) -> [UInt8] {
        entry(family: family, destination: nil, proto: 0, matches: [commentMatch(comment)],
              target: Extension(name: chain, revision: 0, data: [UInt8](repeating: 0, count: standardVerdictSize)))
    }

    static func commentMatch(_ text: String) -> Extension {
        var d = [UInt8](repeating: 0, count: commentInfoSize)
        for (i, c) in text.utf8.prefix(commentInfoSize - 1).enumerated() { d[i] = c }
        return Extension(name: "comment", revision: 0, data: d)
    }

    static func entry(family: AddressFamily, destination: IPAddress?, proto: UInt16,
                      matches: [Extension], target: Extension) -> [UInt8] {
        let L = Layout.of(family)
        var b = [UInt8](repeating: 0, count: L.entrySize)
        if let destination {
            for (i, c) in destination.bytes.enumerated() { b[L.dst + i] = c; b[L.dmsk + i] = 0xFF }
        }
        put(proto, &b, at: L.proto)
        if proto != 0 { b[L.flags] = L.protoFlag }
        for m in matches { b += m.encoded() }
        let targetOffset = b.count
        b += target.encoded()
        put(UInt16(targetOffset), &b, at: L.targetOffset)
        put(UInt16(b.count), &b, at: L.nextOffset)
        return b
    }

    // MARK: - Parsing

    /// An entry split into its parts.
    struct Parsed {
        var source: [UInt8], sourceMask: [UInt8], destination: [UInt8], destinationMask: [UInt8]
        var interfacesEmpty: Bool
        var proto: UInt16, flags: UInt8, invflags: UInt8
        var matches: [Extension]
        var target: Extension
        /// The text of the first `comment` match, if any.
        var comment: String? {
            matches.first { $0.name == "comment" }.map { XTEntryCodec.cString($0.data, at: 0, max: commentInfoSize) }
        }
    }

    /// Splits raw entry bytes; nil if the offsets are inconsistent.
    static func parse(_ b: [UInt8], family: AddressFamily) -> Parsed? {
        let L = Layout.of(family)
        guard b.count >= L.entrySize else { return nil }
        let tOff = Int(get(UInt16.self, b, at: L.targetOffset))
        let next = Int(get(UInt16.self, b, at: L.nextOffset))
        guard tOff >= L.entrySize, next <= b.count, tOff + extHeaderSize <= next else { return nil }
        func ext(at off: Int, limit: Int) -> (Extension, Int)? {
            guard off + extHeaderSize <= limit else { return nil }
            let size = Int(get(UInt16.self, b, at: off))
            guard size >= extHeaderSize, off + size <= limit else { return nil }
            return (Extension(name: cString(b, at: off + 2, max: extNameLength), revision: b[off + 31],
                              data: Array(b[(off + extHeaderSize)..<(off + size)])), size)
        }
        var matches: [Extension] = []
        var off = L.entrySize
        while off < tOff {
            guard let (m, size) = ext(at: off, limit: tOff) else { return nil }
            matches.append(m); off += size
        }
        guard let (target, _) = ext(at: tOff, limit: next) else { return nil }
        let a = L.addressLength
        return Parsed(source: Array(b[L.src..<(L.src + a)]), sourceMask: Array(b[L.smsk..<(L.smsk + a)]),
                      destination: Array(b[L.dst..<(L.dst + a)]), destinationMask: Array(b[L.dmsk..<(L.dmsk + a)]),
                      interfacesEmpty: b[L.ifaces..<(L.ifaces + L.ifacesLength)].allSatisfy { $0 == 0 },
                      proto: get(UInt16.self, b, at: L.proto), flags: b[L.flags], invflags: b[L.invflags],
                      matches: matches, target: target)
    }

    /// The lvsctl rule an entry encodes, or nil if it is not exactly of the shape lvsctl writes
    /// (any extra match, option, inversion, interface or source makes it foreign).
    static func rule(from b: [UInt8], family: AddressFamily) -> FirewallRule? {
        let L = Layout.of(family)
        guard let p = parse(b, family: family),
              p.source.allSatisfy({ $0 == 0 }), p.sourceMask.allSatisfy({ $0 == 0 }),
              p.destinationMask.allSatisfy({ $0 == 0xFF }), p.interfacesEmpty, p.invflags == 0,
              p.flags == L.protoFlag,
              let proto = IPProtocol(rawValue: p.proto), proto == .tcp || proto == .udp,
              let dst = IPAddress(bytes: p.destination),
              let comment = p.comment, comment.utf8.starts(with: FirewallRule.commentPrefix.utf8),
              p.matches.last?.name == "comment", p.matches.last?.revision == 0,
              p.matches.count <= 2
        else { return nil }
        var ports: [PortRange] = []
        if p.matches.count == 2 {
            let m = p.matches[0]
            switch (m.name, m.revision) {
            case (proto.description, 0):
                let needed = proto == .tcp ? tcpInfoSize : udpInfoSize
                guard m.data.count >= needed,
                      get(UInt16.self, m.data, at: 0) == 0, get(UInt16.self, m.data, at: 2) == 0xFFFF,
                      m.data[8..<needed].allSatisfy({ $0 == 0 }) else { return nil }
                let lo = get(UInt16.self, m.data, at: 4), hi = get(UInt16.self, m.data, at: 6)
                guard lo <= hi else { return nil }
                ports = [PortRange(low: lo, high: hi)]
            case ("multiport", 1):
                guard m.data.count >= multiportV1Size, m.data[0] == 1, m.data[multiportInvertOffset] == 0 else { return nil }
                let count = Int(m.data[1])
                guard count >= 1, count <= FirewallRule.maxSlots else { return nil }
                var i = 0
                while i < count {
                    let lo = get(UInt16.self, m.data, at: 2 + 2 * i)
                    if m.data[multiportPflagsOffset + i] != 0 {
                        guard i + 1 < count else { return nil }
                        let hi = get(UInt16.self, m.data, at: 2 + 2 * (i + 1))
                        guard lo <= hi else { return nil }
                        ports.append(PortRange(low: lo, high: hi)); i += 2
                    } else {
                        ports.append(PortRange(lo)); i += 1
                    }
                }
                guard ports.count >= 2 else { return nil }   // lvsctl writes one range with the tcp/udp match
            default:
                return nil
            }
        }
        let t = p.target
        let action: FirewallRule.Action
        switch (t.name, t.revision) {
        case ("MARK", 2):
            guard t.data.count >= markTginfo2Size, get(UInt32.self, t.data, at: 4) == UInt32.max else { return nil }
            action = .mark(get(UInt32.self, t.data, at: 0))
        case ("REDIRECT", 0):
            if family == .inet {
                guard t.data.count >= natIPv4CompatSize, get(UInt32.self, t.data, at: 0) == 1,
                      t.data[4..<natIPv4CompatSize].allSatisfy({ $0 == 0 }) else { return nil }
            } else {
                guard t.data.count >= natRangeSize, t.data[0..<natRangeSize].allSatisfy({ $0 == 0 }) else { return nil }
            }
            action = .redirect
        default:
            return nil
        }
        return FirewallRule(owner: String(decoding: Array(comment.utf8.dropFirst(FirewallRule.commentPrefix.utf8.count)), as: UTF8.self),
                            destination: dst, proto: proto, ports: ports, action: action)
    }
}
