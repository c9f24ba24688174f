// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// `arbiter serve` reads its common command lines without ArgumentParser (`ServeSettings`, issue 16's start-up
/// cut). Lines it reads must run as ArgumentParser would run them, and every line it declines must still get
/// ArgumentParser's message and exit status.
@Suite("serve: the command-line fast path", .timeLimit(.minutes(1)))
struct ServeFastPathTests {
    static let requests = [
        #"{"id":1,"verifier":"math","response":"\\boxed{1,234}","reference":"1234"}"#,
        #"{"id":2,"verifier":"math","response":"4 4/9","reference":"\\frac{40}{9}"}"#,
        #"{"id":3,"verifier":"exact","response":"a","reference":"b"}"#,
        #"{"id":4,"verifier":"no_such_verifier","response":"a","reference":"b"}"#,
    ].joined(separator: "\n") + "\n"

    /// The answer lines without their timing.
    static func answers(_ arguments: [String]) throws -> [String] {
        let result = try runArbiter(arguments, input: Data(requests.utf8))
        #expect(result.status == 0, "\(arguments): \(result.stderrText)")
        return result.stdoutLines.map { $0.replacingOccurrences(of: #","ms":[0-9.e+-]+"#, with: "", options: .regularExpression) }
    }

    /// Negative control: `--ordered` twice is declined by the fast path (a repeated option) and read by ArgumentParser;
    /// both readings of the same options answer the same lines.
    @Test("a fast-path line and the same options through ArgumentParser give the same answers")
    func sameAnswersBothWays() throws {
        let fast = try Self.answers(["serve", "--jobs", "1", "--ordered", "--log-level", "error"])
        let parsed = try Self.answers(["serve", "--jobs", "1", "--ordered", "--ordered", "--log-level", "error"])
        #expect(fast.count == 4)
        #expect(fast == parsed)
        #expect(fast.first?.contains(#""passed":true"#) == true)
        #expect(fast.last?.contains(#""error""#) == true)
    }

    @Test("every option the fast path reads, given once each, still serves")
    func allOptions() throws {
        let scratch = try Paths.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let lines = try Self.answers([
            "serve", "--jobs", "2", "--ordered", "--max-in-flight", "64", "--drain-timeout", "1.5", "--max-line", "4096",
            "--log-level", "warning", "--verifiers", scratch.path, "--allow-degraded-isolation",
        ])
        #expect(lines.count == 4)
        #expect(lines.first?.hasPrefix(#"{"id":1,"#) == true)
    }

    /// Lines the fast path must decline, with the exit status and the first line ArgumentParser writes for them.
    static let declined: [([String], Int32, String)] = [
        (["serve", "--jobs", "0"], 64, "Error: --jobs must be at least 1."),
        (["serve", "--jobs", "-1"], 64, "Error: Missing value for '--jobs <jobs>'"),
        (["serve", "--jobs", "x"], 64, "Error: The value 'x' is invalid for '--jobs <jobs>'"),
        (["serve", "--jobs"], 64, "Error: Missing value for '--jobs <jobs>'"),
        (["serve", "--jobs=0"], 64, "Error: --jobs must be at least 1."),
        (["serve", "--max-line", "8"], 64, "Error: --max-line must be at least 16 bytes."),
        (["serve", "--max-in-flight", "0"], 64, "Error: --max-in-flight must be at least 1."),
        (["serve", "--drain-timeout", "nan"], 64, "Error: --drain-timeout must be 0 or more seconds."),
        (["serve", "--log-level", "loud"], 64, "Error: --log-level must be one of trace, debug, info, notice, warning, error, critical."),
        (["serve", "--listen", "nowhere"], 64, "Error: address must be unix:PATH or tcp:HOST:PORT, got 'nowhere'"),
        (["serve", "--verifiers", "/nonexistent-arbiter-dir"], 64, "Error: --verifiers: no directory at '/nonexistent-arbiter-dir'."),
        (["serve", "--bogus"], 64, "Error: Unknown option '--bogus'."),
        (["serve", "extra"], 64, "Error: Unexpected argument 'extra'"),
    ]

    @Test("lines the fast path declines keep ArgumentParser's message and exit status")
    func declinedLines() throws {
        for (arguments, status, message) in Self.declined {
            let result = try runArbiter(arguments)
            #expect(result.status == status, "\(arguments)")
            #expect(result.stderrText.hasPrefix(message), "\(arguments): \(result.stderrText)")
            #expect(result.stdout.isEmpty, "\(arguments)")
        }
        let help = try runArbiter(["serve", "--help"])
        #expect(help.status == 0)
        #expect(help.stdoutLines.first?.hasPrefix("OVERVIEW: Answers JSON-lines verification requests") == true)
    }
}
