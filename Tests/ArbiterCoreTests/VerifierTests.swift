// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// One case of `fixtures/core/exact.jsonl`.
struct ExactCase: CustomTestStringConvertible, Sendable {
    var note: String
    var response: String
    var reference: JSONValue
    var options: JSONObject
    var score: Double

    var testDescription: String { note }

    static func load() throws -> [ExactCase] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures/core/exact.jsonl")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            let object = try JSONParser.parse(String(line)).objectValue ?? [:]
            return ExactCase(
                note: object["note"]?.stringValue ?? "", response: object["response"]?.stringValue ?? "",
                reference: object["reference"] ?? .null, options: object["options"]?.objectValue ?? [:],
                score: object["score"]?.doubleValue ?? -1)
        }
    }
}

@Suite("Verifier protocol, options and the exact verifier")
struct VerifierTests {
    let registry = VerifierRegistry.builtin

    @Test(arguments: try ExactCase.load())
    func exact(_ testCase: ExactCase) async throws {
        let verifier = try registry.entry(named: "exact").verifier(options: testCase.options)
        let verdict = try await verifier.verify(Sample(response: testCase.response, reference: testCase.reference))
        #expect(verdict.score == testCase.score)
        #expect(verdict.passed == (testCase.score == 1))
        #expect(verdict.reason == (testCase.score == 1 ? "equal" : "not_equal"))
    }

    @Test("the fixture file has cases")
    func fixtureLoaded() throws {
        #expect(try ExactCase.load().count >= 10)
    }

    @Test("a reference that is not a string or number is invalid_reference", arguments: [
        JSONValue.null, .bool(true), .array([]), .object([:]),
    ])
    func badReference(_ reference: JSONValue) async throws {
        let verifier = try registry.entry(named: "exact").defaultVerifier.get()
        await #expect(throws: ArbiterError.self) {
            try await verifier.verify(Sample(response: "a", reference: reference))
        }
        do {
            _ = try await verifier.verify(Sample(response: "a", reference: reference))
        } catch let error as ArbiterError {
            #expect(error.code == .invalidReference)
        }
    }

    @Test("unknown options suggest the nearest name; wrong types say what was expected")
    func optionErrors() throws {
        let entry = try registry.entry(named: "exact")
        #expect(throws: ArbiterError.self) { try entry.verifier(options: ["Trim": .bool(true)]) }
        do {
            _ = try entry.verifier(options: ["Trim": .bool(true)])
        } catch {
            #expect(error.code == .invalidOptions)
            #expect(error.message == "verifier 'exact' has no option 'Trim' (did you mean 'trim'?)")
        }
        do {
            _ = try entry.verifier(options: ["trim": .int(1)])
            Issue.record("an integer was accepted for a boolean option")
        } catch {
            #expect(error.message == "option 'trim' of verifier 'exact' must be a boolean, got 1")
        }
    }

    @Test("option kinds validate types and ranges")
    func optionKinds() throws {
        let specs = [
            OptionSpec("n", .integer(1...10), default: .int(3), "An integer."),
            OptionSpec("x", .number(0...1), default: .double(0.5), "A number."),
            OptionSpec("mode", .string(choices: ["a", "b"]), default: .string("a"), "A choice."),
            OptionSpec("tags", .stringList, default: .array([]), "Strings."),
        ]
        let values = try OptionValues(["n": .double(4.0), "mode": .string("b")], specs: specs, verifier: "t")
        #expect(values.int("n") == 4)
        #expect(values.double("x") == 0.5)
        #expect(values.string("mode") == "b")
        #expect(values.strings("tags") == [])
        let bad: [JSONObject] = [
            ["n": .int(11)], ["n": .double(2.5)], ["x": .double(1.5)], ["x": .string("1")], ["mode": .string("c")],
            ["tags": .array([.int(1)])],
        ]
        for options in bad {
            #expect(throws: ArbiterError.self, "\(options)") { try OptionValues(options, specs: specs, verifier: "t") }
        }
    }

    @Test("unknown verifiers suggest the nearest name")
    func unknownVerifier() {
        do {
            _ = try registry.entry(named: "Exact")
            Issue.record("found a verifier that does not exist")
        } catch {
            #expect(error.code == .unknownVerifier)
            #expect(error.message == "no verifier named 'Exact' (did you mean 'exact'?)")
        }
    }

    @Test("every registered verifier documents its options")
    func documented() {
        for entry in registry.all {
            #expect(!entry.summary.isEmpty)
            for option in entry.options { #expect(!option.summary.isEmpty, "\(entry.name).\(option.name)") }
        }
    }

    @Test("name suggestions", arguments: [
        ("maht", ["math", "exact"], "math"), ("exatc", ["math", "exact"], "exact"), ("xyzzy", ["math", "exact"], nil),
        ("think_format", ["think-format", "tag-count"], "think-format"),
    ])
    func suggestion(name: String, candidates: [String], expected: String?) {
        #expect(NameSuggestion.nearest(to: name, in: candidates) == expected)
    }
}
