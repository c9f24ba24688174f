// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterServer
import Foundation

/// The self-contained HTML page of `arbiter grade --report`: no script, no network, charts as inline SVG.
///
/// Every text that comes from the dataset or a verdict is escaped (a response may hold any markup a model can
/// write). Figures carry `data-figure` attributes so that tools (and the browser test) can read them back.
struct ReportPage {
    let report: GradeReport

    func render() -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <link rel="icon" href="data:,">
            <title>Arbiter report — \(Self.escape(report.source))</title>
            <style>\(Self.style)</style>
            </head><body>
            <h1>Arbiter report</h1>
            <p class="source">\(Self.escape(report.source)) · Arbiter \(Self.escape(Dispatcher.version))</p>

            """
        html += summarySection()
        html += histogramSection()
        html += countsSection(
            title: "Reasons", id: "reasons", counts: report.reasons, examples: report.reasonExamples, total: report.verdicts)
        html += countsSection(
            title: "Error codes", id: "errors", counts: report.errorCodes, examples: report.errorExamples,
            total: report.rows)
        html += componentsSection()
        html += "</body></html>\n"
        return html
    }

    private func summarySection() -> String {
        func cell(_ figure: String, _ label: String, _ value: String) -> String {
            "<tr><th>\(label)</th><td data-figure=\"\(figure)\">\(value)</td></tr>\n"
        }
        let dash = "–"
        var rows = cell("rows", "rows", "\(report.rows)")
        rows += cell("verdicts", "verdicts", "\(report.verdicts)")
        rows += cell("errors", "errors", "\(report.errors)")
        rows += cell("mean_score", "mean score", report.meanScore.map { String(format: "%.4f", $0) } ?? dash)
        rows += cell("pass_rate", "pass rate", report.passRate.map { String(format: "%.2f%%", 100 * $0) } ?? dash)
        for (name, fraction) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
            rows += cell(
                "latency_\(name)", "latency \(name)", report.latencyPercentile(fraction).map { String(format: "%.3f ms", $0) } ?? dash)
        }
        rows += cell(
            "elapsed", "elapsed",
            String(
                format: "%.2f s (%.0f rows/s)", report.elapsedSeconds,
                Double(report.rows) / max(report.elapsedSeconds, 1e-9)))
        return "<section id=\"summary\"><h2>Summary</h2><table class=\"figures\">\n\(rows)</table></section>\n"
    }

    /// Bars of the score histogram as inline SVG.
    private func histogramSection() -> String {
        let (low, high, counts) = report.histogram()
        let width = 640.0
        let height = 220.0
        let margin = (left: 48.0, bottom: 36.0, top: 12.0)
        let plotWidth = width - margin.left - 8
        let plotHeight = height - margin.bottom - margin.top
        let tallest = Double(max(counts.max() ?? 0, 1))
        let barWidth = plotWidth / Double(counts.count)
        var svg = """
            <svg id="histogram-chart" role="img" aria-label="histogram of scores" viewBox="0 0 \(Int(width)) \(Int(height))" \
            width="\(Int(width))" height="\(Int(height))" xmlns="http://www.w3.org/2000/svg">
            <line x1="\(margin.left)" y1="\(margin.top + plotHeight)" x2="\(width - 8)" y2="\(margin.top + plotHeight)" class="axis"/>
            <text x="\(margin.left - 6)" y="\(margin.top + 10)" class="tick" text-anchor="end">\(Int(tallest))</text>
            <text x="\(margin.left - 6)" y="\(margin.top + plotHeight)" class="tick" text-anchor="end">0</text>

            """
        let step = (high - low) / Double(counts.count)
        for (index, count) in counts.enumerated() {
            let barHeight = plotHeight * Double(count) / tallest
            let x = margin.left + Double(index) * barWidth
            let from = low + Double(index) * step
            let label = "\(Self.short(from))–\(Self.short(from + step)): \(count)"
            svg += """
                <rect class="bar" data-count="\(count)" x="\(Self.short(x + 1))" y="\(Self.short(margin.top + plotHeight - barHeight))" \
                width="\(Self.short(barWidth - 2))" height="\(Self.short(barHeight))"><title>\(label)</title></rect>

                """
            svg += """
                <text class="tick" x="\(Self.short(x))" y="\(Self.short(height - margin.bottom + 16))" text-anchor="middle">\(Self.short(from))</text>

                """
        }
        svg += """
            <text class="tick" x="\(Self.short(width - 8))" y="\(Self.short(height - margin.bottom + 16))" text-anchor="end">\(Self.short(high))</text>
            <text class="tick" x="\(Self.short(margin.left + plotWidth / 2))" y="\(Self.short(height - 4))" text-anchor="middle">score</text>
            </svg>

            """
        return "<section id=\"histogram\"><h2>Scores</h2>\n\(svg)</section>\n"
    }

    /// A table of counts with a bar for each, then up to five example rows per group.
    private func countsSection(
        title: String, id: String, counts: [String: Int], examples: [String: [GradeReport.Example]], total: Int
    ) -> String {
        var html = "<section id=\"\(id)\"><h2>\(title)</h2>\n"
        let ranked = GradeReport.ranked(counts)
        guard !ranked.isEmpty else { return html + "<p class=\"none\">none</p></section>\n" }
        html += "<table class=\"counts\"><tr><th>\(id == "errors" ? "code" : "reason")</th><th>count</th><th>share</th></tr>\n"
        let largest = Double(ranked.first?.1 ?? 1)
        for (name, count) in ranked {
            let share = 100 * Double(count) / Double(max(total, 1))
            let barWidth = 160 * Double(count) / largest
            html += """
                <tr><td><a href="#\(id)-\(Self.anchor(name))">\(Self.escape(name))</a></td>\
                <td data-figure="\(id):\(Self.escape(name))">\(count)</td>\
                <td><svg width="164" height="12" aria-hidden="true"><rect class="bar" x="0" y="1" width="\(Self.short(barWidth))" height="10"/></svg> \
                \(String(format: "%.1f%%", share))</td></tr>

                """
        }
        html += "</table>\n"
        for (name, _) in ranked {
            html += "<h3 id=\"\(id)-\(Self.anchor(name))\">\(Self.escape(name))</h3>\n<table class=\"examples\">"
            html += "<tr><th>row</th><th>id</th><th>response</th><th>\(id == "errors" ? "message" : "score / details")</th></tr>\n"
            for example in examples[name] ?? [] {
                let idText = example.id.map { Self.compactJSON($0) } ?? ""
                let verdict = (example.score.map { Self.short($0) + " " } ?? "") + example.details
                html += """
                    <tr><td>\(example.row)</td><td>\(Self.escape(idText))</td><td><pre>\(Self.escape(example.excerpt))</pre></td>\
                    <td><pre>\(Self.escape(verdict))</pre></td></tr>

                    """
            }
            html += "</table>\n"
        }
        return html + "</section>\n"
    }

    private func componentsSection() -> String {
        guard !report.componentOrder.isEmpty else { return "" }
        var html = "<section id=\"components\"><h2>Recipe components</h2>\n<table class=\"counts\">"
        html += "<tr><th>component</th><th>rows</th><th>mean score</th><th>pass rate</th></tr>\n"
        for name in report.componentOrder {
            let figures = report.components[name] ?? GradeReport.ComponentFigures()
            let count = Double(max(figures.count, 1))
            html += """
                <tr><td>\(Self.escape(name))</td><td>\(figures.count)</td>\
                <td data-figure="component:\(Self.escape(name))">\(String(format: "%.4f", figures.scoreSum / count))</td>\
                <td>\(String(format: "%.2f%%", 100 * Double(figures.passed) / count))</td></tr>

                """
        }
        return html + "</table></section>\n"
    }

    // MARK: Helpers

    static let style = """
        body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#1d1d1f}
        h1{font-size:1.6em;margin-bottom:.2em}.source{color:#666;margin-top:0}
        table{border-collapse:collapse;margin:.5em 0 1em}th,td{border-bottom:1px solid #ddd;padding:.25em .6em;\
        text-align:left;vertical-align:top}
        table.figures td{font-variant-numeric:tabular-nums}
        pre{white-space:pre-wrap;word-break:break-word;margin:0;max-width:38em;font-size:12px}
        .bar{fill:#4a78c2}.axis{stroke:#888}.tick{font-size:11px;fill:#555}.none{color:#666}
        """

    /// Escapes text for HTML element content and attribute values.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// A fragment identifier made of letters, digits, `-` and `_` only.
    static func anchor(_ name: String) -> String {
        String(name.unicodeScalars.map { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" ? Character($0) : "-" })
    }

    static func short(_ value: Double) -> String {
        let text = String(format: "%.2f", value)
        var trimmed = Substring(text)
        while trimmed.hasSuffix("0") { trimmed.removeLast() }
        if trimmed.hasSuffix(".") { trimmed.removeLast() }
        return String(trimmed)
    }

    static func compactJSON(_ value: JSONValue) -> String {
        var writer = JSONWriter(capacity: 64)
        writer.write(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
