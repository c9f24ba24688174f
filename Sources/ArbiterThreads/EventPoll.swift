// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import CArbiterThreads
import Foundation
import Synchronization

/// Readiness of many descriptors, watched by one thread (Linux `epoll`, level-triggered), with a wake-up other
/// threads can ring.
///
/// Each watched descriptor is reported with a 64-bit token of the caller's choosing. ``wake()`` makes a waiting
/// ``wait(into:timeoutMilliseconds:)`` return (reported with ``wakeToken``); rings that come while a wake-up is
/// already pending cost a lock and no system call. Every descriptor it makes is close-on-exec.
///
/// Only the polling thread calls ``wait(into:timeoutMilliseconds:)`` and ``acknowledgeWake()``; ``wake()`` is safe
/// from any thread, and so are the watch changes (the kernel serialises them).
///
/// `@unchecked Sendable`: the event arrays are touched by the polling thread alone.
public final class EventPoll: @unchecked Sendable {
    /// Event bits.
    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Readable (or end of input, or an incoming connection on a listening socket).
        public static let readable = Events(rawValue: UInt32(ARBITER_POLL_IN))
        /// Writable.
        public static let writable = Events(rawValue: UInt32(ARBITER_POLL_OUT))
        /// An error on the descriptor (always reported, never asked for).
        public static let error = Events(rawValue: UInt32(ARBITER_POLL_ERR))
        /// Hung up: both directions of a socket are shut (always reported, never asked for).
        public static let hangUp = Events(rawValue: UInt32(ARBITER_POLL_HUP))
    }

    /// The token reported when ``wake()`` was rung.
    public static let wakeToken = UInt64.max

    private let descriptor: Int32
    private let wakeDescriptor: Int32
    private let wakePending = Atomic<Bool>(false)
    /// The last wait's events, written and read by the polling thread only.
    private let tokens = UnsafeMutablePointer<UInt64>.allocate(capacity: EventPoll.capacity)
    private let eventBits = UnsafeMutablePointer<UInt32>.allocate(capacity: EventPoll.capacity)

    /// The most events one wait reports.
    public static let capacity = 256

    /// An epoll instance with its wake-up descriptor.
    /// - Throws: ``ArbiterError`` `internal` when the system refuses either descriptor.
    public init() throws(ArbiterError) {
        let descriptor = arbiter_poll_create()
        guard descriptor >= 0 else {
            throw ArbiterError(.internal, "epoll_create1: \(String(cString: strerror(errno)))")
        }
        let wake = arbiter_wake_create()
        guard wake >= 0 else {
            let message = String(cString: strerror(errno))
            close(descriptor)
            throw ArbiterError(.internal, "eventfd: \(message)")
        }
        guard arbiter_poll_control(descriptor, 1, wake, UInt32(ARBITER_POLL_IN), Self.wakeToken) == 0 else {
            let message = String(cString: strerror(errno))
            close(descriptor)
            close(wake)
            throw ArbiterError(.internal, "epoll_ctl: \(message)")
        }
        self.descriptor = descriptor
        wakeDescriptor = wake
    }

    deinit {
        close(wakeDescriptor)
        close(descriptor)
        tokens.deallocate()
        eventBits.deallocate()
    }

    /// Starts watching `fd` for `events`; `false` (errno set) when the kernel refuses.
    @discardableResult
    public func add(_ fd: Int32, token: UInt64, events: Events) -> Bool {
        arbiter_poll_control(descriptor, 1, fd, events.rawValue, token) == 0
    }

    /// Changes what `fd` is watched for; `false` (errno set) when the kernel refuses.
    @discardableResult
    public func modify(_ fd: Int32, token: UInt64, events: Events) -> Bool {
        arbiter_poll_control(descriptor, 2, fd, events.rawValue, token) == 0
    }

    /// Stops watching `fd` (closing it does too).
    public func remove(_ fd: Int32) {
        _ = arbiter_poll_control(descriptor, 3, fd, 0, 0)
    }

    /// Waits for events; returns how many are ready to be read with ``token(at:)`` and ``events(at:)`` (0 on a
    /// time-out or an interrupted wait). At most ``capacity`` are reported per wait.
    /// - Parameter timeoutMilliseconds: The longest wait; -1 waits without limit.
    public func wait(timeoutMilliseconds: Int32) -> Int {
        max(0, Int(arbiter_poll_wait(descriptor, tokens, eventBits, Int32(Self.capacity), timeoutMilliseconds)))
    }

    /// The token of the `index`th event of the last wait.
    public func token(at index: Int) -> UInt64 { tokens[index] }

    /// The events of the `index`th event of the last wait.
    public func events(at index: Int) -> Events { Events(rawValue: eventBits[index]) }

    /// Makes the polling thread's wait return (now, or at once next time if it is not waiting).
    public func wake() {
        guard !wakePending.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, 8)
    }

    /// Clears a wake-up, for the polling thread, before it looks at what the wake-up was for: a ring after this
    /// call makes the next wait return again.
    public func acknowledgeWake() {
        var count: UInt64 = 0
        _ = read(wakeDescriptor, &count, 8)
        wakePending.store(false, ordering: .sequentiallyConsistent)
    }

    /// Accepts a connection on a listening socket, non-blocking and close-on-exec from the start; -1 with errno set.
    public static func acceptConnection(_ listener: Int32) -> Int32 {
        arbiter_accept_nonblocking(listener)
    }
}
