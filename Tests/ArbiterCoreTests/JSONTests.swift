// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Testing

@Suite("JSON reader and writer")
struct JSONTests {
    @Test(
        "valid documents round-trip to compact JSON",
        arguments: [
            ("{}", "{}"),
            ("[]", "[]"),
            (" { \"a\" : [ 1 , -2.5e3 , true , false , null ] } ", "{\"a\":[1,-2.5e3,true,false,null]}"),
            ("\"line\\nbreak \\\"q\\\" \\\\ \\/ \\t\"", "\"line\\nbreak \\\"q\\\" \\\\ / \\t\""),
            ("\"\\u0001\\u001f\"", "\"\\u0001\\u001f\""),
            ("\"caf\\u00e9\"", "\"café\""),
            ("\"\\ud83d\\ude00\"", "\"😀\""),
            ("123456789012345678901234567890", "123456789012345678901234567890"),
            ("0.10", "0.10"),
            ("-0", "-0"),
            ("{\"a\":1,\"a\":2}", "{\"a\":2}"),
        ])
    func roundTrip(input: String, output: String) throws {
        #expect(try JSONParser.parse(input).jsonText == output)
    }

    @Test(
        "invalid documents are invalid_json",
        arguments: [
            "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{'a':1}", "NaN", "Infinity", "01", "1.", ".5", "1e", "+1",
            "\"abc", "\"a\tb\"", "\"\\x\"", "\"\\u12\"", "{\"a\" 1}", "[1 2]", "tru", "nul", "{} {}", "[1]]",
            "\u{FEFF}{}",
        ])
    func invalid(input: String) {
        #expect(throws: ArbiterError.self) { try JSONParser.parse(input) }
        do {
            _ = try JSONParser.parse(input)
        } catch {
            #expect(error.code == .invalidJSON)
            #expect(error.message.contains("at byte"))
        }
    }

    @Test("invalid UTF-8 inside a string is rejected")
    func invalidUTF8() {
        let bytes: [UInt8] = [0x22, 0x61, 0xFF, 0x62, 0x22]
        #expect(throws: ArbiterError.self) { try JSONParser.parse(bytes) }
        let truncated: [UInt8] = [0x22, 0xE2, 0x82, 0x22]
        #expect(throws: ArbiterError.self) { try JSONParser.parse(truncated) }
    }

    @Test("a lone surrogate escape becomes U+FFFD, as Python produces them from model output")
    func loneSurrogate() throws {
        #expect(try JSONParser.parse("\"a\\ud800b\"") == .string("a\u{FFFD}b"))
        #expect(try JSONParser.parse("\"\\udc00\"") == .string("\u{FFFD}"))
    }

    @Test("nesting is limited so that no line can exhaust the stack")
    func depthLimit() throws {
        let ok = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: ArbiterError.self) { try JSONParser.parse(deep) }
    }

    @Test("objects with many repeated keys parse in linear time and keep the last value")
    func manyKeys() throws {
        var text = "{"
        for index in 0..<50_000 { text += "\"k\(index % 1000)\":\(index)," }
        text += "\"end\":true}"
        guard case .object(let object) = try JSONParser.parse(text) else {
            Issue.record("not an object")
            return
        }
        #expect(object.count == 1001)
        #expect(object["k999"] == .number(JSONNumber(literal: "49999")))
    }

    @Test("the leading id of an oversized line", arguments: [
        ("{\"id\": 42, \"verifier\"", "42"),
        ("  {\"id\":\"abc\",", "\"abc\""),
        ("{\"id\": {\"a\": [1, 2]}}", "{\"a\":[1,2]}"),
    ])
    func leadingID(prefix: String, id: String) {
        #expect(JSONParser.leadingID(Array(prefix.utf8))?.jsonText == id)
    }

    @Test("no leading id when it is not the first key or is cut", arguments: [
        "{\"verifier\": \"x\", \"id\": 1}", "{\"id\": \"unterminated", "{\"id\": 12", "[1]", "", "{Xid\":7,",
    ])
    func noLeadingID(prefix: String) {
        #expect(JSONParser.leadingID(Array(prefix.utf8)) == nil)
    }

    @Test("numbers and milliseconds are written compactly")
    func numbers() {
        var writer = JSONWriter()
        writer.write(double: 1)
        writer.byte(UInt8(ascii: " "))
        writer.write(double: 0.25)
        writer.byte(UInt8(ascii: " "))
        writer.write(double: .nan)
        writer.byte(UInt8(ascii: " "))
        writer.write(milliseconds: 0.0424)
        writer.byte(UInt8(ascii: " "))
        writer.write(milliseconds: 12.5)
        writer.byte(UInt8(ascii: " "))
        writer.write(milliseconds: 3)
        writer.byte(UInt8(ascii: " "))
        writer.write(int: -17)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "1 0.25 null 0.042 12.5 3 -17")
    }

    @Test("JSONNumber reads integers, including integral decimals")
    func numberValues() {
        #expect(JSONNumber(literal: "3").int == 3)
        #expect(JSONNumber(literal: "3.0").int == 3)
        #expect(JSONNumber(literal: "3.5").int == nil)
        #expect(JSONNumber(literal: "1e400").int == nil)
        #expect(JSONNumber(2.0).literal == "2")
    }
}
