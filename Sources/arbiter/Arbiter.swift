// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCode
import ArbiterCore
import ArbiterFormat
import ArbiterInstruct
import ArbiterLanguage
import ArbiterMath
import ArbiterPlugins
import ArbiterRegex
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
        version: Dispatcher.version,
        subcommands: [Serve.self, Grade.self, Check.self, List.self, Audit.self]
    )

    /// Runs the command line: a common `serve` line without ArgumentParser (``ServeSettings/init(fastPath:)``), any
    /// other through it.
    static func main() async {
        guard let settings = ServeSettings(fastPath: CommandLine.arguments.dropFirst()) else {
            await main(nil)
            return
        }
        do {
            try await settings.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// Every verifier the `arbiter` command serves. New verifier families register here, in one place.
enum Verifiers {
    /// The built-in verifiers of every family; `code` also reads `<verifiers>/toolchains/*.json` when given, and
    /// probes the host's isolation on its first request (`describeCode`: now, to name it in its summary).
    static func builtin(
        verifiers: URL? = nil, allowDegradedIsolation: Bool = false, describeCode: Bool = false
    ) -> VerifierRegistry {
        var registry = VerifierRegistry.builtin
        registry.registerFormatVerifiers(patterns: .shared)
        registry.registerMathVerifiers()
        registry.registerLanguageVerifiers()
        registry.registerInstructionVerifiers(patterns: .shared)
        registry.registerCodeVerifiers(
            verifiersDirectory: verifiers, allowDegradedIsolation: allowDegradedIsolation, sandbox: .shared,
            describe: describeCode)
        return registry
    }
}

/// Where verifier definitions (`verifiers/*.json`) are read from.
struct DefinitionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "Directory of verifier definitions (default: $ARBITER_VERIFIERS, else ./verifiers when it exists, else the verifiers/ of the checkout the binary was built in).")
    var verifiers: String?

    @Flag(
        name: .long,
        help: "Let 'code' run programs even where they cannot be isolated (no namespaces); every verdict says so.")
    var allowDegradedIsolation = false

    /// The same options as plain values.
    var settings: DefinitionSettings {
        DefinitionSettings(verifiers: verifiers, allowDegradedIsolation: allowDegradedIsolation)
    }

    /// The directory to read, if any.
    var directory: URL? { settings.directory }

    /// The `verifiers/` of the checkout this binary was built in.
    static var checkoutVerifiers: URL? { DefinitionSettings.checkoutVerifiers }

    func validate() throws {
        if let verifiers {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: verifiers, isDirectory: &isDirectory), isDirectory.boolValue
            else { throw ValidationError("--verifiers: no directory at '\(verifiers)'.") }
        }
    }

    /// The built-in verifiers plus the definitions, and the plugin processes they may start.
    /// - Parameters:
    ///   - report: Called with each definition file that was skipped.
    ///   - describeCode: Name `code`'s languages and isolation in its summary (`arbiter list`): probes the host now.
    /// - Throws: `ValidationError` when a definition problem is fatal (a cycle of recipes or definitions).
    func load(report: (DefinitionProblem) -> Void, describeCode: Bool = false) throws -> LoadedVerifiers {
        try settings.load(report: report, describeCode: describeCode)
    }

    /// The same, logging each skipped definition as a warning.
    func load(logger: Logger) throws -> LoadedVerifiers {
        try settings.load(logger: logger)
    }
}

/// The verifiers a command serves and the plugin processes behind some of them (stop them before exiting).
struct LoadedVerifiers {
    var registry: VerifierRegistry
    let plugins: ProcessPlugins
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
        Self.makeLogger(label: label, level: logLevel, defaultLevel: defaultLevel)
    }

    /// Sets up stderr logging and returns a logger at `level` (a `--log-level` value), else at `defaultLevel`; the
    /// `serve` fast path (``ServeSettings``) calls it with the level it read.
    static func makeLogger(label: String, level: String?, defaultLevel: Logger.Level) -> Logger {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: label)
        logger.logLevel = level.flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel
        return logger
    }
}
