import ArgumentParser
import LVSCore

/// `lvsctl import piranha`: not built yet (issue 5 leaves it open).
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Convert other tools' configurations (piranha: not built yet).")
    @Argument var kind: String
    @Argument var file: String
    func run() throws { throw UsageErrorSystem("import is not built yet") }
}

/// `lvsctl dr`: not built yet (issue 6 stays open).
struct DR: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Prepare a direct-routing real server (not built yet).")
    func run() throws { throw UsageErrorSystem("dr is not built yet") }
}

/// Saved `dr` state lines (none until the dr commands exist).
enum DRState { static func savedLines() throws -> [String] { [] } }
