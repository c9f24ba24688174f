// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// The shipped definitions (`verifiers/`: r1-zero, sql, …) through the real binary.
@Suite("Shipped recipes and the sql plugin, through arbiter serve")
struct PluginDaemonTests {
    static let verifiers = Paths.root.appendingPathComponent("verifiers").path
    static let schema =
        "CREATE TABLE t(id INTEGER, name TEXT, score REAL); INSERT INTO t VALUES (1,'ann',2.5),(2,'bob',1.0),(3,'cy',3.25);"

    static func sql(_ id: Int, _ query: String, gold: String, options: String = "{}") -> String {
        let request: JSONValue = [
            "id": .int(id), "verifier": "sql", "response": .string("Here it is:\n```sql\n\(query)\n```"),
            "reference": ["schema": .string(schema), "query": .string(gold)],
            "options": (try? JSONParser.parse(options)) ?? [:],
        ]
        return request.jsonText
    }

    static func answers(_ lines: [String]) throws -> [JSONObject] {
        try lines.map { try #require(try JSONParser.parse($0).objectValue) }
    }

    @Test("sql: same rows pass (as a multiset unless the gold query orders); wrong, failing or runaway SQL scores 0")
    func sqlVerdicts() throws {
        let requests = [
            Self.sql(1, "SELECT name FROM t WHERE score > 2", gold: "SELECT name FROM t WHERE score >= 2.5"),
            Self.sql(2, "SELECT name FROM t ORDER BY id DESC", gold: "SELECT name FROM t"),
            Self.sql(3, "SELECT name FROM t ORDER BY id DESC", gold: "SELECT name FROM t ORDER BY id"),
            Self.sql(4, "SELECT name FROM t WHERE id < 3", gold: "SELECT name FROM t"),
            Self.sql(5, "DELETE FROM t", gold: "SELECT 1"),
            Self.sql(
                6, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
                gold: "SELECT 1", options: #"{"max_steps": 100000}"#),
            Self.sql(7, "SELECT sum(score) FROM t", gold: "SELECT 6.75"),
            Self.sql(8, "SELECT name FROM t", gold: "SELEC name FROM t"),
            Self.sql(9, "ATTACH DATABASE '/tmp/x.db' AS x", gold: "SELECT 1"),
            #"{"id": 10, "verifier": "sql", "response": "no code here", "reference": {"schema": "", "query": "SELECT 1"}}"#,
        ]
        let result = try runArbiter(
            ["serve", "--ordered", "--verifiers", Self.verifiers],
            input: Data((requests.joined(separator: "\n") + "\n").utf8))
        #expect(result.status == 0, "\(result.stderrText)")
        let answers = try Self.answers(result.stdoutLines)
        #expect(answers.count == requests.count)
        let reasons = answers.map { $0["reason"]?.stringValue ?? $0["error"]?.objectValue?["code"]?.stringValue ?? "?" }
        #expect(
            reasons == [
                "same_rows", "same_rows", "wrong_order", "wrong_rows", "sql_error", "budget", "same_rows",
                "invalid_reference", "sql_error", "no_sql",
            ])
        #expect(answers[0]["score"]?.doubleValue == 1)
        #expect(answers[3]["score"]?.doubleValue == 0)
        #expect(answers[3]["details"]?.objectValue?["missing"] == [["cy"]])
    }

    /// Process ids whose parent is `parent`.
    static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.range(of: ")", options: .backwards)
            else { return false }
            let fields = stat[close.upperBound...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == parent
        }
    }

    @Test("sql survives its own crash: the request it was running gets internal, the next one is answered")
    func sqlCrash() throws {
        let daemon = try LiveArbiter(["serve", "--verifiers", Self.verifiers, "--jobs", "1"])
        try daemon.send(Self.sql(1, "SELECT 1", gold: "SELECT 1") + "\n")
        #expect(daemon.waitForLines(1))
        let runaway = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
        try daemon.send(Self.sql(2, runaway, gold: "SELECT 1", options: #"{"max_steps": 1000000000000}"#) + "\n")
        usleep(300_000)
        let plugins = Self.children(of: daemon.process.processIdentifier)
        #expect(!plugins.isEmpty)
        for pid in plugins { kill(pid, SIGKILL) }
        #expect(daemon.waitForLines(2))
        try daemon.send(Self.sql(3, "SELECT 1", gold: "SELECT 1") + "\n")
        #expect(daemon.waitForLines(3))
        try daemon.closeInput()
        #expect(daemon.waitForExit() == 0)
        let answers = try Self.answers(daemon.lines)
        let crashed = try #require(answers.first { $0["id"] == 2 })
        #expect(crashed["error"]?.objectValue?["code"] == "internal", "\(crashed)")
        #expect(crashed["error"]?.objectValue?["message"]?.stringValue?.contains("killed by signal 9") == true)
        #expect(answers.first { $0["id"] == 3 }?["reason"] == "same_rows")
        for pid in Self.children(of: daemon.process.processIdentifier) { #expect(kill(pid, 0) != 0) }
    }

    @Test("r1-zero: accuracy + format, each part kept in components")
    func r1Zero() throws {
        let requests = [
            #"{"id": 1, "verifier": "r1-zero", "response": "<think>2+2=4</think>\n<answer>\\boxed{4}</answer>", "reference": "4"}"#,
            #"{"id": 2, "verifier": "r1-zero", "response": "<think>2+2=4</think> The answer is 4.", "reference": "4"}"#,
            #"{"id": 3, "verifier": "r1-zero", "response": "<think>maybe 4</think>\n<answer>5</answer>", "reference": "4"}"#,
        ]
        let result = try runArbiter(
            ["serve", "--ordered", "--verifiers", Self.verifiers], input: Data((requests.joined(separator: "\n") + "\n").utf8))
        let answers = try Self.answers(result.stdoutLines)
        #expect(answers.map { $0["score"]?.doubleValue } == [2, 1, 1])
        #expect(answers[1]["components"]?.objectValue?["format"]?.objectValue?["passed"] == false)
        #expect(answers[2]["components"]?.objectValue?["accuracy"]?.objectValue?["passed"] == false)
        #expect(answers[2]["components"]?.objectValue?["format"]?.objectValue?["weight"]?.doubleValue == 1)
    }

    @Test("r1: accuracy + format + language consistency with the target taken from the prompt")
    func r1() throws {
        let requests = [
            #"{"id": 1, "verifier": "r1", "prompt": "What is 2+2? Answer briefly.", "response": "<think>Two plus two is four, so the answer is four.</think> The answer is \\boxed{4}.", "reference": "4"}"#,
            #"{"id": 2, "verifier": "r1", "prompt": "2+2 等于多少？", "response": "<think>二加二等于四。 Let me double check this carefully once more, yes four.</think> \\boxed{4}", "reference": "4"}"#,
            #"{"id": 3, "verifier": "r1", "response": "<think>four</think> \\boxed{4}", "reference": "4"}"#,
        ]
        let result = try runArbiter(
            ["serve", "--ordered", "--verifiers", Self.verifiers], input: Data((requests.joined(separator: "\n") + "\n").utf8))
        let answers = try Self.answers(result.stdoutLines)
        #expect(answers[0]["score"]?.doubleValue == 3)
        #expect(answers[0]["components"]?.objectValue?["language"]?.objectValue?["details"]?.objectValue?["target"] == "en")
        let mixed = try #require(answers[1]["components"]?.objectValue?["language"]?.objectValue)
        #expect(mixed["details"]?.objectValue?["target"] == "zh")
        let share = try #require(mixed["score"]?.doubleValue)
        #expect(share > 0.2 && share < 0.8, "\(share)")
        #expect(answers[1]["score"]?.doubleValue == 2 + share)
        // Without a prompt the language component takes its fallback target (en) instead of failing the request.
        let fallback = answers[2]["components"]?.objectValue?["language"]?.objectValue?["details"]?.objectValue
        #expect(answers[2]["error"] == nil && fallback?["target"] == "en" && fallback?["target_from"] == "fallback")
        #expect(answers[2]["components"]?.objectValue?["accuracy"]?.objectValue?["passed"] == true)
    }

    @Test("list shows recipes with components and plugins with their command")
    func listing() throws {
        let result = try runArbiter(["list", "--json", "--verifiers", Self.verifiers])
        let verifiers = try #require(try JSONParser.parse(String(decoding: result.stdout, as: UTF8.self)).objectValue?["verifiers"]?.arrayValue)
        let byName = Dictionary(uniqueKeysWithValues: verifiers.compactMap { $0.objectValue }.map { ($0["name"]?.stringValue ?? "", $0) })
        #expect(byName["r1-zero"]?["kind"] == "recipe")
        #expect(byName["r1-zero"]?["components"]?.arrayValue?.count == 2)
        #expect(byName["sql"]?["kind"] == "process")
        #expect(byName["sql"]?["command"]?.arrayValue?.first == "python3")
    }

    @Test("a cycle of recipes stops serve at start-up with the files named")
    func cycleIsFatal() throws {
        let directory = try Paths.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        try #"{"kind": "recipe", "components": [{"verifier": "b"}]}"#.write(
            to: directory.appendingPathComponent("a.json"), atomically: true, encoding: .utf8)
        try #"{"kind": "recipe", "components": [{"verifier": "a"}]}"#.write(
            to: directory.appendingPathComponent("b.json"), atomically: true, encoding: .utf8)
        let result = try runArbiter(["serve", "--verifiers", directory.path], input: Data(#"{"id":1,"op":"ping"}"#.utf8))
        #expect(result.status != 0)
        #expect(result.stdoutLines.isEmpty)
        #expect(result.stderrText.contains("cycle"), "\(result.stderrText)")
        #expect(result.stderrText.contains("a.json"))
    }
}
