#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LVSCore
import LVSKit

/// libFuzzer entry: the bytes are a Piranha lvs.cf given to `lvsctl import piranha`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPiranha(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buf = UnsafeBufferPointer(start: data, count: size)
    if buf.contains(0) { return 0 }
    guard let text = String(bytes: buf, encoding: .utf8) else { return 0 }
    _ = try? Piranha.convert(text, source: "fuzz.cf")
    return 0
}

// SwiftPM gives an executable its own main, so libFuzzer's main is never linked: start libFuzzer's driver here.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

var fuzzArgc = CommandLine.argc
var fuzzArgv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&fuzzArgc, &fuzzArgv, fuzzPiranha))
