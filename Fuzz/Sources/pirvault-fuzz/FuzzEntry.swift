import Foundation
import PirvaultFuzzHarness

/// Read once: libFuzzer calls the entry point millions of times.
let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["PIRVAULT_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        fatalError("set PIRVAULT_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    target.fuzz(data, size)
}
