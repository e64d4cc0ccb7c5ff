import SwiftASN1

/// The size of an RSA public key, read from its SubjectPublicKeyInfo.
///
/// BoringSSL serves with any RSA key it can parse, and swift-crypto's RSA
/// types refuse keys under 1024 bits before they say how long they are, so
/// the size is read here from the DER with swift-asn1 (RFC 5280 §4.1.2.7,
/// RFC 8017 §A.1.1): only the structure is walked, nothing is computed.
enum RSAKeySize {
    /// rsaEncryption, 1.2.840.113549.1.1.1.
    private static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 1]

    /// The modulus length in bits when `spki` holds an RSA key; nil for any
    /// other kind of key (or DER this does not understand).
    static func bits(subjectPublicKeyInfo spki: [UInt8]) -> Int? {
        try? DER.sequence(DER.parse(spki), identifier: .sequence) { nodes in
            let algorithm = try DER.sequence(of: ASN1Any.self, identifier: .sequence, nodes: &nodes)
            guard let first = algorithm.first, try ASN1ObjectIdentifier(asn1Any: first) == rsaEncryption else {
                return nil
            }
            let key = try ASN1BitString(derEncoded: &nodes)
            return try DER.sequence(DER.parse(key.bytes), identifier: .sequence) { fields in
                let modulus = try ArraySlice<UInt8>(derEncoded: &fields)
                _ = try ArraySlice<UInt8>(derEncoded: &fields)  // the public exponent
                return bitLength(ofUnsigned: modulus)
            }
        }
    }

    /// Bits in a big-endian unsigned integer, leading zeros not counted.
    private static func bitLength(ofUnsigned bytes: ArraySlice<UInt8>) -> Int {
        guard let first = bytes.firstIndex(where: { $0 != 0 }) else { return 0 }
        return (bytes.endIndex - first) * 8 - bytes[first].leadingZeroBitCount
    }
}
