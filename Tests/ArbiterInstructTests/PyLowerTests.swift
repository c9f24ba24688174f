// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import ArbiterInstruct

/// `Py.lower` folds Latin-1 without a Unicode property lookup; these tests hold it to the plain form, which asks every
/// scalar beyond ASCII for its lowercase mapping.
@Suite("instruction: Py.lower, Python's str.lower()")
struct PyLowerTests {
    static func plainLower(_ text: Scalars, asciiOnly: Bool = false) -> Scalars {
        var lowered: Scalars = []
        for scalar in text {
            if scalar.value < 0x80 {
                lowered.append((0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(scalar.value + 32)! : scalar)
            } else if !asciiOnly, scalar.properties.changesWhenLowercased {
                lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                lowered.append(scalar)
            }
        }
        return lowered
    }

    @Test("every scalar alone, and after a Latin-1 prefix, lowers as the plain form lowers it")
    func everyScalar() {
        var differing: [UInt32] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            if Py.lower([scalar]) != Self.plainLower([scalar]) { differing.append(value) }
            if value % 97 == 0, Py.lower(["A", "é", "Ö", scalar, "Z"]) != Self.plainLower(["A", "é", "Ö", scalar, "Z"]) {
                differing.append(value)
            }
        }
        #expect(differing.isEmpty, "\(differing.prefix(10))")
    }

    @Test("mixed texts (Latin-1, Greek, dotted İ that lowers to two scalars) at every split point")
    func mixed() {
        let pieces: Scalars = ["A", "z", "À", "×", "Þ", "ß", "ÿ", "\u{0130}", "Σ", "ω", "1", " ", "\u{1E9E}"]
        for length in 0...6 {
            for start in pieces.indices {
                let text = (0..<length).map { pieces[(start + $0 * 5) % pieces.count] }
                #expect(Py.lower(text) == Self.plainLower(text), "\(text.map(\.value))")
            }
        }
        #expect(Py.lower(["\u{0130}"]).count == 2)
    }

    @Test("control: a fold of ASCII alone differs from str.lower() on À, which the fast path folds")
    func control() {
        #expect(Self.plainLower(["À"], asciiOnly: true) != Self.plainLower(["À"]))
        #expect(Py.lower(["À", "×"]) == ["à", "×"])
    }
}
