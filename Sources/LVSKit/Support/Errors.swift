#if canImport(Glibc)
import Glibc
#endif

/// Bad input found by lvsctl's own checks (a value, a line of a file, a combination of options): the command exits
/// 2 and nothing has changed.
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// A refusal by the system that is not an IPVS or firewall error (an unreadable /proc file, a directory that cannot
/// be created, problems found by `dr status --check`): the command exits 1.
public struct SystemError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// An exit status a command ends with without a message of its own (it printed what it had to say), e.g. 3 for
/// `apply --check` when the kernel differs from the file.
public struct ExitStatus: Error, CustomStringConvertible {
    public var code: Int32
    public init(_ code: Int32) { self.code = code }
    public var description: String { "exit status \(code)" }
}

/// Shows a value in an error message: quoted, control bytes escaped, long values cut.
public func shown(_ s: String) -> String {
    var t = ""
    for u in s.unicodeScalars {
        if u.value < 32 || u.value == 127 { t += (u.value < 16 ? "\\x0" : "\\x") + String(u.value, radix: 16) } else { t.unicodeScalars.append(u) }
    }
    if t.count > 64 { t = String(t.prefix(61)) + "..." }
    return "'\(t)'"
}
