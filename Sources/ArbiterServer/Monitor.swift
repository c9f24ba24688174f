// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// State guarded by one lock with two conditions, one for a session's reader thread and one for its writer thread.
///
/// A thread is only signalled when it is actually waiting, so the hot path (workers handing over answers) costs a
/// lock and no system call while the writer is busy.
///
/// `@unchecked Sendable`: every access to `state` happens with `mutex` held.
final class Monitor<State>: @unchecked Sendable {
    /// Which thread waits or is woken.
    enum Party {
        case reader
        case writer
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let readerCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let writerCondition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var readerWaiting = false
    private var writerWaiting = false
    private var state: State

    init(_ state: State) {
        self.state = state
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(readerCondition, nil)
        pthread_cond_init(writerCondition, nil)
    }

    deinit {
        pthread_cond_destroy(readerCondition)
        pthread_cond_destroy(writerCondition)
        pthread_mutex_destroy(mutex)
        readerCondition.deallocate()
        writerCondition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with the lock held, then wakes the given parties if they wait.
    func withLock<Result>(waking parties: [Party] = [], _ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer {
            for party in parties {
                switch party {
                case .reader: if readerWaiting { pthread_cond_signal(readerCondition) }
                case .writer: if writerWaiting { pthread_cond_signal(writerCondition) }
                }
            }
            pthread_mutex_unlock(mutex)
        }
        return try body(&state)
    }

    /// Blocks the calling thread (never a task) until `ready` holds, then runs `body` with the lock held.
    func wait<Result>(
        as party: Party,
        until ready: (State) -> Bool,
        then body: (inout State) throws -> Result
    ) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !ready(state) {
            switch party {
            case .reader:
                readerWaiting = true
                pthread_cond_wait(readerCondition, mutex)
                readerWaiting = false
            case .writer:
                writerWaiting = true
                pthread_cond_wait(writerCondition, mutex)
                writerWaiting = false
            }
        }
        return try body(&state)
    }
}

/// The current monotonic time in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}
