// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// The figures of `arbiter grade --report/--report-json`, gathered answer by answer in row order.
///
/// Everything is computed from the answers themselves (not from the server's statistics), so the report of a file
/// is the same whatever the number of workers: counts, a histogram of scores, reasons and error codes, exact
/// latency percentiles from each verdict's `ms`, per-component means for recipes, and up to
/// ``examplesPerGroup`` example rows for each reason and each error code.
final class GradeReport {
    static let examplesPerGroup = 5
    static let histogramBins = 10
    /// Characters of a response kept for an example.
    static let excerptCharacters = 240
    /// Characters of a verdict's `details` (as compact JSON) kept for an example.
    static let detailsCharacters = 400

    struct Example: Equatable {
        var row: Int
        var id: JSONValue?
        var excerpt: String
        var score: Double?
        var details: String
    }

    struct ComponentFigures: Equatable {
        var scoreSum = 0.0
        var passed = 0
        var count = 0
    }

    var source: String
    var rows = 0
    var verdicts = 0
    var errors = 0
    var passed = 0
    var scoreSum = 0.0
    var reasons: [String: Int] = [:]
    var errorCodes: [String: Int] = [:]
    var reasonExamples: [String: [Example]] = [:]
    var errorExamples: [String: [Example]] = [:]
    var components: [String: ComponentFigures] = [:]
    /// Component names in the order first seen (the recipe's own order).
    var componentOrder: [String] = []
    /// A run of equal reasons not yet added to ``reasons`` (see ``add(_:)``).
    private var lastReason = ""
    private var lastReasonCount = 0
    private(set) var scores: [Double] = []
    private(set) var latencies: [Double] = []
    var elapsedSeconds = 0.0

    init(source: String) {
        self.source = source
    }

    /// Adds the answer to one row. `answer` is the answer object as the server wrote it (a verdict, an error, or a
    /// batch's `results`).
    /// Recipe components are grouped as `verifier/component` when the verifier's name is known.
    func add(row: Int, id: JSONValue?, excerpt: String?, verifier: String? = nil, answer: JSONObject) {
        rows += 1
        if let results = answer["results"]?.arrayValue {
            for case .object(let item) in results {
                addOutcome(row: row, id: id, excerpt: excerpt, verifier: nil, answer: item)
            }
        } else {
            addOutcome(row: row, id: id, excerpt: excerpt, verifier: verifier, answer: answer)
        }
    }

    /// Adds a row answered with an error before it reached a verifier (unreadable, a mapped field missing).
    func add(row: Int, id: JSONValue?, excerpt: String?, error: ArbiterError) {
        rows += 1
        addError(code: error.code.rawValue, message: error.message, row: row, id: id, excerpt: excerpt)
    }

    private func addOutcome(row: Int, id: JSONValue?, excerpt: String?, verifier: String?, answer: JSONObject) {
        if let error = answer["error"]?.objectValue {
            addError(
                code: error["code"]?.stringValue ?? "internal", message: error["message"]?.stringValue ?? "", row: row,
                id: id, excerpt: excerpt)
            return
        }
        let score = answer["score"]?.doubleValue ?? 0
        verdicts += 1
        scoreSum += score
        scores.append(score)
        if answer["passed"]?.boolValue == true { passed += 1 }
        if let milliseconds = answer["ms"]?.doubleValue { latencies.append(milliseconds) }
        let reason = answer["reason"]?.stringValue ?? "(none)"
        settle()
        reasons[reason, default: 0] += 1
        if reasonExamples[reason, default: []].count < Self.examplesPerGroup {
            reasonExamples[reason, default: []].append(
                Example(
                    row: row, id: id, excerpt: excerpt ?? "", score: score,
                    details: Self.compact(answer["details"] ?? .object([:]))))
        }
        if let parts = answer["components"] {
            addComponents(parts, prefix: verifier.map { $0 + "/" } ?? "")
        }
    }

    private func addComponents(_ parts: JSONValue, prefix: String) {
        // A recipe's components: an object of name → verdict, or an array of verdicts with a "name".
        var named: [(String, JSONObject)] = []
        if let object = parts.objectValue {
            for entry in object { if let verdict = entry.value.objectValue { named.append((entry.key, verdict)) } }
        } else if let array = parts.arrayValue {
            for case .object(let verdict) in array {
                if let name = verdict["name"]?.stringValue { named.append((name, verdict)) }
            }
        }
        for (part, verdict) in named {
            let name = prefix + part
            if components[name] == nil { componentOrder.append(name) }
            var figures = components[name, default: ComponentFigures()]
            figures.count += 1
            figures.scoreSum += verdict["score"]?.doubleValue ?? 0
            if verdict["passed"]?.boolValue == true { figures.passed += 1 }
            components[name] = figures
        }
    }

    private func addError(code: String, message: String, row: Int, id: JSONValue?, excerpt: String?) {
        errors += 1
        errorCodes[code, default: 0] += 1
        if errorExamples[code, default: []].count < Self.examplesPerGroup {
            errorExamples[code, default: []].append(
                Example(row: row, id: id, excerpt: excerpt ?? "", score: nil, details: Self.clip(message, Self.detailsCharacters)))
        }
    }

    private func flushLastReason() {
        if lastReasonCount > 0 { reasons[lastReason, default: 0] += lastReasonCount }
        lastReasonCount = 0
    }

    /// Adds the pending run of reasons; call before reading ``reasons``.
    func settle() {
        flushLastReason()
        lastReason = ""
    }

    /// Whether an answer with these fields would become an example (its group has fewer than five).
    func wantsExample(_ fields: AnswerFields) -> Bool {
        if fields.errorCode == nil, fields.reason ?? "(none)" == lastReason { return false }  // seen: group full
        if let code = fields.errorCode { return errorExamples[code, default: []].count < Self.examplesPerGroup }
        return reasonExamples[fields.reason ?? "(none)", default: []].count < Self.examplesPerGroup
    }

    /// Adds an answer read by ``AnswerFields`` (no example wanted).
    func add(_ fields: AnswerFields) {
        rows += 1
        if let code = fields.errorCode {
            errors += 1
            errorCodes[code, default: 0] += 1
            return
        }
        verdicts += 1
        scoreSum += fields.score
        scores.append(fields.score)
        if fields.passed { passed += 1 }
        if let milliseconds = fields.milliseconds { latencies.append(milliseconds) }
        // Reasons repeat: the last one seen is counted without hashing.
        let reason = fields.reason ?? "(none)"
        if reason == lastReason {
            lastReasonCount += 1
        } else {
            flushLastReason()
            lastReason = reason
            lastReasonCount = 1
        }
    }

    // MARK: Figures

    var meanScore: Double? { verdicts > 0 ? scoreSum / Double(verdicts) : nil }
    var passRate: Double? { verdicts > 0 ? Double(passed) / Double(verdicts) : nil }

    /// The latency below which `fraction` of the verdicts fall (nearest rank), in milliseconds.
    func latencyPercentile(_ fraction: Double) -> Double? {
        guard !latencies.isEmpty else { return nil }
        let sorted = latencies.sorted()
        let rank = max(1, Int((fraction * Double(sorted.count)).rounded(.up)))
        return sorted[min(rank, sorted.count) - 1]
    }

    /// The score histogram: `histogramBins` equal bins over [low, high], where the range is [0, 1] widened to the
    /// scores seen (recipes score 0…3); the last bin includes `high`.
    func histogram() -> (low: Double, high: Double, counts: [Int]) {
        let low = min(0, scores.min() ?? 0)
        let high = max(1, scores.max() ?? 1)
        var counts = [Int](repeating: 0, count: Self.histogramBins)
        let width = (high - low) / Double(Self.histogramBins)
        for score in scores {
            let index = Int(((score - low) / width).rounded(.down))
            counts[min(max(index, 0), Self.histogramBins - 1)] += 1
        }
        return (low, high, counts)
    }

    /// Groups by count (largest first), then by name.
    static func ranked(_ counts: [String: Int]) -> [(String, Int)] {
        counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ($0.key, $0.value) }
    }

    // MARK: JSON

    /// The report as JSON (`--report-json`); the HTML page shows the same figures.
    func json() -> JSONValue {
        func number(_ value: Double?) -> JSONValue { value.map { .double(Self.rounded($0)) } ?? .null }
        let (low, high, counts) = histogram()
        let width = (high - low) / Double(Self.histogramBins)
        var bins: [JSONValue] = []
        for (index, count) in counts.enumerated() {
            bins.append(
                .object([
                    "from": .double(Self.rounded(low + Double(index) * width)),
                    "to": .double(Self.rounded(low + Double(index + 1) * width)), "count": .int(count),
                ]))
        }
        func examples(_ groups: [String: [Example]], _ counts: [String: Int]) -> JSONValue {
            .array(
                Self.ranked(counts).map { name, count in
                    .object([
                        "name": .string(name), "count": .int(count),
                        "examples": .array(
                            (groups[name] ?? []).map { example in
                                .object([
                                    "row": .int(example.row), "id": example.id ?? .null,
                                    "response": .string(example.excerpt),
                                    "score": example.score.map { .double($0) } ?? .null,
                                    "details": .string(example.details),
                                ])
                            }),
                    ])
                })
        }
        return .object([
            "source": .string(source),
            "summary": .object([
                "rows": .int(rows), "verdicts": .int(verdicts), "errors": .int(errors), "passed": .int(passed),
                "mean_score": number(meanScore), "pass_rate": number(passRate),
                "elapsed_s": .double(Self.rounded(elapsedSeconds)),
                "rows_per_s": .double(Self.rounded(Double(rows) / max(elapsedSeconds, 1e-9))),
            ]),
            "latency_ms": .object([
                "p50": number(latencyPercentile(0.5)), "p90": number(latencyPercentile(0.9)),
                "p99": number(latencyPercentile(0.99)), "max": number(latencies.max()),
            ]),
            "histogram": .array(bins),
            "reasons": examples(reasonExamples, reasons),
            "errors": examples(errorExamples, errorCodes),
            "components": .array(
                componentOrder.map { name in
                    let figures = components[name] ?? ComponentFigures()
                    return .object([
                        "name": .string(name), "count": .int(figures.count),
                        "mean_score": .double(Self.rounded(figures.scoreSum / Double(max(figures.count, 1)))),
                        "pass_rate": .double(Self.rounded(Double(figures.passed) / Double(max(figures.count, 1)))),
                    ])
                }),
        ])
    }

    static func rounded(_ value: Double) -> Double {
        guard value.isFinite else { return value }
        return (value * 1e6).rounded() / 1e6
    }

    static func compact(_ value: JSONValue) -> String {
        var writer = JSONWriter(capacity: 256)
        writer.write(value)
        return clip(String(decoding: writer.bytes, as: UTF8.self), detailsCharacters)
    }

    static func clip(_ text: String, _ limit: Int) -> String {
        text.clipped(characters: limit, bytes: 4 * limit)
    }
}

/// Gathers a ``GradeReport`` from the pipeline's rows.
final class ReportCollector: RowObserver {
    let report: GradeReport

    init(source: String) {
        report = GradeReport(source: source)
    }

    func observe(_ row: ObservedRow) {
        switch row.answer {
        case .success(let bytes):
            // The common answer (a verdict or an error, no components, no batch) is read by scanning its top-level
            // fields; the whole answer is parsed only when an example is still wanted or the answer is unusual.
            if let fields = AnswerFields(scanning: bytes), !report.wantsExample(fields) {
                report.add(fields)
            } else if case .success(let answer) = row.answerObject {
                report.add(row: row.number, id: row.id, excerpt: row.excerpt, verifier: row.verifier, answer: answer)
            } else {
                report.add(row: row.number, id: row.id, excerpt: row.excerpt, error: ArbiterError(.internal, "unreadable answer"))
            }
        case .failure(let error):
            report.add(row: row.number, id: row.id, excerpt: row.excerpt, error: error)
        }
    }

    func finish(elapsedSeconds: Double) -> GradeReport {
        report.settle()
        report.elapsedSeconds = elapsedSeconds
        return report
    }
}

/// The top-level fields of an answer line the report counts, read without building the JSON tree. `nil` for an
/// answer that needs the full parse: a recipe's (`components`), a batch's (`results`), or anything unexpected.
struct AnswerFields {
    var score = 0.0
    var passed = false
    var reason: String?
    var milliseconds: Double?
    var errorCode: String?

    init?(scanning bytes: ArraySlice<UInt8>) {
        var scanner = TopLevelScanner(bytes)
        guard scanner.open() else { return nil }
        while let key = scanner.nextKey() {
            guard let value = scanner.skipValue() else { return nil }
            if key.elementsEqual(Self.id) || key.elementsEqual(Self.details) { continue }
            if key.elementsEqual(Self.score) {
                guard let number = Self.number(value) else { return nil }
                score = number
            } else if key.elementsEqual(Self.passedKey) {
                passed = value.elementsEqual(Self.trueLiteral)
            } else if key.elementsEqual(Self.reasonKey) {
                guard let text = Self.string(value) else { return nil }
                reason = text
            } else if key.elementsEqual(Self.ms) {
                milliseconds = Self.number(value)
            } else if key.elementsEqual(Self.error) {
                var inner = TopLevelScanner(value)
                guard inner.open() else { return nil }
                while let innerKey = inner.nextKey() {
                    guard let innerValue = inner.skipValue() else { return nil }
                    if innerKey.elementsEqual(Self.code) { errorCode = Self.string(innerValue) }
                }
                if errorCode == nil { return nil }
            } else {
                return nil  // components, results, or a field this reader does not know
            }
        }
    }

    static let id = Array("id".utf8), details = Array("details".utf8), score = Array("score".utf8)
    static let passedKey = Array("passed".utf8), reasonKey = Array("reason".utf8), ms = Array("ms".utf8)
    static let error = Array("error".utf8), code = Array("code".utf8), trueLiteral = Array("true".utf8)

    static func number(_ value: ArraySlice<UInt8>) -> Double? {
        value.withUnsafeBytes { raw in
            // Short ASCII numbers: parsed from a stack copy without building a String.
            guard raw.count < 64 else { return nil }
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: raw.count + 1) { buffer in
                for (index, byte) in raw.enumerated() { buffer[index] = CChar(bitPattern: byte) }
                buffer[raw.count] = 0
                var end: UnsafeMutablePointer<CChar>?
                let parsed = strtod(buffer.baseAddress!, &end)
                return end == buffer.baseAddress! + raw.count ? parsed : nil
            }
        }
    }

    /// A JSON string's text; strings without escapes (reason codes, error codes) are read directly.
    static func string(_ value: ArraySlice<UInt8>) -> String? {
        guard value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") else { return nil }
        let inner = value.dropFirst().dropLast()
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        return (try? JSONParser.parse(value))?.stringValue
    }
}

/// Walks the keys of one JSON object and skips over their values (strings with escapes, nested containers),
/// without decoding them.
struct TopLevelScanner {
    let bytes: ArraySlice<UInt8>
    var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        index = bytes.startIndex
    }

    mutating func skipSpace() {
        while index < bytes.endIndex, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    mutating func open() -> Bool {
        skipSpace()
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "{") else { return false }
        index += 1
        return true
    }

    /// The next key's bytes (keys here are plain ASCII names), or `nil` at the object's end.
    mutating func nextKey() -> ArraySlice<UInt8>? {
        skipSpace()
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ",") { index += 1 }
        skipSpace()
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        index = end + 1
        skipSpace()
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: ":") else { return nil }
        index += 1
        return bytes[start..<end]
    }

    /// Skips one value and returns its bytes, or `nil` when the text is not well formed.
    mutating func skipValue() -> ArraySlice<UInt8>? {
        skipSpace()
        let start = index
        var depth = 0
        var inString = false
        while index < bytes.endIndex {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") {
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 0 {
                        index += 1
                        return bytes[start..<index]
                    }
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return index > start ? bytes[start..<index] : nil }
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return bytes[start..<index]
                    }
                case UInt8(ascii: ","):
                    if depth == 0 { return index > start ? bytes[start..<index] : nil }
                default: break
                }
            }
            index += 1
        }
        return nil
    }
}
