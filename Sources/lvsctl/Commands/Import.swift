import ArgumentParser
import LVSCore
import LVSKit

/// `lvsctl import piranha FILE`: converts another tool's configuration to the lvsctl format.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert another tool's configuration to the lvsctl format (piranha's lvs.cf).",
        discussion: """
        nanny's health checks become 'check' and 'sorry' lines, which lvsctl monitor runs (restore and apply skip them).
        Keys lvsctl does not act on (heartbeat, load monitoring, VIP interfaces) become '# ignored:' comments.
        Example: lvsctl import piranha /etc/sysconfig/ha/lvs.cf -o /etc/lvsctl/lvsctl.conf
        ipvsadm equivalent: none (piranha's lvsd ran ipvsadm commands built from lvs.cf)
        Guide: Documentation/migrating-from-piranha.md
        """)
    @Argument(help: "What to convert: piranha.") var kind: String
    @Argument(help: "The file to convert (- for standard input).") var file: String
    @Option(name: [.customShort("o"), .customLong("output")], help: "Write this file (atomically) instead of standard output.")
    var output: String?

    func run() throws {
        guard kind == "piranha" else { throw UsageError("unknown import kind \(shown(kind)) (expected piranha)") }
        let (name, text) = try ConfigFile.read(file)
        let conversion: Piranha.Conversion
        do {
            conversion = try Piranha.convert(text, source: name == "-" ? "standard input" : name)
        } catch let e as Piranha.ParseError {
            throw UsageError("\(name):\(e.line): \(e.message)")
        }
        if let o = output, o != "-" { try writeFileAtomically(o, conversion.text) } else { emit(conversion.text) }
        let n = conversion.ignored.count
        if n > 0 { notice("note: \(n) piranha \(n == 1 ? "key" : "keys") not converted (see # ignored comments)") }
    }
}
