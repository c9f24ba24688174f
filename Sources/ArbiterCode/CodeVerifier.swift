// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Synchronization

/// `code`: extracts the program from the response, runs it in the sandbox against the reference's tests and scores
/// the fraction of cases passed.
///
/// The reference holds one of three forms: `tests` (stdin/stdout cases), `test` (a script of asserts or a
/// `check(candidate)` function, with an optional `entry_point`) or `calls` (a function called with JSON arguments).
/// Per-case statuses: `passed`, `wrong_answer`, `runtime_error`, `time_limit`, `memory_limit`, `output_limit`,
/// `compile_error`. A script or call case passes only when the harness reaches its end and says so with a nonce the
/// program never sees.
public struct CodeVerifier: Verifier {
    /// Options of ``CodeVerifier``.
    public struct Configuration: VerifierConfiguration {
        var language: String
        var extract: String
        var limits: RunLimits
        var comparison: OutputComparison
        var allOrNothing: Bool
        var stopOnFailure: Bool
        var totalSeconds: Double

        public static let options: [OptionSpec] = [
            OptionSpec(
                "language", .string(choices: []), default: .string(""),
                "The language when the reference names none (python, c, cpp, javascript, bash or an alias); empty: the code fence's, else python."
            ),
            OptionSpec(
                "extract", .string(choices: ["last", "first", "all", "whole"]), default: .string("last"),
                "Which fenced block of the language runs: the last, the first, all concatenated, or (whole) the whole response when it has no fence."
            ),
            OptionSpec(
                "time_limit_s", .number(0.05...300), default: .double(5),
                "CPU seconds per run (one stdin/stdout case, or the whole test or calls run): all its processes together where the cpu cgroup is available, else per process."),
            OptionSpec(
                "wall_time_limit_s", .number(0...3600), default: .double(0),
                "Wall-clock seconds per run, the backstop for programs that sleep or wait; 0: twice time_limit_s."),
            OptionSpec(
                "memory_mb", .integer(16...65536), default: .int(512), "Memory of a run, all its processes together."),
            OptionSpec(
                "processes", .integer(1...4096), default: .int(64),
                "Processes and threads the program may have at once (the sandbox's own init and test runner are not counted)."),
            OptionSpec(
                "output_limit_kb", .integer(1...1_048_576), default: .int(1024),
                "Kilobytes of stdout (and of stderr) a run may write; more kills it (output_limit)."),
            OptionSpec("file_size_mb", .integer(0...4096), default: .int(16), "Largest file a program may write."),
            OptionSpec(
                "work_dir_mb", .integer(1...16384), default: .int(256),
                "Size of a run's work directory, a tmpfs of its own that is gone when the run ends (counted in memory_mb); a program whose files do not fit it fails (runtime_error)."),
            OptionSpec(
                "work_dir_files", .integer(16...1_000_000), default: .int(10000),
                "Files and directories a run's work directory may hold."),
            OptionSpec(
                "float_tolerance", .number(0...1), default: .double(1e-6),
                "Relative and absolute tolerance for expected decimals (a point or an exponent); integers always compare exactly; 0: exact."
            ),
            OptionSpec(
                "all_or_nothing", .boolean, default: .bool(false), "Score 1 only when every case passes, else 0."),
            OptionSpec(
                "stop_on_failure", .boolean, default: .bool(false),
                "Stop at the first failing stdin/stdout case, test script or call (the rest count as failed); implied by all_or_nothing."),
            OptionSpec(
                "total_time_limit_s", .number(1...3600), default: .double(120),
                "Wall-clock budget of all stdin/stdout runs of a sample; cases past it are time_limit without running."),
        ]

        public init(options: OptionValues) throws {
            language = options.string("language")
            extract = options.string("extract")
            let seconds = options.double("time_limit_s")
            let wall = options.double("wall_time_limit_s")
            let memory = options.int("memory_mb") << 20
            limits = RunLimits(
                wallSeconds: wall > 0 ? wall : 2 * seconds, cpuSeconds: seconds, memoryBytes: memory, processes: options.int("processes"),
                fileBytes: max(options.int("file_size_mb") << 20, 1), openFiles: 256,
                stackBytes: min(memory, 256 << 20),
                outputBytes: options.int("output_limit_kb") << 10, workDirectoryBytes: options.int("work_dir_mb") << 20,
                workDirectoryFiles: options.int("work_dir_files"))
            comparison = OutputComparison(tolerance: options.double("float_tolerance"))
            allOrNothing = options.bool("all_or_nothing")
            stopOnFailure = options.bool("stop_on_failure") || allOrNothing
            totalSeconds = options.double("total_time_limit_s")
        }
    }

    public static let name = "code"
    public static let summary =
        "Runs the response's code block in a sandbox against stdin/stdout cases, assert/check scripts or function calls; score = fraction passed."

    let configuration: Configuration
    private let toolchainSet: OnFirstUse<ToolchainSet>
    private let sandboxCell: OnFirstUse<Sandbox>
    let allowsDegradedIsolation: Bool

    /// The languages it knows (read on first use).
    var toolchains: ToolchainSet { toolchainSet.value }
    /// Where programs run, made (and the host's isolation probed) on first use: a daemon that never runs a program
    /// never pays for the probe.
    var sandbox: Sandbox { sandboxCell.value }

    public init(configuration: Configuration) {
        self.init(
            configuration: configuration, toolchains: OnFirstUse { ToolchainSet(directory: nil) },
            sandbox: OnFirstUse { .shared })
    }

    /// A verifier with its toolchains and sandbox.
    /// - Parameters:
    ///   - configuration: The options.
    ///   - toolchains: The languages it knows.
    ///   - sandbox: Where programs run.
    ///   - allowDegradedIsolation: Run programs even when the sandbox is not ``Isolation/isolated`` (the daemon's
    ///     `--allow-degraded-isolation`); otherwise every verification is refused with an `internal` error.
    public init(
        configuration: Configuration, toolchains: ToolchainSet, sandbox: Sandbox, allowDegradedIsolation: Bool = false
    ) {
        self.init(
            configuration: configuration, toolchains: OnFirstUse { toolchains }, sandbox: OnFirstUse { sandbox },
            allowDegradedIsolation: allowDegradedIsolation)
    }

    /// A verifier whose toolchains and sandbox are made on first use (shared with the other verifiers of a registry).
    init(
        configuration: Configuration, toolchains: OnFirstUse<ToolchainSet>, sandbox: OnFirstUse<Sandbox>,
        allowDegradedIsolation: Bool = false
    ) {
        self.configuration = configuration
        self.toolchainSet = toolchains
        self.sandboxCell = sandbox
        self.allowsDegradedIsolation = allowDegradedIsolation
    }

    /// The error every verification gets when programs cannot be isolated and degraded isolation was not allowed.
    static func refusal(_ isolation: Isolation) -> ArbiterError {
        ArbiterError(
            .internal,
            "code: refusing to run the program without isolation ("
                + (isolation.missing.first ?? "no PID, mount and network namespaces")
                + "); start arbiter with --allow-degraded-isolation to run programs anyway")
    }

    public func verify(_ sample: Sample) async throws -> Verdict {
        guard sandbox.isolation.isolated || allowsDegradedIsolation else { throw Self.refusal(sandbox.isolation) }
        let spec = try TestSpec(reference: sample.reference)
        let requested = spec.language ?? (configuration.language.isEmpty ? nil : configuration.language)
        let toolchain: Toolchain
        if let requested {
            guard let found = toolchains.toolchain(for: requested) else {
                throw ArbiterError(
                    .invalidReference,
                    "no toolchain for language '\(requested)' (known: \(toolchains.names.joined(separator: ", ")))")
            }
            toolchain = found
        } else {
            toolchain = fenceLanguage(sample.response, for: spec) ?? toolchains.toolchain(for: "python")!
        }
        var details: JSONObject = [
            "language": .string(toolchain.name), "sandbox": .string(sandbox.isolation.summary),
        ]
        guard
            let code = CodeExtraction.code(
                in: sample.response, mode: configuration.extract, matches: { toolchain.answers(to: $0) })
        else {
            return .fail("no_code", details: details)
        }
        details["code_bytes"] = .int(code.utf8.count)
        guard toolchain.interpreter != nil || toolchain.interpreterCandidates.isEmpty else {
            throw ArbiterError(
                .internal,
                "toolchain '\(toolchain.name)': none of \(toolchain.interpreterCandidates) is installed where the sandbox user can run it"
            )
        }
        let session = try RunSession(
            toolchain: toolchain, configuration: configuration, sandbox: sandbox, code: code)
        defer { session.close() }
        let results = try await session.run(spec)
        if let run = session.harnessRunDetails { details["run"] = .object(run) }
        return verdict(results, compile: session.compileDetails, details: details)
    }

    /// The language of the last fence tag that names a toolchain able to run the reference's form. A tag whose
    /// language cannot (a ```sh block after the answer, against `test` scripts) is passed over: the response chose
    /// the language, so its choice must never turn the grade into an error, which a trainer would skip.
    private func fenceLanguage(_ response: String, for spec: TestSpec) -> Toolchain? {
        for block in CodeExtraction.blocks(in: response).reversed() where !block.tag.isEmpty {
            if let toolchain = toolchains.toolchain(for: block.tag), toolchain.refusal(for: spec) == nil {
                return toolchain
            }
        }
        return nil
    }

    private func verdict(_ results: [CaseResult], compile: JSONObject?, details: JSONObject) -> Verdict {
        var details = details
        let passed = results.filter { $0.status == "passed" }.count
        details["passed"] = .int(passed)
        details["total"] = .int(results.count)
        if let compile { details["compile"] = .object(compile) }
        details["cases"] = .array(results.map { .object($0.jsonObject) })
        let all = passed == results.count
        let score = all ? 1 : (configuration.allOrNothing ? 0 : Double(passed) / Double(max(results.count, 1)))
        let reason = all ? "passed" : (results.first { $0.status != "passed" }?.status ?? "wrong_answer")
        return Verdict(score: score, passed: all, reason: reason, details: details)
    }
}

/// The outcome of one test case.
struct CaseResult: Sendable {
    var status: String
    var milliseconds: Double?
    var message: String?
    var stderr: String?
    /// Measurements of the case's own run (stdin/stdout cases): CPU milliseconds and peak memory in KiB.
    var cpuMilliseconds: Double? = nil
    var memoryKB: Int? = nil

    var jsonObject: JSONObject {
        var object: JSONObject = ["status": .string(status)]
        if let milliseconds { object["time_ms"] = .double((milliseconds * 100).rounded() / 100) }
        if let cpuMilliseconds { object["cpu_ms"] = .double((cpuMilliseconds * 100).rounded() / 100) }
        if let memoryKB { object["memory_kb"] = .int(memoryKB) }
        if let message { object["message"] = .string(message) }
        if let stderr, !stderr.isEmpty { object["stderr"] = .string(stderr) }
        return object
    }
}

extension VerifierRegistry {
    /// Adds `code`, with the built-in toolchains and those of `<verifiers>/toolchains/*.json` when given. With
    /// `describe`, its summary (`arbiter list`) names the languages found and the isolation active on this host, which
    /// reads the toolchains and probes the host now; without it both wait for the first `code` request, so that a
    /// daemon that never runs a program never pays for them (the probe clones a process into new namespaces and forks
    /// one to try the seccomp filter: about 8 ms of wall time and 18 ms of CPU).
    /// - Parameters:
    ///   - verifiersDirectory: The `verifiers` directory, if any.
    ///   - allowDegradedIsolation: Run programs even when this host cannot isolate them (else `code` refuses).
    ///   - sandbox: Where programs run, evaluated once, on first use: one per process is enough (its slots, cgroups and
    ///     warm interpreters are shared by every `code` verifier made from this registry).
    ///   - describe: Name the languages and the isolation in the summary (read and probed now).
    public mutating func registerCodeVerifiers(
        verifiersDirectory: URL? = nil, allowDegradedIsolation: Bool = false,
        sandbox: @escaping @autoclosure @Sendable () -> Sandbox, describe: Bool = true
    ) {
        let directory = verifiersDirectory?.appendingPathComponent("toolchains")
        let toolchains = OnFirstUse { ToolchainSet(directory: directory) }
        let cell = OnFirstUse(sandbox)
        let make: @Sendable (OptionValues) throws -> any Verifier = { values in
            CodeVerifier(
                configuration: try CodeVerifier.Configuration(options: values), toolchains: toolchains,
                sandbox: cell, allowDegradedIsolation: allowDegradedIsolation)
        }
        var summary = CodeVerifier.summary
        if describe {
            let set = toolchains.value
            let isolation = cell.value.isolation
            let available = set.names.filter { set.all[$0]?.interpreter != nil }
            summary += " Languages: \(available.joined(separator: ", ")). "
            summary += isolation.summary.prefix(1).uppercased() + isolation.summary.dropFirst() + "."
            if !isolation.isolated {
                summary +=
                    allowDegradedIsolation
                    ? " PROGRAMS RUN WITHOUT ISOLATION (--allow-degraded-isolation)."
                    : " Refuses to run programs: no isolation here (--allow-degraded-isolation runs them anyway)."
            }
            if !set.problems.isEmpty {
                summary += " Toolchain problems: " + set.problems.joined(separator: "; ")
            }
        } else {
            summary += " Languages and isolation are found on the first request (`arbiter list` names them)."
        }
        register(
            VerifierEntry(
                name: CodeVerifier.name, summary: summary, kind: "builtin", options: CodeVerifier.Configuration.options,
                factory: make))
    }
}

/// A value made once, on first use, by whichever thread asks first (the others wait for it).
final class OnFirstUse<Value: Sendable>: Sendable {
    private let make: @Sendable () -> Value
    private let made = Mutex<Value?>(nil)

    init(_ make: @escaping @Sendable () -> Value) {
        self.make = make
    }

    var value: Value {
        made.withLock { made in
            if let made { return made }
            let value = make()
            made = value
            return value
        }
    }
}
