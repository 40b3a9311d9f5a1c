import ArgumentParser
import LVSCore
import LVSKit
#if canImport(Glibc)
import Glibc
#endif

/// The process entry: parses argv, runs the command, and maps every error to one stderr line and an exit
/// code in one place: 2 for usage errors, 1 for refusals by the kernel or the system.
/// (`@main` is in Main.swift.)
enum Entry {
    /// Values a command leaves to the process exit rather than freeing them one object at a time just before it:
    /// `list` and `save` of a big table (freeing 1,000 services with their real servers took 3.5 % of a `list -n`).
    nonisolated(unsafe) static var keptUntilExit: [Any] = []

    static func main() {
        let args = Grammar.normalize(hoistGlobalOptions(Array(CommandLine.arguments.dropFirst())))
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
            try Grammar.rejectNegativeNumbers(args)
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

    /// The lines an rc.local or a script runs most, `vs add` and `rs add` with a service specifier, `list`, `restore`,
    /// `apply`, `save`, `bundle add|delete|list` and `--version`, without ArgumentParser: building its command tree
    /// by reflection is most of the cost of a short-lived process. They go through the file grammar (``Grammar``), which reads these options from the same
    /// table ArgumentParser's declarations are built from and gives the same spec values; anything else (`--netns`,
    /// `--firewall`, `--bundle`, `--opt=value`, `--help`, a line the grammar refuses) returns nil for ArgumentParser, which gives its
    /// own message.
    static func runWithoutParser(_ args: [String]) -> Int32? {
        if args == ["--version"] {
            writeStandardOutput(LVSCtl.configuration.version + "\n")
            return 0
        }
        guard !args.contains(where: { $0.hasPrefix("--netns") || $0.hasPrefix("--firewall") || ($0.hasPrefix("-") && $0.contains("=")) }),
              let work = withoutParser(args) else { return nil }
        do {
            try work()
            return 0
        } catch {
            return report(error)
        }
    }

    /// What ``runWithoutParser(_:)`` runs for `args`, or nil when the grammar does not read them (ArgumentParser then
    /// does, and gives its own message). Without `--netns` and `--firewall`, entering is only choosing the backend
    /// (`LVSCTL_FIREWALL` or auto), as ``GlobalOptions/enter()`` does without them.
    static func withoutParser(_ args: [String]) -> (() throws -> Void)? {
        let enter = { try Firewall.request(option: nil) }
        let client = { () throws -> IPVSClient in try enter(); return try IPVSClient() }
        let rest1 = Array(args.dropFirst()), rest2 = Array(args.dropFirst(2))
        switch (args.first, args.dropFirst().first) {
        case ("restore", _):
            guard let spec = try? Grammar.parseRestore(rest1) else { return nil }
            return { try Restore.run(spec, client: client) }
        case ("save", _):
            guard let spec = try? Grammar.parseSave(rest1) else { return nil }
            return { try Save.run(spec, client: client) }
        case ("apply", _):
            guard let spec = try? Grammar.parseApply(rest1) else { return nil }
            return { try Apply.run(spec, client: client) }
        case ("list", _):
            guard let spec = try? Grammar.parseList(rest1) else { return nil }
            return {
                try spec.validate()
                _ = try spec.service.key(required: false)
                try Lister.write(spec, client: try client(), keep: { keptUntilExit.append($0) })
            }
        case ("bundle", "add"):
            guard case .bundle(let spec)? = try? Grammar.parse(args) else { return nil }
            return { try Bundle.Add.run(spec, enter: enter) }
        case ("bundle", "delete"):
            guard let name = try? Grammar.parseBundleDelete(rest2) else { return nil }
            return { try Bundle.Delete.run(name, enter: enter) }
        case ("bundle", "list"):
            guard let json = try? Grammar.parseBundleList(rest2) else { return nil }
            return { try Bundle.List.run(json: json, enter: enter) }
        case ("vs", "add"), ("virtual-server", "add"), ("rs", "add"), ("real-server", "add"):
            guard args.count > 2, let line = try? Grammar.parse(args) else { return nil }
            switch line {
            case .service(let spec, let settings) where spec.given:
                return {
                    var source = SourceMap()
                    var s = VirtualService(key: try source.key(spec))
                    try settings.apply(to: &s, isNew: true)
                    try IPVSClient().perform(.addService(s))
                }
            case .server(let spec, bundle: nil, let server) where spec.given:
                return {
                    var source = SourceMap()
                    let key = try source.key(spec)
                    let d = try server.model(for: key)
                    try IPVSClient().perform(.addDest(key, d))
                }
            default:
                return nil
            }
        default:
            return nil
        }
    }

    /// Prints the error and returns its exit code.
    static func report(_ error: Error) -> Int32 {
        switch error {
        case let e as ExitStatus: return e.code
        case let e as UsageError: fail(e.description); return 2
        case let e as SystemError: fail(e.description); return 1
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

}

/// Writes `lvsctl: message` to stderr, sanitized to one line.
func fail(_ message: String) {
    let clean = String(message.map { $0.isNewline || ($0.asciiValue.map { $0 < 32 } ?? false) ? " " : $0 })
    let line = "lvsctl: \(clean)\n"
    _ = line.withCString { fputs($0, stderr) }
}

/// Writes a notice line to stderr.
func notice(_ message: String) { _ = "lvsctl: \(message)\n".withCString { fputs($0, stderr) } }
