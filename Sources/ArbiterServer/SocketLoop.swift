// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterThreads
import Foundation
import Logging
import Synchronization

/// The event-driven transport for socket connections: one thread (`arbiter-events`) accepts every connection, reads
/// them all and writes what the workers could not write themselves, with non-blocking system calls, woken by
/// `epoll` (level-triggered).
///
/// - A connection is watched for reading while it has capacity (the session's limits of lines, request bytes and
///   unwritten answers); at a limit it is no longer watched, so a client that does not read stops being read from
///   while the others are served. Each readable connection gets one read per turn of the loop, into one buffer the
///   loop shares between connections (a connection keeps only its partial line); the reads of a turn share a
///   budget of 128 KiB (at least 4 KiB and at most the read size, 64 KiB, each), so a turn stays short and a
///   connection that just became readable is served soon however many others stream.
/// - A worker writes its answers to the socket itself when nothing waits and nobody writes; otherwise it hands them
///   to the session and rings the loop (once per write, not per hand-over). The loop writes what the socket takes
///   and watches for writability only while answers wait behind a full socket.
/// - Out of descriptors, accepting pauses for 50 ms (or until a connection closes) instead of spinning or failing.
/// - On a stop the listening socket is closed and no connection is read from again; each connection closes once its
///   answers are written: its sending half is shut first, and what the client still sends is read and discarded for
///   up to a second, so that closing does not reset a connection whose answers the client has not read yet. At that
///   second, a connection whose answers still wait in the kernel (`SIOCOUTQ`) stays open for as long as the client
///   keeps taking them — another second at a time, at most ``closeLimitNanoseconds`` in all — because closing it
///   while the client still sends would make the kernel reset it and drop them. A client that stops reading is then
///   closed and the bytes it never got are logged (a warning with `unsent_bytes`), never lost silently.
///
/// The loop's own state is touched by its thread alone; other threads only ``schedule(_:)`` sessions.
final class SocketLoop: @unchecked Sendable {
    /// Sessions with answers to write (or a forced close), handed over by other threads.
    private let scheduled = Mutex<[Session]>([])
    private let poll: EventPoll
    private let listener: Listener
    private let stopDescriptor: Int32
    private let logger: Logger
    private let makeSession: @Sendable (Int32, SocketLoop) -> Session
    private let finished = Mutex<(done: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    // The loop thread's own state.
    private var connections: [Int: Session] = [:]
    /// Connections whose sending half is shut, closed when the client ends its input or at the deadline.
    private var closing: [Int: Session] = [:]
    private var acceptPausedUntil: UInt64? = nil
    /// When freed memory is next given back (a connection closed less than a second after the last time).
    private var trimAt: UInt64? = nil
    private var stopping = false
    private let buffer: UnsafeMutableRawBufferPointer

    private static let listenerToken = UInt64.max - 1
    private static let stopToken = UInt64.max - 2
    /// Connections accepted per turn of the loop, so that a burst of connections does not starve the others.
    private static let acceptsPerTurn = 64
    private static let acceptBackOffNanoseconds: UInt64 = 50_000_000
    private static let closeGraceNanoseconds: UInt64 = 1_000_000_000
    /// The longest a closing connection is kept while its client still takes its answers: 30 s.
    private static let closeLimitNanoseconds: UInt64 = 30_000_000_000
    /// Bytes all reads of one turn of the loop may bring in, and the smallest read. 128 KiB: 64 KiB per connection per
    /// turn made a ping on a ninth connection wait for about 512 KiB of work while 8 streamed; 32 KiB cost more CPU
    /// (decisions.md, session 26).
    private static let turnBudget = 128 << 10
    private static let smallestRead = 4096
    /// The loop thread's nice value: with 8 connections streaming at load 16, a ping's median round trip was
    /// 0.11 ms at -5 against 0.22-0.30 ms at 0, at the same CPU per request (decisions.md, session 26).
    private static let nice: Int32 = -5

    /// A loop for one listening socket.
    /// - Parameters:
    ///   - listener: The listening socket; the loop closes it on a stop.
    ///   - stopDescriptor: Readable once the server stops.
    ///   - readSize: Bytes asked of each read.
    ///   - makeSession: Makes the session of an accepted connection (driven by this loop).
    /// - Throws: ``ArbiterError`` `internal` when the system refuses the `epoll` descriptors.
    init(
        listener: Listener, stopDescriptor: Int32, readSize: Int, logger: Logger,
        makeSession: @escaping @Sendable (Int32, SocketLoop) -> Session
    ) throws(ArbiterError) {
        poll = try EventPoll()
        self.listener = listener
        self.stopDescriptor = stopDescriptor
        self.logger = logger
        self.makeSession = makeSession
        buffer = .allocate(byteCount: max(1, readSize), alignment: 16)
        // Accepting must never block the loop: the listening socket is drained until it would block.
        _ = fcntl(listener.descriptor, F_SETFL, fcntl(listener.descriptor, F_GETFL) | O_NONBLOCK)
        guard poll.add(listener.descriptor, token: Self.listenerToken, events: .readable),
            poll.add(stopDescriptor, token: Self.stopToken, events: .readable)
        else {
            buffer.deallocate()
            throw ArbiterError(.internal, "epoll_ctl: \(String(cString: strerror(errno)))")
        }
    }

    deinit { buffer.deallocate() }

    /// Tells the loop that a session has answers to write (or was closed by force). Safe from any thread.
    func schedule(_ session: Session) {
        scheduled.withLock { $0.append(session) }
        poll.wake()
    }

    /// Runs the loop on its own thread until a stop has closed every connection.
    /// - Throws: ``ArbiterError`` `internal` when the system refuses the thread.
    func run() async throws(ArbiterError) {
        let thread = try BlockingThread(name: "arbiter-events") { [self] in
            // Favoured over the busy workers when the system allows it (root): a connection that becomes readable
            // (a ping) is served sooner. Without privilege nothing changes.
            BlockingThread.setCurrentNice(Self.nice)
            loop()
            let waiter = finished.withLock { state in
                state.done = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
        _ = thread
        await withCheckedContinuation { continuation in
            let done = finished.withLock { state in
                if state.done { return true }
                state.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func loop() {
        while !(stopping && connections.isEmpty) {
            let count = poll.wait(timeoutMilliseconds: nextTimeout())
            // The turn's reads share a budget, so a turn stays short however many connections stream, and a
            // connection that just became readable (a ping) waits at most about one budget's worth of work.
            let readSize = min(buffer.count, max(Self.smallestRead, Self.turnBudget / max(1, count)))
            let turnBuffer = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<readSize])
            for index in 0..<count {
                let token = poll.token(at: index)
                switch token {
                case EventPoll.wakeToken: poll.acknowledgeWake()
                case Self.stopToken: beginStop()
                case Self.listenerToken: acceptConnections()
                default:
                    guard let session = connections[Int(truncatingIfNeeded: token)] else { continue }
                    handle(session, poll.events(at: index), buffer: turnBuffer)
                }
            }
            flushScheduled()
            expireTimers()
        }
        if !stopping { listener.closeSocket() }
    }

    /// Milliseconds until the next deadline (a closing connection, the end of an accept back-off); -1 for none.
    private func nextTimeout() -> Int32 {
        var next: UInt64? = acceptPausedUntil
        if let trimAt { next = min(next ?? trimAt, trimAt) }
        for session in closing.values {
            if let deadline = session.loopSide?.closingDeadline { next = min(next ?? deadline, deadline) }
        }
        guard let next else { return -1 }
        let now = monotonicNanoseconds()
        return next <= now ? 0 : Int32(min((next - now) / 1_000_000 + 1, 60_000))
    }

    private func expireTimers() {
        let now = monotonicNanoseconds()
        if let until = acceptPausedUntil, until <= now { resumeAccepting() }
        if let at = trimAt, at <= now {
            trimAt = Session.returnFreedMemory() ? nil : now &+ 100_000_000
        }
        for session in Array(closing.values) {
            if let deadline = session.loopSide?.closingDeadline, deadline <= now { closeOrLinger(session, now: now) }
        }
    }

    /// A closing connection's grace is over: it is closed, unless the kernel still holds answers for a client that
    /// took some since the last look (then it gets another grace, up to the limit).
    private func closeOrLinger(_ session: Session, now: UInt64) {
        guard let side = session.loopSide else { return }
        var unsent: Int32 = 0
        let looked = ioctl(session.input, UInt(TIOCOUTQ), &unsent) == 0
        if looked, unsent > 0 {
            let moved = side.closingUnsent < 0 || Int(unsent) < side.closingUnsent
            if moved, now &- side.closingSince < Self.closeLimitNanoseconds {
                side.closingUnsent = Int(unsent)
                side.closingDeadline = now &+ Self.closeGraceNanoseconds
                return
            }
            logger.warning(
                "closing a connection whose client stopped reading its answers",
                metadata: ["connection": "\(session.number)", "unsent_bytes": "\(unsent)"]
            )
        }
        closeNow(session)
    }

    // MARK: Connections

    private func handle(_ session: Session, _ events: EventPoll.Events, buffer: UnsafeMutableRawBufferPointer) {
        guard let side = session.loopSide else { return }
        if side.closingDeadline != nil {
            discardInput(session, events)
            return
        }
        if side.blocked, !events.isDisjoint(with: [.writable, .error, .hangUp]) {
            side.blocked = false
            session.loopFlush()
        }
        if events.contains(.readable), !side.readerDone {
            if session.loopHasCapacity() {
                session.loopRead(into: buffer)
            } else if session.isGone {
                session.loopStopReading()
            }
        }
        if !events.isDisjoint(with: [.error, .hangUp]), side.readerDone || !side.interest.contains(.readable) {
            // Hung up or failed while nothing more is read from it: the client is gone for good. The descriptor is
            // no longer watched (a hang-up is reported for as long as it lasts).
            session.loopPeerGone()
            unregister(session)
            session.loopFlush()
        }
        settle(session)
    }

    /// Writes what waits for each session handed over since the last turn.
    private func flushScheduled() {
        let sessions = scheduled.withLock { list -> [Session] in
            var taken: [Session] = []
            swap(&taken, &list)
            return taken
        }
        for session in sessions {
            guard let side = session.loopSide, connections[session.number] != nil, side.closingDeadline == nil else {
                continue
            }
            session.loopFlush()
            settle(session)
        }
    }

    /// Watches the connection for what it now waits for, and closes it once it is done.
    private func settle(_ session: Session) {
        guard let side = session.loopSide else { return }
        // A client that has gone (a failed write, a forced close) is not read from again.
        if session.isGone, !side.readerDone { session.loopStopReading() }
        if session.loopIsDone() {
            finish(session)
            return
        }
        var wanted: EventPoll.Events = []
        if !side.readerDone, session.loopHasCapacity() { wanted.insert(.readable) }
        if side.blocked { wanted.insert(.writable) }
        setInterest(session, wanted)
    }

    private func setInterest(_ session: Session, _ wanted: EventPoll.Events) {
        guard let side = session.loopSide, side.registered, side.interest != wanted else { return }
        if poll.modify(session.input, token: UInt64(session.number), events: wanted) {
            side.interest = wanted
        } else {
            // Not watched any more, so nothing more can be read or written: end it as a client that is gone.
            session.loopPeerGone()
            unregister(session)
            session.loopFlush()
        }
    }

    private func unregister(_ session: Session) {
        guard let side = session.loopSide, side.registered else { return }
        poll.remove(session.input)
        side.registered = false
        side.interest = []
    }

    /// Every answer is written and nothing more is read: a connection whose client is still there gets its sending
    /// half shut (end of answers) and is closed once the client ends its input (or after a second); one whose client
    /// has gone is closed at once.
    private func finish(_ session: Session) {
        guard let side = session.loopSide else { return }
        guard !session.isGone, !side.discardOutput, side.registered else {
            closeNow(session)
            return
        }
        shutdown(session.input, Int32(SHUT_WR))
        side.closingSince = monotonicNanoseconds()
        side.closingUnsent = -1
        side.closingDeadline = side.closingSince &+ Self.closeGraceNanoseconds
        closing[session.number] = session
        setInterest(session, .readable)
    }

    /// Reads and discards what a closing connection's client still sends; closes it at its end of input.
    private func discardInput(_ session: Session, _ events: EventPoll.Events) {
        while true {
            let count = read(session.input, buffer.baseAddress, buffer.count)
            if count > 0 { continue }
            if count < 0, errno == EINTR { continue }
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK, events.isDisjoint(with: [.error, .hangUp]) { return }
            break
        }
        closeNow(session)
    }

    private func closeNow(_ session: Session) {
        guard connections.removeValue(forKey: session.number) != nil else { return }
        closing.removeValue(forKey: session.number)
        unregister(session)
        close(session.input)
        session.loopClosed()
        if !Session.returnFreedMemory(), trimAt == nil { trimAt = monotonicNanoseconds() &+ 1_000_000_000 }
        if acceptPausedUntil != nil { resumeAccepting() }  // a descriptor is free again
    }

    // MARK: Accepting and stopping

    private func acceptConnections() {
        for _ in 0..<Self.acceptsPerTurn {
            let descriptor = EventPoll.acceptConnection(listener.descriptor)
            guard descriptor >= 0 else {
                switch errno {
                case EINTR, ECONNABORTED, EPROTO: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM: pauseAccepting()
                default: break
                }
                return
            }
            listener.configure(connection: descriptor)
            let session = makeSession(descriptor, self)
            guard let side = session.loopSide,
                poll.add(descriptor, token: UInt64(session.number), events: .readable)
            else {
                close(descriptor)  // nothing was read, nothing is owed
                continue
            }
            side.registered = true
            side.interest = .readable
            connections[session.number] = session
            session.loopOpened()
        }
    }

    /// Out of descriptors: the listening socket stays readable, so it is not watched until the back-off ends or a
    /// connection closes.
    private func pauseAccepting() {
        guard acceptPausedUntil == nil else { return }
        logger.debug("out of descriptors: accepting paused", metadata: ["errno": "\(errno)"])
        poll.modify(listener.descriptor, token: Self.listenerToken, events: [])
        acceptPausedUntil = monotonicNanoseconds() &+ Self.acceptBackOffNanoseconds
    }

    private func resumeAccepting() {
        guard acceptPausedUntil != nil else { return }
        acceptPausedUntil = nil
        guard !stopping else { return }
        poll.modify(listener.descriptor, token: Self.listenerToken, events: .readable)
    }

    /// A stop: no more accepting and no more reading; each connection closes once its answers are written.
    private func beginStop() {
        guard !stopping else { return }
        stopping = true
        acceptPausedUntil = nil
        poll.remove(stopDescriptor)
        poll.remove(listener.descriptor)
        listener.closeSocket()
        for session in Array(connections.values) {
            session.loopStopReading()
            if session.loopSide?.closingDeadline == nil { settle(session) }
        }
    }
}
