// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Testing

@Suite("JSON field reader")
struct JSONFieldsTests {
    let fields = JSONFields(
        ["name": "sql", "empty": "", "n": 3, "x": 2.5, "flag": true, "list": ["a", "b"], "mixed": ["a", 1],
         "o": ["k": 1], "none": .null],
        context: "plugin 'sql': ")

    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch { return (error as? ArbiterError)?.message ?? "not an ArbiterError" }
    }

    @Test("fields of the right type are read; missing and null fields are nil")
    func reads() throws {
        #expect(try fields.string("name") == "sql")
        #expect(try fields.integer("n", in: 1...5) == 3)
        #expect(try fields.number("x") == 2.5)
        #expect(try fields.bool("flag") == true)
        #expect(try fields.strings("list") == ["a", "b"])
        #expect(try fields.stringOrStrings("name", what: "names") == ["sql"])
        #expect(try fields.object("o") == ["k": 1])
        #expect(try fields.string("absent") == nil && fields.string("none") == nil)
    }

    @Test("a wrong field is one uniform message: context, key, what it must be, what it is")
    func errors() {
        #expect(message { _ = try fields.string("n") } == "plugin 'sql': 'n' must be a string, got number")
        #expect(message { _ = try fields.requiredString("empty") } == "plugin 'sql': 'empty' must be a non-empty string, got string")
        #expect(message { _ = try fields.requiredString("absent") } == "plugin 'sql': 'absent' must be a non-empty string, it is missing")
        #expect(message { _ = try fields.integer("n", in: 4...9) } == "plugin 'sql': 'n' must be an integer from 4 to 9, got number")
        #expect(message { _ = try fields.integer("x", in: 0...9) } != nil, "2.5 is not an integer")
        #expect(message { _ = try fields.strings("mixed") } == "plugin 'sql': 'mixed' must be an array of strings, got array")
        #expect(message { _ = try fields.bool("name") } == "plugin 'sql': 'name' must be true or false, got string")
    }
}
