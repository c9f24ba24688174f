// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterServer
import ArgumentParser
import Foundation

extension Arbiter {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lists every verifier with its options and their defaults.",
            discussion: """
                With --json, prints the same object as the daemon's {"op": "list"} answer. With --markdown, prints \
                each verifier's options as a markdown table between marker comments, as docs/ holds them \
                (scripts/gen-option-docs copies them there).
                """
        )

        @Flag(name: .long, help: "Print JSON instead of text.")
        var json = false

        @Flag(name: .long, help: "Print each verifier's options as a markdown table between marker comments.")
        var markdown = false

        @OptionGroup var definitions: DefinitionOptions

        func run() async throws {
            let registry = try definitions.load(report: Check.warn, describeCode: true).registry
            if json {
                let list: JSONValue = .object(["verifiers": .array(registry.all.map { .object($0.jsonObject) })])
                print(list.jsonText)
                return
            }
            if markdown {
                for entry in registry.all { print(Self.optionTable(name: entry.name, options: entry.options)) }
                return
            }
            for entry in registry.all {
                print("\(entry.name)  [\(entry.kind)]")
                print("  \(entry.summary)")
                for component in entry.about["components"]?.arrayValue ?? [] {
                    guard let part = component.objectValue else { continue }
                    var line = "  component \(part["name"]?.stringValue ?? "?"): \(part["verifier"]?.stringValue ?? "?")"
                    line += " × \(part["weight"]?.doubleValue.map { String($0) } ?? "1")"
                    if let gates = part["requires"]?.arrayValue?.compactMap(\.stringValue), !gates.isEmpty {
                        line += ", counts only when \(gates.joined(separator: " and ")) passed"
                    }
                    print(line)
                }
                if let command = entry.about["command"]?.arrayValue?.compactMap(\.stringValue) {
                    let workers = entry.about["workers"]?.doubleValue.map { Int($0) } ?? 1
                    print("  runs: \(command.joined(separator: " "))  (\(workers) worker\(workers == 1 ? "" : "s"))")
                }
                if entry.options.isEmpty { print("  (no options)") }
                for option in entry.options {
                    print("  --option \(option.name)=\(option.defaultValue.jsonText)  (\(describe(option.kind)))")
                    print("      \(option.summary)")
                }
                print("")
            }
        }

        /// The options of one verifier as a markdown table between `<!-- options:NAME:begin -->` and `end`
        /// markers: what `docs/` holds, so that documentation and declaration cannot drift apart.
        static func optionTable(name: String, options: [OptionSpec]) -> String {
            var lines = ["<!-- options:\(name):begin -->"]
            if options.isEmpty {
                lines.append("No options.")
            } else {
                lines.append("| option | type | default | meaning |")
                lines.append("|---|---|---|---|")
                for option in options {
                    let cells = [
                        "`\(option.name)`", markdownType(option.kind), "`\(option.defaultValue.jsonText)`",
                        markdownCell(option.summary),
                    ]
                    lines.append("| " + cells.joined(separator: " | ") + " |")
                }
            }
            lines.append("<!-- options:\(name):end -->")
            return lines.joined(separator: "\n")
        }

        private static func markdownType(_ kind: OptionSpec.Kind) -> String {
            switch kind {
            case .string(let choices) where !choices.isEmpty: choices.map { "`\($0)`" }.joined(separator: " \\| ")
            case .integer(let range): "integer \(range.lowerBound)…\(range.upperBound)"
            case .number(let range):
                "number \(JSONValue.double(range.lowerBound).jsonText)…\(JSONValue.double(range.upperBound).jsonText)"
            default: kind.typeName
            }
        }

        /// Text that stays one table cell and shows as written: `|` escaped, `<` not read as HTML.
        private static func markdownCell(_ text: String) -> String {
            text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: "\n", with: " ")
        }

        private func describe(_ kind: OptionSpec.Kind) -> String {
            switch kind {
            case .string(let choices) where !choices.isEmpty: "one of: " + choices.joined(separator: ", ")
            case .integer(let range): "integer \(range.lowerBound)...\(range.upperBound)"
            case .number(let range): "number \(range.lowerBound)...\(range.upperBound)"
            default: kind.typeName
            }
        }
    }
}
