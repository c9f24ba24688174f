// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import CArbiterThreads
import Foundation
import Synchronization

/// An operating-system thread for blocking work (reading pipes and sockets, waiting for processes), which must
/// never run on Swift's cooperative pool.
///
/// The thread gets its own stack size and sets its kernel name (`/proc/<pid>/task/<tid>/comm`, shown by `top -H`
/// and in core dumps) before it runs `body`. ``join()`` waits for it to end; a thread that nobody joins is
/// detached when its last handle goes away, so `_ = try BlockingThread(name: …) { … }` starts a thread that
/// cleans up after itself.
public final class BlockingThread: Sendable {
    /// The longest kernel thread name on Linux, in bytes (16 with the terminating zero).
    public static let kernelNameLimit = 15

    /// The name asked for.
    public let name: String
    /// The name the kernel shows: ``name`` cut to ``kernelNameLimit`` bytes on a character boundary.
    public let kernelName: String

    private enum Ending {
        case running
        case joined
    }

    private let handle: pthread_t
    private let ending = Mutex(Ending.running)

    /// Starts a thread.
    /// - Parameters:
    ///   - name: The thread's name; the kernel keeps its first ``kernelNameLimit`` bytes.
    ///   - stackSize: The stack size in bytes (rounded up to whole pages, at least the system minimum); `nil` for
    ///     the system default.
    ///   - body: The thread's work.
    /// - Throws: ``ArbiterError`` `internal` when the system refuses another thread.
    public init(name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) throws(ArbiterError) {
        self.name = name
        let kernelName = Self.kernelName(for: name)
        self.kernelName = kernelName
        // Allocated, not a Swift value: the C union has no initializer this module can see.
        let attributes = UnsafeMutablePointer<pthread_attr_t>.allocate(capacity: 1)
        pthread_attr_init(attributes)
        defer {
            pthread_attr_destroy(attributes)
            attributes.deallocate()
        }
        if let stackSize {
            pthread_attr_setstacksize(attributes, Self.roundedStackSize(stackSize))
        }
        let start = Unmanaged.passRetained(Start(name: kernelName, body: body)).toOpaque()
        var thread: pthread_t = 0
        let status = pthread_create(&thread, attributes, { argument in
            let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
            _ = arbiter_set_thread_name(start.name)
            start.body()
            return nil
        }, start)
        guard status == 0 else {
            Unmanaged<Start>.fromOpaque(start).release()
            throw ArbiterError(.internal, "cannot start thread '\(name)': \(String(cString: strerror(status)))")
        }
        handle = thread
    }

    deinit {
        if ending.withLock({ $0 }) == .running { pthread_detach(handle) }
    }

    /// Waits until the thread's body has returned. Joining twice is harmless; a thread must not join itself.
    public func join() {
        precondition(pthread_equal(handle, pthread_self()) == 0, "thread '\(name)' cannot join itself")
        ending.withLock { ending in
            guard ending == .running else { return }
            pthread_join(handle, nil)
            ending = .joined
        }
    }

    /// Sets the calling thread's nice value (Linux schedules each thread with its own). A value below the current
    /// one needs privilege (root, or `RLIMIT_NICE`); without it nothing changes.
    /// - Parameter nice: The nice value, -20 (most favoured) to 19.
    /// - Returns: 0, or the errno value of the refusal (such as `EACCES`).
    @discardableResult
    public static func setCurrentNice(_ nice: Int32) -> Int32 { arbiter_set_thread_nice(nice) }

    /// The calling thread's stack size in bytes, as the system reports it (0 if it cannot tell).
    public static var currentStackSize: Int { Int(arbiter_current_thread_stack_size()) }

    /// Whether the calling thread is this thread.
    public var isCurrent: Bool { pthread_equal(handle, pthread_self()) != 0 }

    /// What the new thread needs, passed through `pthread_create`'s single pointer.
    private final class Start {
        let name: String
        let body: @Sendable () -> Void

        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    static func kernelName(for name: String) -> String {
        var kept = ""
        var bytes = 0
        for character in name {
            bytes += character.utf8.count
            if bytes > kernelNameLimit { break }
            kept.append(character)
        }
        return kept
    }

    static func roundedStackSize(_ size: Int) -> Int {
        let page = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
        let minimum = max(Int(sysconf(Int32(_SC_THREAD_STACK_MIN))), 16 << 10)
        return (max(size, minimum) + page - 1) / page * page
    }
}
