import Crypto
import Foundation
import PirvaultCrypto

/// `sha256` section, one thread: libsodium's SHA-256 (the one pirvault
/// uses) against swift-crypto's (BoringSSL, with the CPU's SHA extensions
/// where it has them), on an audit leaf (0x00 ‖ ~330 canonical bytes), a
/// Merkle node (0x01 ‖ 64 bytes) and a 1 MiB buffer.
func sha256Benchmarks() {
    var sink: UInt8 = 0
    for (label, size) in [("leaf, 331 bytes", 331), ("node, 65 bytes", 65), ("1 MiB", 1 << 20)] {
        let input = [UInt8](repeating: 0x61, count: size)
        let sodium = rate {
            var hasher = PirvaultCrypto.SHA256()
            hasher.update(input)
            sink ^= hasher.finalize()[0]
        }
        let boring = rate { sink ^= Crypto.SHA256.hash(data: input).withUnsafeBytes { $0[0] } }
        func figure(_ perSecond: Double) -> String {
            String(format: "%.0f /s, %.0f MB/s", perSecond, perSecond * Double(size) / 1e6)
        }
        row("SHA-256 \(label): libsodium", figure(sodium))
        row("SHA-256 \(label): swift-crypto (BoringSSL)", figure(boring) + String(format: "  (%.1f×)", boring / sodium))
    }
    if sink == 0xFF { print("") }
}
