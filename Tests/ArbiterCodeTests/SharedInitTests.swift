// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

@testable import ArbiterCode
import ArbiterCore
import Foundation
import Testing

/// As root, a run forked from a warm interpreter has an init that shares the daemon's memory (cloned with CLONE_VM:
/// no page table copied), so its command line is the daemon's and cannot be overwritten: the run's /proc shows it
/// empty (/dev/null bound over it), and what else of init shows memory needs ptrace access, which the run lacks.
@Suite("code: the shared-memory init", .timeLimit(.minutes(2)))
struct SharedInitTests {
    /// Prints what the program reads of its PID 1: the command line (both paths), environment, memory map, memory, and
    /// whether the files that show its memory's size are empty.
    let prober = """
        def read(path):
            try:
                return open(path, "rb").read(64)
            except OSError:
                return "unreadable"
        print(read("/proc/1/cmdline")[:20], read("/proc/1/task/1/cmdline")[:20], read("/proc/1/environ"),
              read("/proc/1/maps"), read("/proc/1/mem"))
        # The daemon's memory size, which would tell the program the size and timing of concurrent requests.
        print([len(read("/proc/1/" + name)) > 0 for name in ("stat", "statm", "status", "task/1/statm")])
        """

    func run(forkServers: Bool, expect: String) async throws -> Verdict {
        let verifier = try codeVerifier(
            toolchains: repository.appendingPathComponent("verifiers/toolchains"), forkServers: forkServers)
        let reference: JSONValue = ["tests": [["stdin": "", "stdout": .string(expect)]]]
        return try await verifier.verify(Sample(response: fenced(prober), reference: reference))
    }

    @Test(
        "a forked run as root reads an empty command line and size of its init (which shares the daemon's memory)",
        .enabled(if: rootTestsRun && isolatedTestsRun, "needs root (the shared-memory init is a root daemon's)"))
    func initMasked() async throws {
        let forked = try await run(
            forkServers: true, expect: "b'' b'' unreadable unreadable unreadable\n[False, False, False, False]\n")
        #expect(forked.passed, "\(forked.details)")
        // Control: a run that executes Python (no fork server) has an init of its own memory, whose command line was
        // overwritten and its size files left readable (they show its own memory): the probe does see a command line
        // and a size when there is one.
        let named = "b'arbiter-sandbox-init' "
        let executed = try await run(
            forkServers: false, expect: named + named + "unreadable unreadable unreadable\n[True, True, True, True]\n")
        #expect(executed.passed, "\(executed.details)")
    }
}
