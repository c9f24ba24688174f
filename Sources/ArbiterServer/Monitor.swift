// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterThreads
import Foundation

/// A session's state, guarded by one ``ThreadMonitor`` with two parties: the session's reader thread and its
/// writer thread.
///
/// A thread is only signalled when it is actually waiting, so the hot path (workers handing over answers) costs a
/// lock and no system call while the writer is busy.
final class Monitor<State>: Sendable {
    /// Which thread waits or is woken.
    enum Party: Int {
        case reader
        case writer
    }

    private let base: ThreadMonitor<State>

    init(_ state: State) {
        base = ThreadMonitor(state, parties: 2)
    }

    /// Runs `body` with the lock held, then wakes the given parties if they wait.
    func withLock<Result>(waking parties: [Party] = [], _ body: (inout State) throws -> Result) rethrows -> Result {
        switch parties.count {
        case 0: try base.withLock(body)
        case 1: try base.withLock(waking: .init(parties[0].rawValue), body)
        default: try base.withLock(waking: parties.map { .init($0.rawValue) }, body)
        }
    }

    /// Blocks the calling thread (never a task) until `ready` holds, then runs `body` with the lock held.
    func wait<Result>(
        as party: Party,
        until ready: (State) -> Bool,
        then body: (inout State) throws -> Result
    ) rethrows -> Result {
        try base.wait(as: .init(party.rawValue), until: ready, then: body)
    }
}

/// The current monotonic time in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}
