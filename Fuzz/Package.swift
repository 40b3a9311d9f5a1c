// swift-tools-version:5.10
// libFuzzer targets for lvsctl's decoders and parsers. A separate package, so `swift build` and `swift test` at the
// top level never see it. Built and run by `make fuzz` (see Documentation/testing.md):
//   swift build --package-path Fuzz -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// Sources/LVSCore, CNetlink, CIPTC, CNFTables and LVSCtlCommands are symbolic links to the real sources under ../Sources.
import PackageDescription

let package = Package(
    name: "lvsctl-fuzz",
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CNetlink", pkgConfig: "libnl-genl-3.0"),
        .systemLibrary(name: "CIPTC", pkgConfig: "libiptc"),
        .systemLibrary(name: "CNFTables", pkgConfig: "libnftables"),
        .target(name: "LVSCore", dependencies: ["CNetlink", "CIPTC", "CNFTables"]),
        // lvsctl's command sources (restore-file parser included) as a library; Main.swift holds @main.
        .target(name: "LVSCtlCommands", dependencies: [
            "LVSCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], exclude: ["Main.swift"]),
        // The netlink/IPVS decoder: message split, genl header, service/dest/daemon/timeouts/info attributes.
        .executableTarget(name: "fuzz-netlink", dependencies: ["LVSCore"]),
        // The restore-file parser: lvsctl lines and unmodified ipvsadm-save lines.
        .executableTarget(name: "fuzz-restore", dependencies: ["LVSCtlCommands", "LVSCore"]),
        // The Piranha lvs.cf importer.
        .executableTarget(name: "fuzz-piranha", dependencies: ["LVSCore"]),
    ]
)
