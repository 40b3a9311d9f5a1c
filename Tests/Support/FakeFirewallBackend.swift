// Test support for LVSCore and lvsctl tests (target LVSTestSupport): never part of the shipped library.
import LVSCore

/// An in-memory backend for tests of higher layers. It validates like the real one.
public final class FakeFirewallBackend: FirewallBackend {
    /// A table and an address family: one chain.
    public struct Key: Hashable, Sendable {
        /// The table.
        public var table: FirewallTable
        /// IPv4 (iptables) or IPv6 (ip6tables).
        public var family: AddressFamily
        /// Creates a key.
        public init(table: FirewallTable, family: AddressFamily) { self.table = table; self.family = family }
    }
    /// Current rules per table and family (absent = no chain).
    public var tables: [Key: [FirewallRule]] = [:]
    /// Every successful `replaceRules` call, in order.
    public private(set) var replaceCalls: [(key: Key, rules: [FirewallRule])] = []
    /// When set, the next call (read or write) throws this error and clears it.
    public var failNext: FirewallError?

    /// What it pretends to be.
    public var kind: FirewallKind
    /// ARP rules (nil: like iptables-legacy, ARP is left to the arptables binary).
    public var arp: [ARPRewrite]?

    /// A backend holding `tables` (default: no chains).
    public init(tables: [Key: [FirewallRule]] = [:], kind: FirewallKind = .iptablesLegacy, arp: [ARPRewrite]? = nil) {
        self.tables = tables; self.kind = kind; self.arp = arp
    }

    /// True when any table holds rules.
    public func hasRules() throws -> Bool { !tables.isEmpty || !(arp ?? []).isEmpty }
    /// `arp`.
    public func arpRewrites() throws -> [ARPRewrite]? { arp }
    /// Sets `arp`.
    public func replaceARPRewrites(_ rewrites: [ARPRewrite]) throws { arp = rewrites }

    /// The rules of one table and family, in order; throws `failNext` if set.
    public func rules(table: FirewallTable, family: AddressFamily) throws -> [FirewallRule] {
        if let e = failNext { failNext = nil; throw e }
        return tables[Key(table: table, family: family)] ?? []
    }

    /// Validates and replaces the rules of one table and family, recording the call; throws `failNext` if set.
    public func replaceRules(_ rules: [FirewallRule], table: FirewallTable, family: AddressFamily) throws {
        if let e = failNext { failNext = nil; throw e }
        try FirewallRule.validate(rules, table: table, family: family)
        let key = Key(table: table, family: family)
        tables[key] = rules.isEmpty ? nil : rules
        replaceCalls.append((key, rules))
    }
}
