// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
@testable import ArbiterServer
import Foundation
import Testing

/// A worker answers a share of many lines of one stream before handing the answers over; a line that may suspend (a
/// code run, a plugin: any verifier that is not a `SynchronousVerifier`) must not hold back the answers before it.
@Suite("A worker's share hands its answers over before a line that may wait", .serialized, .timeLimit(.minutes(1)))
struct HandOverTests {
    static let exactLine = "{\"id\":\"w\",\"verifier\":\"exact\",\"response\":\"1\",\"reference\":\"1\"}\n"

    /// A daemon with one worker whose share size has grown: 400 cheap lines answered first.
    func warmedDaemon() async throws -> (ListeningServer, Connection) {
        let daemon = try await ListeningServer(jobs: 1)
        let client = try daemon.connect()
        client.startReading()
        client.send(String(repeating: Self.exactLine, count: 400))
        #expect(await eventually { client.lines.count == 400 })
        return (daemon, client)
    }

    @Test("an exact answer taken in the same share before a waiting line arrives while that line waits")
    func answerBeforeWaitingLine() async throws {
        let (daemon, client) = try await warmedDaemon()
        // One write, so one read and one block: the worker takes both lines as one share.
        client.send("{\"id\":\"e0\",\"verifier\":\"exact\",\"response\":\"1\",\"reference\":\"1\"}\n" + turnRequests("t", 1))
        #expect(await eventually { daemon.turnstile.arrived == 1 })
        #expect(await eventually { client.ids("e") == ["e0"] }, "e0 was handed over before t0 began to wait")
        #expect(client.ids("t").isEmpty)
        daemon.turnstile.release(1)
        #expect(await eventually { client.ids("t") == ["t0"] })
        await daemon.stop()
    }

    @Test("negative control: a line after the waiting one in the same stream waits for it (the worker is held)")
    func answerAfterWaitingLineWaits() async throws {
        let (daemon, client) = try await warmedDaemon()
        client.send(turnRequests("t", 1) + "{\"id\":\"e1\",\"verifier\":\"exact\",\"response\":\"1\",\"reference\":\"1\"}\n")
        #expect(await eventually { daemon.turnstile.arrived == 1 })
        try await Task.sleep(for: .milliseconds(100))
        #expect(client.ids("e").isEmpty, "e1 is queued behind t0 on the only worker")
        daemon.turnstile.release(1)
        #expect(await eventually { client.ids("e") == ["e1"] && client.ids("t") == ["t0"] })
        await daemon.stop()
    }
}
