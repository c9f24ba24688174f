// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// Builds `count` exact requests with integer ids; even ids pass, odd ids fail.
func exactRequests(_ count: Int, idOffset: Int = 0) -> String {
    (0..<count).map { index in
        let id = index + idOffset
        let response = id % 2 == 0 ? "\(id)" : "wrong"
        return "{\"id\":\(id),\"verifier\":\"exact\",\"response\":\"\(response)\",\"reference\":\"\(id)\"}\n"
    }.joined()
}

/// Checks that `lines` answer exactly the ids `range`, once each, with the right verdicts.
func expectExactAnswers(_ lines: [String], ids range: Range<Int>, sourceLocation: SourceLocation = #_sourceLocation) {
    var seen = Set<Int>()
    for line in lines {
        guard case .object(let answer)? = try? JSONParser.parse(line), let id = answer["id"]?.doubleValue else {
            Issue.record("not an answer: \(line)", sourceLocation: sourceLocation)
            continue
        }
        let number = Int(id)
        #expect(seen.insert(number).inserted, "id \(number) answered twice", sourceLocation: sourceLocation)
        #expect(answer["score"]?.doubleValue == (number % 2 == 0 ? 1 : 0), "id \(number)", sourceLocation: sourceLocation)
    }
    #expect(seen == Set(range), "answered \(seen.count) of \(range.count)", sourceLocation: sourceLocation)
}

/// The value of a row of the grade summary table.
func summaryValue(_ table: String, _ label: String) -> String? {
    for line in table.split(separator: "\n") where line.hasPrefix(label + " ") {
        return line.dropFirst(label.count).trimmingCharacters(in: .whitespaces)
    }
    return nil
}

@Suite("The arbiter command")
struct CommandTests {
    @Test("serve answers every request once, out of order by default", .timeLimit(.minutes(1)))
    func unordered() throws {
        let result = try runArbiter(["serve", "--jobs", "4"], input: Data(exactRequests(5000).utf8))
        #expect(result.status == 0)
        #expect(result.stdoutLines.count == 5000)
        expectExactAnswers(result.stdoutLines, ids: 0..<5000)
    }

    @Test("--ordered keeps input order", .timeLimit(.minutes(1)))
    func ordered() throws {
        let result = try runArbiter(["serve", "--ordered", "--jobs", "3"], input: Data(exactRequests(3000).utf8))
        let ids = result.stdoutLines.compactMap { try? JSONParser.parse($0).objectValue?["id"]?.doubleValue }
        #expect(ids == (0..<3000).map(Double.init))
    }

    @Test("stdin may be a regular file, and the last line may lack its newline", .timeLimit(.minutes(1)))
    func regularFile() throws {
        let directory = try Paths.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("requests.jsonl")
        var text = exactRequests(1000)
        text.removeLast()
        try text.write(to: file, atomically: true, encoding: .utf8)
        let result = try runArbiter(["serve"], stdinFile: file)
        #expect(result.status == 0, "stderr: \(result.stderrText)")
        expectExactAnswers(result.stdoutLines, ids: 0..<1000)
    }

    @Test("lines split across reads are reassembled", .timeLimit(.minutes(1)))
    func longLines() throws {
        let long = String(repeating: "x", count: 3 << 20)
        let input = "{\"id\":1,\"verifier\":\"exact\",\"response\":\"\(long)\",\"reference\":\"\(long)\"}\n"
            + "{\"id\":2,\"verifier\":\"exact\",\"response\":\"a\",\"reference\":\"a\"}\n"
        let result = try runArbiter(["serve", "--ordered"], input: Data(input.utf8))
        #expect(result.stdoutLines.count == 2)
        #expect(result.stdoutLines.first?.contains("\"reason\":\"equal\"") == true)
    }

    @Test("grade writes one answer per row in order and ends with a summary", .timeLimit(.minutes(1)))
    func grade() throws {
        let directory = try Paths.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("verdicts.jsonl")
        let demo = Paths.fixture("demo/exact.jsonl")
        let rows = try String(contentsOf: demo, encoding: .utf8).split(separator: "\n").count
        let result = try runArbiter(["grade", demo.path, "--output", output.path])
        #expect(result.status == 0, "stderr: \(result.stderrText)")
        let answers = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
        #expect(answers.count == rows)
        let summary = String(decoding: result.stdout, as: UTF8.self)
        #expect(summaryValue(summary, "rows") == "\(rows)", "\(summary)")
        #expect(summaryValue(summary, "verdicts") == "8")
        #expect(summaryValue(summary, "errors") == "3")
        #expect(summaryValue(summary, "pass rate") == "62.50%")
        #expect(summary.contains("mean score"))
        #expect(summary.contains("pass rate"))
        #expect(summary.contains("latency p99"))
        #expect(summary.contains("invalid_json"), "the demo file has a broken row")
        #expect(!result.stderrText.contains("rows/s  ETA"), "no progress bar when stderr is not a terminal")
        let ids = answers.compactMap { try? JSONParser.parse(String($0)).objectValue?["id"] }
        #expect(ids.count == rows)
    }

    @Test("grade --verifier grades rows that name no verifier; answers go to stdout, the summary to stderr")
    func gradeWithVerifier() throws {
        let input = "{\"id\":1,\"response\":\"a\",\"reference\":\"a\"}\n{\"id\":2,\"response\":\"a\",\"reference\":\"b\"}\n"
        let result = try runArbiter(["grade", "-", "--verifier", "exact"], input: Data(input.utf8))
        #expect(result.status == 0)
        #expect(result.stdoutLines.count == 2)
        #expect(result.stdoutLines[0].contains("\"passed\":true"))
        #expect(result.stdoutLines[1].contains("\"passed\":false"))
        #expect(summaryValue(result.stderrText, "pass rate") == "50.00%", "\(result.stderrText)")
    }

    @Test("grade rejects an unknown --verifier before reading anything")
    func gradeUnknownVerifier() throws {
        let result = try runArbiter(["grade", "-", "--verifier", "exatc"])
        #expect(result.status == 64)
        #expect(result.stderrText.contains("did you mean 'exact'?"))
    }

    @Test("check prints a readable verdict and exits 0 on pass, 2 on fail, 1 on error")
    func check() throws {
        let pass = try runArbiter(["check", "--verifier", "exact", "--reference", "42", "42"])
        #expect(pass.status == 0)
        #expect(String(decoding: pass.stdout, as: UTF8.self).contains("verdict   PASS"))
        let fail = try runArbiter([
            "check", "--verifier", "exact", "--reference", "Paris", "--option", "case_sensitive=true", "paris",
        ])
        #expect(fail.status == 2)
        #expect(String(decoding: fail.stdout, as: UTF8.self).contains("reason    not_equal"))
        let relaxed = try runArbiter([
            "check", "--verifier", "exact", "--reference", "Paris", "--option", "case_sensitive=false", "paris",
        ])
        #expect(relaxed.status == 0)
        let error = try runArbiter(["check", "--verifier", "exact", "--option", "trimm=true", "x"])
        #expect(error.status == 1)
        #expect(error.stderrText.contains("did you mean 'trim'?"))
        let negative = try runArbiter(["check", "--verifier", "exact", "--reference", "-2", "--", "-2"])
        #expect(negative.status == 0, "a reference may start with '-': \(negative.stderrText)")
        let stdin = try runArbiter(["check", "--verifier", "exact", "--reference", "from stdin", "--json", "-"],
                                   input: Data("from stdin\n".utf8))
        #expect(stdin.status == 0)
        #expect(stdin.stdoutLines.first?.hasPrefix("{\"id\":null,\"score\":1") == true)
    }

    @Test("list shows every verifier with its options and defaults")
    func list() throws {
        let text = try runArbiter(["list"])
        #expect(text.status == 0)
        let output = String(decoding: text.stdout, as: UTF8.self)
        #expect(output.contains("exact"))
        #expect(output.contains("--option trim=true"))
        #expect(output.contains("--option case_sensitive=true"))
        let json = try runArbiter(["list", "--json"])
        let parsed = try JSONParser.parse(json.stdout)
        let names = parsed.objectValue?["verifiers"]?.arrayValue?.compactMap { $0.objectValue?["name"] } ?? []
        #expect(names.contains(.string("exact")))
    }

    @Test("bad arguments exit 64 with a message", arguments: [
        ["serve", "--jobs", "0"], ["serve", "--listen", "http://x"], ["serve", "--listen", "tcp:127.0.0.1:99999"],
        ["serve", "--max-line", "1"], ["check", "--verifier", "exact", "--option", "novalue", "x"],
    ])
    func badArguments(_ arguments: [String]) throws {
        let result = try runArbiter(arguments)
        #expect(result.status == 64, "\(arguments)")
        #expect(result.stderrText.contains("Error"), "\(result.stderrText)")
    }
}
