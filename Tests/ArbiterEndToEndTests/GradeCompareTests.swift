// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// `arbiter grade --compare A.json B.json` on fixtures/grade, where the flips are known, and the configuration hash
/// every output row carries.
@Suite("arbiter grade: comparing two graders")
struct GradeCompareTests {
    let rows = Paths.fixture("grade/compare-rows.jsonl").path
    func side(_ name: String) -> String { Paths.fixture("grade/\(name).json").path }

    func compare(_ a: String, _ b: String) throws -> (JSONObject, [JSONObject], String) {
        let json = try Paths.scratch().appendingPathComponent("compare.json")
        let output = try Paths.scratch().appendingPathComponent("rows.jsonl")
        let result = try runArbiter([
            "grade", rows, "--compare", side(a), side(b), "--report-json", json.path, "--output", output.path,
            "--no-progress",
        ])
        #expect(result.status == 0, "\(result.stderrText)")
        let figures = try #require(try JSONParser.parse(try Data(contentsOf: json)).objectValue)
        var lines: [JSONObject] = []
        for line in try String(contentsOf: output, encoding: .utf8).split(separator: "\n") {
            lines.append(try #require(try JSONParser.parse(String(line)).objectValue))
        }
        return (figures, lines, String(decoding: result.stdout, as: UTF8.self))
    }

    func changes(_ figures: JSONObject) -> [String: Double] {
        var counts: [String: Double] = [:]
        for entry in figures["changes"]?.objectValue ?? [:] { counts[entry.key] = entry.value.doubleValue }
        return counts
    }

    @Test("option sets: case-insensitive comparison gains exactly the two rows that differ only in case")
    func optionSets() throws {
        let (figures, lines, table) = try compare("case-sensitive", "case-insensitive")
        #expect(changes(figures) == ["fail_to_pass": 2, "pass_to_fail": 0, "score_changed": 0, "error_changed": 0, "unchanged": 4])
        let group = try #require(figures["groups"]?.objectValue?["fail_to_pass"]?.arrayValue?.first?.objectValue)
        #expect(group["outcomes"] == "not_equal → equal" && group["count"] == 2)
        let ids = group["examples"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue }
        #expect(ids == ["case", "case2"])
        #expect(table.contains("fail → pass         2"))
        // Each output row holds both verdicts (A's first) and both configurations' hashes.
        #expect(lines.count == 6)
        let first = try #require(lines.first { $0["id"] == "case" })
        #expect(first["results"]?.arrayValue?.map { $0.objectValue?["passed"] } == [false, true])
        let hashes = try #require(first["config"]?.arrayValue).compactMap { $0.stringValue }
        #expect(hashes.count == 2 && hashes[0] != hashes[1] && hashes.allSatisfy { $0.count == 12 })
    }

    @Test("the reverse direction reports the same rows as lost; definitions compare like option sets")
    func reverseAndDefinitions() throws {
        let (reverse, _, _) = try compare("case-insensitive", "case-sensitive")
        #expect(changes(reverse)["pass_to_fail"] == 2 && changes(reverse)["fail_to_pass"] == 0)
        let (definitions, _, _) = try compare("exact-strict", "exact-loose")
        #expect(changes(definitions)["fail_to_pass"] == 2 && changes(definitions)["unchanged"] == 4)
    }

    @Test("negative control: the same configuration on both sides flips nothing")
    func sameOnBothSides() throws {
        let (figures, lines, _) = try compare("case-insensitive", "case-insensitive")
        #expect(changes(figures)["unchanged"] == 6 && changes(figures)["fail_to_pass"] == 0)
        let hashes = lines.first?["config"]?.arrayValue
        #expect(hashes?.count == 2 && hashes?[0] == hashes?[1])
    }

    @Test("the configuration hash changes with a definition's options, not with its summary, and is stable across runs")
    func configurationHash() throws {
        let directory = try Paths.scratch()
        let definition = directory.appendingPathComponent("mine.json")
        let data = try Paths.scratch().appendingPathComponent("rows.jsonl")
        try #"{"id":1,"verifier":"mine","response":"A","reference":"a"}"#.write(to: data, atomically: true, encoding: .utf8)
        func hash(_ text: String) throws -> String? {
            try text.write(to: definition, atomically: true, encoding: .utf8)
            let result = try runArbiter(["grade", data.path, "--verifiers", directory.path, "--keep", "id", "--no-progress"])
            return try JSONParser.parse(result.stdoutLines.first ?? "").objectValue?["config"]?.stringValue
        }
        let strict = try hash(#"{"kind":"exact","summary":"one","options":{"case_sensitive":true}}"#)
        let again = try hash(#"{"kind":"exact","summary":"one","options":{"case_sensitive":true}}"#)
        let renamed = try hash(#"{"kind":"exact","summary":"two","options":{"case_sensitive":true}}"#)
        let loose = try hash(#"{"kind":"exact","summary":"one","options":{"case_sensitive":false}}"#)
        #expect(strict != nil && strict == again, "stable across runs")
        #expect(strict == renamed, "the summary is not part of the rules")
        #expect(strict != loose, "other options, another hash")
    }

    @Test("bad --compare arguments are clear errors")
    func badArguments() throws {
        let one = try runArbiter(["grade", rows, "--compare", side("case-sensitive")])
        #expect(one.status == 64 && one.stderrText.contains("two files"))
        let notASide = try Paths.scratch().appendingPathComponent("x.json")
        try #"{"threshold": 1}"#.write(to: notASide, atomically: true, encoding: .utf8)
        let bad = try runArbiter(["grade", rows, "--compare", notASide.path, side("case-sensitive")])
        #expect(bad.status != 0 && bad.stderrText.contains("'threshold'"))
    }
}
