// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

@testable import ArbiterCode
import ArbiterCore
import Foundation
import Synchronization
import Testing

/// Registering `code` probes nothing: the sandbox (and with it the host's isolation probe, a clone into new
/// namespaces and a seccomp check) is made by the first request, once, unless the summary must name it.
@Suite("code's sandbox is made on first use")
struct LazySandboxTests {
    /// How many times the registry asked for the sandbox.
    final class Counter: Sendable {
        let made = Mutex(0)
        func sandbox() -> Sandbox {
            made.withLock { $0 += 1 }
            return .shared
        }
    }

    @Test("registering does not make the sandbox; the first request makes it once, for every verifier")
    func madeOnFirstUse() async throws {
        let counter = Counter()
        var registry = VerifierRegistry()
        registry.registerCodeVerifiers(sandbox: counter.sandbox(), describe: false)
        let entry = try registry.entry(named: "code")
        let first = try entry.verifier(options: nil)
        let second = try entry.verifier(options: ["time_limit_s": 5])
        #expect(counter.made.withLock { $0 } == 0, "nothing probed at registration")
        #expect(entry.summary.contains("first request"))
        let sample = Sample(response: "```bash\necho 1\n```", reference: ["tests": [["stdin": "", "stdout": "1"]]])
        // Where nothing can be isolated, the first request is refused (after the probe), which is as loud as before.
        let verdicts = [try? await first.verify(sample), try? await second.verify(sample)]
        #expect(counter.made.withLock { $0 } == 1, "made once, shared by every verifier of the registry")
        if isolatedTestsRun {
            // The verdict still names the isolation (and says DEGRADED where it is): nothing about it became silent.
            let verdict = try #require(verdicts[0])
            #expect(verdict.details["sandbox"]?.stringValue == Sandbox.shared.isolation.summary)
            #expect(verdicts.allSatisfy { $0?.passed == true }, "\(verdicts.map { $0?.details ?? [:] })")
        }
    }

    @Test("control: a summary that names the isolation makes the sandbox at registration")
    func describedAtRegistration() throws {
        let counter = Counter()
        var registry = VerifierRegistry()
        registry.registerCodeVerifiers(sandbox: counter.sandbox(), describe: true)
        #expect(counter.made.withLock { $0 } == 1)
        #expect(try registry.entry(named: "code").summary.contains(Sandbox.shared.isolation.summary.dropFirst()))
    }
}
