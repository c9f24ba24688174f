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
            abstract: "Grades a dataset (JSON lines, CSV or TSV, optionally gzip-compressed) and prints a summary.",
            discussion: """
                Each row is a request as 'arbiter serve' takes it, for example:
                  {"id": 1, "verifier": "exact", "response": "42", "reference": "42"}
                One answer per row is written in input order (to --output, or to stdout). A progress bar (rows, \
                rate, ETA) is shown on stderr when stderr is a terminal. The summary table goes to stdout when \
                --output is given, and to stderr otherwise so that stdout stays pure JSON lines.

                With --verifier NAME every row is graded with NAME, whatever verifier it names, and rows need no \
                "verifier" field.

                Datasets as they come: --map response=completion,reference=answer,prompt=question names the row \
                fields (dotted paths reach into nested objects: reference=reward_model.ground_truth); fields not \
                mapped are taken from the row's field of the same name. Files ending in .csv or .tsv (or --format) \
                are read with their header row; gzip-compressed files are read through gzip. A row missing a mapped \
                field is answered with an error, never skipped. --keep id,source copies row fields into each answer, \
                which then starts with "row" (the row's number, from 1).

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

        @Option(name: .long, help: "Request fields from row fields: response=completion,reference=answer (dotted paths allowed).")
        var map: String?

        @Option(name: .long, help: "Row fields to copy into each answer: id,source (dotted paths allowed).")
        var keep: String?

        @Option(name: .long, help: "The input format: jsonl, csv or tsv (default: from the file name; jsonl for stdin).")
        var format: DatasetFormat?

        @Option(name: .long, help: "Write a self-contained HTML report (summary, score histogram, reasons, errors, examples) to this file.")
        var report: String?

        @Option(name: .customLong("report-json"), help: "Write the report's figures as JSON to this file.")
        var reportJSON: String?

        @Flag(name: .long, help: "Never show the progress bar.")
        var noProgress = false

        @OptionGroup var engine: EngineOptions
        @OptionGroup var definitions: DefinitionOptions

        @Option(
            name: .long, parsing: .upToNextOption,
            help: ArgumentHelp(
                "Grade every row with two configurations and report the verdicts that flip: two definition files (as in verifiers/) or option sets ({\"options\": {…}}).",
                valueName: "A.json B.json"))
        var compare: [String] = []

        func validate() throws {
            if let map {
                do { _ = try FieldMap(parsing: map) } catch { throw ValidationError(error.message) }
            }
            if let verifier {
                let registry = try definitions.load { _ in }.registry
                do { _ = try registry.entry(named: verifier) } catch { throw ValidationError(error.message) }
            }
            if !compare.isEmpty {
                guard compare.count == 2 else {
                    throw ValidationError("--compare takes two files (A.json B.json), got \(compare.count).")
                }
                guard report == nil else {
                    throw ValidationError("--report (HTML) is for one grader; with --compare use --report-json.")
                }
            }
        }

        func run() async throws {
            let logger = engine.makeLogger(label: "arbiter.grade", defaultLevel: .warning)
            var loaded = try definitions.load(logger: logger)
            defer { loaded.plugins.stop() }
            var sides: (CompareSide, CompareSide)?
            if compare.count == 2 {
                do throws(ArbiterError) {
                    let kinds = [DefinitionKind.recipe, loaded.plugins.kind]
                    var registry = loaded.registry
                    let a = try CompareSide.load(path: compare[0], name: "compare-a", into: &registry, kinds: kinds)
                    let b = try CompareSide.load(path: compare[1], name: "compare-b", into: &registry, kinds: kinds)
                    loaded.registry = registry
                    sides = (a, b)
                } catch {
                    throw ValidationError(error.message)
                }
            }
            let reportCollector = report != nil || (reportJSON != nil && sides == nil)
                ? ReportCollector(source: file == "-" ? "stdin" : file) : nil
            let compareCollector = sides.map { _ in
                CompareCollector(labels: (compare[0], compare[1]))
            }
            let pipeline = try datasetPipeline(
                registry: loaded.registry, sides: sides,
                observers: [reportCollector as (any RowObserver)?, compareCollector].compactMap { $0 })
            let input = pipeline.serverInput
            let outputDescriptor = pipeline.serverOutput
            let server = Server(
                registry: loaded.registry,
                configuration: .init(
                    jobs: engine.jobs, ordered: true, limits: SessionLimits(maxLineBytes: engine.maxLine),
                    verifierOverride: nil),  // the pipeline sets --verifier on each request
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
            var snapshot = server.stats.snapshot()
            var exactLatency: (p50: Double, p99: Double)?
            let unreadable = pipeline.finish()
            snapshot.requests += unreadable.count
            for code in unreadable { snapshot.errors[code.rawValue, default: 0] += 1 }
            let elapsed = Date().timeIntervalSince(started)
            if let reportCollector {
                let figures = reportCollector.finish(elapsedSeconds: elapsed)
                try writeReports(figures)
                if let p50 = figures.latencyPercentile(0.5), let p99 = figures.latencyPercentile(0.99) {
                    exactLatency = (p50, p99)
                }
            }
            var text = SummaryTable(snapshot: snapshot, elapsed: elapsed, exactLatency: exactLatency).render() + "\n"
            if let compareCollector {
                text = compareCollector.render() + "\n"
                if let reportJSON { try write(Self.jsonText(compareCollector.json()), to: reportJSON) }
            }
            if output != nil {
                print(text, terminator: "")
            } else {
                FileHandle.standardError.write(Data(text.utf8))
            }
        }

        /// The pipeline between the dataset and the server: it maps rows, reads CSV/TSV and gzip, writes each row's
        /// configuration hash, and feeds the report and the comparison.
        private func datasetPipeline(
            registry: VerifierRegistry, sides: (CompareSide, CompareSide)?, observers: [any RowObserver]
        ) throws -> DatasetPipeline {
            let chosen = format ?? DatasetFormat.guess(path: file)
            let compressed = file != "-" && (try? FileHandle(forReadingAtPath: file)?.read(upToCount: 2)) == Data([0x1F, 0x8B])
            let dataset = map != nil || keep != nil || chosen != .jsonl || compressed
            let fieldMap = try map.map { text throws(ArbiterError) in try FieldMap(parsing: text) } ?? FieldMap()
            let kept = (keep ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let reader: DatasetReader
            do { reader = try DatasetReader(path: file, format: chosen) } catch let error as ArbiterError {
                throw ValidationError(error.message)
            }
            let hashes = ConfigurationHash(registry: registry)
            var shape = PipelineShape(
                numberRows: dataset || sides != nil, verifier: verifier, configuration: { hashes.value(for: $0) },
                excerpts: true)
            if let (a, b) = sides {
                shape.transform = { CompareSide.batch($0, a, b) }
            }
            return try DatasetPipeline(
                reader: reader, map: fieldMap, keep: kept, output: try openOutput(), shape: shape, observers: observers)
        }

        /// Writes `--report` (HTML) and `--report-json`.
        private func writeReports(_ figures: GradeReport) throws {
            if let report {
                try write(ReportPage(report: figures).render(), to: report)
            }
            if let reportJSON {
                try write(Self.jsonText(figures.json()), to: reportJSON)
            }
        }

        static func jsonText(_ value: JSONValue) -> String {
            var writer = JSONWriter(capacity: 1 << 14)
            writer.write(value)
            return String(decoding: writer.bytes, as: UTF8.self) + "\n"
        }

        private func write(_ text: String, to path: String) throws {
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw ValidationError("cannot write '\(path)': \(error.localizedDescription)")
            }
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

extension DatasetFormat: ExpressibleByArgument {}
