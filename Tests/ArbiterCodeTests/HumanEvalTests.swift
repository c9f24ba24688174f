// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCode
import ArbiterCore
import Foundation
import Testing

/// One HumanEval problem of `fixtures/peer/humaneval.jsonl`.
struct HumanEvalProblem: Sendable {
    var id: String
    var prompt: String
    var solution: String
    var test: String
    var entryPoint: String

    /// The problems; throws (failing the test, never skipping it) when the file is missing.
    static func load() throws -> [HumanEvalProblem] {
        let url = repository.appendingPathComponent("fixtures/peer/humaneval.jsonl")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            let object = try JSONParser.parse(String(line)).objectValue ?? [:]
            return HumanEvalProblem(
                id: object["id"]?.stringValue ?? "", prompt: object["prompt"]?.stringValue ?? "",
                solution: object["canonical_solution"]?.stringValue ?? "", test: object["test"]?.stringValue ?? "",
                entryPoint: object["entry_point"]?.stringValue ?? "")
        }
    }

    /// The prompt's code without the entry point (its helpers, such as `encode_cyclic`, and imports): the reference's
    /// `setup`, installed after the response so that a response cannot redefine what the test calls.
    var setup: String {
        var chunks: [[Substring]] = []
        for line in prompt.split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = line.first, !first.isWhitespace, !line.hasPrefix(")") || chunks.isEmpty {
                chunks.append([line])
            } else if chunks.isEmpty {
                chunks.append([line])
            } else {
                chunks[chunks.count - 1].append(line)
            }
        }
        return chunks.filter { !($0.first?.hasPrefix("def \(entryPoint)(") ?? false) }
            .map { $0.joined(separator: "\n") }.joined(separator: "\n") + "\n"
    }

    var reference: JSONValue { ["test": .string(test), "entry_point": .string(entryPoint), "setup": .string(setup)] }
    var correct: String { "```python\n" + prompt + solution + "```\n" }
    /// The entry point's body replaced by `return None`.
    var mutant: String { "```python\n" + prompt + "    return None\n```\n" }
}

@Suite(
    "code: HumanEval conformance", .timeLimit(.minutes(3)),
    .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
struct HumanEvalTests {
    @Test("every reference solution passes and every `return None` mutant fails (164 + 164 sandboxed runs)")
    func conformance() async throws {
        let problems = try HumanEvalProblem.load()
        #expect(problems.count == 164)
        let outcomes = try await withThrowingTaskGroup(of: (String, Bool, Bool, String).self) { group in
            var results: [(String, Bool, Bool, String)] = []
            var next = 0
            func add(_ problem: HumanEvalProblem) {
                group.addTask {
                    let good = try await judge(problem.correct, problem.reference)
                    let bad = try await judge(problem.mutant, problem.reference)
                    return (problem.id, good.passed, bad.passed, good.passed ? "" : "\(good.details)")
                }
            }
            while next < min(4, problems.count) {
                add(problems[next])
                next += 1
            }
            while let result = try await group.next() {
                results.append(result)
                if next < problems.count {
                    add(problems[next])
                    next += 1
                }
            }
            return results
        }
        let refused = outcomes.filter { !$0.1 }
        let accepted = outcomes.filter { $0.2 }
        #expect(outcomes.count == 164)
        #expect(refused.isEmpty, "reference solutions that fail: \(refused.map { "\($0.0): \($0.3)" })")
        #expect(accepted.isEmpty, "mutants that pass: \(accepted.map(\.0))")
    }

    @Test("a response that redefines the prompt's helpers does not pass with the reference's setup (HumanEval/38, 50)")
    func helpersCannotBeRedefined() async throws {
        let problems = try HumanEvalProblem.load()
        for (id, helper) in [("HumanEval/38", "encode_cyclic"), ("HumanEval/50", "encode_shift")] {
            let problem = try #require(problems.first { $0.id == id })
            #expect(problem.setup.contains("def \(helper)(") && !problem.setup.contains("def \(problem.entryPoint)("))
            // Both functions the identity: the test's round trip holds only if its helper is the program's.
            let forged = "```python\ndef \(helper)(s):\n    return s\n\ndef \(problem.entryPoint)(s):\n    return s\n```\n"
            let verdict = try await judge(forged, problem.reference)
            #expect(!verdict.passed && verdict.reason == "wrong_answer", "\(id): \(verdict.details)")
            // Negative control: without the setup the forgery passes; the real solution passes with it.
            let bare: JSONValue = ["test": .string(problem.test), "entry_point": .string(problem.entryPoint)]
            #expect(try await judge(forged, bare).passed, "\(id)")
            #expect(try await judge(problem.correct, problem.reference).passed, "\(id)")
        }
    }

    @Test("setup: a bad one is an invalid reference for stdin/stdout tests and for languages without support")
    func setupErrors() async throws {
        await #expect(throws: ArbiterError.self) {
            _ = try await judge(fenced("print(1)"), ["tests": [["stdout": "1\n"]], "setup": "x = 1"])
        }
        await #expect(throws: ArbiterError.self) {
            _ = try await judge(fenced("print(1)"), ["test": "assert True", "setup": 3])
        }
        await #expect(throws: ArbiterError.self) {
            _ = try await judge(fenced("int main(){}", "c"), ["language": "c", "test": "int main(){}", "setup": "x"])
        }
    }
}
