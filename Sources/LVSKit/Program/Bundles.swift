#if canImport(Glibc)
import Glibc
#endif
import LVSCore

/// lvsctl's bundles as they live in the kernel: marking rules (IPv4 and IPv6) in the firewall plus fwmark services.
public struct BundleStore {
    public let firewall: FirewallBackend

    public init(firewall: FirewallBackend) { self.firewall = firewall }

    /// The store on this process's firewall backend (`Firewall.backend()`).
    public static func system() throws -> BundleStore { BundleStore(firewall: try Firewall.backend()) }

    /// lvsctl's mangle rules of one family (none when the table module is absent and no rules exist).
    public func rules(_ f: AddressFamily) throws -> [FirewallRule] { try firewall.rules(table: .mangle, family: f) }

    /// Bundle `b`'s rules as commands an admin could type: `iptables -t mangle -A LVSCTL ...` (ip6tables for IPv6)
    /// on iptables-legacy, `nft add element ip lvsctl marks { ... }` on nftables.
    public func describe(_ b: MarkBundle) -> [String] { b.rules.map { ruleText($0, firewall.kind, program: true) } }

    /// Every bundle, IPv4 first.
    public func bundles() throws -> [MarkBundle] { MarkBundle.from(rules: try rules(.inet) + rules(.inet6)) }

    /// The fwmark service key of bundle `name`.
    public func key(ofBundle name: String) throws -> ServiceKey {
        guard let b = try bundles().first(where: { $0.name == name }) else { throw UsageError("no bundle named \(shown(name))") }
        return b.serviceKey
    }

    /// Writes bundle `b`'s rules after the chain's current ones, then runs `addService` (the IPVS half). When that
    /// fails, the rollback removes `b`'s rules only, read afresh: rules written meanwhile by anyone else stay.
    /// The caller holds lvsctl's lock, so no other lvsctl command reads or writes the chain in between.
    public func add(_ b: MarkBundle, addService: () throws -> Void) throws {
        try firewall.replaceRules(try rules(b.family) + b.rules, table: .mangle, family: b.family)
        do {
            try addService()
        } catch {
            if let now = try? rules(b.family) {
                try? firewall.replaceRules(now.filter { $0.owner != b.owner }, table: .mangle, family: b.family)
            }
            throw error
        }
    }

    /// Removes bundle `b`: runs `deleteService` (the IPVS half, nil when there is none), then removes `b`'s rules
    /// (only `b`'s, read afresh). When the rules cannot be removed, `restoreService` puts the service back.
    public func delete(_ b: MarkBundle, deleteService: (() throws -> Void)?, restoreService: () -> Void) throws {
        try deleteService?()
        do {
            try firewall.replaceRules(try rules(b.family).filter { $0.owner != b.owner }, table: .mangle, family: b.family)
        } catch {
            if deleteService != nil { restoreService() }
            throw error
        }
    }

    /// `bundle add`: under lvsctl's lock, reads the bundles and services, picks the mark, writes both halves (the
    /// rules, then the service; a failure takes the rules out again). Returns the bundle as added and the notes
    /// for the admin.
    public func addBundle(_ spec: BundleSpec, client: any IPVSControl) throws -> (MarkBundle, notes: [String]) {
        _ = try spec.model()
        // One lock across reading the bundles and services, choosing the mark, both halves and any rollback:
        // two adds at once would otherwise pick the same mark, or each commit the chain it read (one is lost).
        return try withLvsctlLock {
            var state = ClusterConfig()
            state.bundles = try bundles()
            state.entries = try client.services().map { ServiceEntry(service: $0, servers: []) }
            var src = SourceMap(), dr: [DRFileLine] = []
            try ConfigFile.add(.bundle(spec), to: &state, source: &src, dr: &dr)
            let b = state.bundles.last!, s = state.entries.last!.service
            var notes: [String] = []
            if firewall.kind == .iptablesLegacy && systemIPTablesIsNFT() {
                notes.append("note: bundle rules live in the legacy iptables tables (iptables-legacy-save -t mangle shows them); this host's iptables is the nftables variant: 'lvsctl bundle migrate --to nftables' moves them there")
            }
            try add(b) { try client.perform(.addService(s)) }
            return (b, notes)
        }
    }

    /// `bundle delete`: under lvsctl's lock, the service (with its real servers) and then the rules; when the rules
    /// cannot be removed, the service is put back as it was.
    public func deleteBundle(named name: String, client: any IPVSControl) throws {
        try Validate.bundleName(name)
        try withLvsctlLock {  // as in add: no other lvsctl command reads or writes the chain meanwhile
            guard let b = try bundles().first(where: { $0.name == name }) else {
                throw UsageError("no bundle named \(shown(name))")
            }
            let entry = try client.table().first { $0.service.key == b.serviceKey }
            try delete(b, deleteService: entry.map { _ in { try client.perform(.deleteService(b.serviceKey)) } },
                       restoreService: {  // put the service back as it was
                if let e = entry {
                    _ = try? client.execute([.addService(e.service.config)] + e.servers.map { .addDest(b.serviceKey, $0.config) }, stopOnError: false)
                }
            })
        }
    }
}

/// One rule as text: the iptables arguments (with the program name, iptables or ip6tables, when `program`) or the
/// nft element command.
public func ruleText(_ r: FirewallRule, _ kind: FirewallKind, program: Bool) -> String {
    if kind == .nftables { return NFTablesBackend.elementCommand(r) }
    let words = (program ? [r.family == .inet ? "iptables" : "ip6tables"] : []) + r.iptablesArguments
    return words.map(quoteIfNeeded).joined(separator: " ")
}

/// Quotes a shell word when it holds spaces or metacharacters (for display only; nothing is run through a shell).
public func quoteIfNeeded(_ w: String) -> String {
    w.contains(where: { " \"'$`\\;&|<>*?()[]{}!#~".contains($0) }) ? "\"" + w.replacing("\"", with: "\\\"") + "\"" : w
}
