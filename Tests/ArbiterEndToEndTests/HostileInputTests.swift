// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// Answers that killed `arbiter serve` (a trap from a forced unwrap, a stack overflow) or earned a false reward,
/// sent through the real daemon: each gets a failing verdict and the daemon answers the next line.
@Suite("serve: hostile answers neither crash the daemon nor pay")
struct HostileInputTests {
    /// Verifier, response and reference of each hostile request.
    static let hostile: [(String, String, String)] = [
        ("math", "The answer is $\\frac1.5$.", "1"), ("math", "The answer is $\\frac1e308$.", "1"),
        ("math", "The answer is $\\dfrac1.5$.", "1"), ("math", "The answer is $\\tfrac1.5$.", "1"),
        ("math", "The answer is $\\binom1.5$.", "1"), ("math", "$\\boxed{\\frac1٣}$", "1"),
        ("math", "\\boxed{3" + String(repeating: "!", count: 5_000) + "}", "3"),
        ("math", "\\boxed{" + String(repeating: "\\frac", count: 3_000) + "12}", "1"),
        ("math", "\\boxed{" + String(repeating: "\\sqrt", count: 3_000) + "4}", "2"),
        ("math", "V" + String(repeating: "!", count: 110) + "x^V", "42"),
        ("math", "\\boxed{2^1e99999}", "1"), ("math", "\\boxed{1.5e400}", "1.2e400"),
        ("math", "\\boxed{e^{-1000}}", "e^{-2000}"),
        ("exact", "42" + String(repeating: "\n", count: 64_000) + "x", "42"),
    ]

    static func line(_ id: String, _ verifier: String, _ response: String, _ reference: String) -> String {
        var writer = JSONWriter()
        writer.write(JSONValue.object(["id": .string(id), "verifier": .string(verifier), "response": .string(response),
            "reference": .string(reference)]))
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test("every hostile line gets a failing verdict and the line after it is answered", .timeLimit(.minutes(1)))
    func survives() throws {
        var lines: [String] = []
        for (index, (verifier, response, reference)) in Self.hostile.enumerated() {
            lines.append(Self.line("hostile-\(index)", verifier, response, reference))
            lines.append(Self.line("next-\(index)", "exact", "42", "42"))
        }
        // Control: a correct answer of the same shapes still pays, in the same stream.
        lines.append(Self.line("control", "math", "The answer is $\\frac12$, or $\\boxed{\\frac{1}{2}}$.", "0.5"))
        let result = try runArbiter(["serve", "--ordered"], input: Data((lines.joined(separator: "\n") + "\n").utf8))
        #expect(result.reason == .exit && result.status == 0, "stderr: \(result.stderrText.suffix(2000))")
        var answers: [String: JSONObject] = [:]
        for text in result.stdoutLines {
            let object = try #require(try JSONParser.parse(text).objectValue)
            answers[object["id"]?.stringValue ?? ""] = object
        }
        #expect(answers.count == lines.count)
        for index in Self.hostile.indices {
            let answer = answers["hostile-\(index)"]
            #expect(answer?["error"] == nil, "hostile-\(index): \(String(describing: answer))")
            #expect(answer?["passed"] == .bool(false), "hostile-\(index): \(String(describing: answer))")
            #expect(answers["next-\(index)"]?["passed"] == .bool(true), "next-\(index) after hostile-\(index)")
        }
        #expect(answers["control"]?["passed"] == .bool(true))
    }
}
