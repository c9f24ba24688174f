// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// One program's work directory: compiled once, then run against every case; removed by ``close()``.
final class RunSession: @unchecked Sendable {
    // Unchecked: a session belongs to one verification and is used by one task at a time.
    let toolchain: Toolchain
    let configuration: CodeVerifier.Configuration
    let sandbox: Sandbox
    let workDirectory: String
    let environment: [String]
    let code: String
    var compileDetails: JSONObject?
    /// The measurements of the harness run (`test` and `calls` forms run every case in one process).
    private(set) var harnessRunDetails: JSONObject?
    /// The work directory's files while it exists only in memory (``Sandbox/keepsWorkInMemory``): a run that
    /// compiles nothing never creates it on the host; each run's init writes these into the run's tmpfs. `nil` once
    /// the directory exists on the host (``materialize()``).
    private var memoryFiles: [(name: String, bytes: [UInt8])]?

    init(toolchain: Toolchain, configuration: CodeVerifier.Configuration, sandbox: Sandbox, code: String)
        throws(ArbiterError)
    {
        self.toolchain = toolchain
        self.configuration = configuration
        self.sandbox = sandbox
        self.code = code
        workDirectory = try sandbox.reserveWorkDirectory()
        environment = Self.environment(workDirectory: workDirectory, toolchain: toolchain)
        if sandbox.keepsWorkInMemory {
            memoryFiles = []
        } else {
            try sandbox.createWorkDirectory(workDirectory)
        }
        do {
            try write(code, to: toolchain.source)
        } catch {
            close()
            throw error
        }
    }

    /// Creates the work directory on the host with the files kept in memory so far (a compiler's run, which leaves
    /// its outputs there); nothing when it exists.
    func materialize() throws(ArbiterError) {
        guard let files = memoryFiles else { return }
        try sandbox.createWorkDirectory(workDirectory)
        memoryFiles = nil
        for file in files { try write(file.bytes, to: file.name) }
    }

    /// The whole environment of a run: a fixed PATH and locale, HOME and TMPDIR in the work directory, then the
    /// toolchain's own variables.
    static func environment(workDirectory: String, toolchain: Toolchain) -> [String] {
        [
            "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=\(workDirectory)", "TMPDIR=\(workDirectory)", "LANG=C.UTF-8",
            "LC_ALL=C.UTF-8",
        ] + toolchain.environment.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }
    }

    func close() {
        if memoryFiles == nil { sandbox.removeWorkDirectory(workDirectory) }
    }

    func write(_ text: String, to name: String, replacing: Bool = false) throws(ArbiterError) {
        try write(Array(text.utf8), to: name, replacing: replacing)
    }

    func write(_ bytes: [UInt8], to name: String, replacing: Bool = false) throws(ArbiterError) {
        if memoryFiles != nil {
            if let index = memoryFiles!.firstIndex(where: { $0.name == name }) {
                guard replacing else {
                    throw ArbiterError(
                        .internal, "cannot write \(workDirectory)/\(name): \(String(cString: strerror(EEXIST)))")
                }
                memoryFiles![index].bytes = bytes
            } else {
                memoryFiles!.append((name, bytes))
            }
            return
        }
        // A plain write: the directory is private and short-lived, so no temporary file, rename or fsync.
        let path = workDirectory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (replacing ? O_TRUNC : O_EXCL), 0o644)
        guard fd >= 0 else {
            throw ArbiterError(.internal, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                throw ArbiterError(.internal, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    private var runLimits: RunLimits {
        var limits = configuration.limits
        limits.processes = max(limits.processes, toolchain.minimumProcesses)
        limits.minimumAddressSpace = toolchain.minimumAddressSpace
        return limits
    }

    /// The limits of a harness run: one process more than the program's, for the harness's own (the runner that
    /// holds the tests, beside the program's process), which is the grader's, not the program's.
    private var harnessLimits: RunLimits {
        var limits = runLimits
        if toolchain.harness != nil { limits.processes += 1 }
        return limits
    }

    /// Compiles when the toolchain says so, then runs the tests.
    func run(_ spec: TestSpec) async throws(ArbiterError) -> [CaseResult] {
        if let refusal = toolchain.refusal(for: spec) { throw refusal }
        if case .script(let tests, _) = spec.form, toolchain.harness == nil, let template = toolchain.testTemplate {
            if let failure = try await buildTestProgram(test: tests[0], template: template) {
                return Array(repeating: failure, count: spec.count)
            }
        } else if let failure = try await compile(toolchain.compile) {
            return Array(repeating: failure, count: spec.count)
        }
        switch spec.form {
        case .standardIO(let cases): return try await runStandardIO(cases)
        case .script(let tests, let entryPoint):
            let instructions = HarnessInstructions(
                form: "test", entryPoint: entryPoint ?? "", function: "", cases: tests, setup: spec.setup ?? "",
                stopOnFailure: configuration.stopOnFailure)
            return try await runHarness(instructions) { _, record in
                CaseResult(status: record.status, milliseconds: record.milliseconds, message: record.message)
            }
        case .calls(let function, let cases, let unwrapSingle):
            let instructions = HarnessInstructions(
                form: "calls", entryPoint: "", function: function,
                cases: cases.map { JSONValue.array($0.arguments).jsonText }, setup: spec.setup ?? "",
                stopOnFailure: configuration.stopOnFailure, expected: cases.map { $0.expected.jsonText },
                tolerance: configuration.comparison.tolerance, unwrapSingle: unwrapSingle)
            return try await runHarness(instructions) { index, record in
                guard record.status == "value" else {
                    // Only a value is compared here; any other record is a failure, and "passed" can only be a
                    // forgery (the harness never reports it for calls), so it counts as a wrong answer.
                    let status = record.status == "unserializable" || record.status == "passed" ? "wrong_answer" : record.status
                    return CaseResult(status: status, milliseconds: record.milliseconds, message: record.message)
                }
                let expected = cases[index].expected
                let value = record.value ?? .null
                let comparison = self.configuration.comparison
                var matches = comparison.valuesMatch(value, expected)
                if !matches, unwrapSingle, let wrapped = expected.arrayValue, wrapped.count == 1 {
                    matches = comparison.valuesMatch(value, wrapped[0])
                }
                if matches {
                    return CaseResult(status: "passed", milliseconds: record.milliseconds)
                }
                return CaseResult(
                    status: "wrong_answer", milliseconds: record.milliseconds,
                    message: "got \(Self.clip(value.jsonText)), expected \(Self.clip(expected.jsonText))")
            }
        }
    }

    /// The limits of a compiler's run.
    var compileLimits: RunLimits {
        RunLimits(
            wallSeconds: toolchain.compileSeconds, cpuSeconds: toolchain.compileSeconds,
            memoryBytes: toolchain.compileMemoryMB << 20, processes: max(32, configuration.limits.processes),
            fileBytes: 512 << 20, openFiles: 256, stackBytes: 64 << 20, outputBytes: 64 << 10,
            workDirectoryBytes: max(configuration.limits.workDirectoryBytes, 1 << 30),
            workDirectoryFiles: configuration.limits.workDirectoryFiles)
    }

    /// `nil` when there is nothing to compile or it compiled; else the compile error every case gets.
    func compile(_ template: [String]?) async throws(ArbiterError) -> CaseResult? {
        guard let command = template.map({ toolchain.command($0) }) else { return nil }
        try materialize()
        let limits = compileLimits
        let outcome = try await sandbox.run(
            executable: command[0], arguments: command, environment: environment, workDirectory: workDirectory,
            visible: toolchain.visible, limits: limits, exportFiles: true)
        var details: JSONObject = ["time_ms": .double((outcome.wallSeconds * 100_000).rounded() / 100)]
        if let earlier = compileDetails?["time_ms"]?.doubleValue { details["time_ms"] = .double(earlier + (details["time_ms"]?.doubleValue ?? 0)) }
        let failure = Self.failure(of: outcome, cpuLimit: limits.cpuSeconds)
        details["status"] = .string(failure == nil ? "ok" : "compile_error")
        compileDetails = details
        guard let failure else { return nil }
        let reason = failure == "runtime_error" ? "the compiler failed" : "the compiler hit \(failure)"
        return CaseResult(status: "compile_error", message: reason, stderr: Self.text(outcome.stderr, limit: 2000))
    }

    /// The fork server that runs a stdin/stdout case from a warm interpreter (``Toolchain/warmRun``), if any.
    private var warmRun: ForkServerRequest? {
        guard let code = toolchain.warmRun, let server = toolchain.harness?.forkServer else { return nil }
        return ForkServerRequest(
            command: toolchain.command(server.run).map { $0 == "{code}" ? server.code : $0 }, harnessCode: code)
    }

    private func runStandardIO(_ cases: [(stdin: String, stdout: String)]) async throws(ArbiterError) -> [CaseResult] {
        let command = toolchain.command(toolchain.run)
        var results: [CaseResult] = []
        let started = Date()
        for testCase in cases {
            if results.last.map({ $0.status != "passed" }) == true, configuration.stopOnFailure {
                results.append(CaseResult(status: results.last!.status, message: "not run: an earlier case failed"))
                continue
            }
            if Date().timeIntervalSince(started) > configuration.totalSeconds {
                results.append(CaseResult(status: "time_limit", message: "not run: total_time_limit_s was spent"))
                continue
            }
            let outcome = try await sandbox.run(
                executable: command[0], arguments: command, environment: environment, workDirectory: workDirectory,
                stdin: Array(testCase.stdin.utf8), visible: toolchain.visible, limits: runLimits,
                forkServer: warmRun, memoryFiles: memoryFiles)
            results.append(judge(outcome, expected: testCase.stdout))
        }
        return results
    }

    private func judge(_ outcome: RunOutcome, expected: String) -> CaseResult {
        var result = classify(outcome, expected: expected)
        result.cpuMilliseconds = outcome.cpuSeconds * 1000
        result.memoryKB = outcome.peakMemoryBytes.map { $0 >> 10 }
        return result
    }

    private func classify(_ outcome: RunOutcome, expected: String) -> CaseResult {
        let milliseconds = outcome.wallSeconds * 1000
        let stderr = Self.text(outcome.stderr, limit: 500)
        if let failure = Self.failure(of: outcome, cpuLimit: runLimits.cpuSeconds) {
            return CaseResult(
                status: failure, milliseconds: milliseconds, message: Self.exitDescription(outcome), stderr: stderr)
        }
        let output = String(decoding: outcome.stdout, as: UTF8.self)
        if let difference = configuration.comparison.compare(output: output, expected: expected) {
            return CaseResult(status: "wrong_answer", milliseconds: milliseconds, message: difference, stderr: stderr)
        }
        return CaseResult(status: "passed", milliseconds: milliseconds)
    }

    /// One harness record: `[index, status, ms, message-or-value]`.
    struct Record {
        var status: String
        var milliseconds: Double?
        var message: String?
        var value: JSONValue?
    }

    /// What the harness reads on fd 3 after the nonce: one value per line, then each case as its UTF-8 length on a
    /// line and its bytes (a script, or the JSON array of a call's arguments), then the setup code the same way.
    struct HarnessInstructions {
        var form: String
        var entryPoint: String
        var function: String
        var cases: [String]
        var setup: String = ""
        /// Stop at the first failing script (a trailing `stop` line; harnesses that do not know it run them all).
        var stopOnFailure = false
        /// With `stopOnFailure` and calls: the expected values (JSON), so that the harness can tell a value that is
        /// surely wrong and stop there (line `expect <tolerance> <unwrap single>` after `stop`, then each value as
        /// its length and bytes). The harness only decides where to stop: every value is still judged here.
        var expected: [String]? = nil
        var tolerance: Double = 0
        var unwrapSingle = false

        func bytes(nonce: String, program: String) -> [UInt8] {
            var text = [nonce, form, program, entryPoint, function, String(cases.count)].map {
                $0.replacingOccurrences(of: "\n", with: " ") + "\n"
            }.joined()
            for item in cases + [setup] { text += "\(item.utf8.count)\n" + item }
            if stopOnFailure {
                text += "stop\n"
                if let expected {
                    text += "expect \(tolerance) \(unwrapSingle ? 1 : 0)\n"
                    for item in expected { text += "\(item.utf8.count)\n" + item }
                }
            }
            return Array(text.utf8)
        }
    }

    private func runHarness(
        _ instructions: HarnessInstructions, judge: (Int, Record) -> CaseResult
    ) async throws(ArbiterError) -> [CaseResult] {
        let count = instructions.cases.count
        let command: [String]
        var companion: [String]? = nil
        var commandFiles: [(name: String, bytes: [UInt8])] = []
        if let harness = toolchain.harness, let host = harness.host {
            // A split harness: its code goes on the command line; only the program's process reads files here.
            try write(host.code, to: host.file)
            command = toolchain.command(harness.run)
            companion = toolchain.command(host.run)
        } else if let harness = toolchain.harness {
            // The harness's file is written only for a run that executes the command: a run forked from a fork server
            // has the harness loaded already (the sandbox writes it if that run falls back to the command). With a
            // fork server that fallback takes the plain source, so that no daemon prepares (compiles, in a sandboxed
            // run of its own before its first request) a harness that its runs never execute.
            let forks = sandbox.usesForkServers && harness.forkServer != nil
            if !forks, let preparedRun = harness.preparedRun, let preparedFile = harness.preparedFile,
                let prepared = await sandbox.preparedHarnesses.file(for: toolchain, in: sandbox)
            {
                commandFiles = [(preparedFile, prepared)]
                command = toolchain.command(preparedRun)
            } else {
                commandFiles = [(harness.file, Array(harness.code.utf8))]
                command = toolchain.command(harness.run)
            }
        } else if instructions.form == "test", toolchain.testTemplate != nil {
            command = toolchain.command(toolchain.run)
        } else {
            // Unreachable: `run` refused the form first (``Toolchain/refusal(for:)``).
            throw ArbiterError(.internal, "language '\(toolchain.name)' has no harness for the '\(instructions.form)' form")
        }
        var random = SystemRandomNumberGenerator()
        let nonce = (0..<4).map { _ in String(random.next() as UInt64, radix: 36) }.joined(separator: "-")
        let input = instructions.bytes(nonce: nonce, program: toolchain.source)
        let forkServer = toolchain.harness?.forkServer.map { server in
            ForkServerRequest(
                command: toolchain.command(server.run).map { $0 == "{code}" ? server.code : $0 },
                harnessCode: toolchain.harness?.code ?? "")
        }
        // `test` scripts compiled by the toolchain's test compiler (the tests, then the setup), for a harness that
        // reads them.
        var testCompile: TestCompileRequest? = nil
        if instructions.form == "test", let harness = toolchain.harness, let compiler = harness.testCompiler {
            let scripts = instructions.cases.enumerated().map { (name: "test_\($0.offset)", source: $0.element) }
            testCompile = TestCompileRequest(
                compiler: ForkServerRequest(
                    command: toolchain.command(compiler.run).map { $0 == "{code}" ? compiler.code : $0 },
                    harnessCode: harness.code),
                scripts: scripts + [(name: "setup", source: instructions.setup)])
        }
        let outcome = try await sandbox.run(
            executable: command[0], arguments: command, environment: environment, workDirectory: workDirectory,
            harnessInput: input, visible: toolchain.visible, limits: harnessLimits, companion: companion,
            forkServer: forkServer, commandFiles: commandFiles, testCompile: testCompile, memoryFiles: memoryFiles)
        var (records, programFailure, finished) = Self.parseReport(outcome.report, nonce: nonce)
        // "killed": the harness saw the program's process die of SIGKILL, which is the memory cgroup's doing when
        // the run went over its memory.
        let killed = outcome.outOfMemory ? "memory_limit" : "runtime_error"
        for (index, record) in records where record.status == "killed" { records[index]?.status = killed }
        if programFailure?.status == "killed" { programFailure?.status = killed }
        var run: JSONObject = [
            "time_ms": .double((outcome.wallSeconds * 100_000).rounded() / 100),
            "cpu_ms": .double((outcome.cpuSeconds * 100_000).rounded() / 100), "reached_end": .bool(finished),
        ]
        if let peak = outcome.peakMemoryBytes { run["memory_kb"] = .int(peak >> 10) }
        harnessRunDetails = run
        let stderr = Self.text(outcome.stderr, limit: 500)
        let runFailure = Self.failure(of: outcome, cpuLimit: runLimits.cpuSeconds)
        var results: [CaseResult] = []
        for index in 0..<count {
            results.append(caseResult(index))
        }
        return results

        func caseResult(_ index: Int) -> CaseResult {
            if let program = programFailure {
                return CaseResult(
                    status: program.status, milliseconds: program.milliseconds, message: program.message, stderr: stderr
                )
            }
            if let record = records[index] {
                var result = judge(index, record)
                if result.status != "passed", result.stderr == nil { result.stderr = stderr }
                return result
            }
            // Stopped after a failing case (as judged here: for calls, a value the daemon found wrong): the rest count
            // as that failure (never as passed).
            if instructions.stopOnFailure, finished, let failure = results.first(where: { $0.status != "passed" }) {
                return CaseResult(status: failure.status, message: "not run: an earlier case failed")
            }
            if index > 0, records[index - 1] == nil {
                return CaseResult(
                    status: runFailure ?? "runtime_error", message: "not run: the run ended in an earlier case")
            }
            let message =
                runFailure != nil
                ? Self.exitDescription(outcome)
                : finished ? "no result for this case" : "the harness did not reach its end: the program exited early"
            // A failed C `assert` aborts the run: that case's answer was wrong.
            let failedAssert = outcome.signal == SIGABRT && stderr.contains("Assertion") && stderr.contains("failed")
            return CaseResult(
                status: failedAssert ? "wrong_answer" : runFailure ?? "runtime_error", message: message, stderr: stderr)
        }
    }

    /// The authentic records (those carrying the nonce) by case, a program-level failure, and whether the end came.
    static func parseReport(_ bytes: [UInt8], nonce: String) -> ([Int: Record], Record?, Bool) {
        var records: [Int: Record] = [:]
        var program: Record? = nil
        var finished = false
        let prefix = nonce + " "
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix(prefix) {
            guard let fields = try? JSONParser.parse(String(line.dropFirst(prefix.count))).arrayValue,
                let first = fields.first
            else { continue }
            if first.stringValue == "end" {
                finished = true
                continue
            }
            guard fields.count >= 2, let status = fields[1].stringValue else { continue }
            var record = Record(status: status, milliseconds: fields.count > 2 ? fields[2].doubleValue : nil)
            if fields.count > 3 {
                if status == "value" { record.value = fields[3] } else { record.message = fields[3].stringValue }
            }
            if first.stringValue == "program" {
                program = record
            } else if case .number(let number) = first, let index = number.int, records[index] == nil {
                records[index] = record
            }
        }
        return (records, program, finished)
    }

    /// The status of a run that did not end normally, or `nil`.
    static func failure(of outcome: RunOutcome, cpuLimit: Double) -> String? {
        if outcome.notStarted != nil { return "runtime_error" }
        if outcome.outputExceeded { return "output_limit" }
        if outcome.timedOut || outcome.cpuExceeded { return "time_limit" }
        if outcome.outOfMemory { return "memory_limit" }
        if let signal = outcome.signal {
            if signal == SIGXCPU || (signal == SIGKILL && outcome.cpuSeconds >= cpuLimit) { return "time_limit" }
            return "runtime_error"
        }
        guard outcome.exitCode != 0 else { return nil }
        let stderr = String(decoding: outcome.stderr.suffix(4096), as: UTF8.self)
        if stderr.contains("MemoryError") || stderr.contains("std::bad_alloc")
            || stderr.contains("JavaScript heap out of memory")
        {
            return "memory_limit"
        }
        return "runtime_error"
    }

    static func exitDescription(_ outcome: RunOutcome) -> String {
        let description: String
        if let reason = outcome.notStarted { return "not started: " + reason }
        if outcome.outputExceeded {
            description = "killed: output over the limit"
        } else if outcome.cpuExceeded {
            description = "killed at the CPU limit: \(Int(outcome.cpuSeconds * 1000)) ms of CPU, all its processes together"
        } else if outcome.timedOut {
            description = "killed at the wall-clock limit after \(Int(outcome.wallSeconds * 1000)) ms"
        } else if outcome.outOfMemory {
            description = "killed: out of memory"
        } else if let signal = outcome.signal {
            description = "killed by signal \(signal)"
        } else {
            description = "exit code \(outcome.exitCode ?? -1)"
        }
        return description + (outcome.processLimitHit ? " (process limit reached)" : "")
    }

    static func text(_ bytes: [UInt8], limit: Int) -> String {
        let text = String(decoding: bytes.prefix(limit), as: UTF8.self)
        return bytes.count > limit ? text + "…" : text
    }

    static func clip(_ text: String) -> String {
        text.clipped(characters: 200, bytes: 800)
    }
}
