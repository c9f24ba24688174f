// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
@testable import ArbiterServer
import Testing

/// The line splitter copies a read's complete lines into one storage; what it yields must not depend on where reads
/// split the stream, and the reader's search for ops must find exactly the lines holding `"op"`.
@Suite("Line splitter: one storage per read")
struct SplitterTests {
    static let limit = 40

    /// The lines of the test stream as the rules say they are split (written out independently of the splitter).
    static func expected(_ stream: [UInt8]) -> [String] {
        var pieces = stream.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if pieces.last?.isEmpty == true { pieces.removeLast() }
        var events: [String] = []
        for raw in pieces {
            if raw.count > limit + 1 {
                events.append("tooLarge \(raw.count) \(RequestCodec.leadingID(of: raw).map(\.jsonText) ?? "-")")
                continue
            }
            var line = raw
            if line.last == 0x0D { line.removeLast() }
            if line.count > limit {
                events.append("tooLarge \(line.count) \(RequestCodec.leadingID(of: line).map(\.jsonText) ?? "-")")
            } else if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                events.append("line " + String(decoding: line, as: UTF8.self))
            }
        }
        return events
    }

    static func describe(_ event: LineSplitter.Event) -> String {
        switch event {
        case .line(let bytes): "line " + String(decoding: bytes, as: UTF8.self)
        case .tooLarge(let size, let id): "tooLarge \(size) \(id.map(\.jsonText) ?? "-")"
        }
    }

    static let stream: [UInt8] = {
        let lines = [
            #"{"id":1,"verifier":"exact"}"#, "", "   ", "\t\r", "short\r", String(repeating: "a", count: limit),
            String(repeating: "b", count: limit) + "\r", String(repeating: "c", count: limit + 1),
            #"{"id":7,"x":""# + String(repeating: "d", count: 100) + "\"}", "e\r\r",
            #"{"id":"long","y":""# + String(repeating: "f", count: limit) + "\"}\r", "last line without a newline",
        ]
        return Array(lines.joined(separator: "\n").utf8)
    }()

    @Test("every chunking of a stream yields the same lines and lines over the limit, in order")
    func chunkings() {
        let expected = Self.expected(Self.stream)
        #expect(expected.contains("tooLarge 41 -") && expected.contains { $0.hasPrefix("tooLarge 115 7") })
        #expect(expected.contains { $0.hasPrefix("tooLarge") && $0.hasSuffix("\"long\"") })
        for size in [1, 2, 3, 5, 7, 13, 41, 42, 64, Self.stream.count] {
            var splitter = LineSplitter(maxLineBytes: Self.limit)
            var events: [String] = []
            var offset = 0
            while offset < Self.stream.count {
                let end = min(offset + size, Self.stream.count)
                Self.stream[offset..<end].withUnsafeBufferPointer { chunk in
                    splitter.feed(chunk) { events.append(Self.describe($0)) }
                }
                offset = end
            }
            splitter.finish { events.append(Self.describe($0)) }
            #expect(events == expected, "chunks of \(size)")
        }
    }

    @Test("a read's kept lines are ranges of one storage holding only complete lines")
    func oneStorage() throws {
        var splitter = LineSplitter(maxLineBytes: Self.limit)
        _ = Array("ab\ncd".utf8).withUnsafeBufferPointer { splitter.split($0) }  // "cd" is held for the next read
        let split = Array("e\nfg\nh".utf8).withUnsafeBufferPointer { splitter.split($0) }
        let storage = try #require(split.storage)
        #expect(String(decoding: storage.bytes(0..<storage.count), as: UTF8.self) == "cde\nfg\n")
        #expect(split.lines.map { String(decoding: storage.bytes($0), as: UTF8.self) } == ["cde", "fg"])
        let last = splitter.finishSplitting()
        #expect(last.lines.count == 1 && last.storage.map { String(decoding: $0.bytes(last.lines[0]), as: UTF8.self) } == "h")
    }

    @Test("ops are looked for in exactly the lines holding the bytes \"op\" (a line with op unquoted is not one)")
    func opMentions() throws {
        let text = #"{"id":1,"response":"op p"}"# + "\n" + #"{"op":"ping"}"# + "\n" + #"{"x":"p","op" : 1}"# + "\n" + "p\n"
        var splitter = LineSplitter(maxLineBytes: 1000)
        let split = Array(text.utf8).withUnsafeBufferPointer { splitter.split($0) }
        let storage = try #require(split.storage)
        var mentions = OpMentions(storage)
        #expect(split.lines.map { mentions.any(in: $0) } == [false, true, true, false])
    }
}
