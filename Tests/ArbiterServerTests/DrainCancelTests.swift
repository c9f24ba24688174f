// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
@testable import ArbiterServer
import Foundation
import Synchronization
import Testing

/// `sleep`: an asynchronous verifier that waits 50 s unless cancelled, as a long code run does.
struct SleepVerifier: SampleVerifier {
    let started: Started

    final class Started: Sendable {
        let count = Atomic<Int>(0)
    }

    func verify(_ sample: Sample) async throws -> Verdict {
        started.count.add(1, ordering: .relaxed)
        try await Task.sleep(for: .seconds(50))
        return .pass("slept")
    }
}

@Suite("The drain's end cancels running asynchronous verifications", .serialized, .timeLimit(.minutes(1)))
struct DrainCancelTests {
    func daemon(drainTimeout: Double) async throws -> (ListeningServer, SleepVerifier.Started) {
        let started = SleepVerifier.Started()
        let entry = VerifierEntry(name: "sleep", summary: "Test.", kind: "test", options: []) { _ in
            SleepVerifier(started: started)
        }
        return (try await ListeningServer(jobs: 1, drainTimeout: drainTimeout, extra: [entry]), started)
    }

    @Test("a 50 s verification running at the drain's end is answered 'cancelled' and the stop ends")
    func runningIsCancelled() async throws {
        let (daemon, started) = try await daemon(drainTimeout: 0.2)
        let client = try daemon.connect()
        client.startReading()
        client.send("{\"id\":\"s0\",\"verifier\":\"sleep\",\"response\":\"x\"}\n")
        #expect(await eventually { started.count.load(ordering: .relaxed) == 1 })
        await daemon.stop()  // without the cancellation this waits out the 50 s (and the test's time limit)
        #expect(await eventually { client.ended })
        let answer = try #require(client.lines.first.flatMap { try? JSONParser.parse($0).objectValue })
        #expect(answer["id"]?.stringValue == "s0")
        #expect(answer["error"]?.objectValue?["code"]?.stringValue == "cancelled")
        #expect(daemon.server.stats.cancelled == 1)
    }

    @Test("negative control: a verification that ends within the drain time keeps its verdict")
    func withinDrainKeepsVerdict() async throws {
        let (daemon, _) = try await daemon(drainTimeout: 5)
        let client = try daemon.connect()
        client.startReading()
        client.send(turnRequests("t", 1))
        #expect(await eventually { daemon.turnstile.arrived == 1 })
        daemon.server.stop()
        daemon.turnstile.release(1)
        await daemon.stop()
        #expect(await eventually { client.ended })
        #expect(client.ids("t") == ["t0"])
        #expect(client.lines.first?.contains("\"passed\":true") == true)
        #expect(daemon.server.stats.cancelled == 0)
    }
}

/// `stuck`: a verification that ignores cancellation, held at a ``Gate`` until the test opens it. A gate's
/// continuation is resumed by the gate alone (Swift task cancellation does not reach it), so the verification holds
/// its worker as a verifier with a pathological slow path would — without holding a thread of the shared cooperative
/// pool, which the other server tests running beside it need (a spinning synchronous verifier starved them: the whole
/// target hung).
struct StuckVerifier: SampleVerifier {
    let gate: Gate

    func verify(_ sample: Sample) async throws -> Verdict {
        await gate.pass()
        return .pass("unstuck")
    }
}

@Suite("The drain's end answers queued lines even when every worker is stuck", .serialized, .timeLimit(.minutes(1)))
struct DrainStuckWorkerTests {
    @Test("with --jobs 1 held by a verification that ignores cancellation, a queued line is answered 'cancelled'")
    func queuedBehindStuckWorker() async throws {
        let gate = Gate()
        let entry = VerifierEntry(name: "stuck", summary: "Test.", kind: "test", options: []) { _ in
            StuckVerifier(gate: gate)
        }
        let daemon = try await ListeningServer(jobs: 1, drainTimeout: 0.2, extra: [entry])
        let client = try daemon.connect()
        client.startReading()
        client.send("{\"id\":\"stuck\",\"verifier\":\"stuck\",\"response\":\"x\"}\n")
        #expect(await eventually { gate.arrived == 1 })
        client.send("{\"id\":\"queued\",\"verifier\":\"exact\",\"response\":\"a\",\"reference\":\"a\"}\n")
        daemon.server.stop()
        // The queued line's answer comes while the only worker is still stuck (before the gate opens).
        #expect(await eventually { client.lines.contains { $0.contains("\"queued\"") } })
        let queued = try #require(client.lines.first { $0.contains("\"queued\"") }.flatMap { try? JSONParser.parse($0).objectValue })
        #expect(queued["error"]?.objectValue?["code"]?.stringValue == "cancelled")
        #expect(gate.arrived == 1 && !gate.isOpen)
        gate.open()
        await daemon.stop()
    }
}
