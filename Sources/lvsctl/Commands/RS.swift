#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import LVSCore
import LVSKit

/// `lvsctl rs add|edit|delete|drain|undrain` (alias `real-server`).
struct RS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rs", abstract: "Add, edit, delete or drain real servers (ipvsadm -a/-e/-d).",
        discussion: "Example: lvsctl rs add -t 192.0.2.10:80 -r 198.51.100.11 -g\nipvsadm equivalent: ipvsadm -a -t 192.0.2.10:80 -r 198.51.100.11 -g",
        subcommands: [Add.self, Edit.self, Delete.self, Drain.self, Undrain.self], aliases: ["real-server"])

    /// The service of a real-server command: a specifier or `--bundle NAME`.
    struct Target: ParsableArguments {
        @OptionGroup var service: ServiceOptions
        @Option(name: .of(.bundle, [Options.bundleTarget]), help: .of(.bundle, [Options.bundleTarget])) var bundle: String?

        /// The service named, checked without the kernel (nil for a bundle, which needs a lookup).
        func provisionalKey() throws -> ServiceKey? { bundle == nil ? try service.spec.requiredKey() : nil }

        func key(_ global: GlobalOptions) throws -> ServiceKey {
            if let b = bundle {
                if service.spec.given { throw UsageError("give either a service or --bundle, not both") }
                try Validate.bundleName(b)
                try global.enter()
                return try BundleStore.system().key(ofBundle: b)
            }
            return try service.spec.requiredKey()
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a real server to a virtual service.",
            discussion: "Example: lvsctl rs add -t 192.0.2.10:80 -r 198.51.100.2 -g -w 2\nipvsadm equivalent: ipvsadm -a -t 192.0.2.10:80 -r 198.51.100.2 -g -w 2")
        @OptionGroup var target: Target
        @OptionGroup var server: RealServerOptions
        @OptionGroup var global: GlobalOptions

        /// The validated real server for `key`.
        func model(for key: ServiceKey) throws -> RealServer { try server.spec.model(for: key) }
        func run() throws {
            // Validate the server against a provisional key before touching the kernel (a bundle needs a lookup).
            if let k = try target.provisionalKey() { _ = try model(for: k) }
            let key = try target.key(global)
            let d = try model(for: key)
            try global.client().perform(.addDest(key, d))
        }
    }

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "edit",
            abstract: "Change a real server; only the options given change.",
            discussion: "Example: lvsctl rs edit -t 192.0.2.10:80 -r 198.51.100.2 -w 0\nipvsadm equivalent: ipvsadm -e -t 192.0.2.10:80 -r 198.51.100.2 -w 0")
        @OptionGroup var target: Target
        @OptionGroup var server: RealServerOptions
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let server = server.spec
            if let k = try target.provisionalKey() {
                let fwd = server.forwardingGiven ?? .directRoute
                let e = try server.endpoint(for: k, forwarding: fwd)
                var probe = RealServer(address: e.address, port: e.port, forwarding: fwd)
                if server.forwardingGiven == nil && (server.tunType != nil || server.tunPort != nil) { probe.forwarding = .tunnel }
                if server.tunType == nil && server.tunPort != nil { probe.tunnelType = .gue }
                try server.apply(to: &probe, isNew: false)
            }
            let key = try target.key(global)
            try Edits.server(server, of: key, client: try global.client())
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Remove a real server from a virtual service.",
            discussion: "Example: lvsctl rs delete -t 192.0.2.10:80 -r 198.51.100.2\nipvsadm equivalent: ipvsadm -d -t 192.0.2.10:80 -r 198.51.100.2")
        @OptionGroup var target: Target
        @Option(name: [.customShort("r"), .customLong("real-server")], help: "Real server ADDR[:PORT].")
        var realServer: String
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let spec = ServerSpec(realServer: realServer)
            _ = try Validate.endpoint(realServer, what: "real server")
            _ = try target.provisionalKey()
            let key = try target.key(global)
            let e = try Edits.deleteServer(spec, of: key, client: try global.client())
            // A server deleted and added again later is not drained.
            LVSKit.Drain.forget(netns: global.netns) { $0 == ServerRef(service: key, server: e) }
        }
    }

    struct Drain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drain",
            abstract: "Set weight 0 and wait until its connections end.",
            discussion: """
            Waits until the kernel's connection table holds nothing of the server: no active or inactive connection, \
            no UDP flow and, for a persistent service, no persistence template pointing at it (a gracefully closed \
            TCP connection stays there in TIME_WAIT for up to 2 minutes). A progress line on a terminal, nothing on a \
            pipe. The weight it had is recorded: a running monitor keeps the server at 0 until 'rs undrain', and \
            'save' writes the recorded weight.
            Exit status: 0 drained (and deleted with --remove); 1 at --timeout (the server stays at weight 0; the \
            counts left are named), or when the service or server does not exist; 2 for bad input, nothing changed; \
            130 on Ctrl-C, 143 on SIGTERM (the server stays drained).
            Example: lvsctl rs drain -t 192.0.2.10:80 -r 198.51.100.11 --remove
            ipvsadm equivalent: ipvsadm -e -t 192.0.2.10:80 -r 198.51.100.11 -w 0, then watch ipvsadm -Lnc until it is gone
            """)
        @OptionGroup var target: Target
        @Option(name: .of(.realServer, Options.drain), help: .of(.realServer, Options.drain)) var realServer: String
        @Option(name: .of(.timeout, Options.drain), help: .of(.timeout, Options.drain)) var timeout: String?
        @Flag(name: .of(.remove, Options.drain), help: .of(.remove, Options.drain)) var remove = false
        @OptionGroup var global: GlobalOptions

        func run() throws {
            _ = try Validate.endpoint(realServer, what: "real server")
            let limit = try timeout.map { try Validate.seconds($0, "drain timeout", 0...31_536_000) }
            _ = try target.provisionalKey()
            let key = try target.key(global)
            let client = try global.client()
            // SIGINT and SIGTERM are read from a signalfd while waiting, so the server is never left half-drained.
            let signals: Int32
            switch Syscall.signalDescriptor([SIGINT, SIGTERM]) {
            case .success(let fd): signals = fd
            case .failure(let e): throw SystemError("cannot take signals: \(e)")
            }
            let started = try LVSKit.Drain.start(ServerSpec(realServer: realServer), of: key, client: client,
                                                 netns: global.netns, remove: remove)
            let ref = started.ref
            let services = key.isFwmark ? Set(try client.services(stats: false).map(\.key)) : []
            let tty = Syscall.isTerminal(2)
            let outcome = try LVSKit.Drain.wait(
                timeout: limit, now: Syscall.monotonicSeconds,
                look: { try LVSKit.Drain.look(ref, client: client, services: services, connections: ConnectionTable.read) },
                pause: { seconds in
                    guard case .success(let r) = Syscall.waitReadable([signals], timeout: seconds), r[0] else { return nil }
                    return Syscall.takeSignals(signals).first
                },
                progress: { counts, elapsed in
                    guard tty else { return }
                    let of = limit.map { " of \(seconds($0))" } ?? ""
                    writeStandardError("\rdraining \(ref): \(counts) (\(Int(elapsed)) s\(of))\u{1b}[K")
                })
            switch outcome {
            case .drained(let s):
                if tty { writeStandardError("\r\(ref): drained after \(Int(s.rounded())) s\u{1b}[K\n") }
                try LVSKit.Drain.finish(ref, client: client, netns: global.netns, remove: remove)
            case .timedOut(let counts, let s):
                if tty { writeStandardError("\n") }
                throw SystemError("\(ref) not drained after \(seconds(s)) s: \(counts)")
            case .interrupted(let signal, let counts):
                if tty { writeStandardError("\n") }
                fail("\(signal == SIGTERM ? "SIGTERM" : "interrupted"): \(ref) left drained at weight 0 (\(counts)); 'lvsctl rs undrain' puts it back")
                throw ExitStatus(128 + signal)
            case .gone:
                if tty { writeStandardError("\n") }
                LVSKit.Drain.forget(netns: global.netns) { $0 == ref }
                throw SystemError("\(ref) was deleted by another command while it drained")
            }
        }

        /// `30`, `2.5`.
        func seconds(_ s: Double) -> String { s == s.rounded() && s < 1e15 ? "\(Int(s))" : "\(s)" }
    }

    struct Undrain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "undrain",
            abstract: "Put a drained server back at its weight from before.",
            discussion: """
            When a monitor running in the namespace owns the server, the monitor puts it back on its next cycle (its \
            configured weight while its checks pass); otherwise lvsctl sets the recorded weight.
            Exit status: 0 done; 1 when the server is not drained or does not exist; 2 for bad input.
            Example: lvsctl rs undrain -t 192.0.2.10:80 -r 198.51.100.11
            ipvsadm equivalent: ipvsadm -e -t 192.0.2.10:80 -r 198.51.100.11 -w <the weight it had>
            """)
        @OptionGroup var target: Target
        @Option(name: .of(.realServer, Options.undrain), help: .of(.realServer, Options.undrain)) var realServer: String
        @OptionGroup var global: GlobalOptions

        func run() throws {
            _ = try Validate.endpoint(realServer, what: "real server")
            _ = try target.provisionalKey()
            let key = try target.key(global)
            let r = try LVSKit.Drain.undrain(ServerSpec(realServer: realServer), of: key, client: try global.client(), netns: global.netns)
            if case .leftToMonitor(let pid, let w) = r {
                notice("the monitor (pid \(pid)) puts it back on its next cycle (weight \(w) while its checks pass)")
            }
        }
    }
}
