// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// `arbiter grade --report/--report-json`: the figures of a dataset whose verdicts are known. (The HTML page itself
/// is checked in a real browser by Tests/browser/test_report_page.py.)
@Suite("arbiter grade: the report")
struct GradeReportTests {
    func write(_ text: String, _ name: String) throws -> URL {
        let file = try Paths.scratch().appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    func exactRow(_ id: Int, _ response: String, _ reference: String) -> String {
        #"{"id":\#(id),"verifier":"exact","response":"\#(response)","reference":"\#(reference)"}"#
    }

    /// Seven equal rows, two different, one with a reference `exact` cannot use, one line that is not JSON.
    func dataset() throws -> URL {
        var lines = (1...7).map { exactRow($0, "a\($0)", "a\($0)") }
        lines += [exactRow(8, "41", "42"), exactRow(9, "x", "y")]
        lines.append(#"{"id":10,"verifier":"exact","response":"x","reference":{"an":"object"}}"#)
        lines.append("not json")
        return try write(lines.joined(separator: "\n") + "\n", "rows.jsonl")
    }

    func report(_ file: URL, output: URL? = nil) throws -> (JSONObject, ProcessResult) {
        let json = try Paths.scratch().appendingPathComponent("report.json")
        let output = try output ?? Paths.scratch().appendingPathComponent("answers.jsonl")
        let result = try runArbiter(
            ["grade", file.path, "--report-json", json.path, "--output", output.path, "--no-progress"])
        #expect(result.status == 0, "\(result.stderrText)")
        let figures = try #require(try JSONParser.parse(try Data(contentsOf: json)).objectValue)
        return (figures, result)
    }

    @Test("counts, mean, pass rate, histogram and groups are those of the dataset; examples are capped at five")
    func figures() throws {
        let (figures, result) = try report(try dataset())
        let summary = try #require(figures["summary"]?.objectValue)
        #expect(summary["rows"] == 11 && summary["verdicts"] == 9 && summary["errors"] == 2 && summary["passed"] == 7)
        #expect(abs((summary["mean_score"]?.doubleValue ?? 0) - 7.0 / 9.0) < 1e-6)
        let bins = try #require(figures["histogram"]?.arrayValue).map { $0.objectValue?["count"]?.doubleValue ?? -1 }
        #expect(bins == [2, 0, 0, 0, 0, 0, 0, 0, 0, 7], "two zeros in the first bin, seven ones in the last")
        let reasons = try #require(figures["reasons"]?.arrayValue).compactMap(\.objectValue)
        #expect(reasons.map { $0["name"]?.stringValue } == ["equal", "not_equal"], "largest group first")
        #expect(reasons[0]["count"] == 7 && reasons[0]["examples"]?.arrayValue?.count == 5, "at most five examples")
        let firstExample = try #require(reasons[0]["examples"]?.arrayValue?.first?.objectValue)
        #expect(firstExample["row"] == 1 && firstExample["id"] == 1 && firstExample["response"] == "a1")
        let errors = try #require(figures["errors"]?.arrayValue).compactMap(\.objectValue)
        #expect(Set(errors.compactMap { $0["name"]?.stringValue }) == ["invalid_reference", "invalid_json"])
        #expect(
            errors.first { $0["name"] == "invalid_json" }?["examples"]?.arrayValue?.first?.objectValue?["row"] == 11,
            "an unreadable line is an example of its error, at its row")
        let latency = try #require(figures["latency_ms"]?.objectValue)
        #expect((latency["p50"]?.doubleValue ?? -1) >= 0 && (latency["max"]?.doubleValue ?? -1) >= (latency["p50"]?.doubleValue ?? 0))
        // The terminal's summary table prints the same figures.
        let table = String(decoding: result.stdout, as: UTF8.self)
        #expect(table.contains("rows         11") && table.contains("errors       2") && table.contains("mean score   0.7778"))
    }

    @Test("asking for a report does not change the answers (negative control: a dataset option numbers the rows)")
    func answersUnchanged() throws {
        let file = try dataset()
        let output = try Paths.scratch().appendingPathComponent("answers.jsonl")
        _ = try report(file, output: output)
        let withReport = try String(contentsOf: output, encoding: .utf8)
        let plain = try runArbiter(["grade", file.path, "--no-progress"])
        let strip = { (text: String) in
            // Timings differ run to run; with a report an unreadable line's message also names its line.
            text.split(separator: "\n").map { $0.replacing(/,"ms":[0-9.e-]+/, with: "").replacing(#/line [0-9]+: /#, with: "") }
        }
        #expect(strip(withReport) == strip(String(decoding: plain.stdout, as: UTF8.self)))
        #expect(strip(withReport).count == 11)
        let kept = try runArbiter(["grade", file.path, "--keep", "id", "--no-progress"])
        #expect(kept.stdoutLines.first?.hasPrefix(#"{"row":1,"#) == true, "the control: --keep numbers rows")
        #expect(withReport.hasPrefix(#"{"id":1,"#))
    }

    @Test("a recipe's components are averaged per recipe and component")
    func components() throws {
        let row = { (id: Int, response: String) in
            #"{"id":\#(id),"verifier":"r1-zero","response":"\#(response)","reference":"2"}"#
        }
        let file = try write(
            [row(1, "<think>a</think> \\\\boxed{2}"), row(2, "no tags \\\\boxed{2}")].joined(separator: "\n") + "\n",
            "recipe.jsonl")
        let (figures, _) = try report(file)
        let components = try #require(figures["components"]?.arrayValue).compactMap(\.objectValue)
        let names = components.compactMap { $0["name"]?.stringValue }
        #expect(!names.isEmpty && names.allSatisfy { $0.hasPrefix("r1-zero/") }, "\(names)")
        #expect(components.allSatisfy { $0["count"] == 2 })
    }
}
