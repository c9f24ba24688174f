// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Testing

@testable import ArbiterInstruct

/// `PythonJSON.isValid` looks for `NaN` and `Infinity` in the UTF-8; these tests hold it to the form that looks for
/// them by characters (`String.contains`), on texts where the two searches can disagree.
@Suite("instruction: JSON as Python reads it")
struct PythonJSONTests {
    /// The earlier form: the words looked for with `String.contains`; `replacing` false leaves out the second parse.
    static func plainIsValid(_ text: String, replacing: Bool = true) -> Bool {
        var copy = text
        if copy.withUTF8({ JSONParser.isValid($0) }) { return true }
        guard replacing, text.contains("NaN") || text.contains("Infinity") else { return false }
        var replaced = text.replacingAll("-Infinity", "0").replacingAll("Infinity", "0").replacingAll("NaN", "0")
        return replaced.withUTF8 { JSONParser.isValid($0) }
    }

    static let fragments = [
        "NaN", "Infinity", "-", "[", "]", "\"", "\u{301}", "\u{200D}", "0", ",", " ", "N", "a", "{", ":", "}", "1e",
    ]

    /// Every text of up to 4 fragments.
    static var texts: [String] {
        var all = [""]
        var layer = [""]
        for _ in 0..<4 {
            layer = layer.flatMap { text in fragments.map { text + $0 } }
            all += layer
        }
        return all
    }

    @Test("the UTF-8 search gives the character search's answer on every text of up to 4 fragments")
    func sameAnswers() {
        var differing: [String] = []
        var valid = 0
        for text in Self.texts {
            let found = PythonJSON.isValid(text)
            if found != Self.plainIsValid(text) { differing.append(text) }
            if found { valid += 1 }
        }
        #expect(differing.isEmpty, "\(differing.prefix(5).map(\.debugDescription))")
        #expect(valid > 100)
    }

    @Test("the searches disagree on a word followed by a combining mark; the answers do not (control: the words matter)")
    func combiningMark() {
        let text = "[NaN\u{301}]"
        #expect(!text.contains("NaN"))
        #expect(PythonJSON.isValid(text) == Self.plainIsValid(text))
        #expect(PythonJSON.isValid("[NaN, -Infinity]"))
        #expect(!Self.plainIsValid("[NaN, -Infinity]", replacing: false))
    }
}
