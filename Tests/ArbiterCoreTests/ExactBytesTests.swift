// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

@testable import ArbiterCore
import Testing

/// `exact` compares plain ASCII byte by byte; these tests hold that the byte path gives the verdict of the Unicode
/// path on every string it accepts, and that it declines the strings where a character is not a byte.
@Suite("exact: the byte-wise path agrees with the Unicode path")
struct ExactBytesTests {
    static let configurations: [(trim: Bool, caseSensitive: Bool)] = [(true, true), (true, false), (false, true), (false, false)]

    func verifier(trim: Bool, caseSensitive: Bool) -> ExactVerifier {
        // swift-format-ignore: NeverUseForceTry
        let defaults = try! OptionValues([:], specs: ExactVerifier.Configuration.options, verifier: "exact")
        var configuration = ExactVerifier.Configuration(options: defaults)
        configuration.trim = trim
        configuration.caseSensitive = caseSensitive
        return ExactVerifier(configuration: configuration)
    }

    @Test("10,000 random ASCII pairs (letters of both cases, spaces, tabs, newlines): same verdict and first difference")
    func randomPairs() {
        var generator = ExactSplitMix(seed: 20)
        let alphabet = Array("aAbB 1\t\n\u{0B}.".unicodeScalars)
        func random(_ limit: Int) -> String {
            String(String.UnicodeScalarView((0..<Int.random(in: 0...limit, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }))
        }
        var accepted = 0
        for _ in 0..<10_000 {
            let reference = random(6)
            // Half the responses are the reference with a change at an end, so that equal verdicts are common.
            let response = Bool.random(using: &generator) ? random(6) : random(2) + reference + random(2)
            for (trim, caseSensitive) in Self.configurations {
                let exact = verifier(trim: trim, caseSensitive: caseSensitive)
                guard let fast = exact.asciiVerdict(response, reference) else { continue }
                accepted += 1
                let general = exact.unicodeVerdict(response, reference)
                #expect(fast.passed == general.passed && fast.reason == general.reason, "\(response.debugDescription) vs \(reference.debugDescription)")
                #expect(fast.details["first_difference"] == general.details["first_difference"])
            }
        }
        #expect(accepted == 40_000, "every pair is plain ASCII without a carriage return")
    }

    @Test("negative control: text with a carriage return or beyond ASCII goes to the Unicode path", arguments: [
        ("42\r\n", "42"), ("e\u{301}", "\u{E9}"), ("42\u{A0}", "42"), ("caf\u{E9}", "cafe"),
    ])
    func declined(_ pair: (String, String)) {
        let exact = verifier(trim: true, caseSensitive: true)
        #expect(exact.asciiVerdict(pair.0, pair.1) == nil)
        // Where the byte path would have been wrong: "e" + a combining accent is "é", and U+00A0 is whitespace.
        if pair.1 == "\u{E9}" || pair.0 == "42\u{A0}" { #expect(exact.unicodeVerdict(pair.0, pair.1).passed) }
        if pair.0 == "42\r\n" { #expect(exact.unicodeVerdict(pair.0, pair.1).passed) }
    }
}

/// A small deterministic generator, so that a failure names a reproducible case.
struct ExactSplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
