import ArgumentParser
import LVSCore
#if canImport(Glibc)
import Glibc
#endif

/// The process entry: parses argv, runs the command, and maps every error to one stderr line and an exit
/// code in one place: 2 for usage errors, 1 for refusals by the kernel or the system.
/// (`@main` is in Main.swift, so that Fuzz/ can build these sources as a library.)
enum Entry {
    /// Values a command leaves to the process exit rather than freeing them one object at a time just before it:
    /// `list` and `save` of a big table (freeing 1,000 services with their real servers took 3.5 % of a `list -n`).
    nonisolated(unsafe) static var keptUntilExit: [Any] = []

    static func main() {
        let args = normalizeArguments(hoistGlobalOptions(Array(CommandLine.arguments.dropFirst())))
        exit(run(args))
    }

    /// `--netns NAME` and `--firewall BACKEND` are global: `lvsctl --netns rs1 dr status` works like
    /// `lvsctl dr status --netns rs1`.
    /// Leading global options are moved after the subcommand words, where ArgumentParser looks for them.
    static func hoistGlobalOptions(_ a: [String]) -> [String] {
        var lead: [String] = []
        var i = 0
        while i < a.count {
            if a[i] == "--netns" || a[i] == "--firewall", i + 1 < a.count { lead += [a[i], a[i + 1]]; i += 2 }
            else if a[i].hasPrefix("--netns=") || a[i].hasPrefix("--firewall=") { lead.append(a[i]); i += 1 }
            else { break }
        }
        if lead.isEmpty { return a }
        var rest = Array(a[i...])
        if let dd = rest.firstIndex(of: "--") { rest.insert(contentsOf: lead, at: dd) } else { rest += lead }
        return rest
    }

    /// Runs one command line (also used for each line of a restore file by tests) and returns the exit code.
    static func run(_ args: [String]) -> Int32 {
        var command: ParsableCommand
        do {
            try rejectNegativeNumbers(args)
        } catch {
            return report(error)
        }
        if let code = runWithoutParser(args) { return code }
        do {
            command = try LVSCtl.parseAsRoot(args)
        } catch {
            let code = LVSCtl.exitCode(for: error)
            if code == .success {
                print(LVSCtl.fullMessage(for: error))
                return 0
            }
            fail(usageMessage(error))
            return 2
        }
        do {
            try command.run()
            return 0
        } catch let e as ExitCode {
            return e.rawValue
        } catch let e as UsageError {
            return report(e)
        } catch let e as ValidationError {
            return report(e)
        } catch {
            // ArgumentParser's own errors (help, version, its parse errors) arrive here too.
            if String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
                let code = LVSCtl.exitCode(for: error)
                if code == .success { print(LVSCtl.fullMessage(for: error)); return 0 }
                fail(usageMessage(error)); return 2
            }
            return report(error)
        }
    }

    /// The lines an rc.local or a script runs most, `vs add` and `rs add` with a service specifier, and
    /// `--version`, without ArgumentParser: building its command tree by reflection is most of the cost of a
    /// short-lived process. They go through the same scanner and the same checks as those lines of a restore file
    /// (``FastLine``, whose results and errors equal the full grammar's, as FastPathTests checks); anything it does
    /// not recognise (`--netns`, `--bundle`, `--help`, `--opt=value`, a missing service) returns nil for the full
    /// grammar.
    static func runWithoutParser(_ args: [String]) -> Int32? {
        if args == ["--version"] {
            writeStandardOutput(LVSCtl.configuration.version + "\n")
            return 0
        }
        guard args.count > 2, args[1] == "add", let line = FastLine.parse(args) else { return nil }
        do {
            var source = SourceMap()
            switch line {
            case let l as ServiceLine where l.spec.given:
                var s = VirtualService(key: try FastLine.key(l.spec, &source))
                try l.settings.apply(to: &s, isNew: true)
                try IPVSClient().perform(.addService(s))
            case let l as ServerLine where l.bundle == nil && l.spec.given:
                let key = try FastLine.key(l.spec, &source)
                let d = try FastLine.model(l.server, for: key)
                try IPVSClient().perform(.addDest(key, d))
            default:
                return nil
            }
            return 0
        } catch {
            return report(error)
        }
    }

    /// Prints the error and returns its exit code.
    static func report(_ error: Error) -> Int32 {
        switch error {
        case let e as UsageError: fail(e.description); return 2
        case let e as ValidationError: fail(e.message); return 2
        case let e as CustomStringConvertible: fail(e.description); return 1
        default: fail("\(error)"); return 1
        }
    }

    /// One line from ArgumentParser's message, without the usage block.
    static func usageMessage(_ error: Error) -> String {
        let m = LVSCtl.message(for: error)
        let first = m.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? m
        return first.hasPrefix("Error: ") ? String(first.dropFirst(7)) : first
    }

    /// No lvsctl option takes a negative number, and ArgumentParser reads `-w -1` as a missing value followed by
    /// an unknown option `-1`, a message that does not name the value. A negative number after an option is
    /// therefore reported here, naming both. (`-6` is a flag, not a number.)
    static func rejectNegativeNumbers(_ a: [String]) throws {
        for i in a.indices.dropFirst() {
            // Bytes, not Characters: this runs on every line of a restore file.
            let w = a[i].utf8
            guard w.count > 1, w.first == 45, let d = w.dropFirst().first, d >= 48, d <= 57, a[i] != "-6" else { continue }
            let prev = a[i - 1]
            guard prev.utf8.first == 45, prev != "--", prev != "-6" else { continue }
            throw UsageError("invalid value \(shown(a[i])) for \(shown(prev)) (negative numbers are not accepted)")
        }
    }

    /// ipvsadm's `-p` takes an optional value; ArgumentParser options do not. When `-p`/`--persistent` is not
    /// followed by a number, the default (360 s) is inserted, so `-p` alone works as in ipvsadm.
    static func normalizeArguments(_ a: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < a.count {
            out.append(a[i])
            if a[i] == "-p" || a[i] == "--persistent" {
                let next = i + 1 < a.count ? a[i + 1] : nil
                if next == nil || next!.hasPrefix("-") && !(next!.dropFirst().allSatisfy(\.isNumber) && next!.count > 1) {
                    out.append(String(LVSCore.Persistence.defaultTimeout))
                }
            }
            i += 1
        }
        return out
    }
}

/// Writes `lvsctl: message` to stderr, sanitized to one line.
func fail(_ message: String) {
    let clean = String(message.map { $0.isNewline || ($0.asciiValue.map { $0 < 32 } ?? false) ? " " : $0 })
    let line = "lvsctl: \(clean)\n"
    _ = line.withCString { fputs($0, stderr) }
}

/// Writes a notice line to stderr.
func notice(_ message: String) { _ = "lvsctl: \(message)\n".withCString { fputs($0, stderr) } }

/// A usage error found by lvsctl's own checks: exit code 2, nothing changed.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Shows a value in an error message: quoted, control bytes escaped, long values cut.
func shown(_ s: String) -> String {
    var t = ""
    for u in s.unicodeScalars {
        if u.value < 32 || u.value == 127 { t += (u.value < 16 ? "\\x0" : "\\x") + String(u.value, radix: 16) } else { t.unicodeScalars.append(u) }
    }
    if t.count > 64 { t = String(t.prefix(61)) + "..." }
    return "'\(t)'"
}
