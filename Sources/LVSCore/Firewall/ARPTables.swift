#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The system's arptables (`/usr/sbin/arptables`: nft or legacy, whichever the system chose), run with argument vectors.
public enum ARPTables {
    /// Where arptables is looked for, in order.
    public static let candidates = ["/usr/sbin/arptables", "/sbin/arptables", "/usr/sbin/arptables-legacy"]

    /// The first executable arptables of `candidates`, or a `DRError` telling how to install it.
    public static func binary() throws -> String {
        guard let p = candidates.first(where: { Syscall.access($0, X_OK) }) else {
            throw DRError("arptables is not installed (Debian: apt-get install arptables)")
        }
        return p
    }

    /// The rules of chains INPUT and OUTPUT as `[CHAIN, tokens...]`, from `arptables -L -n`.
    public static func rules() throws -> [[String]] {
        let bin = try binary()
        guard let r = captureProgram(bin, ["arptables", "-L", "-n"], withStderr: true), r.status == 0 else {
            throw DRError("arptables -L -n failed; is the arp_tables module available?")
        }
        var chain = ""
        var out: [[String]] = []
        for line in r.output.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if words.first == "Chain", words.count >= 2 { chain = words[1]; continue }
            if !chain.isEmpty, words.first?.hasPrefix("-") == true { out.append([chain] + words) }
        }
        return out
    }

    /// Whether `rule` (`[CHAIN, args...]` as lvsctl writes it) is among `listed`, whatever the option order.
    public static func contains(_ listed: [[String]], _ rule: [String]) -> Bool {
        func pairs(_ r: ArraySlice<String>) -> Set<String> {
            var s = Set<String>(); var i = r.startIndex
            while i < r.endIndex {
                let next = r.index(after: i)
                if next < r.endIndex, !r[next].hasPrefix("-") { s.insert(r[i] + " " + r[next]); i = r.index(after: next) }
                else { s.insert(r[i]); i = next }
            }
            return s
        }
        let want = pairs(rule.dropFirst())
        return listed.contains { $0.first == rule.first && pairs($0.dropFirst()) == want }
    }

    /// Runs `arptables -A|-D CHAIN ARGS...`.
    public static func run(_ op: String, _ rule: [String]) throws {
        let bin = try binary()
        guard let r = captureProgram(bin, ["arptables", op] + rule, withStderr: true) else { throw DRError("cannot run \(bin)") }
        if r.status != 0 {
            let msg = r.output.split(separator: "\n").first.map(String.init) ?? "exit \(r.status)"
            throw DRError("arptables \(op) \(rule.joined(separator: " ")): \(msg)")
        }
    }
}
