// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The target this process fuzzes, named by `ARBITER_FUZZ_TARGET` (one binary serves every target).
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["ARBITER_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget.all.first(where: { $0.name == name }) else {
        let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("set ARBITER_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}()

/// Runs the target once before fuzzing starts: the language models load on first use, which under
/// AddressSanitizer takes seconds to tens of seconds — time that would otherwise count against the first input's
/// `-timeout`.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    selectedTarget.run(selectedTarget.warmUp)
    return 0
}

/// libFuzzer's entry point: one input, one run of the selected target. A trap, a sanitizer report or a run over
/// `-timeout` is a finding; returning is a pass.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selectedTarget.run(bytes)
    return 0
}
