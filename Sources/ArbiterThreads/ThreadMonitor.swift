// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// State guarded by one lock, with one condition per waiting party (such as a reader thread and a writer thread).
///
/// Blocking threads wait here, never tasks. A party is only signalled when it is actually waiting, so a hand-over
/// to a busy thread costs a lock and no system call.
///
/// `@unchecked Sendable`: every access to `state` and to the waiting flags happens with `mutex` held.
public final class ThreadMonitor<State>: @unchecked Sendable {
    /// One kind of waiting thread; parties are numbered from 0 below the count given to ``init(_:parties:)``.
    public struct Party: Hashable, Sendable {
        /// The party's number.
        public let index: Int

        /// A party.
        /// - Parameter index: Its number, below the monitor's party count.
        public init(_ index: Int) {
            self.index = index
        }
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let waiting: UnsafeMutablePointer<Int>
    private let parties: Int
    private var state: State

    /// A monitor.
    /// - Parameters:
    ///   - state: The initial state.
    ///   - parties: How many kinds of waiting thread there are, each with its own condition.
    public init(_ state: State, parties: Int = 1) {
        precondition(parties >= 1, "a monitor needs at least one party")
        self.state = state
        self.parties = parties
        conditions = .allocate(capacity: parties)
        waiting = .allocate(capacity: parties)
        waiting.initialize(repeating: 0, count: parties)
        pthread_mutex_init(mutex, nil)
        let attributes = UnsafeMutablePointer<pthread_condattr_t>.allocate(capacity: 1)
        pthread_condattr_init(attributes)
        pthread_condattr_setclock(attributes, CLOCK_MONOTONIC)
        for index in 0..<parties { pthread_cond_init(conditions + index, attributes) }
        pthread_condattr_destroy(attributes)
        attributes.deallocate()
    }

    deinit {
        for index in 0..<parties { pthread_cond_destroy(conditions + index) }
        pthread_mutex_destroy(mutex)
        conditions.deallocate()
        waiting.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with the lock held.
    /// - Parameter body: Reads or changes the state.
    /// - Returns: What `body` returns.
    public func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }

    /// Runs `body` with the lock held, then wakes one waiting thread of `party`, if any waits.
    /// - Parameters:
    ///   - party: Who to wake.
    ///   - body: Changes the state.
    /// - Returns: What `body` returns.
    public func withLock<Result>(waking party: Party, _ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer {
            signal(party)
            pthread_mutex_unlock(mutex)
        }
        return try body(&state)
    }

    /// Runs `body` with the lock held, then wakes one waiting thread of each party given, if any waits.
    /// - Parameters:
    ///   - parties: Who to wake.
    ///   - body: Changes the state.
    /// - Returns: What `body` returns.
    public func withLock<Result>(waking parties: [Party], _ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer {
            for party in parties { signal(party) }
            pthread_mutex_unlock(mutex)
        }
        return try body(&state)
    }

    /// Runs `body` with the lock held, then wakes every waiting thread of every party.
    /// - Parameter body: Changes the state.
    /// - Returns: What `body` returns.
    public func withLockWakingAll<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer {
            for index in 0..<parties where waiting[index] > 0 { pthread_cond_broadcast(conditions + index) }
            pthread_mutex_unlock(mutex)
        }
        return try body(&state)
    }

    /// Blocks the calling thread (never a task) until `ready` holds, then runs `body` with the lock held.
    /// - Parameters:
    ///   - party: Which condition the thread waits on.
    ///   - ready: Whether the thread may go on.
    ///   - body: Runs once `ready` holds, with the lock still held.
    /// - Returns: What `body` returns.
    public func wait<Result>(
        as party: Party, until ready: (State) -> Bool, then body: (inout State) throws -> Result
    ) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !ready(state) {
            waiting[party.index] += 1
            pthread_cond_wait(conditions + party.index, mutex)
            waiting[party.index] -= 1
        }
        return try body(&state)
    }

    /// Blocks the calling thread until `ready` holds or `nanoseconds` have passed, whichever is first.
    /// - Parameters:
    ///   - party: Which condition the thread waits on.
    ///   - nanoseconds: The longest wait.
    ///   - ready: Whether the thread may go on.
    /// - Returns: Whether `ready` held (`false` when the time ran out first).
    public func wait(as party: Party, atMost nanoseconds: UInt64, until ready: (State) -> Bool) -> Bool {
        let deadline = monotonicNanoseconds() &+ nanoseconds
        var spec = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !ready(state) {
            waiting[party.index] += 1
            let status = pthread_cond_timedwait(conditions + party.index, mutex, &spec)
            waiting[party.index] -= 1
            if status == ETIMEDOUT { return ready(state) }
        }
        return true
    }

    private func signal(_ party: Party) {
        if waiting[party.index] > 0 { pthread_cond_signal(conditions + party.index) }
    }
}

/// The current monotonic time in nanoseconds (the clock of the monitors' timed waits).
func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}
