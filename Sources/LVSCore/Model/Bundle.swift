/// A firewall-mark bundle: mangle MARK rules for some VIPs and ports, plus the fwmark virtual service, as one unit.
public struct MarkBundle: Hashable, Sendable {
    /// The bundle name (also in every rule's comment).
    public var name: String
    /// The VIPs; all of one family.
    public var vips: [IPAddress]
    /// Destination ports (ranges allowed), sorted and merged.
    public var ports: [PortRange]
    /// The protocols marked: tcp, udp, or both.
    public var protocols: [IPProtocol]
    /// The firewall mark, 1..2^32-1; also the fwmark service's mark.
    public var mark: UInt32

    /// Creates a bundle.
    public init(name: String, vips: [IPAddress], ports: [PortRange], protocols: [IPProtocol], mark: UInt32) {
        self.name = name; self.vips = vips; self.ports = ports; self.protocols = protocols; self.mark = mark
    }

    /// The family of the VIPs (and of the fwmark service).
    public var family: AddressFamily { vips.first?.family ?? .inet }
    /// The key of the bundle's fwmark service.
    public var serviceKey: ServiceKey { .fwmark(mark, family) }
    /// The rule owner string: `bundle NAME`.
    public var owner: String { "bundle \(name)" }

    /// The MARK rules of this bundle, split at 15 multiport slots.
    public var rules: [FirewallRule] {
        vips.flatMap { v in
            protocols.flatMap { p in FirewallRule.split(owner: owner, destination: v, proto: p, ports: ports, action: .mark(mark)) }
        }
    }

    /// `tcp`, `udp` or `both`.
    public var protoName: String { protocols.count > 1 ? "both" : protocols.first?.description ?? "tcp" }

    /// The longest name that fits the comment limit with room to spare.
    public static let maxNameLength = 64

    /// Groups lvsctl's mangle rules back into bundles, in first-seen order.
    public static func from(rules: [FirewallRule]) -> [MarkBundle] {
        var order: [String] = []
        var by: [String: MarkBundle] = [:]
        for r in rules {
            guard r.owner.hasPrefix("bundle "), case .mark(let m) = r.action else { continue }
            let name = String(r.owner.dropFirst(7))
            if var b = by[name] {
                if !b.vips.contains(r.destination) { b.vips.append(r.destination) }
                if !b.protocols.contains(r.proto) { b.protocols.append(r.proto) }
                if r.destination == b.vips[0] && r.proto == b.protocols[0] {
                    b.ports = Array(Set(b.ports + r.ports)).sorted()
                }
                by[name] = b
            } else {
                order.append(name)
                by[name] = MarkBundle(name: name, vips: [r.destination], ports: r.ports.sorted(), protocols: [r.proto], mark: m)
            }
        }
        return order.compactMap { by[$0] }
    }
}
