// swift-tools-version:5.10
import PackageDescription

let package = Package(
    name: "lvsctl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lvsctl", targets: ["lvsctl"]),
        .library(name: "LVSCore", targets: ["LVSCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // libnl-3 + libnl-genl-3 (+ libnl-route-3 for the dr layer). Only Sources/LVSCore/Netlink imports it.
        .systemLibrary(name: "CNetlink", pkgConfig: "libnl-genl-3.0",
                       providers: [.apt(["libnl-3-dev", "libnl-genl-3-dev", "libnl-route-3-dev"])]),
        // libiptc (libip4tc + libip6tc). Only Sources/LVSCore/Firewall/IPTC.swift imports it.
        .systemLibrary(name: "CIPTC", pkgConfig: "libiptc", providers: [.apt(["libiptc-dev"])]),
        // libnftables: the nftables firewall backend. Only Sources/LVSCore/Firewall/NFTables.swift imports it.
        .systemLibrary(name: "CNFTables", pkgConfig: "libnftables", providers: [.apt(["libnftables-dev"])]),
        .target(name: "LVSCore", dependencies: ["CNetlink", "CIPTC", "CNFTables"]),
        .executableTarget(name: "lvsctl", dependencies: [
            "LVSCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "LVSTestSupport", dependencies: ["LVSCore"], path: "Tests/Support"),
        .testTarget(name: "LVSCoreTests", dependencies: ["LVSCore", "LVSTestSupport"]),
        .testTarget(name: "LVSCtlTests", dependencies: ["lvsctl", "LVSCore", "LVSTestSupport"]),
    ]
)
