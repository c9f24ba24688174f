// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCode
import ArbiterCore
import Foundation
import Testing

/// A verifier whose runs may last an hour (so that only a cancellation ends a `sleep 600`), in a sandbox of its own
/// (one slot: the run after a cancelled one takes the same slot).
private func longRunVerifier(forkServers: Bool) throws -> CodeVerifier {
    let options: JSONObject = ["time_limit_s": .double(300), "wall_time_limit_s": .double(3600)]
    return CodeVerifier(
        configuration: try CodeVerifier.Configuration(
            options: OptionValues(options, specs: CodeVerifier.Configuration.options, verifier: "code")),
        toolchains: ToolchainSet(directory: nil), sandbox: Sandbox(isolation: .current, forkServers: forkServers))
}

/// The host pids whose command line is exactly `command` (seen from outside the run's PID namespace).
private func processes(running command: String) -> [String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { entry in
        guard entry.allSatisfy(\.isNumber),
            let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
        else { return false }
        return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            .trimmingCharacters(in: .whitespaces) == command
    }
}

/// Waits (up to a generous bound: the run has to start) until a process runs `command`; returns whether it did.
private func waitForProcess(running command: String) async -> Bool {
    for _ in 0..<1200 {
        if !processes(running: command).isEmpty { return true }
        try? await Task.sleep(nanoseconds: 50_000_000)
    }
    return false
}

/// A program that starts `sleep 600.<marker>` (a command line no other process has) and waits for it.
private func sleeper(_ language: String, marker: String) -> String {
    language == "python"
        ? fenced("import subprocess\nsubprocess.run(['sleep', '600.\(marker)'])\nprint('done')")
        : fenced("sleep 600.\(marker)\necho done", "bash")
}

private let reference: JSONValue = ["tests": [["stdin": "", "stdout": "done\n"]]]
/// The `test` form: the harness (through the fork server) loads the program, which sleeps while it loads.
private let scriptReference: JSONValue = ["test": "assert True"]

@Suite(
    "A cancelled code run is killed at once and answered 'cancelled'", .serialized, .timeLimit(.minutes(3)),
    .enabled(if: rootTestsRun, "needs root (cgroup slots and the fork server join each run's namespaces)"))
struct CancellationTests {
    @Test(
        "a cancelled task's run is killed (a fork server's child too), throws 'cancelled'; the slot serves on",
        arguments: [("python", true, false), ("python", true, true), ("bash", false, false)])
    func cancelKills(language: String, forkServers: Bool, harness: Bool) async throws {
        let verifier = try longRunVerifier(forkServers: forkServers)
        let marker = String(UInt32.random(in: 100_000...999_999))
        let command = "sleep 600.\(marker)"
        let sample = Sample(
            response: sleeper(language, marker: marker), reference: harness ? scriptReference : reference)
        let task = Task { try await verifier.verify(sample) }
        #expect(await waitForProcess(running: command), "the program never started its sleep")
        task.cancel()
        let outcome = await task.result
        guard case .failure(let error) = outcome else {
            Issue.record("the cancelled run returned a verdict: \(outcome)")
            return
        }
        #expect((error as? ArbiterError)?.code == .cancelled, "\(error)")
        // The run's init was reaped before the verification ended: nothing of it is left.
        #expect(processes(running: command).isEmpty)
        let next = try await verifier.verify(Sample(response: fenced("print('done')"), reference: reference))
        #expect(next.passed, "\(next.details)")
    }

    @Test("negative control: the same run not cancelled is still running at the point where the other was cancelled")
    func uncancelledKeepsRunning() async throws {
        let verifier = try longRunVerifier(forkServers: true)
        let marker = String(UInt32.random(in: 100_000...999_999))
        let command = "sleep 600.\(marker)"
        let sample = Sample(response: sleeper("python", marker: marker), reference: reference)
        let task = Task { try await verifier.verify(sample) }
        #expect(await waitForProcess(running: command), "the program never started its sleep")
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(!processes(running: command).isEmpty, "the run ended without a cancellation")
        // Clean up through the mechanism under test.
        task.cancel()
        _ = await task.result
        #expect(processes(running: command).isEmpty)
    }
}
