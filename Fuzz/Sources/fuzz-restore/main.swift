#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LVSKit
import LVSCore

/// libFuzzer entry: the bytes are a configuration file given to `lvsctl restore`/`apply` (lvsctl lines or
/// ipvsadm-save lines). Parsing may reject the file with an error, but must never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRestore(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // The same checks ConfigFile.read applies before parsing: NUL bytes and invalid UTF-8 are rejected there.
    let buf = UnsafeBufferPointer(start: data, count: size)
    if buf.contains(0) { return 0 }
    guard let text = String(bytes: buf, encoding: .utf8) else { return 0 }
    _ = try? ConfigFile.parse(name: "fuzz.conf", text: text, base: ClusterConfig())
    return 0
}

// SwiftPM gives an executable its own main, so libFuzzer's main is never linked: start libFuzzer's driver here.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

var fuzzArgc = CommandLine.argc
var fuzzArgv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&fuzzArgc, &fuzzArgv, fuzzRestore))
