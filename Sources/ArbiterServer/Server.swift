// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterThreads
import Foundation
import Logging
import Synchronization

/// The Arbiter daemon: a pool of workers answering JSON-lines streams from stdin/stdout, files or sockets.
///
/// `jobs` workers run verifications. Stdin/stdout and files have a reader thread and a writer thread doing blocking
/// I/O; socket connections are all driven by one event-loop thread (``SocketLoop``), or, with the `threads`
/// transport, by two threads each. The cooperative pool only ever runs verifiers. Call ``stop()`` (or send SIGTERM,
/// see ``SignalForwarder``) to stop reading; everything already read is answered before the serve call returns.
public final class Server: Sendable {
    /// How a server runs.
    public struct Configuration: Sendable {
        /// How socket connections are driven.
        public enum Transport: String, Sendable {
            /// One event-loop thread (`epoll`) for every connection: the default.
            case events
            /// A reader thread and a writer thread per connection, as stdin is served (the earlier transport, kept
            /// selectable: `ARBITER_TRANSPORT=threads`).
            case threads

            /// `ARBITER_TRANSPORT` from the environment (`events` or `threads`); `events` when unset or unknown.
            public static var fromEnvironment: Transport {
                // One variable read (`ProcessInfo.environment` copies the whole environment into a dictionary).
                getenv("ARBITER_TRANSPORT").flatMap { Transport(rawValue: String(cString: $0)) } ?? .events
            }
        }

        /// Concurrent verifications; default: the number of cores.
        public var jobs: Int
        /// Write answers in input order instead of as they finish.
        public var ordered: Bool
        /// Per-stream limits.
        public var limits: SessionLimits
        /// When set, every request uses this verifier.
        public var verifierOverride: String?
        /// Seconds after a stop during which queued requests still run; after it they are answered `cancelled`,
        /// and two seconds later connections that still cannot be written to are closed. Default 5.
        public var drainTimeout: Double
        /// How socket connections are driven; default ``Transport/fromEnvironment``.
        public var transport: Transport

        /// A configuration; every argument has the documented default.
        public init(
            jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
            ordered: Bool = false,
            limits: SessionLimits = SessionLimits(),
            verifierOverride: String? = nil,
            drainTimeout: Double = 5,
            transport: Transport = .fromEnvironment
        ) {
            self.transport = transport
            self.drainTimeout = max(0, drainTimeout)
            self.jobs = max(1, jobs)
            self.ordered = ordered
            self.limits = limits
            self.verifierOverride = verifierOverride
        }
    }

    /// Live statistics.
    public let stats: ServerStats
    let configuration: Configuration
    let dispatcher: Dispatcher
    let queue: WorkQueue
    let logger: Logger
    private let stopPipe: (read: Int32, write: Int32)
    private let stopped = Atomic<Bool>(false)
    /// The workers' tasks, cancelled when the drain time is over so that running asynchronous verifications (code
    /// runs, plugins) end: a code run's cancellation kills its process group.
    private let workerTasks = Mutex<[Task<Void, Never>]>([])
    private let serving = Atomic<Bool>(false)

    /// A server.
    /// - Parameters:
    ///   - registry: The verifiers it serves.
    ///   - configuration: Jobs, ordering and limits.
    ///   - logger: Where it logs (stderr in the `arbiter` command).
    public init(registry: VerifierRegistry, configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        stats = ServerStats(workers: configuration.jobs)
        dispatcher = Dispatcher(
            registry: registry,
            settings: .init(
                maxLineBytes: configuration.limits.maxLineBytes, jobs: configuration.jobs,
                verifierOverride: configuration.verifierOverride),
            stats: stats)
        queue = WorkQueue(workers: configuration.jobs)
        var descriptors: [Int32] = [0, 0]
        if pipe(&descriptors) != 0 { preconditionFailure("pipe() failed: errno \(errno)") }
        _ = fcntl(descriptors[1], F_SETFL, O_NONBLOCK)
        _ = fcntl(descriptors[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(descriptors[1], F_SETFD, FD_CLOEXEC)
        stopPipe = (descriptors[0], descriptors[1])
        signal(SIGPIPE, SIG_IGN)
    }

    deinit {
        close(stopPipe.read)
        close(stopPipe.write)
    }

    /// The descriptor to write one byte to for a stop; safe to use from a signal handler.
    public var stopDescriptor: Int32 { stopPipe.write }

    /// Stops reading new requests; requests already read are answered. Safe to call from any thread, repeatedly.
    ///
    /// Queued requests still run for the configuration's drain time; after it they are answered `cancelled`, and
    /// two seconds later connections whose answers cannot be written (a client that does not read) are closed,
    /// so that a stop always ends. A signal handler writes to ``stopDescriptor`` instead; the accept thread then
    /// calls this.
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
        startDrainClock()
    }

    private func startDrainClock() {
        let drain: @Sendable () -> Void = { [self, queue, stats, logger, configuration, dispatcher] in
            Thread.sleep(forTimeInterval: configuration.drainTimeout)
            queue.cancelQueued()
            for task in workerTasks.withLock({ $0 }) { task.cancel() }
            // What is still queued is answered here, at once: every worker may be held by a verification that ignores
            // cancellation, and a queued line must not wait for it (with `--jobs 1` it waited for good).
            let queued = queue.takeAllQueued()
            if !queued.isEmpty {
                Worker(slot: configuration.jobs, queue: queue, dispatcher: dispatcher).answerWithoutRunning(queued)
            }
            let waiting = stats.inFlight
            if waiting > 0 {
                logger.warning("drain time over: queued requests are answered 'cancelled'", metadata: ["in_flight": "\(waiting)"])
            }
            // A connection is closed once its unwritten answers have not moved for 2 s (a client that does not read,
            // or a verification that ignores cancellation): cancelled work still finishing on a busy machine keeps its
            // connection until its answers are written.
            var lastMoved: [Int: (inFlight: Int, at: ContinuousClock.Instant)] = [:]
            var closed: Set<Int> = []
            while true {
                let pending = stats.sessions.filter { $0.inFlightLines > 0 }
                if pending.isEmpty { break }
                let now = ContinuousClock.now
                for session in pending {
                    let inFlight = session.inFlightLines
                    guard let last = lastMoved[session.number], last.inFlight == inFlight else {
                        lastMoved[session.number] = (inFlight, now)
                        continue
                    }
                    if now - last.at >= .seconds(2) {
                        if closed.insert(session.number).inserted {
                            // Once: a verification that ignores cancellation keeps its line in flight after the close.
                            logger.warning("closing a connection whose answers cannot be written", metadata: ["connection": "\(session.number)"])
                        }
                        session.forceClose()
                        lastMoved[session.number] = (-1, now)
                    }
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        do {
            _ = try BlockingThread(name: "arbiter-drain", drain)
        } catch {
            logger.error("no thread for the drain clock: the stop waits for the queued work", metadata: ["error": "\(error)"])
        }
    }

    /// Serves one stream, such as stdin/stdout or a file, until its end (or a stop), then returns.
    /// - Parameters:
    ///   - input: The descriptor to read requests from.
    ///   - output: The descriptor to write answers to.
    public func serve(input: Int32, output: Int32) async {
        await withWorkers {
            await self.makeSession(input: input, output: output, ownsDescriptors: false).run()
        }
    }

    /// Serves every connection made to `address` until a stop, then answers what was read and returns.
    /// - Parameters:
    ///   - address: A Unix socket path or a TCP host and port.
    ///   - ready: Called with the bound address (with the real port when 0 was asked for) once it accepts.
    /// - Throws: ``ArbiterError`` `internal` when the address cannot be bound.
    public func serve(listening address: ListenAddress, ready: @Sendable (ListenAddress) -> Void = { _ in }) async throws {
        let listener = try Listener(address: address)
        if let (from, to) = Self.raiseDescriptorLimit() {
            logger.info("open-file limit raised to the hard limit", metadata: ["from": "\(from)", "to": "\(to)"])
        }
        ready(listener.boundAddress)
        logger.info("listening", metadata: ["address": "\(listener.boundAddress)"])
        if let asked = getenv("ARBITER_TRANSPORT").map({ String(cString: $0) }),
            Configuration.Transport(rawValue: asked) == nil
        {
            logger.warning(
                "ARBITER_TRANSPORT is neither 'events' nor 'threads': ignored",
                metadata: ["value": "\(asked)", "transport": "\(configuration.transport.rawValue)"]
            )
        }
        if configuration.transport == .events {
            await serveWithEventLoop(listener)
            return
        }
        await withWorkers {
            // Sessions start on the accept thread (not on the cooperative pool, which the workers may keep busy);
            // the pool only waits for them to end.
            let connections = AsyncStream<Session> { [self] continuation in
                do {
                    _ = try listener.startAccepting(stopDescriptor: stopPipe.read, { descriptor in
                        let session = self.makeSession(input: descriptor, output: descriptor, ownsDescriptors: true)
                        session.start()
                        continuation.yield(session)
                    }, finished: { continuation.finish() })
                } catch {
                    logger.error("no thread to accept connections", metadata: ["error": "\(error)"])
                    continuation.finish()
                }
            }
            await withDiscardingTaskGroup { group in
                for await session in connections {
                    group.addTask { await session.waitUntilFinished() }
                }
            }
        }
    }

    /// Raises the soft limit of open descriptors to the hard limit (as many servers do): each connection is a
    /// descriptor, and the usual soft limit of 1,024 would stop a daemon far below the thousands of connections a
    /// training job can open. Returns the old and new soft limits when it raised them.
    static func raiseDescriptorLimit() -> (UInt64, UInt64)? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return nil }
        let old = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return (UInt64(old), UInt64(limit.rlim_cur))
    }

    /// Serves the listener's connections on one event-loop thread until a stop has closed them all.
    private func serveWithEventLoop(_ listener: Listener) async {
        await withWorkers { [self] in
            let loop: SocketLoop
            do {
                loop = try SocketLoop(
                    listener: listener, stopDescriptor: stopPipe.read, readSize: socketLimits.readSize, logger: logger
                ) { descriptor, loop in
                    self.makeSession(input: descriptor, output: descriptor, ownsDescriptors: true, loop: loop)
                }
                try await loop.run()
            } catch {
                logger.error("no event loop to serve connections", metadata: ["error": "\(error)"])
                listener.closeSocket()
            }
        }
    }

    /// The limits of a socket connection: reads of at most 64 KiB (thousands of connections).
    private var socketLimits: SessionLimits {
        var limits = configuration.limits
        limits.readSize = min(limits.readSize, 64 << 10)
        return limits
    }

    private func makeSession(input: Int32, output: Int32, ownsDescriptors: Bool, loop: SocketLoop? = nil) -> Session {
        Session(
            input: input, output: output, ownsDescriptors: ownsDescriptors, ordered: configuration.ordered,
            limits: ownsDescriptors ? socketLimits : configuration.limits, queue: queue, stats: stats,
            dispatcher: dispatcher, stopDescriptor: stopPipe.read, loop: loop)
    }

    /// Turns a byte written to the stop descriptor (by a signal handler) into ``stop()``, which starts the drain
    /// clock; ends when serving ends.
    private func watchStopDescriptor() {
        do {
            _ = try BlockingThread(name: "arbiter-stop") { [self] in
                var descriptor = pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0)
                while serving.load(ordering: .relaxed) {
                    if poll(&descriptor, 1, 200) > 0 {
                        stop()
                        return
                    }
                }
            }
        } catch {
            logger.error("no thread to watch for a stop signal", metadata: ["error": "\(error)"])
        }
    }

    /// Runs `body` with the workers started; when it returns, the workers finish what is queued and stop.
    private func withWorkers(_ body: @escaping @Sendable () async -> Void) async {
        serving.store(true, ordering: .relaxed)
        defer { serving.store(false, ordering: .relaxed) }
        watchStopDescriptor()
        // Unstructured tasks, so that the drain thread can cancel them (a task group cancels only from its owner).
        let tasks = (0..<configuration.jobs).map { slot in
            Task { await Worker(slot: slot, queue: self.queue, dispatcher: self.dispatcher).run() }
        }
        workerTasks.withLock { $0 = tasks }
        await body()
        queue.close()
        for task in tasks { await task.value }
    }
}
