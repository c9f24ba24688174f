// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// A protocol transcript from `fixtures/protocol/`: request lines and the answers they must get.
struct Transcript: CustomTestStringConvertible, Sendable {
    struct Step: Sendable {
        var note: String
        var send: String
        var expect: JSONValue?
    }

    var name: String
    var arguments: [String]
    var steps: [Step]

    var testDescription: String { name }

    static func all() throws -> [Transcript] {
        let directory = Paths.fixture("protocol")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".jsonl") }
        return try files.sorted().map { try load(directory.appendingPathComponent($0)) }
    }

    static func load(_ url: URL) throws -> Transcript {
        var transcript = Transcript(name: url.lastPathComponent, arguments: [], steps: [])
        let text = try String(contentsOf: url, encoding: .utf8)
        for line in text.split(separator: "\n") {
            guard case .object(let object) = try JSONParser.parse(String(line)) else { continue }
            if let arguments = object["args"]?.arrayValue {
                transcript.arguments = arguments.compactMap(\.stringValue)
                continue
            }
            transcript.steps.append(
                Step(
                    note: object["note"]?.stringValue ?? "", send: object["send"]?.stringValue ?? "",
                    expect: object["expect"]))
        }
        return transcript
    }
}

@Suite("Protocol transcripts through the real binary")
struct TranscriptTests {
    @Test(.timeLimit(.minutes(1)), arguments: try Transcript.all())
    func transcript(_ transcript: Transcript) throws {
        #expect(!transcript.steps.isEmpty)
        let input = transcript.steps.map { $0.send + "\n" }.joined()
        let result = try runArbiter(["serve"] + transcript.arguments, input: Data(input.utf8))
        #expect(result.status == 0, "stderr: \(result.stderrText)")
        let expected = transcript.steps.filter { $0.expect != nil }
        let lines = result.stdoutLines
        #expect(lines.count == expected.count, "one answer per non-blank request line")
        for (step, line) in zip(expected, lines) {
            let actual = try? JSONParser.parse(line)
            #expect(actual != nil, "answer is not JSON: \(line)")
            if let problem = JSONMatch.mismatch(expected: step.expect!, actual: actual) {
                Issue.record("\(transcript.name) — \(step.note): \(problem)\n  answer: \(line)")
            }
        }
    }

    @Test("the fixtures directory is present")
    func fixturesPresent() throws {
        #expect(try Transcript.all().count >= 4)
    }
}
