/// The whole desired (or running) state of a director: what `save` writes and `restore`/`apply` read.
public struct ClusterConfig: Hashable, Sendable {
    /// Virtual services with their real servers, in file (or kernel) order.
    public var entries: [ServiceEntry] = []
    /// Connection timeouts, if the file sets them.
    public var timeouts: Timeouts?
    /// Sync daemons.
    public var daemons: [SyncDaemon] = []
    /// Firewall-mark bundles (their fwmark services are in `entries` too).
    public var bundles: [MarkBundle] = []
    /// The firewall backend the file names (`firewall nftables`); nil leaves the choice to the host (auto).
    public var firewall: FirewallKind?
    /// IPVS sysctls the file sets (`sysctl set NAME=VALUE`), by knob name (`expire_nodest_conn`); values in lvsctl's
    /// form (`sync_threshold` as `3 50`). Knobs not named are left as they are.
    public var sysctls: [String: String] = [:]

    /// Creates an empty state.
    public init() {}

    /// The index of the entry for `key`, if any.
    public func index(of key: ServiceKey) -> Int? { entries.firstIndex { $0.service.key == key } }
}

// IPVSClient.runningState() is IPVSControl's default runningState() (IPVS/Control.swift).
