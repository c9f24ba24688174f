// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterPlugins
import ArbiterServer
import ArgumentParser
import Foundation
import Logging

extension Arbiter {
    struct Grade: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grades a JSON-lines file of requests and prints a summary.",
            discussion: """
                Each row is a request as 'arbiter serve' takes it, for example:
                  {"id": 1, "verifier": "exact", "response": "42", "reference": "42"}
                One answer per row is written in input order (to --output, or to stdout). A progress bar (rows, \
                rate, ETA) is shown on stderr when stderr is a terminal. The summary table goes to stdout when \
                --output is given, and to stderr otherwise so that stdout stays pure JSON lines.

                With --verifier NAME every row is graded with NAME, whatever verifier it names, and rows need no \
                "verifier" field.

                Exit codes: 0 when every row was answered (rows answered with an error included); 1 when the input \
                or output cannot be opened; 64 for bad arguments.
                """
        )

        @Argument(help: "The JSON-lines file to grade, or - for stdin.")
        var file: String

        @Option(name: .long, help: "Grade every row with this verifier.")
        var verifier: String?

        @Option(name: .long, help: "Write the answers to this file instead of stdout.")
        var output: String?

        @Flag(name: .long, help: "Never show the progress bar.")
        var noProgress = false

        @OptionGroup var engine: EngineOptions
        @OptionGroup var definitions: DefinitionOptions

        func validate() throws {
            if let verifier {
                let registry = try definitions.load { _ in }.registry
                do { _ = try registry.entry(named: verifier) } catch { throw ValidationError(error.message) }
            }
        }

        func run() async throws {
            let logger = engine.makeLogger(label: "arbiter.grade", defaultLevel: .warning)
            let input = try openInput()
            let outputDescriptor = try openOutput()
            let loaded = try definitions.load(logger: logger)
            defer { loaded.plugins.stop() }
            let server = Server(
                registry: loaded.registry,
                configuration: .init(
                    jobs: engine.jobs, ordered: true, limits: SessionLimits(maxLineBytes: engine.maxLine),
                    verifierOverride: verifier),
                logger: logger)
            SignalForwarder.install(for: server)
            let showProgress = !noProgress && isatty(2) == 1
            let total = showProgress && file != "-" ? Self.countRows(path: file) : nil
            let started = Date()
            let progress = showProgress ? Task { await ProgressBar(total: total, started: started).run(server.stats) } : nil
            await server.serve(input: input, output: outputDescriptor)
            progress?.cancel()
            _ = await progress?.value
            if input != 0 { close(input) }
            if outputDescriptor != 1 { close(outputDescriptor) }
            let summary = SummaryTable(snapshot: server.stats.snapshot(), elapsed: Date().timeIntervalSince(started))
            let text = summary.render() + "\n"
            if output != nil {
                print(text, terminator: "")
            } else {
                FileHandle.standardError.write(Data(text.utf8))
            }
        }

        private func openInput() throws -> Int32 {
            guard file != "-" else { return 0 }
            let descriptor = open(file, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw ValidationError("cannot open '\(file)': \(String(cString: strerror(errno)))")
            }
            return descriptor
        }

        private func openOutput() throws -> Int32 {
            guard let output else { return 1 }
            let descriptor = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw ValidationError("cannot write '\(output)': \(String(cString: strerror(errno)))")
            }
            return descriptor
        }

        /// Non-blank lines of a regular file, for the progress bar's ETA.
        static func countRows(path: String) -> Int? {
            guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
            defer { try? handle.close() }
            var rows = 0
            var lineHasContent = false
            while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                for byte in chunk {
                    if byte == 0x0A {
                        if lineHasContent { rows += 1 }
                        lineHasContent = false
                    } else if byte != 0x20, byte != 0x09, byte != 0x0D {
                        lineHasContent = true
                    }
                }
            }
            return rows + (lineHasContent ? 1 : 0)
        }
    }
}
