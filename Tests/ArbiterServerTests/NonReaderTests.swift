// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
@testable import ArbiterServer
import Foundation
import Testing

/// A client that does not read its answers: its connection stops being read from at the cap of unwritten answers,
/// and a stop still ends (its connection is closed after the drain).
@Suite("A client that does not read", .serialized, .timeLimit(.minutes(1)))
struct NonReaderTests {
    /// Waits until the daemon's in-flight count has not moved for 500 ms, and returns it.
    func settledInFlight(_ daemon: ListeningServer) async throws -> Int {
        var last = -1
        while true {
            let now = daemon.server.stats.inFlight
            if now == last, now > 0 { return now }
            last = now
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    @Test("past the cap of unwritten answers (4 KiB) the connection is no longer read: far fewer than the 200,000 sent are read")
    func capStopsReading() async throws {
        let limits = SessionLimits(maxInFlightLines: 1_000_000, maxUnwrittenBytes: 4096)
        let daemon = try await ListeningServer(jobs: 1, drainTimeout: 0.1, limits: limits)
        let client = PieceSender(try daemon.connect(), daemon)
        let inFlight = try await settledInFlight(daemon)
        // The reader runs ahead of the worker until 4 KiB of answers wait behind the full socket; then it pauses.
        #expect(inFlight < 100_000, "the reader paused with requests unread")
        client.finish()
        await daemon.stop()
    }

    @Test("negative control: with the default cap (64 MiB) all 200,000 lines are read although nobody reads the answers")
    func defaultCapReadsAll() async throws {
        let limits = SessionLimits(maxInFlightLines: 1_000_000)
        let daemon = try await ListeningServer(jobs: 1, drainTimeout: 0.1, limits: limits)
        let client = PieceSender(try daemon.connect(), daemon)
        let inFlight = try await settledInFlight(daemon)
        #expect(inFlight > 150_000, "every line was read; only the answers in the socket buffers were written")
        client.finish()
        await daemon.stop()
    }

    @Test("a stop ends although a client never reads: its connection is closed after the drain time")
    func stopWithNonReader() async throws {
        let daemon = try await ListeningServer(jobs: 1, drainTimeout: 0.1)
        let client = PieceSender(try daemon.connect(), daemon)
        #expect(await eventually { daemon.server.stats.inFlight > 5_000 })
        await daemon.stop()  // returns only once every session has ended
        #expect(daemon.server.stats.goneConnections == 1, "the connection was closed by the drain, not answered")
        client.finish()
    }
}
