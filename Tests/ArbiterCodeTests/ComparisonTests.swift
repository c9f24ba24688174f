// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCode
import ArbiterCore
import Foundation
import Testing

/// One case of `fixtures/code/comparison.jsonl`: an output, the expected output, a tolerance and whether they match.
struct ComparisonCase: CustomTestStringConvertible, Sendable {
    var note: String
    var output: String
    var expected: String
    var tolerance: Double
    var match: Bool
    var testDescription: String { note }

    static func load() throws -> [ComparisonCase] {
        try String(contentsOf: repository.appendingPathComponent("fixtures/code/comparison.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { line in
                let object = try JSONParser.parse(String(line)).objectValue ?? [:]
                return ComparisonCase(
                    note: object["note"]?.stringValue ?? "", output: object["output"]?.stringValue ?? "",
                    expected: object["expected"]?.stringValue ?? "",
                    tolerance: object["tolerance"]?.doubleValue ?? 1e-6,
                    match: object["match"]?.boolValue ?? false)
            }
    }
}

@Suite(
    "code: output comparison",
    .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
struct ComparisonTests {
    /// A Python program that prints the case's output verbatim, judged against its expected output.
    @Test(arguments: try ComparisonCase.load())
    func fixture(_ testCase: ComparisonCase) async throws {
        let program = "import sys\nsys.stdout.write(\(JSONValue.string(testCase.output).jsonText))"
        let verdict = try await judge(
            fenced(program), ["tests": [["stdin": "", "stdout": .string(testCase.expected)]]],
            ["float_tolerance": .double(testCase.tolerance)])
        #expect(verdict.passed == testCase.match, "\(verdict.details)")
        #expect(verdict.reason == (testCase.match ? "passed" : "wrong_answer"))
    }

    @Test("the fixtures cover matches and mismatches, with and without tolerance")
    func coverage() throws {
        let cases = try ComparisonCase.load()
        #expect(cases.contains { $0.match && $0.tolerance > 0 })
        #expect(cases.contains { !$0.match && $0.tolerance > 0 })
        #expect(cases.contains { !$0.match && $0.tolerance == 0 })
    }
}
