// swift-tools-version:5.10
// libFuzzer targets for lvsctl's decoders and parsers. A separate package, so `swift build` and `swift test` at the
// top level never see it. Built and run by `make fuzz` (see Documentation/testing.md):
//   swift build --package-path Fuzz -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// It depends on the lvsctl package itself (by path) and uses its libraries as any client would: LVSCore for the
// netlink/IPVS decoder, LVSKit for the configuration-file grammar and the Piranha importer.
import PackageDescription

let package = Package(
    name: "lvsctl-fuzz",
    dependencies: [
        .package(name: "lvsctl", path: ".."),
    ],
    targets: [
        // The netlink/IPVS decoder: message split, genl header, service/dest/daemon/timeouts/info attributes.
        .executableTarget(name: "fuzz-netlink", dependencies: [.product(name: "LVSCore", package: "lvsctl")]),
        // The restore-file parser: lvsctl lines and unmodified ipvsadm-save lines.
        .executableTarget(name: "fuzz-restore", dependencies: [
            .product(name: "LVSKit", package: "lvsctl"), .product(name: "LVSCore", package: "lvsctl"),
        ]),
        // The Piranha lvs.cf importer.
        .executableTarget(name: "fuzz-piranha", dependencies: [
            .product(name: "LVSKit", package: "lvsctl"), .product(name: "LVSCore", package: "lvsctl"),
        ]),
    ]
)
