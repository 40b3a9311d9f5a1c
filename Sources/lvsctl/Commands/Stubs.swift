import ArgumentParser
import LVSCore

struct Bundle: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Firewall-mark bundles (not yet built).")
}
struct Persistence: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Client affinity (not yet built).")
}
struct Save: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Save (not yet built).")
}
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Restore (not yet built).")
}
struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply (not yet built).")
}
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Import (not yet built).")
}
struct DR: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Direct routing (not yet built).")
}
func validateBundleName(_ n: String) throws {}
enum BundleStore {
    static func system() throws -> BundleStoreImpl { throw UsageErrorSystem("bundles are not built yet") }
}
struct BundleStoreImpl { func key(ofBundle: String) throws -> ServiceKey { throw UsageErrorSystem("bundles are not built yet") } }
