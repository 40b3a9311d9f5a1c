import XCTest
@testable import lvsctl
@testable import LVSKit
import LVSCore

/// Bad input found without a kernel (the full table runs in the VM: Tests/Kernel/t-bad-input-table.sh).
final class BadInputTests: XCTestCase {
    func testNegativeNumbersAreNamed() {
        // ArgumentParser alone says "Missing value for '-w <weight>'", which names no value.
        for args in [["rs", "add", "-t", "192.0.2.1:80", "-r", "198.51.100.2", "-w", "-1"],
                     ["vs", "add", "-t", "192.0.2.1:80", "-p", "-1"],
                     ["timeout", "set", "--tcp", "-0x10"]] {
            XCTAssertThrowsError(try Grammar.rejectNegativeNumbers(args)) { e in
                XCTAssertTrue("\(e)".contains("'\(args.last!)'"), "\(e)")
            }
            XCTAssertEqual(Entry.run(args), 2)
        }
        // -6 is a flag, and a lone "-" is standard input: neither is a negative number.
        XCTAssertNoThrow(try Grammar.rejectNegativeNumbers(["list", "-f", "5", "-6"]))
        XCTAssertNoThrow(try Grammar.rejectNegativeNumbers(["vs", "add", "-f", "5", "-6", "-s", "rr"]))
        XCTAssertNoThrow(try Grammar.rejectNegativeNumbers(["restore", "-"]))
    }

    func testNegativeNumberInARestoreFileNamesLineAndValue() {
        let text = "vs add -t 192.0.2.1:80 -s rr\nrs add -t 192.0.2.1:80 -r 198.51.100.2 -m -x -5\n"
        XCTAssertThrowsError(try ConfigFile.parse(name: "f.conf", text: text, base: ClusterConfig())) { e in
            XCTAssertTrue("\(e)".hasPrefix("f.conf:2: "), "\(e)")
            XCTAssertTrue("\(e)".contains("'-5'"), "\(e)")
        }
    }

    func testBadNetnsNameIsAUsageError() {
        XCTAssertEqual(Entry.run(["list", "--netns", "../../proc/1/ns/net"]), 2)
        XCTAssertEqual(Entry.run(["--netns", "a\u{1}b", "list"]), 2)
    }

    func testControlBytesAreShownWithTwoHexDigits() {
        // "\x7b" would read as '{': a bell followed by 'b' must show as \x07b.
        XCTAssertEqual(shown("we\u{7}b"), "'we\\x07b'")
        XCTAssertEqual(shown("\u{1b}[31m"), "'\\x1b[31m'")
    }
}
