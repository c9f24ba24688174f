// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterPlugins
import ArbiterServer
import ArgumentParser
import Foundation

extension Arbiter {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Judges one response and prints the verdict in a readable form.",
            discussion: """
                Examples:
                  arbiter check --verifier exact --reference 42 "42"
                  arbiter check --verifier exact --reference Paris --option case_sensitive=false "paris"
                  echo "my answer" | arbiter check --verifier exact --reference "my answer" -
                  arbiter check --verifier math --reference -2 -- -2     (a response starting with '-' goes after --)

                An --option value is read as JSON when it parses (true, 3, "x", [1,2]) and as a string otherwise.

                Exit codes: 0 when the verdict passes; 2 when it does not; 1 for an error (unknown verifier, \
                invalid options or reference); 64 for bad arguments.
                """
        )

        @Option(name: .long, help: "The verifier to use (see 'arbiter list').")
        var verifier: String

        @Option(name: .long, parsing: .unconditional, help: "The reference, as a string (may start with '-').")
        var reference: String?

        @Option(
            name: .long, parsing: .unconditional, help: "The reference as JSON, for structured references (test cases, …).")
        var referenceJson: String?

        @Option(name: .long, parsing: .unconditional, help: "The prompt the response answers.")
        var prompt: String?

        @Option(name: .customLong("option"), help: "A verifier option as key=value; repeat for several.")
        var options: [String] = []

        @Flag(name: .long, help: "Print the verdict as the daemon's JSON line.")
        var json = false

        @OptionGroup var definitions: DefinitionOptions

        @Argument(help: "The model's response, or - to read it from stdin.")
        var response: String

        func validate() throws {
            if reference != nil, referenceJson != nil {
                throw ValidationError("Give --reference or --reference-json, not both.")
            }
            for option in options where !option.contains("=") {
                throw ValidationError("--option takes key=value, got '\(option)'.")
            }
        }

        func run() async throws {
            var request = JSONObject()
            request["verifier"] = .string(verifier)
            request["response"] = .string(try readResponse())
            if let reference { request["reference"] = .string(reference) }
            if let referenceJson {
                do { request["reference"] = try JSONParser.parse(referenceJson) } catch {
                    throw ValidationError("--reference-json is not valid JSON: \(error.message)")
                }
            }
            if let prompt { request["prompt"] = .string(prompt) }
            if !options.isEmpty { request["options"] = .object(parsedOptions()) }
            let loaded = try definitions.load(report: Self.warn)
            let handler = Dispatcher(
                registry: loaded.registry, settings: .init(maxLineBytes: Int.max, jobs: 1), stats: ServerStats(workers: 1))
            let line = await handler.answer(line: Array(JSONValue.object(request).jsonText.utf8))
            loaded.plugins.stop()
            guard case .object(let answer)? = try? JSONParser.parse(line) else { throw ExitCode(1) }
            if json {
                print(String(decoding: line, as: UTF8.self))
            } else if answer["error"] == nil {
                print(Self.readable(answer))
            } else {
                FileHandle.standardError.write(Data((Self.readable(answer) + "\n").utf8))
            }
            if answer["error"] != nil { throw ExitCode(1) }
            if answer["passed"]?.boolValue != true { throw ExitCode(2) }
        }

        private func readResponse() throws -> String {
            guard response == "-" else { return response }
            let data = FileHandle.standardInput.readDataToEndOfFile()
            var text = String(decoding: data, as: UTF8.self)
            if text.hasSuffix("\n") { text.removeLast() }
            return text
        }

        private func parsedOptions() -> JSONObject {
            var object = JSONObject()
            for option in options {
                let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let value = String(parts[1])
                object[String(parts[0])] = (try? JSONParser.parse(value)) ?? .string(value)
            }
            return object
        }

        static func warn(_ problem: DefinitionProblem) {
            FileHandle.standardError.write(Data("warning: skipped verifier definition \(problem)\n".utf8))
        }

        static func readable(_ answer: JSONObject) -> String {
            if let error = answer["error"]?.objectValue {
                let code = error["code"]?.stringValue ?? "internal"
                return "error     \(code)\nmessage   \(error["message"]?.stringValue ?? "")"
            }
            let passed = answer["passed"]?.boolValue == true
            var lines = [
                "verdict   \(passed ? "PASS" : "FAIL")  (score \(answer["score"]?.jsonText ?? "?"))",
                "reason    \(answer["reason"]?.stringValue ?? "")",
            ]
            if let details = answer["details"]?.objectValue, !details.isEmpty {
                lines.append("details")
                for entry in details { lines.append("  \(entry.key): \(entry.value.jsonText)") }
            }
            if let components = answer["components"]?.objectValue {
                lines.append("components")
                for entry in components { lines.append("  \(entry.key): \(entry.value.jsonText)") }
            }
            lines.append("time      \(answer["ms"]?.jsonText ?? "?") ms")
            return lines.joined(separator: "\n")
        }
    }
}
