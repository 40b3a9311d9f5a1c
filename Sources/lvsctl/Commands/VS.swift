#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import LVSCore
import LVSKit

/// `lvsctl vs add|edit|delete` (alias `virtual-server`).
struct VS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vs", abstract: "Add, edit or delete virtual services (ipvsadm -A/-E/-D).",
        discussion: "Example: lvsctl vs add -t 192.0.2.10:80 -s wlc\nipvsadm equivalent: ipvsadm -A -t 192.0.2.10:80 -s wlc",
        subcommands: [Add.self, Edit.self, Delete.self], aliases: ["virtual-server"])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a virtual service.",
            discussion: "Example: lvsctl vs add -t 192.0.2.10:80 -s rr -p 300\nipvsadm equivalent: ipvsadm -A -t 192.0.2.10:80 -s rr -p 300")
        @OptionGroup var service: ServiceOptions
        @OptionGroup var settings: ServiceSettings
        @OptionGroup var global: GlobalOptions

        /// The service this command describes, validated.
        func model() throws -> VirtualService {
            var s = VirtualService(key: try service.spec.requiredKey())
            try settings.spec.apply(to: &s, isNew: true)
            return s
        }
        func run() throws {
            let s = try model()
            try global.client().perform(.addService(s))
        }
    }

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "edit",
            abstract: "Change settings of a virtual service; only the options given change.",
            discussion: "Example: lvsctl vs edit -t 192.0.2.10:80 -s wrr\nipvsadm equivalent: ipvsadm -E -t 192.0.2.10:80 -s wrr (which resets the options not given)")
        @OptionGroup var service: ServiceOptions
        @OptionGroup var settings: ServiceSettings
        @Flag(name: .customLong("no-persistent"), help: "Turn persistence off.")
        var noPersistent = false
        @Flag(name: .customLong("no-ops"), help: "Turn one-packet scheduling off.")
        var noOps = false
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let key = try service.spec.requiredKey()
            let settings = settings.spec
            if noPersistent && settings.persistent != nil { throw UsageError("--no-persistent conflicts with -p") }
            if noOps && settings.ops { throw UsageError("--no-ops conflicts with -o") }
            if !settings.any && !noPersistent && !noOps { throw UsageError("nothing to change: give -s, -b, -p, -M, --pe, -o, --no-persistent or --no-ops") }
            // Validate what can be checked without the kernel first.
            var probe = VirtualService(key: key)
            // What the running service keeps is checked below; a port-0 service is persistent unless this turns it off.
            if (settings.netmask != nil && settings.persistent == nil) || (key.port == 0 && !noPersistent) { probe.flags.insert(.persistent) }
            // -b alone is checked against the running scheduler below; here, against the one its flags name.
            var probeSettings = settings
            if probeSettings.scheduler == nil, let f = settings.schedFlags, f.hasPrefix("sh-") || f.hasPrefix("mh-") {
                probeSettings.scheduler = String(f.prefix(2))
            }
            try probeSettings.apply(to: &probe, isNew: true)
            try Edits.service(key, client: try global.client()) { s in
                if noPersistent { s.persistence = nil }
                if noOps { s.flags.remove(.onePacket) }
                try settings.apply(to: &s, isNew: false)
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Delete a virtual service and its real servers.",
            discussion: "Example: lvsctl vs delete -t 192.0.2.10:80\nipvsadm equivalent: ipvsadm -D -t 192.0.2.10:80")
        @OptionGroup var service: ServiceOptions
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let key = try service.spec.requiredKey()
            try global.client().perform(.deleteService(key))
            LVSKit.Drain.forget(netns: global.netns) { $0.service == key }
        }
    }
}
