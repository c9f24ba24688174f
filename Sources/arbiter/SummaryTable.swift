// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterServer
import Foundation

/// The table `arbiter grade` ends with.
struct SummaryTable {
    let snapshot: StatsSnapshot
    let elapsed: Double
    /// Exact latency percentiles (p50, p99) from a report's answers; the server's histogram estimates otherwise.
    var exactLatency: (p50: Double, p99: Double)? = nil

    func render() -> String {
        let verdicts = snapshot.verdicts
        let errors = snapshot.errors.values.reduce(0, +)
        var rows: [(String, String)] = [
            ("rows", "\(snapshot.requests)"),
            ("verdicts", "\(verdicts)"),
            ("errors", "\(errors)"),
            ("mean score", verdicts > 0 ? String(format: "%.4f", snapshot.scoreSum / Double(verdicts)) : "-"),
            ("pass rate", verdicts > 0 ? String(format: "%.2f%%", 100 * Double(snapshot.passed) / Double(verdicts)) : "-"),
            ("latency p50", String(format: "%.3f ms", exactLatency?.p50 ?? snapshot.latency.percentileMilliseconds(0.5))),
            ("latency p99", String(format: "%.3f ms", exactLatency?.p99 ?? snapshot.latency.percentileMilliseconds(0.99))),
            ("elapsed", String(format: "%.2f s (%.0f rows/s)", elapsed, Double(snapshot.requests) / max(elapsed, 1e-9))),
        ]
        var text = Self.table(header: ("summary", ""), rows: &rows)
        var reasons = snapshot.reasons.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ($0.key, "\($0.value)") }
        if !reasons.isEmpty { text += "\n\n" + Self.table(header: ("reason", "count"), rows: &reasons) }
        var codes = snapshot.errors.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ($0.key, "\($0.value)") }
        if !codes.isEmpty { text += "\n\n" + Self.table(header: ("error code", "count"), rows: &codes) }
        return text
    }

    private static func table(header: (String, String), rows: inout [(String, String)]) -> String {
        let width = max(header.0.count, rows.map(\.0.count).max() ?? 0) + 2
        let pad = { (text: String) in text + String(repeating: " ", count: max(0, width - text.count)) }
        let title = header.1.isEmpty ? header.0 : pad(header.0) + header.1
        var lines = [title, String(repeating: "-", count: width + max(header.1.count, 5))]
        for row in rows { lines.append(pad(row.0) + row.1) }
        return lines.joined(separator: "\n")
    }
}
