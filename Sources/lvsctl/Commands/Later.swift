import ArgumentParser
import LVSCore

/// `lvsctl dr`: not built yet (issue 6 stays open).
struct DR: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Prepare a direct-routing real server (not built yet).")
    func run() throws { throw UsageErrorSystem("dr is not built yet") }
}

/// Saved `dr` state lines (none until the dr commands exist).
enum DRState { static func savedLines() throws -> [String] { [] } }
