import LVSCore

// The health-check monitor's configuration as checked model values (issue #19): what `check` and `sorry` lines
// mean once the grammar has read and validated them. Nothing here runs a check or talks to the kernel.

/// One real server of one service: what a check, a drain or a sorry server is about.
public struct ServerRef: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The virtual service.
    public var service: ServiceKey
    /// The real server's endpoint as the kernel holds it (port 0 under a fwmark service).
    public var server: Endpoint
    /// Creates a reference.
    public init(service: ServiceKey, server: Endpoint) { self.service = service; self.server = server }
    /// `rs ADDR:PORT of SERVICE`, as the monitor's log lines name a server.
    public var description: String { "rs \(server) of \(service)" }
    /// Orders by service, then endpoint.
    public static func < (a: ServerRef, b: ServerRef) -> Bool {
        a.service != b.service ? a.service < b.service : a.server < b.server
    }
}

/// What the monitor does to a real server whose check is down (`--on-fail`).
public enum FailAction: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Weight 0: no new connections, existing ones kept (the default).
    case quiesce
    /// The server is deleted from the service until it is up again.
    case remove
    /// `quiesce` or `remove`.
    public var description: String { rawValue }
}

/// The options of an `http` or `https` check.
public struct HTTPCheck: Hashable, Sendable {
    /// The request path (`--path`, default `/`).
    public var path: String
    /// The Host header and TLS server name (`--host`); nil uses the server's address.
    public var host: String?
    /// The status codes that pass (`--expect`, default 200-399), as ranges.
    public var expect: [ClosedRange<Int>]
    /// A regular expression the body must match (`--body`); nil accepts any body.
    public var body: String?
    /// https without certificate verification (`--insecure`).
    public var insecure: Bool
    /// The default expected codes: 200-399.
    public static let defaultExpect: [ClosedRange<Int>] = [200...399]

    /// Creates HTTP options with the defaults: `/`, no Host, 200-399, any body, verified.
    public init(path: String = "/", host: String? = nil, expect: [ClosedRange<Int>] = HTTPCheck.defaultExpect,
                body: String? = nil, insecure: Bool = false) {
        self.path = path; self.host = host; self.expect = expect; self.body = body; self.insecure = insecure
    }

    /// True when `status` is one of the expected codes.
    public func accepts(_ status: Int) -> Bool { expect.contains { $0.contains(status) } }
}

/// The options of a `udp` check: a datagram to send and a regular expression its answer must match.
public struct UDPCheck: Hashable, Sendable {
    /// The payload to send (`--send`); nil sends an empty datagram.
    public var send: String?
    /// A regular expression the reply must match (`--receive`); nil accepts any reply.
    public var receive: String?
    /// Creates UDP options.
    public init(send: String? = nil, receive: String? = nil) { self.send = send; self.receive = receive }
}

/// The options of an `exec` check: a program run without a shell; exit status 0 means up.
public struct ExecCheck: Hashable, Sendable {
    /// The program and its arguments as written (`--exec`), with `%h` and `%p` not yet replaced.
    public var argv: [String]
    /// Creates exec options.
    public init(argv: [String]) { self.argv = argv }

    /// The argument vector for one server: `%h` becomes the address (IPv6 unbracketed), `%p` the port, `%%` a `%`.
    public func arguments(address: IPAddress, port: UInt16) -> [String] {
        argv.map { arg in
            guard arg.contains("%") else { return arg }
            var out = ""
            var pending = false
            for c in arg {
                if pending {
                    switch c {
                    case "h": out += address.description
                    case "p": out += String(port)
                    case "%": out.append("%")
                    default: out.append("%"); out.append(c)
                    }
                    pending = false
                } else if c == "%" {
                    pending = true
                } else {
                    out.append(c)
                }
            }
            if pending { out.append("%") }
            return out
        }
    }
}

/// The kind of a check (`--type`) with its options.
public enum CheckKind: Hashable, Sendable, CustomStringConvertible {
    /// A TCP connect.
    case tcp
    /// An HTTP GET.
    case http(HTTPCheck)
    /// An HTTPS GET.
    case https(HTTPCheck)
    /// A UDP request and reply.
    case udp(UDPCheck)
    /// A program's exit status.
    case exec(ExecCheck)

    /// The `--type` word: `tcp`, `http`, `https`, `udp` or `exec`.
    public var name: String {
        switch self { case .tcp: "tcp"; case .http: "http"; case .https: "https"; case .udp: "udp"; case .exec: "exec" }
    }
    /// The `--type` word.
    public var description: String { name }
}

/// One `check` line: how and how often one real server of one service is checked, and what a failure does.
public struct HealthCheck: Hashable, Sendable, Identifiable {
    /// The service the server belongs to.
    public var service: ServiceKey
    /// The real server's endpoint as configured (port 0 under a fwmark service).
    public var server: Endpoint
    /// What is checked, with the kind's options.
    public var kind: CheckKind
    /// The port to check (`--port`); nil checks the server's own port. Required for fwmark services.
    public var port: UInt16?
    /// Seconds from the start of one check to the start of the next (`--interval`, default 5).
    public var interval: Double
    /// Seconds a check may take before it counts as failed (`--timeout`, default 3).
    public var timeout: Double
    /// Consecutive passes that bring a down check up (`--rise`, default 2).
    public var rise: Int
    /// Consecutive failures that bring an up check down (`--fall`, default 3).
    public var fall: Int
    /// What a down server gets (`--on-fail`, default quiesce).
    public var onFail: FailAction
    /// Seconds over which a recovered server's weight climbs to its configured value (`--slow-start`, 0 = none).
    public var slowStart: Double

    /// The defaults of issue #19.
    public static let defaultInterval = 5.0, defaultTimeout = 3.0, defaultRise = 2, defaultFall = 3

    /// Creates a check with the defaults of issue #19 for every option not given.
    public init(service: ServiceKey, server: Endpoint, kind: CheckKind = .tcp, port: UInt16? = nil,
                interval: Double = HealthCheck.defaultInterval, timeout: Double = HealthCheck.defaultTimeout,
                rise: Int = HealthCheck.defaultRise, fall: Int = HealthCheck.defaultFall,
                onFail: FailAction = .quiesce, slowStart: Double = 0) {
        self.service = service; self.server = server; self.kind = kind; self.port = port
        self.interval = interval; self.timeout = timeout; self.rise = rise; self.fall = fall
        self.onFail = onFail; self.slowStart = slowStart
    }

    /// The server this check is about.
    public var ref: ServerRef { ServerRef(service: service, server: server) }
    /// True for http and https checks (made with libcurl).
    public var usesCurl: Bool {
        switch kind {
        case .http, .https: return true
        case .tcp, .udp, .exec: return false
        }
    }
    /// The address and port the check connects to: the server's address with ``port`` when given.
    public var target: Endpoint { Endpoint(address: server.address, port: port ?? server.port) }

    /// What identifies a check across a reload: its server, kind (with options) and port. A reloaded line that
    /// changes only the timing (interval, timeout, rise, fall, on-fail, slow start) keeps the check's state.
    public struct ID: Hashable, Sendable {
        /// The server.
        public var ref: ServerRef
        /// The kind and its options.
        public var kind: CheckKind
        /// The port override.
        public var port: UInt16?
    }
    /// The check's identity (see ``ID``).
    public var id: ID { ID(ref: ref, kind: kind, port: port) }
}

/// One `sorry` line: a real server added to a service while none of its real servers is up.
public struct SorryServer: Hashable, Sendable {
    /// The service.
    public var service: ServiceKey
    /// The server to add, with its forwarding method and weight.
    public var server: RealServer
    /// Creates a sorry server.
    public init(service: ServiceKey, server: RealServer) { self.service = service; self.server = server }
    /// The server this sorry line is about.
    public var ref: ServerRef { ServerRef(service: service, server: server.endpoint) }
}

/// What `lvsctl monitor FILE` runs: the services as configured, their checks and their sorry servers.
public struct MonitorConfig: Hashable, Sendable {
    /// The desired table with configured weights (what `apply` would load).
    public var config: ClusterConfig
    /// The check lines.
    public var checks: [HealthCheck]
    /// The sorry lines.
    public var sorry: [SorryServer]
    /// Creates a monitor configuration.
    public init(config: ClusterConfig = ClusterConfig(), checks: [HealthCheck] = [], sorry: [SorryServer] = []) {
        self.config = config; self.checks = checks; self.sorry = sorry
    }
    /// The services the monitor owns: every service of the file. Others in the kernel are left alone.
    public var monitoredServices: Set<ServiceKey> { Set(config.entries.map(\.service.key)) }
}
