import XCTest
@testable import LVSCore

/// Errors of reads that find nothing name the read, not a borrowed request.
final class ClientErrorTests: XCTestCase {
    func testListOfAMissingServiceSaysList() {
        let s = VirtualService(key: .address(.tcp, Endpoint(address: IPAddress("192.0.2.1")!, port: 80)), scheduler: "rr")
        let missing = ServiceKey.address(.tcp, Endpoint(address: IPAddress("192.0.2.9")!, port: 80))
        let client = IPVSClient(transport: FakeDumpKernel(services: [s]))
        XCTAssertThrowsError(try client.table(missing)) { e in
            XCTAssertEqual(e as? NoSuchService, NoSuchService(operation: "list", key: missing))
            XCTAssertEqual("\(e)", "list -t 192.0.2.9:80: no such service")
            XCTAssertEqual((e as? NoSuchService)?.errno, ESRCH)
        }
        XCTAssertEqual(try client.table(s.key).map(\.service.key), [s.key])
    }
}
