// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Testing

/// `JSONParser.valueEnd` (the daemon's check of a value it does not build) accepts exactly what `parse` accepts, and
/// `JSONParser.string(in:at:)` decodes a string as `parse` does.
@Suite("JSON value skipping")
struct JSONSkipTests {
    /// Texts on each side of every rule: grammar, escapes, UTF-8, numbers, nesting.
    static let texts: [[UInt8]] = {
        var texts: [[UInt8]] = [
            "{}", "[]", "[1,2]", "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}", "{ \"a\" : 1 , \"a\" : 2 }", "[ ]", "{ }",
            "\"x\"", "\"\"", "true", "false", "null", "0", "-0", "1.5e-3", "1E+2", "123", "-12.5",
            "01", "1.", "-", ".5", "1e", "1e+", "+1", "tru", "nul", "falsey", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}",
            "{\"a\":1,}", "{1:2}", "{\"a\" 1}", "[1 2]", "[", "{", "\"abc", "]", "}", "",
            "\"a\\nb\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u00e9\"", "\"\\uD83D\\uDE00\"", "\"\\ud800\"",
            "\"\\ud800\\u0041\"", "\"\\ud800\\uZZZZ\"", "\"\\u12\"", "\"\\uZZZZ\"", "\"\\q\"", "\"\\\"", "\"a\\",
            "\"café\"", "\"日本\"", "\"😀\"", "[\"a\\n\",\"é\"]",
        ].map { Array($0.utf8) }
        // Raw bytes a string may not hold, alone and next to escapes: control characters, invalid or truncated UTF-8
        // (an overlong form, an encoded surrogate, past U+10FFFF, a lone continuation byte, a cut sequence).
        let bad: [[UInt8]] = [[0x01], [0x1F], [0x0A], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80],
                              [0xE2, 0x82], [0xFF], [0xC3]]
        let good: [[UInt8]] = [[0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0x7F], [0x20]]
        for bytes in bad + good {
            let quote = UInt8(ascii: "\"")
            texts.append([quote] + bytes + [quote])
            texts.append([quote] + Array("a\\n".utf8) + bytes + [quote])
            texts.append([quote] + bytes + Array("\\n".utf8) + [quote])
            texts.append([quote] + [0xC3] + Array("\\u00a9".utf8) + bytes + [quote])  // a cut sequence before an escape
            texts.append(Array("{\"k\":[".utf8) + [quote] + bytes + [quote] + Array("]}".utf8))
        }
        // Nesting at the limit and one past it.
        for depth in [JSONParser.maximumDepth, JSONParser.maximumDepth + 1] {
            texts.append(Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth))
        }
        return texts
    }()

    @Test("valueEnd and isValid accept exactly the values parse accepts, and valueEnd ends where they end")
    func agreesWithParse() {
        var accepted = 0
        for text in Self.texts {
            let parsed = (try? JSONParser.parse(text)) != nil
            let end = text.withUnsafeBufferPointer { JSONParser.valueEnd(in: $0, at: 0, depth: 0) }
            // parse also accepts surrounding whitespace; these texts have none, so a whole value must end at the end.
            #expect((end == text.count) == parsed, "\(String(decoding: text, as: UTF8.self).debugDescription)")
            if parsed { accepted += 1 }
            // isValid: the same answer, with whitespace around the value too.
            #expect(text.withUnsafeBufferPointer { JSONParser.isValid($0) } == parsed)
            let spaced = Array(" \n".utf8) + text + Array("\t ".utf8)
            #expect(spaced.withUnsafeBufferPointer { JSONParser.isValid($0) } == ((try? JSONParser.parse(spaced)) != nil))
        }
        // Negative control: the corpus holds both kinds.
        #expect(accepted > 20 && accepted < Self.texts.count - 20)
    }

    @Test("valueEnd stops after the value and counts the enclosing depth")
    func endAndDepth() {
        let text = Array(#"{"a":[1,"x]"]} , "rest""#.utf8)
        #expect(text.withUnsafeBufferPointer { JSONParser.valueEnd(in: $0, at: 0, depth: 0) } == 14)
        let nested = Array(repeating: UInt8(ascii: "["), count: 10) + Array(repeating: UInt8(ascii: "]"), count: 10)
        #expect(nested.withUnsafeBufferPointer { JSONParser.valueEnd(in: $0, at: 0, depth: JSONParser.maximumDepth - 10) } == 20)
        #expect(nested.withUnsafeBufferPointer { JSONParser.valueEnd(in: $0, at: 0, depth: JSONParser.maximumDepth - 9) } == nil)
    }

    @Test("string(in:at:) decodes as parse does and ends after the closing quote")
    func strings() throws {
        for text in Self.texts where text.first == UInt8(ascii: "\"") {
            let parsed = try? JSONParser.parse(text)
            let read = text.withUnsafeBufferPointer { JSONParser.string(in: $0, at: 0) }
            if case .string(let expected)? = parsed {
                #expect(read?.text == expected && read?.end == text.count)
            } else {
                #expect(read == nil, "\(String(decoding: text, as: UTF8.self).debugDescription)")
            }
        }
        let line = Array(#"x "a\"b" y"#.utf8)
        let read = try #require(line.withUnsafeBufferPointer { JSONParser.string(in: $0, at: 2) })
        #expect(read.text == "a\"b" && read.end == 8)
        #expect(line.withUnsafeBufferPointer { JSONParser.string(in: $0, at: 0) } == nil)  // not at a quote
    }
}
