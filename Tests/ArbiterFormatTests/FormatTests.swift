// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterFormat
import ArbiterRegex
import Foundation
import Testing

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures")

let registry: VerifierRegistry = {
    var registry = VerifierRegistry.builtin
    registry.registerFormatVerifiers(patterns: PatternCache())
    return registry
}()

/// Runs a verifier by name with options on a sample.
func judge(
    _ name: String, _ options: JSONObject = [:], response: String, reference: JSONValue = .null, prompt: String? = nil
) async throws -> Verdict {
    let verifier = try registry.entry(named: name).verifier(options: options)
    return try await verifier.verify(Sample(response: response, reference: reference, prompt: prompt))
}

/// One case of `fixtures/format/think-format.jsonl`.
struct ThinkCase: CustomTestStringConvertible, Sendable {
    var note: String
    var mode: String
    var response: String
    var prompt: String?
    var passed: Bool
    var reason: String
    var testDescription: String { "\(mode): \(note)" }

    static func load() throws -> [ThinkCase] {
        try String(contentsOf: fixtures.appendingPathComponent("format/think-format.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { line in
                let object = try JSONParser.parse(String(line)).objectValue ?? [:]
                return ThinkCase(
                    note: object["note"]?.stringValue ?? "", mode: object["mode"]?.stringValue ?? "",
                    response: object["response"]?.stringValue ?? "", prompt: object["prompt"]?.stringValue,
                    passed: object["passed"]?.boolValue ?? false, reason: object["reason"]?.stringValue ?? "")
            }
    }
}

@Suite("think-format")
struct ThinkFormatTests {
    @Test(arguments: try ThinkCase.load())
    func fixture(_ testCase: ThinkCase) async throws {
        let verdict = try await judge(
            "think-format", ["mode": .string(testCase.mode)], response: testCase.response, prompt: testCase.prompt)
        #expect(verdict.passed == testCase.passed)
        #expect(verdict.reason == testCase.reason)
        #expect(verdict.score == (testCase.passed ? 1 : 0))
    }

    @Test("the fixtures cover both modes with positives and negatives")
    func coverage() throws {
        let cases = try ThinkCase.load()
        for mode in ["think", "answer"] {
            #expect(cases.contains { $0.mode == mode && $0.passed })
            #expect(cases.contains { $0.mode == mode && !$0.passed })
        }
    }

    @Test("the extracted answer is in details")
    func answerDetail() async throws {
        let verdict = try await judge(
            "think-format", ["mode": "answer"], response: "<think>x</think>\n<answer>\n 42 \n</answer>")
        #expect(verdict.details["answer"] == .string("42"))
    }

    @Test("custom tag names")
    func customTags() async throws {
        let options: JSONObject = ["mode": "answer", "think_tag": "reasoning", "answer_tag": "final"]
        #expect(try await judge("think-format", options, response: "<reasoning>r</reasoning><final>1</final>").passed)
        #expect(try await !judge("think-format", options, response: "<think>r</think><answer>1</answer>").passed)
        await #expect(throws: ArbiterError.self) {
            try await judge("think-format", ["think_tag": "a b"], response: "")
        }
    }

    @Test("oversized or too many tag names are invalid_options, never a crash")
    func hostileTagOptions() async {
        let long = String(repeating: "a", count: 70_000)
        await #expect(throws: ArbiterError.self) { try await judge("think-format", ["think_tag": .string(long)], response: "x") }
        let many = JSONValue.array((0..<8000).map { .string("t\($0)") })
        await #expect(throws: ArbiterError.self) { try await judge("tag-count", ["tags": many], response: "x") }
    }

    @Test("a megabyte-long unclosed output is judged in one linear scan")
    func longUnclosed() async throws {
        let response = "<think>\n" + String(repeating: "still thinking about it. ", count: 40_000)
        let verdict = try await judge("think-format", ["mode": "answer"], response: response)
        #expect(verdict.reason == "unclosed_think")
    }

    @Test("r1-format from verifiers/ is think-format in answer mode")
    func declared() async throws {
        var registry = registry
        let problems = VerifierDefinitions.load(
            from: fixtures.deletingLastPathComponent().appendingPathComponent("verifiers"), into: &registry)
        // Other files there need verifiers from other modules (math, plugins); this test is about r1-format.
        #expect(problems.filter { $0.path.hasSuffix("r1-format.json") }.isEmpty, "\(problems)")
        let verifier = try registry.entry(named: "r1-format").verifier(options: nil)
        #expect(try await !verifier.verify(Sample(response: "<think>r</think> 4")).passed)
        #expect(try await verifier.verify(Sample(response: "<think>r</think><answer>4</answer>")).passed)
    }
}

@Suite("regex, tag-count, repetition, length and steps")
struct OtherFormatTests {
    @Test("regex: search, full, expect and named groups")
    func regex() async throws {
        let search = try await judge("regex", ["pattern": "(?<n>\\d+)"], response: "x = 42;")
        #expect(search.passed && search.reason == "match")
        #expect(search.details["groups"] == .object(["n": "42"]))
        #expect(search.details["start"] == .int(4))
        #expect(try await !judge("regex", ["pattern": "\\d+", "mode": "full"], response: "x = 42").passed)
        #expect(try await judge("regex", ["pattern": "\\d+", "mode": "full"], response: "42").passed)
        #expect(try await judge("regex", ["pattern": "DRAFT", "expect": "no_match"], response: "done").passed)
        #expect(try await !judge("regex", ["pattern": "DRAFT", "expect": "no_match"], response: "a DRAFT").passed)
        #expect(try await judge("regex", ["pattern": "hello", "flags": ["caseless"]], response: "HELLO").passed)
    }

    @Test("regex: a catastrophic pattern answers match_limit")
    func regexLimit() async throws {
        let verdict = try await judge(
            "regex", ["pattern": "(a+)+$"], response: String(repeating: "a", count: 50_000) + "b")
        #expect(verdict.reason == "match_limit")
        #expect(verdict.score == 0)
    }

    @Test("regex: bad patterns and flags are invalid_options with PCRE2's message", arguments: [
        ["pattern": "a("] as JSONObject, ["pattern": "a", "flags": ["global"]], [:], ["pattern": ""],
    ])
    func regexErrors(_ options: JSONObject) async {
        do {
            _ = try await judge("regex", options, response: "a")
            Issue.record("accepted \(options)")
        } catch let error as ArbiterError {
            #expect(error.code == .invalidOptions)
            if options["pattern"] == "a(" { #expect(error.message.contains("missing closing parenthesis at offset 2")) }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("tag-count gives partial credit per well-formed tag")
    func tagCount() async throws {
        #expect(try await judge("tag-count", response: "<think>a</think><answer>b</answer>").score == 1)
        let half = try await judge("tag-count", response: "<think>a</think> b")
        #expect(half.score == 0.5)
        #expect(half.details["tags"] == .object(["think": "ok", "answer": "missing"]))
        #expect(try await judge("tag-count", response: "<think>a</think><think>b</think>").score == 0)
        #expect(try await judge("tag-count", response: "</think>a<think>").score == 0)
        #expect(try await judge("tag-count", response: "<Think>a</Think><answer>b</answer>").score == 0.5)
        #expect(try await judge("tag-count", ["tags": ["a", "b", "c", "d"]], response: "<a>1</a><b>2</b><c>").score == 0.5)
    }

    @Test("tag-count pays nothing for empty tags or tags inside a code fence (negative control: the same with content, unfenced)")
    func tagCountRefusesHollowTags() async throws {
        let empty = try await judge("tag-count", response: "<think>\n</think>\n<answer> </answer>")
        #expect(empty.score == 0 && empty.details["tags"] == .object(["think": "empty", "answer": "empty"]))
        let fenced = try await judge("tag-count", response: "```\n<think>a</think>\n<answer>b</answer>\n```")
        #expect(fenced.score == 0 && fenced.details["tags"] == .object(["think": "fenced", "answer": "fenced"]))
        let unclosedFence = try await judge("tag-count", response: "<think>a</think>\n~~~\n<answer>b</answer>")
        #expect(unclosedFence.details["tags"] == .object(["think": "ok", "answer": "fenced"]))
        let control = try await judge("tag-count", response: "<think>a</think>\n```\ncode\n```\n<answer>b</answer>")
        #expect(control.score == 1, "a fence between the tags does not hide them")
    }

    @Test("repetition: 0 for varied text, down to -max_penalty for loops")
    func repetition() async throws {
        #expect(try await judge("repetition", response: "the quick brown fox jumps over the lazy dog").score == 0)
        let loop = try await judge("repetition", response: String(repeating: "and then ", count: 200))
        #expect(loop.score < -0.95 && loop.score >= -1)
        #expect(!loop.passed)
        let scaled = try await judge("repetition", ["max_penalty": 0.5], response: String(repeating: "la ", count: 100))
        #expect(scaled.score >= -0.5 && scaled.score < -0.45)
        #expect(try await judge("repetition", response: "too short").reason == "too_short")
        #expect(try await judge("repetition", response: String(repeating: "!", count: 500)).score < -0.95)
        #expect(try await judge("repetition", response: String(repeating: "🙂 ", count: 100)).score < -0.95)
        let chinese = try await judge("repetition", ["n": 2], response: String(repeating: "好的", count: 50))
        #expect(chinese.details["units"] == .int(100), "characters are the units of Chinese")
        #expect(chinese.score < -0.9)
    }

    @Test("length overlong: DAPO's soft penalty")
    func overlong() async throws {
        let options: JSONObject = ["max_length": 100, "cache_length": 20]
        #expect(try await judge("length", options, response: String(repeating: "a", count: 80)).score == 0)
        #expect(try await judge("length", options, response: String(repeating: "a", count: 90)).score == -0.5)
        #expect(try await judge("length", options, response: String(repeating: "a", count: 100)).score == -1)
        #expect(try await judge("length", options, response: String(repeating: "a", count: 101)).score == -1)
        let words = try await judge("length", ["unit": "words", "max_length": 4, "cache_length": 1], response: "a b c d")
        #expect(words.score == -1)
        await #expect(throws: ArbiterError.self) {
            try await judge("length", ["max_length": 10, "cache_length": 10], response: "")
        }
    }

    @Test("length cosine: shorter is better when right, longer is less bad when wrong")
    func cosine() async throws {
        let options: JSONObject = ["mode": "cosine", "max_length": 100]
        let shortRight = try await judge("length", options, response: "", reference: true).score
        let longRight = try await judge("length", options, response: String(repeating: "a", count: 100), reference: ["correct": true]).score
        let shortWrong = try await judge("length", options, response: "", reference: false).score
        let longWrong = try await judge("length", options, response: String(repeating: "a", count: 200), reference: false).score
        #expect(shortRight == 1)
        #expect(abs(longRight - 0.5) < 1e-9)
        #expect(shortWrong == -1)
        #expect(abs(longWrong + 0.5) < 1e-9)
        await #expect(throws: ArbiterError.self) { try await judge("length", options, response: "x") }
    }

    @Test("steps counts markers")
    func steps() async throws {
        let text = "Step 1: read.\nStep 2: add.\n3. check\n- note\nFirst, we see. Finally, done."
        let verdict = try await judge("steps", ["k": 6], response: text)
        #expect(verdict.details["markers"] == .int(6))
        #expect(verdict.score == 1)
        let few = try await judge("steps", response: "The answer is 4.")
        #expect(few.score == 0 && few.reason == "few_steps")
        #expect(try await judge("steps", response: "1. a\n2. b").score == 2.0 / 3.0)
        #expect(try await judge("steps", response: "- \n- \n- \n1) \n1) ").score == 0, "empty markers earn nothing")
        let markdown = "**Step 1:** read.\n### Step 2: add\n## 3. check"
        #expect(try await judge("steps", response: markdown).details["markers"] == .int(3))
    }
}

@Suite("Verifier definitions")
struct DefinitionTests {
    @Test("good files load, broken ones are reported with path and reason, the rest still load")
    func loading() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("defs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = [
            "yes.json": #"{"kind": "regex", "options": {"pattern": "^yes$"}}"#,
            "strict-yes.json": #"{"kind": "yes", "options": {"flags": ["caseless"]}}"#,
            "broken.json": "{not json",
            "unknown-kind.json": #"{"kind": "nope"}"#,
            "bad-option.json": #"{"kind": "exact", "options": {"trimm": true}}"#,
            "collision.json": #"{"name": "exact", "kind": "exact"}"#,
            "cycle-a.json": #"{"kind": "cycle-b"}"#,
            "cycle-b.json": #"{"kind": "cycle-a"}"#,
            "extra-key.json": #"{"kind": "exact", "weight": 2}"#,
        ]
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        var registry = registry
        let problems = VerifierDefinitions.load(from: directory, into: &registry)
        let reasons = Dictionary(uniqueKeysWithValues: problems.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0.reason) })
        #expect(Set(reasons.keys) == ["broken.json", "unknown-kind.json", "bad-option.json", "collision.json", "cycle-a.json", "cycle-b.json", "extra-key.json"])
        #expect(reasons["unknown-kind.json"]?.contains("no verifier named 'nope'") == true)
        #expect(reasons["bad-option.json"]?.contains("did you mean 'trim'?") == true)
        #expect(reasons["collision.json"]?.contains("already exists") == true)
        #expect(reasons["cycle-a.json"]?.contains("cycle") == true)
        #expect(registry.names.contains("yes") && registry.names.contains("strict-yes"))
        let strict = try registry.entry(named: "strict-yes").verifier(options: nil)
        _ = strict
        #expect(try registry.entry(named: "strict-yes").options.first { $0.name == "pattern" }?.defaultValue == "^yes$")
    }
}
