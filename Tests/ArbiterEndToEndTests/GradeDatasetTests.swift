// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// `arbiter grade` on datasets as they come: mapped fields, CSV/TSV, gzip, kept columns, error rows.
@Suite("arbiter grade: datasets as they come")
struct GradeDatasetTests {
    func answers(_ result: ProcessResult) throws -> [JSONObject] {
        try result.stdoutLines.map { try #require(try JSONParser.parse($0).objectValue) }
    }

    func write(_ text: String, _ name: String) throws -> URL {
        let file = try Paths.scratch().appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test("--map with a dotted path; a row missing a mapped field and an unreadable line are error rows in place")
    func mappedJSONLines() throws {
        let file = try write(
            """
            {"id":"a","completion":"\\\\boxed{2}","reward_model":{"ground_truth":"2"}}
            {"id":"b","completion":"\\\\boxed{3}"}
            not json
            {"id":"c","completion":"\\\\boxed{5}","reward_model":{"ground_truth":"4"}}

            """, "rows.jsonl")
        let result = try runArbiter([
            "grade", file.path, "--verifier", "math", "--map", "response=completion,reference=reward_model.ground_truth",
        ])
        #expect(result.status == 0)
        let rows = try answers(result)
        #expect(rows.map { $0["row"]?.doubleValue } == [1, 2, 3, 4], "one answer per row, in order, never a skip")
        #expect(rows[0]["id"] == "a" && rows[0]["passed"] == true)
        #expect(rows[1]["error"]?.objectValue?["message"]?.stringValue?.contains("'reward_model.ground_truth'") == true)
        #expect(rows[2]["error"]?.objectValue?["code"] == "invalid_json")
        #expect(rows[3]["id"] == "c" && rows[3]["passed"] == false)
        #expect(result.stderrText.contains("errors       2"), "the summary counts the error rows")
    }

    @Test("negative control: without --map the same rows have no 'response' and every one is an error")
    func unmappedRowsFail() throws {
        let file = try write(#"{"id":"a","completion":"\\boxed{2}","answer":"2"}"# + "\n", "rows.jsonl")
        let rows = try answers(try runArbiter(["grade", file.path, "--verifier", "math"]))
        #expect(rows.count == 1)
        #expect(rows[0]["error"]?.objectValue?["message"]?.stringValue?.contains("response") == true)
    }

    @Test("CSV with a header: quoted fields with commas, quotes and newlines; --keep copies columns")
    func csv() throws {
        let file = try write(
            "question,completion,answer,source\n\"What is 6*7?\",\"The answer is \\boxed{42}\",42,gsm\n"
                + "\"Sum, please\",\"I think \"\"43\"\"\nfinal: 43\",44,mine\n", "rows.csv")
        let rows = try answers(
            try runArbiter([
                "grade", file.path, "--verifier", "math", "--map", "response=completion,reference=answer,prompt=question",
                "--keep", "source",
            ]))
        #expect(rows.count == 2)
        #expect(rows[0]["source"] == "gsm" && rows[0]["passed"] == true)
        #expect(rows[1]["source"] == "mine" && rows[1]["passed"] == false)
        #expect(rows[1]["details"]?.objectValue?["extracted"] == "43", "the quoted newline stayed inside the field")
    }

    @Test("gzip-compressed JSON lines give the same answers as the plain file; TSV from stdin")
    func gzipAndTSV() throws {
        let file = try write(#"{"completion":"7","answer":"7"}"# + "\n" + #"{"completion":"8","answer":"9"}"# + "\n", "rows.jsonl")
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-k", file.path]
        try gzip.run()
        gzip.waitUntilExit()
        let arguments = ["--verifier", "exact", "--map", "response=completion,reference=answer"]
        let plain = try answers(try runArbiter(["grade", file.path] + arguments)).map { $0["passed"] }
        let compressed = try answers(try runArbiter(["grade", file.path + ".gz"] + arguments)).map { $0["passed"] }
        #expect(plain == [true, false])
        #expect(compressed == plain)
        let tsv = try runArbiter(["grade", "-", "--format", "tsv"] + arguments, input: Data("completion\tanswer\n7\t7\n".utf8))
        #expect(try answers(tsv).map { $0["passed"] } == [true])
    }

    @Test("a bad --map is refused before anything runs")
    func badMap() throws {
        let result = try runArbiter(["grade", "-", "--map", "answer=reference"])
        #expect(result.status == 64)
        #expect(result.stderrText.contains("not a request field"))
    }
}
