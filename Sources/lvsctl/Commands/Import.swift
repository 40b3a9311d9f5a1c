import ArgumentParser
import LVSCore

/// `lvsctl import piranha`: not built yet (issue 5 leaves it open).
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Convert other tools' configurations (piranha: not built yet).")
    @Argument var kind: String
    @Argument var file: String
    func run() throws { throw UsageErrorSystem("import is not built yet") }
}
