#if canImport(Glibc)
import Glibc
#endif

/// A kernel refusal of one IPVS request, in words an admin understands.
public struct IPVSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The request the kernel refused.
    public var request: IPVSRequest
    /// The positive errno.
    public var errno: Int32

    /// Creates an error for `request` refused with `errno`.
    public init(request: IPVSRequest, errno: Int32) { self.request = request; self.errno = errno }

    /// What was being done, e.g. "add service -t 192.0.2.1:80".
    public var operation: String {
        switch request {
        case .addService(let s): "add service \(s.key)"
        case .editService(let s): "edit service \(s.key)"
        case .deleteService(let k): "delete service \(k)"
        case .addDest(let k, let d): "add real server \(d.endpoint) to \(k)"
        case .editDest(let k, let d): "edit real server \(d.endpoint) of \(k)"
        case .deleteDest(let k, let e): "delete real server \(e) from \(k)"
        case .startDaemon(let d): "start \(d.state) sync daemon"
        case .stopDaemon(let s): "stop \(s) sync daemon"
        case .setTimeouts: "set timeouts"
        case .zero(let k): k.map { "zero counters of \($0)" } ?? "zero counters"
        case .flush: "clear the table"
        }
    }

    /// The reason, per operation, at least as specific as ipvsadm's `ipvs_strerror`.
    public var reason: String {
        switch (request, errno) {
        case (_, EPERM), (_, EACCES): return "needs CAP_NET_ADMIN (run as root)"
        case (.addService, EEXIST): return "service already exists"
        case (.addService(let s), ENOENT), (.editService(let s), ENOENT):
            if let pe = s.persistenceEngine {
                return "scheduler '\(s.scheduler)' or persistence engine '\(pe)' not available (modules ip_vs_\(s.scheduler), ip_vs_pe_\(pe) missing?)"
            }
            return "scheduler '\(s.scheduler)' not available (module ip_vs_\(s.scheduler) missing?)"
        case (.editService, ESRCH), (.deleteService, ESRCH), (.zero, ESRCH): return "no such service"
        case (.addDest, ESRCH), (.editDest, ESRCH), (.deleteDest, ESRCH): return "no such service"
        case (.addDest, EEXIST): return "destination already exists"
        case (.editDest, ENOENT), (.deleteDest, ENOENT): return "no such destination"
        case (.addDest, ERANGE), (.editDest, ERANGE):
            return "weight out of range, or lower threshold above upper threshold"
        case (.startDaemon, EEXIST): return "sync daemon already running"
        case (.startDaemon(let d), ENODEV): return "no such multicast interface '\(d.interface)'"
        case (.stopDaemon, ESRCH): return "no sync daemon is running"
        case (.addService, EAFNOSUPPORT), (.addDest, EAFNOSUPPORT):
            return "address family not supported here (mixed families need tunnel forwarding and no sync daemon)"
        case (.addService, EINVAL), (.editService, EINVAL), (.addDest, EINVAL), (.editDest, EINVAL):
            return "invalid request (address not unicast, netmask or flags not accepted, or wrong module version)"
        case (_, ENOMEM): return "out of memory"
        case (_, ENOPROTOOPT): return "IPVS protocol not available"
        default: return errnoText(errno)
        }
    }

    /// `operation: reason`, e.g. `add service -t 192.0.2.1:80: service already exists`.
    public var description: String { "\(operation): \(reason)" }
}

/// A service that a read looked for and did not find in the kernel's table, e.g. `list -t 192.0.2.1:80: no such
/// service`. Unlike ``IPVSError`` it names no request: nothing was refused, the table simply lacks the service.
public struct NoSuchService: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being done, in lvsctl's words (e.g. `list`).
    public var operation: String
    /// The service looked for.
    public var key: ServiceKey
    /// Creates the error for `operation` not finding `key`.
    public init(operation: String, key: ServiceKey) { self.operation = operation; self.key = key }
    /// ESRCH, the errno the kernel gives for a missing service (for callers that sort errors by errno).
    public var errno: Int32 { Errno.noSuchProcess.rawValue }
    /// `OPERATION KEY: no such service`, e.g. `list -t 192.0.2.1:80: no such service`.
    public var description: String { "\(operation) \(key): no such service" }
}
