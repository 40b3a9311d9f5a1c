#if canImport(Glibc)
import Glibc
#endif
import LVSCore

/// Changes to one running service or real server: read it from the kernel, change what was asked, send the edit.
/// `vs edit`, `rs edit`, `rs delete` and `persistence set|clear` all go through here.
public enum Edits {
    /// Reads the running service `key` (its configuration, without counters), lets `change` modify it, and sends
    /// the edit. A missing service is refused before any request: `edit service KEY: no such service`.
    public static func service(_ key: ServiceKey, client: any IPVSControl, _ change: (inout VirtualService) throws -> Void) throws {
        guard var s = try client.services().first(where: { $0.key == key })?.config else {
            throw NoSuchService(operation: "edit service", key: key)
        }
        try change(&s)
        try client.perform(.editService(s))
    }

    /// `rs edit`: the real server `spec` names (``ServerSpec/match(in:of:)``) with the options given applied.
    public static func server(_ spec: ServerSpec, of key: ServiceKey, client: any IPVSControl) throws {
        guard var d = try spec.match(in: try client.destinations(of: key), of: key)?.config else {
            let (addr, port) = try Validate.endpoint(spec.realServer, what: "real server")
            throw IPVSError(request: .editDest(key, RealServer(address: addr, port: port ?? key.port ?? 0)), errno: ENOENT)
        }
        try spec.apply(to: &d, isNew: false)
        // The kernel refuses lower > upper (even upper 0); say so before asking it, naming the kept value.
        if d.lowerThreshold > d.upperThreshold {
            throw UsageError("lower threshold \(d.lowerThreshold) would be above upper threshold \(d.upperThreshold) for \(d.endpoint) (give -x and -y together)")
        }
        try client.perform(.editDest(key, d))
    }

    /// `rs delete`: the real server `spec` names, else the endpoint as typed (which the kernel then refuses, as it
    /// does for ipvsadm). Returns the endpoint deleted.
    @discardableResult
    public static func deleteServer(_ spec: ServerSpec, of key: ServiceKey, client: any IPVSControl) throws -> Endpoint {
        let (addr, port) = try Validate.endpoint(spec.realServer, what: "real server")
        let e = try spec.match(in: try client.destinations(of: key), of: key)?.endpoint ?? Endpoint(address: addr, port: port ?? key.port ?? 0)
        try client.perform(.deleteDest(key, e))
        return e
    }
}
