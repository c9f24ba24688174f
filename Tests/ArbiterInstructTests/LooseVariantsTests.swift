// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import ArbiterInstruct

@Suite("instruction: the loose variants, against IFEval's definition")
struct LooseVariantsTests {
    /// IFEval's eight variants written out plainly (Python's `split("\n")`, `"\n".join(...)`, `strip()`,
    /// `replace("*", "")`), each with its index, the blank ones and those equal to an earlier one left out.
    static func expected(_ text: Scalars) -> [(Int, Scalars)] {
        let lines = Py.split(text, separator: ["\n"])
        func join(_ part: ArraySlice<Scalars>) -> Scalars { Array(part.joined(separator: ["\n"])) }
        let noFirst = Py.strip(join(lines.dropFirst()))
        let noLast = Py.strip(join(lines.dropLast()))
        let noBoth = Py.strip(join(lines.dropFirst().dropLast()))
        let noStar = { (value: Scalars) in value.filter { $0 != "*" } }
        let all = [text, noStar(text), noFirst, noLast, noBoth, noStar(noFirst), noStar(noLast), noStar(noBoth)]
        var kept: [(Int, Scalars)] = []
        for (index, variant) in all.enumerated() {
            guard variant.contains(where: { !$0.isPySpace }), !all[..<index].contains(variant) else { continue }
            kept.append((index, variant))
        }
        return kept
    }

    static func made(_ text: Scalars) -> [(Int, Scalars)] {
        var variants = LooseVariants(Text(text), loose: true)
        var found: [(Int, Scalars)] = []
        var index = 0
        while let variant = variants.next(from: &index) {
            found.append((index, variant.scalars))
            index += 1
        }
        return found
    }

    @Test("every text of up to 7 scalars over 'a', '*', newline and space gets IFEval's checked variants in order")
    func exhaustive() {
        let alphabet: [Unicode.Scalar] = ["a", "*", "\n", " "]
        var layer: [Scalars] = [[]]
        var texts: [Scalars] = [[]]
        for _ in 0..<7 {
            layer = layer.flatMap { text in alphabet.map { text + [$0] } }
            texts += layer
        }
        for text in texts {
            let want = Self.expected(text)
            let got = Self.made(text)
            let same = got.map(\.0) == want.map(\.0) && got.map(\.1) == want.map(\.1)
            #expect(same, "\(Py.string(text).debugDescription)")
        }
    }

    @Test("the comparison sees a wrong variant (control: IFEval's list with one variant dropped differs)")
    func control() {
        let text = Array("*Title*\nbody\nend".unicodeScalars)
        let want = Self.expected(text)
        #expect(want.count > 3)
        #expect(Self.made(text).map(\.0) == want.map(\.0))
        #expect(Self.made(text).map(\.0) != Array(want.dropLast()).map(\.0))
    }

    @Test("withoutStars is filter { $0 != \"*\" } on every text of up to 6 scalars over 'a', '*', 'é' and a newline")
    func withoutStars() {
        var texts: [Scalars] = [[]]
        var layer: [Scalars] = [[]]
        for _ in 0..<6 {
            layer = layer.flatMap { text in ["a", "*", "é", "\n"].map { text + [$0] } }
            texts += layer
        }
        for text in texts {
            #expect(LooseVariants.withoutStars(text) == text.filter { $0 != "*" }, "\(text.map(\.value))")
        }
        // Control: the comparison sees a star left in.
        #expect(LooseVariants.withoutStars(["a", "*"]) != ["a", "*"])
    }
}
