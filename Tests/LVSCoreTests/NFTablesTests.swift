import XCTest
@testable import LVSCore

/// The nftables backend's pure parts: the transaction text it hands libnftables, and the rules it reads back from
/// libnftables' JSON (captured from nft 1.0.6, Debian 12). The kernel half is proved in the VM (t-nft.sh, t-bundle.sh
/// and t-dr.sh with LVSCTL_FIREWALL=nftables), read back with `nft -j list ruleset`.
final class NFTablesTests: XCTestCase {
    let web = MarkBundle(name: "web", vips: [IPAddress("192.0.2.10")!], ports: [PortRange(80), PortRange(443)],
                         protocols: [.tcp], mark: 0x50)

    func testReplaceTextOfOneBundle() throws {
        let text = try NFTablesBackend.replaceText(web.rules, table: .mangle, family: .inet)
        XCTAssertEqual(text, """
        table ip lvsctl {}
        delete table ip lvsctl
        table ip lvsctl {
        \tcomment "lvsctl firewall-mark bundles: change them with lvsctl bundle, not by hand"
        \tmap marks {
        \t\ttype ipv4_addr . inet_proto . inet_service : mark
        \t\tflags interval
        \t\telements = { 192.0.2.10 . tcp . 80 comment "bundle web" : 0x50,
        \t\t\t192.0.2.10 . tcp . 443 comment "bundle web" : 0x50 }
        \t}
        \tchain prerouting {
        \t\ttype filter hook prerouting priority mangle; policy accept;
        \t\tmeta mark set ip daddr . meta l4proto . th dport map @marks comment "lvsctl"
        \t}
        }

        """)
    }

    func testEmptyRuleSetDeletesTheTable() throws {
        XCTAssertEqual(try NFTablesBackend.replaceText([], table: .nat, family: .inet6),
                       "table ip6 lvsctl_dr {}\ndelete table ip6 lvsctl_dr\n")
    }

    func testRedirectAndAllPorts() throws {
        let r = FirewallRule(owner: "dr", destination: IPAddress("2001:db8::10")!, proto: .udp, ports: [], action: .redirect)
        let text = try NFTablesBackend.replaceText([r], table: .nat, family: .inet6)
        XCTAssertTrue(text.contains("elements = { 2001:db8::10 . udp . 0-65535 comment \"dr\" }"), text)
        XCTAssertTrue(text.contains("type nat hook prerouting priority dstnat"), text)
        XCTAssertTrue(text.contains("ip6 daddr . meta l4proto . th dport @redirects redirect"), text)
    }

    func testOverlapBetweenBundlesIsRefusedNamingBoth() {
        let other = MarkBundle(name: "api", vips: [IPAddress("192.0.2.10")!], ports: [PortRange(low: 400, high: 500)],
                               protocols: [.tcp], mark: 7)
        XCTAssertThrowsError(try NFTablesBackend.replaceText(web.rules + other.rules, table: .mangle, family: .inet)) { e in
            XCTAssertEqual("\(e)", "nftables table ip lvsctl: tcp port 443 of 192.0.2.10 is in both bundle api and bundle web")
        }
        // Same ports on another protocol or address are fine.
        let udp = MarkBundle(name: "dns", vips: [IPAddress("192.0.2.10")!], ports: [PortRange(443)], protocols: [.udp], mark: 8)
        XCTAssertNoThrow(try NFTablesBackend.replaceText(web.rules + udp.rules, table: .mangle, family: .inet))
    }

    func testQuotesInCommentsAreRefused() {
        let r = FirewallRule(owner: "bundle \"x", destination: IPAddress("192.0.2.1")!, proto: .tcp, ports: [PortRange(80)], action: .mark(1))
        XCTAssertThrowsError(try NFTablesBackend.replaceText([r], table: .mangle, family: .inet))
    }

    /// `nft -j list map ip lvsctl marks` as nft 1.0.6 prints it (a range, a single port, an all-ports element).
    let marksJSON = """
    {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, \
    {"map": {"family": "ip", "name": "marks", "table": "lvsctl", "type": ["ipv4_addr", "inet_proto", "inet_service"], \
    "handle": 1, "map": "mark", "flags": ["interval"], "elem": [\
    [{"elem": {"val": {"concat": ["192.0.2.10", "tcp", 443]}, "comment": "bundle web"}}, 80], \
    [{"elem": {"val": {"concat": ["192.0.2.10", "tcp", 80]}, "comment": "bundle web"}}, 80], \
    [{"elem": {"val": {"concat": ["192.0.2.11", "udp", {"range": [8000, 8010]}]}, "comment": "bundle app"}}, 4294967295], \
    [{"elem": {"val": {"concat": ["192.0.2.12", "tcp", {"range": [0, 65535]}]}, "comment": "bundle all"}}, 3]]}}]}
    """

    func testReadBackGroupsElementsIntoTheRulesThatWroteThem() throws {
        let elements = try NFTElement.parse(marksJSON)
        XCTAssertEqual(elements.count, 4)
        let rules = try NFTablesBackend.rules(from: elements, table: .mangle, family: .inet)
        let app = MarkBundle(name: "app", vips: [IPAddress("192.0.2.11")!], ports: [PortRange(low: 8000, high: 8010)],
                             protocols: [.udp], mark: 0xFFFF_FFFF)
        let all = FirewallRule(owner: "bundle all", destination: IPAddress("192.0.2.12")!, proto: .tcp, ports: [], action: .mark(3))
        // Ordered by mark, whatever order the kernel listed them in.
        XCTAssertEqual(rules, [all] + web.rules + app.rules)
        XCTAssertEqual(MarkBundle.from(rules: rules).map(\.name), ["all", "web", "app"])
        XCTAssertEqual(MarkBundle.from(rules: rules)[1], web)
    }

    func testReadBackOfARedirectSetAndAnARPMap() throws {
        let set = """
        {"nftables": [{"metainfo": {"version": "1.0.6"}}, {"set": {"family": "ip", "name": "redirects", "table": "lvsctl_dr", \
        "type": ["ipv4_addr", "inet_proto", "inet_service"], "flags": ["interval"], "elem": [\
        {"elem": {"val": {"concat": ["192.0.2.20", "tcp", 80]}, "comment": "dr"}}, \
        {"elem": {"val": {"concat": ["192.0.2.20", "tcp", 443]}, "comment": "dr"}}]}}]}
        """
        let rules = try NFTablesBackend.rules(from: try NFTElement.parse(set), table: .nat, family: .inet)
        XCTAssertEqual(rules, FirewallRule.split(owner: "dr", destination: IPAddress("192.0.2.20")!, proto: .tcp,
                                                 ports: [PortRange(80), PortRange(443)], action: .redirect))
        let arp = """
        {"nftables": [{"map": {"family": "arp", "name": "rewrite", "table": "lvsctl_dr", "type": "ipv4_addr", "map": "ipv4_addr", \
        "elem": [[{"elem": {"val": "192.0.2.10", "comment": "dr"}}, "192.0.2.21"]]}}]}
        """
        let e = try NFTElement.parse(arp)
        XCTAssertEqual(e.count, 1)
        XCTAssertEqual(e[0].key, [.string("192.0.2.10")])
        XCTAssertEqual(e[0].value, .string("192.0.2.21"))
        XCTAssertEqual(e[0].comment, "dr")
    }

    func testAnElementOfAnotherFamilyIsAnError() throws {
        let e = [NFTElement(key: [.string("2001:db8::1"), .string("tcp"), .number(80)], value: .number(1), comment: "bundle x")]
        XCTAssertThrowsError(try NFTablesBackend.rules(from: e, table: .mangle, family: .inet))
    }

    func testElementCommandForDisplay() {
        XCTAssertEqual(NFTablesBackend.elementCommand(web.rules[0]),
                       "nft add element ip lvsctl marks { 192.0.2.10 . tcp . 80 comment \"bundle web\" : 0x50, 192.0.2.10 . tcp . 443 comment \"bundle web\" : 0x50 }")
    }

    func testSelectionParsing() {
        XCTAssertEqual(FirewallSelection.parse("auto"), .some(nil))
        XCTAssertEqual(FirewallSelection.parse("nftables"), .some(.nftables))
        XCTAssertEqual(FirewallSelection.parse("iptables-legacy"), .some(.iptablesLegacy))
        XCTAssertNil(FirewallSelection.parse("iptables"))
        let c = FirewallChoice(kind: .nftables, reason: "chosen with --firewall", explicit: true, holding: [.iptablesLegacy], legacyAvailable: true)
        XCTAssertEqual(c.conflict, "lvsctl's firewall rules are in iptables-legacy, not nftables (chosen with --firewall); move them with 'lvsctl bundle migrate --to nftables' first")
        XCTAssertTrue(c.worthSaving)
        let auto = FirewallChoice(kind: .nftables, reason: "auto", explicit: false, holding: [], legacyAvailable: false)
        XCTAssertNil(auto.conflict)
        XCTAssertFalse(auto.worthSaving)  // an nft-only host: the file stays neutral
    }
}
