#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import LVSCore
import LVSKit

/// `lvsctl rs add|edit|delete` (alias `real-server`).
struct RS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rs", abstract: "Add, edit or delete real servers (ipvsadm -a/-e/-d).",
        discussion: "Example: lvsctl rs add -t 192.0.2.10:80 -r 198.51.100.11 -g\nipvsadm equivalent: ipvsadm -a -t 192.0.2.10:80 -r 198.51.100.11 -g",
        subcommands: [Add.self, Edit.self, Delete.self], aliases: ["real-server"])

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
            try Edits.deleteServer(spec, of: key, client: try global.client())
        }
    }
}
