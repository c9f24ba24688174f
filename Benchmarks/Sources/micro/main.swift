// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

// Per-operation costs of Arbiter's layers, without the daemon around them. Prints one line per measurement:
// the median of 7 rounds of nanoseconds per operation.

import ArbiterCore
import ArbiterFormat
import ArbiterRegex
import Foundation

func nanoseconds(_ body: () -> Void) -> UInt64 {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return DispatchTime.now().uptimeNanoseconds - start
}

func measure(_ name: String, iterations: Int, _ body: () -> Void) {
    for _ in 0..<max(1, iterations / 10) { body() }
    var rounds: [Double] = []
    for _ in 0..<7 {
        let total = nanoseconds { for _ in 0..<iterations { body() } }
        rounds.append(Double(total) / Double(iterations))
    }
    rounds.sort()
    report(name, rounds)
}

/// Measures an async body inside one detached task, so that no call hops between executors.
func measureAsync(_ name: String, iterations: Int, _ body: @escaping @Sendable () async -> Void) async {
    let rounds = await Task.detached {
        for _ in 0..<max(1, iterations / 10) { await body() }
        var rounds: [Double] = []
        for _ in 0..<7 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<iterations { await body() }
            rounds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations))
        }
        return rounds
    }.value
    report(name, rounds)
}

func report(_ name: String, _ rounds: [Double]) {
    let median = rounds.sorted()[rounds.count / 2]
    FileHandle.standardOutput.write(Data((name.padding(toLength: 66, withPad: " ", startingAt: 0) + String(format: "%10.0f ns/op\n", median)).utf8))
}

/// A ~1.5 kB well-formed completion, like the format benchmark's.
let reasoning = (0..<24).map { "Step \($0): we combine the previous terms and simplify the expression." }
    .joined(separator: "\n")
let completion = "<think>\n\(reasoning)\n</think>\n<answer>\n42\n</answer>"

let openR1 = try! CompiledPattern(
    "^<think>\\n.*?\\n</think>\\n<answer>\\n.*?\\n</answer>$", options: [.dotall, .multiline, .anchored])
measure("PCRE2 open-r1 format pattern, 1.5 kB completion (JIT=\(openR1.isJIT))", iterations: 200_000) {
    _ = openR1.firstMatch(in: completion)
}
let tags = try! CompiledPattern("<\\s*(/?)\\s*(think|answer)\\s*>", options: .caseless)
measure("PCRE2 tag scan (all matches), 1.5 kB completion", iterations: 100_000) {
    _ = tags.allMatches(in: completion)
}

var registry = VerifierRegistry.builtin
registry.registerFormatVerifiers(patterns: .shared)
let thinkFormat = try! registry.entry(named: "think-format").verifier(options: ["mode": "answer"])
let sample = Sample(response: completion)
await measureAsync("think-format mode answer verify(), 1.5 kB completion", iterations: 50_000) {
    _ = try? await thinkFormat.verify(sample)
}
let line = Array(#"{"id":1,"verifier":"exact","response":"the answer is forty two so we get","reference":"42"}"#.utf8)
measure("JSONParser.parse, 92-byte request line", iterations: 500_000) {
    _ = try? JSONParser.parse(line)
}
let trivial = try! CompiledPattern("zzz")
measure("PCRE2 trivial no-match scan of 1.5 kB", iterations: 200_000) {
    _ = trivial.firstMatch(in: completion)
}
measure("String.withUTF8 on a copy of the 1.5 kB completion", iterations: 200_000) {
    var copy = completion
    copy.withUTF8 { _ = $0.count }
}
