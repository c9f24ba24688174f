// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// One side of `arbiter grade --compare A.json B.json`: a verifier or recipe definition (a file as in
/// `verifiers/`, loaded under a name of its own), or a set of options laid over each row's options.
enum CompareSide: Sendable {
    /// A definition, registered under this name.
    case definition(name: String)
    /// `{"options": {…}}`, optionally with `"verifier"`: the row's verifier (or that one) with these options over the
    /// row's own.
    case options(JSONObject, verifier: String?)

    /// Reads a side's file; a definition is registered into `registry` under `name`.
    static func load(
        path: String, name: String, into registry: inout VerifierRegistry, kinds: [DefinitionKind]
    ) throws(ArbiterError) -> CompareSide {
        let url = URL(fileURLWithPath: path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ArbiterError(.invalidRequest, "--compare: cannot read '\(path)'")
        }
        guard case .object(let object) = try JSONParser.parse(Array(data)) else {
            throw ArbiterError(.invalidRequest, "--compare: '\(path)' must hold a JSON object")
        }
        if object["kind"] != nil {
            do {
                try VerifierDefinitions.load(file: url, as: name, into: &registry, kinds: kinds)
            } catch {
                throw ArbiterError(.invalidRequest, "--compare: '\(path)': \(error.message)")
            }
            return .definition(name: name)
        }
        let fields = JSONFields(object, code: .invalidRequest)
        for key in object.keys where key != "options" && key != "verifier" {
            throw ArbiterError(
                .invalidRequest,
                "--compare: '\(path)' has '\(key)'; a side is a definition (with \"kind\") or {\"options\": {…}, \"verifier\": …}")
        }
        guard let options = try fields.object("options") else {
            throw ArbiterError(.invalidRequest, "--compare: '\(path)' is neither a definition (\"kind\") nor {\"options\": {…}}")
        }
        let verifier = try fields.string("verifier")
        if let verifier, (try? registry.entry(named: verifier)) == nil {
            throw ArbiterError(.unknownVerifier, "--compare: '\(path)' names no known verifier '\(verifier)'")
        }
        return .options(options, verifier: verifier)
    }

    /// The request this side sends for a row's request.
    func request(from row: JSONObject) -> JSONObject {
        var request = row
        request["id"] = nil
        switch self {
        case .definition(let name):
            request["verifier"] = .string(name)
        case .options(let options, let verifier):
            if let verifier { request["verifier"] = .string(verifier) }
            var merged = row["options"]?.objectValue ?? [:]
            for entry in options { merged[entry.key] = entry.value }
            request["options"] = .object(merged)
        }
        return request
    }

    /// A row's request as a batch of both sides' requests: the answer's `results` are A's verdict, then B's.
    static func batch(_ row: JSONObject, _ a: CompareSide, _ b: CompareSide) -> JSONObject {
        ["id": row["id"] ?? .null, "batch": .array([.object(a.request(from: row)), .object(b.request(from: row))])]
    }
}

/// The flips between two graders over a dataset: how many verdicts changed in each direction, grouped by the
/// reasons on both sides, with example rows.
final class CompareCollector: RowObserver {
    struct Example: Equatable {
        var row: Int
        var id: JSONValue?
        var excerpt: String
        var scores: (Double?, Double?)

        static func == (left: Example, right: Example) -> Bool {
            left.row == right.row && left.id == right.id && left.excerpt == right.excerpt
                && left.scores.0 == right.scores.0 && left.scores.1 == right.scores.1
        }
    }

    /// What happened to one row between A and B.
    enum Change: String, CaseIterable {
        case gained = "fail → pass"  // B passes a row A failed
        case lost = "pass → fail"  // B fails a row A passed
        case scoreChanged = "score changed"  // same pass/fail, another score
        case errorChanged = "error on one side"  // an error on exactly one side, or different errors
        case same = "unchanged"
    }

    let labels: (String, String)
    private(set) var rows = 0
    private(set) var changes: [Change: Int] = [:]
    /// Per change (except `.same`): "reason A → reason B" → count, and examples.
    private(set) var groups: [Change: [String: Int]] = [:]
    private(set) var examples: [Change: [String: [Example]]] = [:]
    private(set) var scoreSums = (0.0, 0.0)
    private(set) var verdictCounts = (0, 0)

    init(labels: (String, String)) {
        self.labels = labels
    }

    func observe(_ row: ObservedRow) {
        rows += 1
        let results: [JSONObject]
        switch row.answerObject {
        case .success(let answer):
            results = answer["results"]?.arrayValue?.compactMap(\.objectValue) ?? [answer, answer]
        case .failure(let error):
            let object: JSONObject = ["error": .object(["code": .string(error.code.rawValue), "message": .string(error.message)])]
            results = [object, object]
        }
        guard results.count == 2 else { return }
        let (a, b) = (results[0], results[1])
        let scoreA = a["error"] == nil ? a["score"]?.doubleValue : nil
        let scoreB = b["error"] == nil ? b["score"]?.doubleValue : nil
        if let scoreA {
            scoreSums.0 += scoreA
            verdictCounts.0 += 1
        }
        if let scoreB {
            scoreSums.1 += scoreB
            verdictCounts.1 += 1
        }
        let change: Change
        if scoreA == nil || scoreB == nil {
            let codeA = a["error"]?.objectValue?["code"]?.stringValue
            let codeB = b["error"]?.objectValue?["code"]?.stringValue
            change = codeA == codeB ? .same : .errorChanged
        } else {
            let passA = a["passed"]?.boolValue == true
            let passB = b["passed"]?.boolValue == true
            change =
                passA == passB ? (scoreA == scoreB ? .same : .scoreChanged) : (passB ? .gained : .lost)
        }
        changes[change, default: 0] += 1
        guard change != .same else { return }
        let key = "\(Self.outcome(a)) → \(Self.outcome(b))"
        groups[change, default: [:]][key, default: 0] += 1
        if examples[change, default: [:]][key, default: []].count < GradeReport.examplesPerGroup {
            examples[change, default: [:]][key, default: []].append(
                Example(row: row.number, id: row.id, excerpt: row.excerpt ?? "", scores: (scoreA, scoreB)))
        }
    }

    /// A verdict's reason, or an error's code.
    static func outcome(_ verdict: JSONObject) -> String {
        if let code = verdict["error"]?.objectValue?["code"]?.stringValue { return "error:\(code)" }
        return verdict["reason"]?.stringValue ?? "(none)"
    }

    var flips: Int { (changes[.gained] ?? 0) + (changes[.lost] ?? 0) }

    /// The comparison as a text table (what `arbiter grade --compare` prints).
    func render() -> String {
        var lines = [
            "compare   A = \(labels.0)", "          B = \(labels.1)", "",
            "rows                \(rows)",
            "mean score A        " + Self.mean(scoreSums.0, verdictCounts.0),
            "mean score B        " + Self.mean(scoreSums.1, verdictCounts.1),
        ]
        for change in Change.allCases {
            lines.append(change.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0) + "\(changes[change] ?? 0)")
        }
        for change in Change.allCases where change != .same {
            guard let counts = groups[change], !counts.isEmpty else { continue }
            lines.append("")
            lines.append("\(change.rawValue) (reason A → reason B): count, example rows")
            for (key, count) in GradeReport.ranked(counts) {
                let rows = (examples[change]?[key] ?? []).map { "\($0.row)" }.joined(separator: ", ")
                lines.append("  \(key)  \(count)   rows \(rows)")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The comparison's figures as JSON (`--report-json` with `--compare`).
    func json() -> JSONValue {
        var changeCounts = JSONObject()
        for change in Change.allCases { changeCounts[Self.key(change)] = .int(changes[change] ?? 0) }
        var grouped = JSONObject()
        for change in Change.allCases where change != .same {
            grouped[Self.key(change)] = .array(
                GradeReport.ranked(groups[change] ?? [:]).map { key, count in
                    .object([
                        "outcomes": .string(key), "count": .int(count),
                        "examples": .array(
                            (examples[change]?[key] ?? []).map { example in
                                .object([
                                    "row": .int(example.row), "id": example.id ?? .null,
                                    "response": .string(example.excerpt),
                                    "score_a": example.scores.0.map(JSONValue.double) ?? .null,
                                    "score_b": example.scores.1.map(JSONValue.double) ?? .null,
                                ])
                            }),
                    ])
                })
        }
        return .object([
            "a": .string(labels.0), "b": .string(labels.1), "rows": .int(rows),
            "mean_score_a": verdictCounts.0 > 0 ? .double(GradeReport.rounded(scoreSums.0 / Double(verdictCounts.0))) : .null,
            "mean_score_b": verdictCounts.1 > 0 ? .double(GradeReport.rounded(scoreSums.1 / Double(verdictCounts.1))) : .null,
            "changes": .object(changeCounts), "groups": .object(grouped),
        ])
    }

    static func key(_ change: Change) -> String {
        switch change {
        case .gained: "fail_to_pass"
        case .lost: "pass_to_fail"
        case .scoreChanged: "score_changed"
        case .errorChanged: "error_changed"
        case .same: "unchanged"
        }
    }

    static func mean(_ sum: Double, _ count: Int) -> String {
        count > 0 ? String(format: "%.4f", sum / Double(count)) : "-"
    }
}
