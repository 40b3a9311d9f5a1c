import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import lvsctl
@testable import LVSKit
@testable import LVSCore
import LVSTestSupport

/// lvsctl beside lvsctl: the lock that serializes commands changing the firewall, and bundle rollbacks that remove
/// only what the command wrote (the kernel side is Tests/Kernel/t-bundle.sh section 7).
final class BundleLockTests: XCTestCase {
    func bundle(_ name: String, _ vip: String, _ mark: UInt32) -> MarkBundle {
        MarkBundle(name: name, vips: [IPAddress(vip)!], ports: [PortRange(low: 80, high: 80)], protocols: [.tcp], mark: mark)
    }
    struct Refused: Error {}

    func testAddRollbackRemovesOnlyItsOwnRules() throws {
        let x = bundle("x", "192.0.2.1", 1), y = bundle("y", "192.0.2.2", 2), z = bundle("z", "192.0.2.3", 3)
        let fake = FakeFirewallBackend()
        let store = BundleStore(firewall: fake)
        try fake.replaceRules(x.rules, table: .mangle, family: .inet)
        // The IPVS half fails after someone else's rules (z) went in: the rollback keeps x and z.
        XCTAssertThrowsError(try store.add(y) {
            try fake.replaceRules(try fake.rules(table: .mangle, family: .inet) + z.rules, table: .mangle, family: .inet)
            throw Refused()
        }) { XCTAssertTrue($0 is Refused) }
        XCTAssertEqual(try store.rules(.inet), x.rules + z.rules)
        // Success: appended after the existing rules.
        try store.add(y) {}
        XCTAssertEqual(try store.bundles().map(\.name), ["x", "z", "y"])
    }

    func testDeleteRemovesOnlyItsRulesAndPutsTheServiceBackOnFailure() throws {
        let x = bundle("x", "192.0.2.1", 1), y = bundle("y", "192.0.2.2", 2)
        let fake = FakeFirewallBackend()
        let store = BundleStore(firewall: fake)
        try fake.replaceRules(x.rules + y.rules, table: .mangle, family: .inet)
        var deleted = 0, restored = 0
        fake.failNext = FirewallError(operation: "mangle table commit", errno: EPERM, detail: "refused")
        XCTAssertThrowsError(try store.delete(x, deleteService: { deleted += 1 }, restoreService: { restored += 1 }))
        XCTAssertEqual([deleted, restored], [1, 1])
        XCTAssertEqual(try store.rules(.inet), x.rules + y.rules)
        try store.delete(x, deleteService: { deleted += 1 }, restoreService: { restored += 1 })
        XCTAssertEqual([deleted, restored], [2, 1])
        XCTAssertEqual(try store.rules(.inet), y.rules)
        // No service (nil): nothing to put back.
        try store.delete(y, deleteService: nil, restoreService: { restored += 1 })
        XCTAssertEqual(restored, 1)
        XCTAssertEqual(try store.rules(.inet), [])
    }

    func testTheLockSerializesAndIsNotReentrant() throws {
        XCTAssertEqual(lvsctlLockPath, "/run/lvsctl/lock")
        let path = NSTemporaryDirectory() + "lvsctl-bundlelock-\(getpid()).lock"
        defer { unlink(path) }
        // While one holder has it, a second take (another command, or a nested call in the same process) waits
        // and then fails with a message naming the lock; it never runs its body.
        var ran = false
        try withFileLock(path, timeout: 1, purpose: "first") {
            XCTAssertThrowsError(try withFileLock(path, timeout: 0.2, purpose: "another lvsctl command is changing IPVS or the firewall") { ran = true }) {
                XCTAssertEqual(($0 as? LockError)?.errno, 0)
                XCTAssertTrue("\($0)".hasPrefix("another lvsctl command is changing IPVS or the firewall: \(path) is held by another process"), "\($0)")
            }
        }
        XCTAssertFalse(ran)
        XCTAssertEqual(try withFileLock(path, timeout: 0, purpose: "free again") { 7 }, 7)
    }
}
