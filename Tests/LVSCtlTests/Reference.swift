import XCTest
import ArgumentParser
@testable import lvsctl
@testable import LVSKit
@testable import LVSCore

/// What ArgumentParser made of a command line, as the grammar's ``Line`` (nil for a command that is not a file line):
/// the reference the grammar is compared with where a path without ArgumentParser remains.
func argumentParserLine(_ c: ParsableCommand) -> Line? {
    switch c {
    case let v as VS.Add: return .service(v.service.spec, v.settings.spec)
    case let r as RS.Add: return .server(r.target.service.spec, bundle: r.target.bundle, r.server.spec)
    case let b as lvsctl.Bundle.Add: return .bundle(b.spec)
    case let t as Timeout.Set: return .timeouts(t.spec)
    case let d as Daemon.Start: return .daemon(d.spec)
    case let s as DR.Setup: return .drSetup(s.spec)
    default: return nil
    }
}

/// A file parsed line by line through ``Grammar`` alone (no ``QuickLine``), with restore's `FILE:LINE` errors.
func grammarOnlyParse(name: String, text: String) throws -> (ClusterConfig, SourceMap, [DRFileLine]) {
    var c = ClusterConfig(), src = SourceMap(file: name), dr: [DRFileLine] = []
    let t = text.replacingOccurrences(of: "\r\n", with: "\n")
    for (i, l) in t.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        src.current = i + 1
        do {
            let w = try ConfigFile.tokenize(l)
            if w.isEmpty { continue }
            try ConfigFile.add(try Grammar.parse(w), to: &c, source: &src, dr: &dr)
        } catch let e as UsageError {
            throw UsageError("\(name):\(i + 1): \(e.description)")
        }
    }
    return (c, src, dr)
}
