// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

@testable import ArbiterCode
import ArbiterCore
import Foundation
import Testing

/// A run's init is PID 1 of the run's PID namespace, so every orphan the program leaves (a double fork, a daemonised
/// helper) becomes its child. It must reap them as they end: a zombie still counts towards the run's process limit
/// (`processes`, 64 by default), and before session 29 the init of a run forked from a warm interpreter only waited
/// for the fork server's answer, so a correct program that made a few dozen short-lived orphans failed with EAGAIN —
/// while the same program passed when Python was executed (that init always reaped). As root the run's init is the
/// shared-memory one; as an ordinary user the other; both are covered by running this suite both ways.
@Suite("code: a run's init reaps the program's orphans", .timeLimit(.minutes(2)))
struct OrphanReapingTests {
    /// Makes `count` orphans one after another: a child forks a grandchild and exits at once, the grandchild exits too;
    /// the program reaps only its child, never the grandchild (whose parent is then the run's init). A millisecond
    /// between orphans: init reaps as it is woken, and on a machine loaded with two test suites at once 64 orphans
    /// made in a burst could end before it ran (a flake seen once in a CI simulation); without reaping at all the 200
    /// zombies exceed the limit whatever the pace, which is what this test is for.
    let orphans = """
        import os
        import time

        def orphans(count):
            made = 0
            for _ in range(count):
                child = os.fork()
                if child == 0:
                    if os.fork() == 0:
                        os._exit(0)
                    os._exit(0)
                os.waitpid(child, 0)
                made += 1
                time.sleep(0.001)
            return made
        """

    /// Holds `count` children alive at once, then lets them go: what 200 unreaped zombies would amount to.
    let alive = """
        import os

        def alive(count):
            children = []
            try:
                for _ in range(count):
                    child = os.fork()
                    if child == 0:
                        os.close(release)
                        os.read(gate, 1)
                        os._exit(0)
                    children.append(child)
            finally:
                os.close(release)
                for child in children:
                    os.waitpid(child, 0)
            return len(children)

        gate, release = os.pipe()
        """

    func verify(_ program: String, test: String, forkServers: Bool) async throws -> Verdict {
        let verifier = try codeVerifier(
            toolchains: repository.appendingPathComponent("verifiers/toolchains"), forkServers: forkServers)
        return try await verifier.verify(Sample(response: fenced(program), reference: ["test": .string(test)]))
    }

    @Test(
        "200 short-lived orphans in one run pass, from a warm interpreter and from an executed one",
        .enabled(if: isolatedTestsRun, "needs the sandbox's namespaces (this host cannot isolate a run)"))
    func orphansAreReaped() async throws {
        for forkServers in [true, false] {
            let verdict = try await verify(orphans, test: "assert orphans(200) == 200\n", forkServers: forkServers)
            #expect(verdict.passed, "fork servers \(forkServers): \(verdict.details)")
        }
    }

    @Test(
        "control: 200 processes at once exceed the run's process limit, so unreaped zombies would fail the run",
        .enabled(if: isolatedTestsRun, "needs the sandbox's namespaces (this host cannot isolate a run)"))
    func processLimitHolds() async throws {
        let verdict = try await verify(alive, test: "assert alive(200) == 200\n", forkServers: true)
        #expect(!verdict.passed)
        #expect(verdict.reason == "runtime_error", "\(verdict.details)")
        #expect("\(verdict.details)".contains("BlockingIOError"), "\(verdict.details)")
        // And well under the limit the same program passes: the limit, not the program, refused 200.
        let few = try await verify(alive, test: "assert alive(20) == 20\n", forkServers: true)
        #expect(few.passed, "\(few.details)")
    }
}
