import Foundation
import PirvaultCrypto
import Testing

@testable import PirvaultCore

/// RFC 9162 §2.1 written out recursively, as the reference the fast code must match.
enum ReferenceTree {
    static func root(_ leaves: ArraySlice<Merkle.Hash>) -> Merkle.Hash {
        if leaves.isEmpty { return Merkle.emptyRoot }
        if leaves.count == 1 { return leaves.first! }
        let k = largestPowerOfTwo(below: leaves.count)
        return Merkle.nodeHash(root(leaves.prefix(k)), root(leaves.dropFirst(k)))
    }

    static func path(_ m: Int, _ leaves: ArraySlice<Merkle.Hash>) -> [Merkle.Hash] {
        if leaves.count <= 1 { return [] }
        let k = largestPowerOfTwo(below: leaves.count)
        if m < k { return path(m, leaves.prefix(k)) + [root(leaves.dropFirst(k))] }
        return path(m - k, leaves.dropFirst(k)) + [root(leaves.prefix(k))]
    }

    static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}

func leaves(_ count: Int) -> [Merkle.Hash] { (0..<count).map { Merkle.leafHash(Array("leaf \($0)".utf8)) } }

struct MerkleTests {
    @Test func hashesWithDomainSeparation() {
        #expect(Merkle.emptyRoot.hexString == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Merkle.leafHash([]) == SHA256.hash([0x00]))
        #expect(Merkle.nodeHash([1], [2]) == SHA256.hash([0x01, 1, 2]))
    }

    @Test(arguments: [1, 2, 3, 7, 8, 1000])
    func proofsForFirstMiddleAndLastLeavesMatchTheRFC(_ size: Int) {
        let hashes = leaves(size)
        let tree = MerkleLevels(leaves: hashes)
        let root = ReferenceTree.root(hashes[...])
        #expect(tree.root == root)
        for index in Set([0, size / 2, size - 1]) {
            let proof = tree.inclusionProof(index: index)
            #expect(proof == ReferenceTree.path(index, hashes[...]), "size \(size) index \(index)")
            #expect(Merkle.verifyInclusion(leaf: hashes[index], index: index, size: size, proof: proof, root: root))
            // The same proof must not prove another index, another leaf, or another size.
            if size > 1 {
                let other = (index + 1) % size
                #expect(!Merkle.verifyInclusion(leaf: hashes[index], index: other, size: size, proof: proof, root: root))
                #expect(!Merkle.verifyInclusion(leaf: hashes[other], index: index, size: size, proof: proof, root: root))
            }
            #expect(!Merkle.verifyInclusion(leaf: hashes[index], index: index, size: size, proof: proof + [root], root: root))
        }
    }

    @Test func everyProofOfSmallTreesVerifies() {
        for size in 1...40 {
            let hashes = leaves(size)
            let tree = MerkleLevels(leaves: hashes)
            for index in 0..<size {
                let proof = tree.inclusionProof(index: index)
                let verified = Merkle.verifyInclusion(leaf: hashes[index], index: index, size: size, proof: proof, root: tree.root)
                #expect(verified)
            }
        }
    }

    /// Levels of more than 8,192 pairs are hashed in chunks on all cores.
    @Test func aLargeTreeHashedOnAllCoresMatchesTheRFC() {
        let hashes = leaves(20_001)
        let tree = MerkleLevels(leaves: hashes)
        #expect(tree.root == ReferenceTree.root(hashes[...]))
        for index in [0, 8_191, 8_192, 10_000, 20_000] {
            #expect(tree.inclusionProof(index: index) == ReferenceTree.path(index, hashes[...]), "index \(index)")
        }
    }

    @Test func theFrontierTracksTheRootAndSerialises() {
        var frontier = MerkleFrontier()
        #expect(frontier.root == Merkle.emptyRoot)
        let hashes = leaves(70)
        for (i, leaf) in hashes.enumerated() {
            frontier.append(leaf)
            #expect(frontier.root == ReferenceTree.root(hashes[...i]))
            #expect(MerkleFrontier(serialized: frontier.serialized) == frontier)
        }
        #expect(MerkleFrontier(serialized: [0, 0, 0, 0, 0, 0, 0, 3] + [UInt8](repeating: 0, count: 32)) == nil)
    }

    @Test func theProofCheckerAcceptsSharedPathsAndRejectsWrongOnes() {
        let hashes = leaves(1000)
        let tree = MerkleLevels(leaves: hashes)
        func text(_ proof: [Merkle.Hash]) -> [ArraySlice<UInt8>] { proof.map { ArraySlice(PublicBase64.encode($0, .standard).utf8) } }
        var checker = ProofChecker(size: 1000, root: tree.root)
        for index in [0, 1, 2, 3, 500, 501, 998, 999] {
            let verified = checker.verify(leaf: hashes[index], index: index, proof: text(tree.inclusionProof(index: index)))
            #expect(verified)
        }
        var fresh = ProofChecker(size: 1000, root: tree.root)
        let first = fresh.verify(leaf: hashes[10], index: 10, proof: text(tree.inclusionProof(index: 10)))
        #expect(first)
        var results: [Bool] = []
        results.append(fresh.verify(leaf: hashes[11], index: 11, proof: text(tree.inclusionProof(index: 12))))
        results.append(fresh.verify(leaf: hashes[12], index: 11, proof: text(tree.inclusionProof(index: 11))))
        var tampered = tree.inclusionProof(index: 11)
        tampered[tampered.count - 1][0] ^= 1
        results.append(fresh.verify(leaf: hashes[11], index: 11, proof: text(tampered)))
        results.append(fresh.verify(leaf: hashes[11], index: 11, proof: Array(text(tree.inclusionProof(index: 11)).dropLast())))
        #expect(results == [false, false, false, false])
        let good = fresh.verify(leaf: hashes[11], index: 11, proof: text(tree.inclusionProof(index: 11)))
        #expect(good)
    }
}

struct CheckpointTests {
    let signer = NoteSigner(name: "pirvault/test", key: .generate())

    @Test func signsAndVerifiesTheC2SPFormat() throws {
        let checkpoint = Checkpoint(origin: "pirvault/test", size: 7, rootHash: SHA256.hash([1]))
        let note = signer.sign(checkpoint)
        let lines = note.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "pirvault/test")
        #expect(lines[1] == "7")
        #expect(lines[2] == Substring(PublicBase64.encode(checkpoint.rootHash, .standard)))
        #expect(lines[3] == "")
        #expect(lines[4].hasPrefix("— pirvault/test "))
        #expect(signer.verifier.verify(note: note) == checkpoint)
        let parsed = try #require(NoteVerifier(verifierKey: signer.verifier.verifierKey))
        #expect(parsed == signer.verifier)
    }

    @Test func rejectsForgeriesAndOtherKeys() {
        let note = signer.sign(Checkpoint(origin: "pirvault/test", size: 7, rootHash: SHA256.hash([1])))
        #expect(signer.verifier.verify(note: note.replacingOccurrences(of: "\n7\n", with: "\n8\n")) == nil)
        #expect(NoteSigner(name: "pirvault/test", key: .generate()).verifier.verify(note: note) == nil)
        #expect(NoteSigner(name: "other", key: signer.key).verifier.verify(note: note) == nil)
        #expect(signer.verifier.verify(note: String(note.dropLast(10))) == nil)
        #expect(NoteVerifier(verifierKey: "pirvault/test+00000000+" + signer.verifier.verifierKey.split(separator: "+", maxSplits: 2)[2]) == nil)
        #expect(NoteVerifier(verifierKey: "not a key") == nil)
    }
}
