// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import ArbiterInstruct

@Suite("instruction: Py.split, Python's str.split()")
struct PySplitTests {
    static let alphabet: [Unicode.Scalar] = ["a", "é", " ", "\n", "\u{A0}", "\u{2003}", "\u{1C}", "\u{200B}"]

    /// Every text of up to `length` scalars over the alphabet.
    static func texts(upTo length: Int) -> [Scalars] { allTexts(over: alphabet, upTo: length) }

    @Test("the contiguous path (arrays, slices) gives the words the scalar-by-scalar path gives (a string's scalars)")
    func samePaths() {
        for text in Self.texts(upTo: 5) {
            let string = Py.string(text)
            let contiguous = Py.split(text)
            #expect(contiguous == Py.split(string.unicodeScalars), "\(text.map(\.value))")
            #expect(Py.split(text.dropFirst(0)) == contiguous)
            #expect(contiguous.count == Py.splitCount(text))
        }
    }

    @Test("Python's answers: Unicode spaces and the separators \\x1c–\\x1f split; a zero-width space does not")
    func python() {
        let words = Py.split(Array(" a\u{A0}b\u{1C}c\u{200B}d\u{2003}\n ".unicodeScalars)).map(Py.string)
        #expect(words == ["a", "b", "c\u{200B}d"])
        #expect(Py.split([]).isEmpty)
        // Control: splitting on the ASCII space alone gives other words.
        let naive = " a\u{A0}b".unicodeScalars.split(separator: " ").map { Py.string(Array($0)) }
        #expect(naive != Py.split(Array(" a\u{A0}b".unicodeScalars)).map(Py.string))
    }
}

@Suite("instruction: ScalarSet, the small set the strips and the tokenizer test against")
struct ScalarSetTests {
    @Test("holds exactly what a hash set of the same scalars holds, ASCII and not")
    func sameAsSet() {
        let members = Set("!\"#*.:;@[]{}\u{201C}\u{201D}\u{AB}\u{BB} ".unicodeScalars)
        let set = ScalarSet(members)
        for value in UInt32(0)...0x2100 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            #expect(set.contains(scalar) == members.contains(scalar), "\(value)")
        }
        // Control: a set missing one member differs on it.
        #expect(!ScalarSet(members.subtracting(["*"])).contains("*"))
        #expect(ScalarSet([]).contains("\u{0}") == false && ScalarSet(["\u{7F}"]).contains("\u{7F}"))
    }

    @Test("stripping with it is Python's strip(chars)")
    func strip() {
        #expect(Py.string(Py.strip(Array("\"*a, b!*\"".unicodeScalars), ["*", "\""])) == "a, b!")
        #expect(Py.string(Py.lstrip(Array("«»x»".unicodeScalars), ["«", "»"])) == "x»")
        #expect(Py.string(Py.rstrip(Array("x...!".unicodeScalars), asciiPunctuationSet)) == "x")
        #expect(Py.strip(Array("...".unicodeScalars), punctuationAndSpace).isEmpty)
    }
}
