@testable import LVSCore

/// The reference encodings the codec's direct writers are checked against (EncodingFastPathTests): built through
/// the attribute enum values, or attribute by attribute. Test-only, so kept out of the shipped library.
extension IPVSRequest {
    /// The encoding through the ``attributes`` enum values (the reference for ``encodedAttributes()``).
    func encodedAttributesGeneric() -> [UInt8] {
        var e = AttributeEncoder(capacity: 256)
        for a in attributes { a.encode(&e) }
        return e.bytes
    }

    /// ``putDest(_:_:)`` attribute by attribute (the reference for its fixed layout).
    static func putDestByAttribute(_ d: RealServer, _ e: inout AttributeEncoder) {
        e.nested(IPVSAttr.Command.dest) { n in
            n.u16(IPVSAttr.Dest.addrFamily, d.address.family.rawValue)
            n.addr16(IPVSAttr.Dest.addr, d.address.bytes)
            n.be16(IPVSAttr.Dest.port, d.port)
            n.u32(IPVSAttr.Dest.fwdMethod, d.forwarding.rawValue)
            n.u32(IPVSAttr.Dest.weight, UInt32(bitPattern: d.weight))
            n.u8(IPVSAttr.Dest.tunType, d.tunnelType.rawValue)
            n.be16(IPVSAttr.Dest.tunPort, d.tunnelPort)
            n.u16(IPVSAttr.Dest.tunFlags, d.tunnelChecksum.rawValue)
            n.u32(IPVSAttr.Dest.upperThreshold, d.upperThreshold)
            n.u32(IPVSAttr.Dest.lowerThreshold, d.lowerThreshold)
        }
    }
}
