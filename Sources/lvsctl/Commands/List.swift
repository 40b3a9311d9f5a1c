import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import LVSCore
import LVSKit

/// Writes text to stdout in one call.
func emit(_ s: String) { writeStandardOutput(s) }

/// `lvsctl list`: the table, laid out like `ipvsadm -Ln`.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List virtual services and real servers, like ipvsadm -Ln.",
        discussion: "Example: lvsctl list --stats\nipvsadm equivalent: ipvsadm -Ln --stats")
    @OptionGroup var service: ServiceOptions
    @Flag(name: .of(.numeric, Options.list), help: .of(.numeric, Options.list)) var numeric = false
    @Flag(name: .of(.resolve, Options.list), help: .of(.resolve, Options.list)) var resolve = false
    @Flag(name: .of(.stats, Options.list), help: .of(.stats, Options.list)) var stats = false
    @Flag(name: .of(.rate, Options.list), help: .of(.rate, Options.list)) var rate = false
    @Flag(name: .of(.thresholds, Options.list), help: .of(.thresholds, Options.list)) var thresholds = false
    @Flag(name: .of(.persistentConn, Options.list), help: .of(.persistentConn, Options.list)) var persistentConn = false
    @Flag(name: .of(.tunInfo, Options.list), help: .of(.tunInfo, Options.list)) var tunInfo = false
    @Flag(name: .of(.exact, Options.list), help: .of(.exact, Options.list)) var exact = false
    @Flag(name: .of(.sort, Options.list), help: .of(.sort, Options.list)) var sort = false
    @Flag(name: .of(.nosort, Options.list), help: .of(.nosort, Options.list)) var nosort = false
    @OptionGroup var output: OptionsJSON
    @OptionGroup var global: GlobalOptions

    var spec: ListSpec {
        var l = ListSpec(service: service.spec)
        l.numeric = numeric; l.resolve = resolve; l.stats = stats; l.rate = rate; l.thresholds = thresholds
        l.persistentConn = persistentConn; l.tunInfo = tunInfo; l.exact = exact; l.sort = sort; l.nosort = nosort
        l.json = output.json
        return l
    }

    func validate() throws {
        do { try spec.validate() } catch let e as UsageError { throw ValidationError(e.description) }
    }

    func run() throws {
        _ = try service.spec.key(required: false)
        try Lister.write(spec, client: try global.client(), keep: { Entry.keptUntilExit.append($0) })
    }
}

/// `--json` as an option group.
typealias OptionsJSON = OutputOptions
