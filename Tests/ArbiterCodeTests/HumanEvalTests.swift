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

    var reference: JSONValue { ["test": .string(test), "entry_point": .string(entryPoint)] }
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
}
