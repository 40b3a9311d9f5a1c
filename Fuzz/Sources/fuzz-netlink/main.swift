#if canImport(Glibc)
import Glibc
#endif
import LVSCore

/// libFuzzer entry: the bytes are one receive buffer from the kernel. Every message is split and decoded as
/// each IPVS reply kind; decoders may throw on bad input, but must never crash, hang or read out of bounds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetlink(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The raw attribute payload too (without netlink headers), as the codec sees it.
    decodeAll(bytes[...])
    guard let msgs = try? NetlinkMessage.split(bytes[...]) else { return 0 }
    for m in msgs {
        _ = try? m.errorCode()
        guard let g = try? m.genl() else { continue }
        decodeAll(g.attributes)
    }
    return 0
}

func decodeAll(_ a: ArraySlice<UInt8>) {
    _ = try? AttributeDecoder.decodeAll(a)
    _ = try? IPVSDecode.commandAttributes(a)
    _ = try? IPVSDecode.service(a)
    _ = try? IPVSDecode.dest(a, serviceFamily: .inet)
    _ = try? IPVSDecode.dest(a, serviceFamily: .inet6)
    _ = try? IPVSDecode.daemon(a)
    _ = try? IPVSDecode.timeouts(a)
    _ = try? IPVSDecode.info(a)
}

// SwiftPM gives an executable its own main, so libFuzzer's main is never linked: start libFuzzer's driver here.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

var fuzzArgc = CommandLine.argc
var fuzzArgv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&fuzzArgc, &fuzzArgv, fuzzNetlink))
