// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterServer
import ArgumentParser
import Foundation
import Logging

@main
struct Arbiter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arbiter",
        abstract: "Turns language-model outputs into rewards with fast, exact, rule-based verifiers.",
        discussion: """
            Send JSON-lines requests to 'arbiter serve' (a daemon a trainer starts as a child process or reaches over \
            a socket), grade a file of requests with 'arbiter grade', try one response with 'arbiter check', and see \
            every verifier and its options with 'arbiter list'.
            """,
        version: RequestHandler.version,
        subcommands: [Serve.self, Grade.self, Check.self, List.self]
    )
}

/// Every verifier the `arbiter` command serves. New verifier families register here, in one place.
enum Verifiers {
    static var registry: VerifierRegistry {
        VerifierRegistry.builtin
    }
}

/// Options shared by the commands that run verifications.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: "Verifications run at once (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: "Longest request line accepted, in bytes; longer lines get a too_large error.")
    var maxLine: Int = 64 << 20

    @Option(name: .long, help: "Log level on stderr: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1.") }
        guard maxLine >= 16 else { throw ValidationError("--max-line must be at least 16 bytes.") }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical.")
        }
    }

    /// Sets up stderr logging and returns the command's logger.
    func makeLogger(label: String, defaultLevel: Logger.Level) -> Logger {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: label)
        logger.logLevel = logLevel.flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel
        return logger
    }
}
