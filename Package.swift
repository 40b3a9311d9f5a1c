// swift-tools-version:5.10
import PackageDescription

let package = Package(
    name: "lvsctl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lvsctl", targets: ["lvsctl"]),
        .library(name: "LVSCore", targets: ["LVSCore"]),
        .library(name: "LVSKit", targets: ["LVSKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // libnl-3 + libnl-genl-3 (+ libnl-route-3 for the dr layer) and <linux/ip_vs.h>. Imported by Sources/LVSCore/Netlink,
        // Support/Syscalls.swift (setns) and IPVS/KernelNumbers.swift (the header's attribute numbers).
        .systemLibrary(name: "CNetlink", pkgConfig: "libnl-genl-3.0",
                       providers: [.apt(["libnl-3-dev", "libnl-genl-3-dev", "libnl-route-3-dev"])]),
        // libiptc (libip4tc + libip6tc). Only Sources/LVSCore/Firewall/IPTC.swift imports it.
        .systemLibrary(name: "CIPTC", pkgConfig: "libiptc", providers: [.apt(["libiptc-dev"])]),
        // libnftables: the nftables firewall backend. Only Sources/LVSCore/Firewall/NFTables.swift imports it.
        .systemLibrary(name: "CNFTables", pkgConfig: "libnftables", providers: [.apt(["libnftables-dev"])]),
        // The core: netlink transport, the IPVS codec and client, the model, the firewall backends, rtnetlink.
        // libcurl: the tcp, http and https checks of `lvsctl monitor`. Only LVSKit/Monitor/Engine.swift imports it.
        // Headers only (<curl/curl.h>, from libcurl4-openssl-dev, in the default include path): lvsctl does not link
        // libcurl but dlopens libcurl.so.4 (libcurl4) when the monitor starts its check engine, so other commands do
        // not load it and its ~30 libraries. No pkgConfig: it would put -lcurl on the link line.
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "LVSCore", dependencies: ["CNetlink", "CIPTC", "CNFTables"]),
        // The program: the grammar of command and file lines, validation, the bundle store, save/restore/apply with
        // rollback, the firewall backend choice. No ArgumentParser: the executable, a daemon and the fuzz targets use it.
        .target(name: "LVSKit", dependencies: ["LVSCore", "CCurl"]),
        .executableTarget(name: "lvsctl", dependencies: [
            "LVSCore", "LVSKit",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Fakes for the unit tests (a firewall backend, an IPVS kernel); never shipped.
        .target(name: "LVSTestSupport", dependencies: ["LVSCore"], path: "Tests/Support"),
        .testTarget(name: "LVSCoreTests", dependencies: ["LVSCore", "LVSTestSupport"]),
        .testTarget(name: "LVSKitTests", dependencies: ["LVSKit", "LVSCore", "LVSTestSupport"]),
        .testTarget(name: "LVSCtlTests", dependencies: ["lvsctl", "LVSCore", "LVSKit", "LVSTestSupport"]),
    ]
)
