// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Testing

@testable import ArbiterInstruct

/// The details a verdict writes into the daemon's answer.
func writtenDetails(_ verdict: Verdict) -> [UInt8] {
    var writer = JSONWriter()
    verdict.writeDetails(into: &writer)
    return writer.bytes
}

/// Whether JSON text is exactly what ``JSONWriter`` writes for the value it parses to (compact, same order).
func isCanonical(_ text: [UInt8]) -> Bool {
    guard let value = try? JSONParser.parse(text) else { return false }
    var writer = JSONWriter()
    writer.write(value)
    return writer.bytes == text
}

@Suite("instruction: details written as JSON text")
struct WrittenDetailsTests {
    @Test("the check catches text the writer would not write (control)")
    func control() {
        #expect(isCanonical(Array(#"{"a":[1,"x"],"b":true}"#.utf8)))
        #expect(!isCanonical(Array(#"{"a": [1,"x"],"b":true}"#.utf8)))
        #expect(!isCanonical(Array(#"{"a":"\u0041"}"#.utf8)))
    }

    @Test("every fixture case's details, in both modes and hardened, are the writer's own text of its details")
    func everyFixture() async throws {
        for item in try AgreedCase.load() {
            for options: JSONObject in [["mode": .string(item.mode)], ["mode": .string(item.mode), "hardened": true]] {
                let verdict = try await judge(
                    row([item.id], [item.kwargs]), item.response, prompt: item.prompt, options)
                let text = writtenDetails(verdict)
                #expect(isCanonical(text), "\(item.testDescription)")
                var writer = JSONWriter()
                writer.write(verdict.details)
                #expect(writer.bytes == text, "\(item.testDescription)")
                #expect(followed(verdict) == item.followed, "\(item.testDescription)")
            }
        }
    }

    @Test("the text is the object the details stand for, key by key (several instructions, a variant, hardening)")
    func object() async throws {
        let reference = row(
            ["startend:quotation", "length_constraints:number_words"],
            [.object([:]), .object(["num_words": 50, "relation": "at least"])])
        let response = "Here is my answer:\n\"The whole\u{200B} answer is quoted.\""
        let verdict = try await judge(reference, response, ["mode": "loose", "hardened": true])
        let expected: JSONObject = [
            "instructions": [
                [
                    "id": "startend:quotation", "followed": true, "why": "wrapped in double quotes",
                    "variant": "without first line",
                ],
                ["id": "length_constraints:number_words", "followed": false, "why": "9 words, needs at least 50"],
            ],
            "followed": 1, "total": 2, "mode": "loose",
            "hardened": [
                "invisible_dropped": 1, "compatibility_folded": 0, "look_alikes_folded": 0, "commas_folded": 0,
            ],
        ]
        var writer = JSONWriter()
        writer.write(expected)
        let written = String(decoding: writtenDetails(verdict), as: UTF8.self)
        #expect(written == String(decoding: writer.bytes, as: UTF8.self))
        #expect(verdict.details == expected)
        #expect(verdict.score == 0.5 && verdict.reason == "some_followed")
    }
}
