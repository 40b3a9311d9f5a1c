// Which firewall backend a command uses: the one the admin named, else the one already holding lvsctl's rules
// (never migrating silently), else iptables-legacy when the kernel has legacy x_tables, else nftables.

/// The backend a command uses, and why (`lvsctl info` prints both).
public struct FirewallChoice: Sendable, Equatable {
    /// The backend.
    public var kind: FirewallKind
    /// Why it was chosen, as a phrase: `chosen with --firewall`, `lvsctl's rules are in nftables`, ...
    public var reason: String
    /// True when the admin named it (`--firewall`, `LVSCTL_FIREWALL` or a file's `firewall` line).
    public var explicit: Bool
    /// The backends that hold lvsctl's rules now.
    public var holding: [FirewallKind]
    /// Whether this kernel has legacy x_tables.
    public var legacyAvailable: Bool

    /// Creates a choice.
    public init(kind: FirewallKind, reason: String, explicit: Bool, holding: [FirewallKind], legacyAvailable: Bool) {
        self.kind = kind; self.reason = reason; self.explicit = explicit; self.holding = holding; self.legacyAvailable = legacyAvailable
    }

    /// A backend object of the chosen kind.
    public func backend() -> FirewallBackend { kind.backend() }

    /// True when `save` should write a `firewall` line: the admin named the backend, or nftables is in use on a
    /// kernel that still has legacy x_tables (which `auto` would not pick on an empty host).
    public var worthSaving: Bool { explicit || (kind == .nftables && legacyAvailable) }

    /// The rules are in another backend than the one named: using it would hide them (a refusal, exit 1).
    public var conflict: String? {
        guard explicit, !holding.contains(kind), let other = holding.first else { return nil }
        return "lvsctl's firewall rules are in \(other.rawValue), not \(kind.rawValue) (\(reason)); "
            + "move them with 'lvsctl bundle migrate --to \(kind.rawValue)' first"
    }
}

public extension FirewallKind {
    /// A backend object of this kind, for the current network namespace (the one place that maps kinds to types).
    func backend() -> FirewallBackend {
        switch self {
        case .nftables: NFTablesBackend()
        case .iptablesLegacy: IPTablesBackend()
        }
    }
    /// The other backend (`bundle migrate` moves rules from it).
    var other: FirewallKind { self == .nftables ? .iptablesLegacy : .nftables }
}

/// Chooses the backend for this process's network namespace.
public enum FirewallSelection {
    /// Parses `auto`, `nftables`, `iptables-legacy` (also `legacy`, `nft`); `.some(nil)` is auto, nil is invalid.
    public static func parse(_ s: String) -> FirewallKind?? {
        switch s {
        case "auto": return .some(nil)
        case "nftables", "nft": return .some(.nftables)
        case "iptables-legacy", "legacy": return .some(.iptablesLegacy)
        default: return nil
        }
    }

    /// The backends that hold lvsctl's rules now (reads only; loads no module).
    public static func holding() -> [FirewallKind] {
        var out: [FirewallKind] = []
        if (try? IPTablesBackend().hasRules()) == true { out.append(.iptablesLegacy) }
        if NFTablesBackend.usable, (try? NFTablesBackend().hasRules()) == true { out.append(.nftables) }
        return out
    }

    /// `requested` (with where it came from, e.g. `chosen with --firewall`) wins; otherwise `auto`.
    public static func choose(requested: (kind: FirewallKind, source: String)?) -> FirewallChoice {
        let holding = holding()
        let legacy = holding.contains(.iptablesLegacy) || IPTablesBackend.kernelHasLegacy()
        if let r = requested {
            return FirewallChoice(kind: r.kind, reason: r.source, explicit: true, holding: holding, legacyAvailable: legacy)
        }
        switch (holding.contains(.iptablesLegacy), holding.contains(.nftables)) {
        case (true, false):
            return FirewallChoice(kind: .iptablesLegacy, reason: "auto: lvsctl's rules are in the legacy iptables tables",
                                  explicit: false, holding: holding, legacyAvailable: legacy)
        case (false, true):
            return FirewallChoice(kind: .nftables, reason: "auto: lvsctl's rules are in nftables",
                                  explicit: false, holding: holding, legacyAvailable: legacy)
        case (true, true):
            return FirewallChoice(kind: .iptablesLegacy,
                                  reason: "auto: lvsctl has rules in both backends (an interrupted migration?); 'lvsctl bundle migrate --to BACKEND' joins them",
                                  explicit: false, holding: holding, legacyAvailable: legacy)
        case (false, false):
            return legacy
                ? FirewallChoice(kind: .iptablesLegacy, reason: "auto: no lvsctl rules yet, and this kernel has legacy x_tables (ip_tables)",
                                 explicit: false, holding: holding, legacyAvailable: true)
                : FirewallChoice(kind: .nftables, reason: "auto: no lvsctl rules yet, and this kernel has no legacy x_tables (ip_tables)",
                                 explicit: false, holding: holding, legacyAvailable: false)
        }
    }
}
