// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
@testable import ArbiterServer
import ArbiterThreads
import Foundation
import Testing

@Suite("The accept thread", .timeLimit(.minutes(1)))
struct ListenerTests {
    struct Seen {
        var threadNames: [String] = []
        var finished = false
    }

    @Test("connections are handed over on the named accept thread, which ends (and removes the socket) on a stop")
    func acceptThread() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-accept-\(getpid()).sock").path
        let listener = try Listener(address: .unix(path: path))
        var stop: [Int32] = [0, 0]
        try #require(pipe(&stop) == 0)
        defer { close(stop[0]); close(stop[1]) }
        let seen = ThreadMonitor(Seen())
        let thread = try listener.startAccepting(stopDescriptor: stop[0]) { connection in
            let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            close(connection)
            seen.withLockWakingAll { $0.threadNames.append(name.trimmingCharacters(in: .newlines)) }
        } finished: {
            seen.withLockWakingAll { $0.finished = true }
        }
        let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (offset, byte) in path.utf8.enumerated() { raw[offset] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(client, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(connected == 0)
        #expect(seen.wait(as: .init(0), atMost: 60_000_000_000) { !$0.threadNames.isEmpty })
        #expect(seen.withLock { $0.threadNames } == ["arbiter-accept"])
        // Before the stop the thread keeps accepting (the control for the end below).
        #expect(seen.withLock { $0.finished } == false)
        var byte: UInt8 = 1
        _ = write(stop[1], &byte, 1)
        thread.join()
        #expect(seen.withLock { $0.finished })
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
