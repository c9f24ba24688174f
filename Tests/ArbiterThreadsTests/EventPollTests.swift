// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterThreads
import Foundation
import Testing

@Suite("EventPoll: readiness by token, wake-ups, accepted descriptors")
struct EventPollTests {
    /// The tokens and events of one wait that returns at once (timeout 0).
    func ready(_ poll: EventPoll) -> [(UInt64, EventPoll.Events)] {
        let count = poll.wait(timeoutMilliseconds: 0)
        return (0..<count).map { (poll.token(at: $0), poll.events(at: $0)) }
    }

    @Test("a watched pipe is reported with its token once readable, not before (negative control), nor once unwatched")
    func readiness() throws {
        let poll = try EventPoll()
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        #expect(poll.add(ends[0], token: 7, events: .readable))
        #expect(ready(poll).isEmpty, "nothing written yet")
        var byte: UInt8 = 1
        _ = write(ends[1], &byte, 1)
        let seen = ready(poll)
        #expect(seen.count == 1 && seen.first?.0 == 7 && seen.first?.1.contains(.readable) == true)
        #expect(ready(poll).count == 1, "level-triggered: still readable, still reported")
        #expect(poll.modify(ends[0], token: 7, events: []))
        #expect(ready(poll).isEmpty, "no longer watched for reading")
        #expect(poll.modify(ends[0], token: 8, events: .readable))
        #expect(ready(poll).first?.0 == 8)
        poll.remove(ends[0])
        #expect(ready(poll).isEmpty)
    }

    @Test("wake() from another thread makes a waiting wait return; rings before the acknowledgement count once")
    func wake() throws {
        let poll = try EventPoll()
        #expect(ready(poll).isEmpty, "negative control: no ring, no event")
        let thread = try BlockingThread(name: "ringer") {
            usleep(20_000)
            poll.wake()
        }
        let count = poll.wait(timeoutMilliseconds: 60_000)  // returns when rung, well before the minute
        thread.join()
        #expect(count == 1 && poll.token(at: 0) == EventPoll.wakeToken)
        poll.acknowledgeWake()
        #expect(ready(poll).isEmpty, "acknowledged")
        poll.wake()
        poll.wake()
        poll.wake()
        #expect(ready(poll).map(\.0) == [EventPoll.wakeToken])
        poll.acknowledgeWake()
        #expect(ready(poll).isEmpty, "three rings, one wake-up")
        poll.wake()
        #expect(ready(poll).map(\.0) == [EventPoll.wakeToken], "a ring after the acknowledgement wakes again")
    }

    @Test("an accepted connection is non-blocking and close-on-exec; the connecting socket (control) is neither")
    func acceptedFlags() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try #require(bind(listener, $0, length) == 0)
                try #require(listen(listener, 4) == 0)
                try #require(getsockname(listener, $0, &length) == 0)
            }
        }
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) }
        }
        try #require(connected == 0)
        let accepted = EventPoll.acceptConnection(listener)
        try #require(accepted >= 0)
        defer { close(accepted) }
        #expect(fcntl(accepted, F_GETFL) & O_NONBLOCK != 0)
        #expect(fcntl(accepted, F_GETFD) & FD_CLOEXEC != 0)
        #expect(fcntl(client, F_GETFL) & O_NONBLOCK == 0)
        #expect(fcntl(client, F_GETFD) & FD_CLOEXEC == 0)
    }
}

@Suite("BlockingThread.setCurrentNice")
struct ThreadNiceTests {
    /// The nice value of the calling thread, from /proc/thread-self/stat (field 19).
    static func currentNice() -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/thread-self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 16 ? Int(fields[16]) : nil
    }

    @Test("a thread's nice value changes for that thread only (the caller's own, the control, stays)")
    func perThread() throws {
        let before = Self.currentNice()
        let seen = ThreadMonitor<(status: Int32, nice: Int?)?>(nil)
        let thread = try BlockingThread(name: "nice") {
            // Raising one's nice value needs no privilege.
            let status = BlockingThread.setCurrentNice(Int32((before ?? 0) + 3))
            seen.withLockWakingAll { $0 = (status, Self.currentNice()) }
        }
        thread.join()
        let result = try #require(seen.withLock { $0 })
        #expect(result.status == 0)
        #expect(result.nice == (before ?? 0) + 3)
        #expect(Self.currentNice() == before, "the calling thread keeps its value")
    }
}
