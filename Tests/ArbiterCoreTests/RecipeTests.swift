// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// A verifier whose verdict is set by its options, and which counts its runs.
struct FixedVerifier: Verifier {
    struct Configuration: VerifierConfiguration {
        static let options: [OptionSpec] = [
            OptionSpec("score", .number(-10...10), default: 1, "The score."),
            OptionSpec("passed", .boolean, default: true, "Whether it passes."),
            OptionSpec("counter", .string(choices: []), default: "", "A run counter to bump."),
        ]
        let score: Double
        let passed: Bool
        let counter: String
        init(options: OptionValues) {
            score = options.double("score")
            passed = options.bool("passed")
            counter = options.string("counter")
        }
    }

    static let name = "fixed"
    static let summary = "A fixed verdict, for tests."
    static let runs = RunCounter()

    let configuration: Configuration

    init(configuration: Configuration) { self.configuration = configuration }

    func verify(_ sample: Sample) async throws -> Verdict {
        if !configuration.counter.isEmpty { Self.runs.bump(configuration.counter) }
        if sample.reference == "bad" { throw ArbiterError(.invalidReference, "bad reference") }
        return Verdict(
            score: configuration.score, passed: configuration.passed, reason: configuration.passed ? "ok" : "not_ok",
            details: ["response": .string(sample.response)])
    }
}

final class RunCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    func bump(_ key: String) { lock.withLock { counts[key, default: 0] += 1 } }
    func count(_ key: String) -> Int { lock.withLock { counts[key, default: 0] } }
}

@Suite("Recipes")
struct RecipeTests {
    /// Loads definition files (name → text) from a fresh directory into a registry that knows `exact` and `fixed`.
    static func load(_ files: [String: String]) throws -> (VerifierRegistry, [String: DefinitionProblem]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("recipes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        var registry = VerifierRegistry.builtin
        registry.register(FixedVerifier.self)
        let problems = VerifierDefinitions.load(from: directory, into: &registry)
        return (
            registry,
            Dictionary(uniqueKeysWithValues: problems.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0) })
        )
    }

    static func judge(
        _ registry: VerifierRegistry, _ name: String, options: JSONObject? = nil, response: String = "r",
        reference: JSONValue = "x"
    ) async throws -> Verdict {
        let verifier = try registry.entry(named: name).verifier(options: options)
        return try await verifier.verify(Sample(response: response, reference: reference))
    }

    @Test("the score is the weighted sum; passed needs every component; components carry each part")
    func weightedSum() async throws {
        let (registry, problems) = try Self.load([
            "mix.json": #"""
            {"kind": "recipe", "components": [
              {"name": "a", "verifier": "fixed", "weight": 2, "options": {"score": 0.5}},
              {"name": "b", "verifier": "fixed", "weight": 0.25, "options": {"score": 1}},
              {"name": "c", "verifier": "fixed", "weight": -1, "options": {"score": 0.5, "passed": false}}
            ]}
            """#
        ])
        #expect(problems.isEmpty, "\(problems)")
        let verdict = try await Self.judge(registry, "mix")
        #expect(verdict.score == 2 * 0.5 + 0.25 * 1 - 1 * 0.5)
        #expect(!verdict.passed)
        #expect(verdict.reason == "c_not_ok")
        let components = try #require(verdict.components)
        #expect(components.keys == ["a", "b", "c"])
        #expect(components["a"]?.objectValue?["score"]?.doubleValue == 0.5)
        #expect(components["a"]?.objectValue?["weight"]?.doubleValue == 2)
        #expect(components["a"]?.objectValue?["passed"] == true)
        #expect(components["c"]?.objectValue?["reason"] == "not_ok")
        #expect(components["b"]?.objectValue?["details"]?.objectValue?["response"] == "r")
        #expect(verdict.details["max_score"]?.doubleValue == 2.25)

        let allPass = try await Self.judge(registry, "mix", options: ["c": ["passed": true]])
        #expect(allPass.passed && allPass.reason == "all_passed")
        // Request options go over the recipe's, key by key: c keeps its score 0.5.
        #expect(allPass.components?["c"]?.objectValue?["score"]?.doubleValue == 0.5)
    }

    @Test("a gated component counts only when its gate passed, and is not run otherwise")
    func gates() async throws {
        let (registry, problems) = try Self.load([
            "gated.json": #"""
            {"kind": "recipe", "components": [
              {"name": "format", "verifier": "fixed", "weight": 1, "options": {"score": 0, "passed": false}},
              {"name": "accuracy", "verifier": "fixed", "weight": 1, "requires": "format",
               "options": {"score": 1, "counter": "gated-accuracy"}}
            ]}
            """#
        ])
        #expect(problems.isEmpty, "\(problems)")
        let before = FixedVerifier.runs.count("gated-accuracy")
        let closed = try await Self.judge(registry, "gated")
        #expect(closed.score == 0)
        #expect(closed.reason == "format_not_ok")
        #expect(closed.components?["accuracy"]?.objectValue?["reason"] == "gated")
        #expect(closed.components?["accuracy"]?.objectValue?["score"]?.doubleValue == 0)
        #expect(FixedVerifier.runs.count("gated-accuracy") == before)

        let open = try await Self.judge(registry, "gated", options: ["format": ["score": 1, "passed": true]])
        #expect(open.score == 2)
        #expect(open.passed)
        #expect(FixedVerifier.runs.count("gated-accuracy") == before + 1)
    }

    @Test("a recipe using itself, or a cycle of recipes, is a fatal problem")
    func cycles() throws {
        let (registry, problems) = try Self.load([
            "self.json": #"{"kind": "recipe", "components": [{"verifier": "exact"}, {"name": "again", "verifier": "self"}]}"#,
            "ping.json": #"{"kind": "recipe", "components": [{"verifier": "pong"}]}"#,
            "pong.json": #"{"kind": "recipe", "components": [{"verifier": "ping"}]}"#,
            "fine.json": #"{"kind": "recipe", "components": [{"verifier": "exact"}]}"#,
        ])
        #expect(Set(problems.keys) == ["self.json", "ping.json", "pong.json"])
        #expect(problems.values.allSatisfy { $0.isFatal })
        #expect(problems["ping.json"]?.reason.contains("cycle") == true)
        #expect(registry.names.contains("fine"))
        #expect(!registry.names.contains("ping"))
    }

    @Test("broken recipes are reported, not fatal", arguments: [
        (#"{"kind": "recipe"}"#, "non-empty array"),
        (#"{"kind": "recipe", "components": [{"verifier": "nope"}]}"#, "no verifier named 'nope'"),
        (#"{"kind": "recipe", "components": [{"verifier": "exact", "wieght": 1}]}"#, "unknown key 'wieght'"),
        (#"{"kind": "recipe", "components": [{"verifier": "exact", "requires": "later"}, {"name": "later", "verifier": "exact"}]}"#, "not an earlier component"),
        (#"{"kind": "recipe", "components": [{"verifier": "exact"}, {"verifier": "exact"}]}"#, "unique"),
        (#"{"kind": "recipe", "components": [{"verifier": "exact", "options": {"trimm": true}}]}"#, "did you mean 'trim'"),
        (#"{"kind": "recipe", "components": [{"verifier": "exact"}], "options": {}}"#, "unknown key 'options'"),
    ])
    func broken(_ text: String, _ message: String) throws {
        let (registry, problems) = try Self.load(["broken.json": text])
        let problem = try #require(problems["broken.json"])
        #expect(problem.reason.contains(message), "\(problem.reason)")
        #expect(!problem.isFatal)
        #expect(!registry.names.contains("broken"))
    }

    @Test("request options reach a component; an unknown component is invalid_options")
    func requestOptions() async throws {
        let (registry, _) = try Self.load([
            "pair.json": #"{"kind": "recipe", "components": [{"name": "same", "verifier": "exact"}]}"#
        ])
        #expect(try await Self.judge(registry, "pair", response: " x ").score == 1)
        #expect(try await Self.judge(registry, "pair", options: ["same": ["trim": false]], response: " x ").score == 0)
        #expect(throws: ArbiterError.self) { try registry.entry(named: "pair").verifier(options: ["sam": [:]]) }
        do {
            _ = try registry.entry(named: "pair").verifier(options: ["same": ["trimm": true]])
            Issue.record("expected invalid_options")
        } catch {
            #expect(error.code == .invalidOptions)
            #expect(error.message.contains("component 'same'"))
        }
    }

    @Test("a component with \"reference\": false runs without the sample's reference")
    func withoutReference() async throws {
        let (registry, problems) = try Self.load([
            "split.json": #"""
            {"kind": "recipe", "components": [
              {"name": "uses", "verifier": "exact"},
              {"name": "ignores", "verifier": "fixed", "reference": false}
            ]}
            """#
        ])
        #expect(problems.isEmpty, "\(problems)")
        // `fixed` throws invalid_reference for the reference "bad"; without the reference it is not reached.
        let verdict = try await Self.judge(registry, "split", response: "bad", reference: "bad")
        #expect(verdict.components?["uses"]?.objectValue?["passed"] == true)
        #expect(verdict.components?["ignores"]?.objectValue?["passed"] == true)
        let (_, broken) = try Self.load([
            "b.json": #"{"kind": "recipe", "components": [{"verifier": "exact", "reference": "no"}]}"#
        ])
        #expect(broken["b.json"]?.reason.contains("'reference' must be true or false") == true)
    }

    @Test("recipes nest; an invalid reference is the caller's error; list shows the components")
    func nestingAndErrors() async throws {
        let (registry, problems) = try Self.load([
            "inner.json": #"{"kind": "recipe", "components": [{"name": "x", "verifier": "fixed", "options": {"score": 0.5}}]}"#,
            "outer.json": #"{"kind": "recipe", "components": [{"name": "in", "verifier": "inner", "weight": 4}]}"#,
        ])
        #expect(problems.isEmpty, "\(problems)")
        let verdict = try await Self.judge(registry, "outer")
        #expect(verdict.score == 2)
        #expect(verdict.components?["in"]?.objectValue?["components"]?.objectValue?["x"] != nil)
        await #expect(throws: ArbiterError.self) { try await Self.judge(registry, "outer", reference: "bad") }
        let listed = try registry.entry(named: "outer").jsonObject
        #expect(listed["kind"] == "recipe")
        #expect(listed["components"]?.arrayValue?.first?.objectValue?["verifier"] == "inner")
    }
}
