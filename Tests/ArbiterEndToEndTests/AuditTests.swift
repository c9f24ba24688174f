// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// `arbiter audit`: every built-in verifier and recipe resists the attack library; a deliberately weak plugin
/// (fixtures/audit/substring.py) does not, and the report names the attacks that beat it.
@Suite("arbiter audit", .serialized)
struct AuditTests {
    static let names: [String] = {
        guard let result = try? runArbiter(["list", "--json"]),
            let listed = try? JSONParser.parse(String(decoding: result.stdout, as: UTF8.self))
        else { return [] }
        let entries = listed.objectValue?["verifiers"]?.arrayValue ?? listed.arrayValue ?? []
        return entries.compactMap { $0.objectValue?["name"]?.stringValue }
    }()

    func audit(_ arguments: [String]) throws -> (ProcessResult, JSONObject) {
        let result = try runArbiter(["audit"] + arguments + ["--json"])
        let object = try JSONParser.parse(String(decoding: result.stdout, as: UTF8.self)).objectValue ?? [:]
        return (result, object)
    }

    @Test("the verifier list is read", .timeLimit(.minutes(1)))
    func listed() {
        #expect(Self.names.contains("math") && Self.names.contains("r1") && Self.names.count >= 14)
    }

    @Test("every built-in verifier, definition and recipe: controls pass, no attack is paid", arguments: names)
    func builtin(_ name: String) throws {
        let (result, report) = try audit([name])
        #expect(report["samples"]?.doubleValue ?? 0 >= 1, "'\(name)' has no built-in sample: add one to verifiers/attacks/samples.jsonl")
        #expect(report["failed_controls"]?.arrayValue?.isEmpty == true, "\(report["failed_controls"] ?? .null)")
        #expect(report["paid"]?.arrayValue?.isEmpty == true, "paid: \(report["paid"] ?? .null)")
        let runs = report["attacks"]?.arrayValue?.compactMap { $0.objectValue?["runs"]?.doubleValue }.reduce(0, +) ?? 0
        #expect(runs >= 1, "at least one attack ran against '\(name)'")
        #expect(result.status == 0, "\(result.stderrText)")
    }

    @Test("a weak plugin that pays any response containing the reference: the audit names the hacks and exits 1")
    func weakPlugin() throws {
        let (result, report) = try audit([
            "substring", "--verifiers", Paths.fixture("audit").path, "--samples",
            Paths.fixture("audit/math-samples.jsonl").path, "--family", "math",
        ])
        #expect(result.status == 1)
        let paid = Set(report["paid"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        #expect(paid.isSuperset(of: ["hedge_or", "hedge_list", "several_boxes", "prompt_echo", "huge_enumeration"]), "\(paid)")
        // Negative control: the weak grader still refuses what holds no reference at all.
        #expect(paid.isDisjoint(with: ["empty", "whitespace", "judge_address"]), "\(paid)")
        // The same plugin given as a file (--plugin) instead of through a verifiers directory, in text form.
        let text = try runArbiter([
            "audit", "--plugin", Paths.fixture("audit/substring.json").path, "--samples",
            Paths.fixture("audit/math-samples.jsonl").path, "--family", "math",
        ])
        #expect(text.status == 1)
        #expect(String(decoding: text.stdout, as: UTF8.self).contains("PAID: hedge_or"))
    }

    @Test("the same samples against math: nothing is paid (the weak plugin's findings are its own)")
    func sameSamplesAgainstMath() throws {
        let (result, report) = try audit(["math", "--samples", Paths.fixture("audit/math-samples.jsonl").path])
        #expect(result.status == 0, "paid: \(report["paid"] ?? .null)")
    }

    @Test("a control that fails makes the audit inconclusive (exit 2), whatever the attacks do")
    func failedControl() throws {
        let (result, report) = try audit([
            "substring", "--verifiers", Paths.fixture("audit").path, "--samples",
            Paths.fixture("audit/bad-control.jsonl").path,
        ])
        #expect(result.status == 2)
        #expect(report["failed_controls"]?.arrayValue?.count == 1)
    }

    @Test("attacks are data: --attacks adds one, and it runs")
    func extraAttacks() throws {
        let file = try Paths.scratch().appendingPathComponent("mine.jsonl")
        try #"{"name": "answer_in_comment", "families": ["math"], "summary": "The right answer in a LaTeX comment, a wrong one boxed.", "response": "% {answer}\n\\boxed{{wrong}}"}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let arguments = ["--samples", Paths.fixture("audit/math-samples.jsonl").path, "--attacks", file.path]
        let (weak, weakReport) = try audit(
            ["substring", "--verifiers", Paths.fixture("audit").path, "--family", "math"] + arguments)
        #expect(weak.status == 1 && weakReport["paid"]?.arrayValue?.contains("answer_in_comment") == true)
        let (strong, strongReport) = try audit(["math"] + arguments)
        #expect(strong.status == 0, "paid: \(strongReport["paid"] ?? .null)")
        let ran = strongReport["attacks"]?.arrayValue?.first { $0.objectValue?["name"] == "answer_in_comment" }
        #expect(ran?.objectValue?["runs"] == 2)
    }
}
