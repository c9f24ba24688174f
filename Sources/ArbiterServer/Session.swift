// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Synchronization

/// Limits of one JSON-lines stream.
public struct SessionLimits: Sendable {
    /// The longest request line accepted, in bytes, not counting the newline. Default 64 MiB.
    public var maxLineBytes: Int
    /// Request lines read but not yet answered before the reader pauses. Default 16,384.
    public var maxInFlightLines: Int
    /// Bytes of request lines read but not yet answered before the reader pauses. Default 256 MiB.
    public var maxInFlightBytes: Int
    /// Bytes asked of each `read`. Default 1 MiB.
    public var readSize: Int

    /// Limits; every argument has the documented default.
    public init(
        maxLineBytes: Int = 64 << 20,
        maxInFlightLines: Int = 16_384,
        maxInFlightBytes: Int = 256 << 20,
        readSize: Int = 1 << 20
    ) {
        self.maxLineBytes = maxLineBytes
        self.maxInFlightLines = maxInFlightLines
        self.maxInFlightBytes = maxInFlightBytes
        self.readSize = readSize
    }
}

/// One JSON-lines stream (stdin/stdout, a file, or a socket connection): a reader thread that splits lines and
/// queues them, and a writer thread that writes answers, in order or as they finish.
///
/// The number of lines read but not yet answered is bounded: when it reaches the limit the reader stops reading, so
/// a fast writer on the other end is slowed down instead of growing memory.
final class Session: Sendable {
    private struct Pending {
        var lines: Int
        var inputBytes: Int
        var bytes: [UInt8]
    }

    private struct State {
        var inFlightLines = 0
        var inFlightBytes = 0
        var readerDone = false
        var nextSeq = 0
        var pending: [Int: Pending] = [:]
        var output: [UInt8] = []
        var spare: [UInt8] = []
        var outputLines = 0
        var outputInputBytes = 0
        var outputClosed = false
    }

    let input: Int32
    let output: Int32
    private let ownsDescriptors: Bool
    private let ordered: Bool
    private let limits: SessionLimits
    private let queue: WorkQueue
    private let stats: ServerStats
    private let stopDescriptor: Int32
    private let monitor = Monitor(State())
    private let finished = Mutex<CheckedContinuation<Void, Never>?>(nil)

    init(
        input: Int32,
        output: Int32,
        ownsDescriptors: Bool,
        ordered: Bool,
        limits: SessionLimits,
        queue: WorkQueue,
        stats: ServerStats,
        stopDescriptor: Int32
    ) {
        self.input = input
        self.output = output
        self.ownsDescriptors = ownsDescriptors
        self.ordered = ordered
        self.limits = limits
        self.queue = queue
        self.stats = stats
        self.stopDescriptor = stopDescriptor
    }

    /// Reads, answers and writes until end of input (or a stop), then returns once every answer is written.
    func run() async {
        await withCheckedContinuation { continuation in
            finished.withLock { $0 = continuation }
            let reader = Thread { [self] in readLoop() }
            reader.name = "arbiter-reader"
            reader.start()
            let writer = Thread { [self] in writeLoop() }
            writer.name = "arbiter-writer"
            writer.start()
        }
    }

    /// Hands answered lines to the writer: `lines` consecutive lines from `firstSeq`, whose requests took
    /// `inputBytes`, answered by `bytes` (newlines included).
    func submit(firstSeq: Int, lines: Int, inputBytes: Int, bytes: [UInt8]) {
        monitor.withLock(waking: [.writer]) { state in
            guard ordered else {
                Self.append(bytes, lines: lines, inputBytes: inputBytes, to: &state)
                return
            }
            guard firstSeq == state.nextSeq else {
                state.pending[firstSeq] = Pending(lines: lines, inputBytes: inputBytes, bytes: bytes)
                return
            }
            Self.append(bytes, lines: lines, inputBytes: inputBytes, to: &state)
            state.nextSeq += lines
            while let next = state.pending.removeValue(forKey: state.nextSeq) {
                Self.append(next.bytes, lines: next.lines, inputBytes: next.inputBytes, to: &state)
                state.nextSeq += next.lines
            }
        }
    }

    private static func append(_ bytes: [UInt8], lines: Int, inputBytes: Int, to state: inout State) {
        state.output.append(contentsOf: bytes)
        state.outputLines += lines
        state.outputInputBytes += inputBytes
    }

    // MARK: Reading

    private func readLoop() {
        var splitter = LineSplitter(maxLineBytes: limits.maxLineBytes)
        var buffer = [UInt8](repeating: 0, count: max(1, limits.readSize))
        var nextSeq = 0
        while waitForCapacity() {
            let count = readChunk(into: &buffer)
            var units: [WorkUnit] = []
            var inputBytes = 0
            let emit: (LineSplitter.Event) -> Void = { event in
                switch event {
                case .line(let bytes):
                    units.append(.line(self, seq: nextSeq, bytes: bytes))
                    inputBytes += bytes.count
                case .tooLarge(let size, let id):
                    units.append(.tooLarge(self, seq: nextSeq, size: size, id: id))
                }
                nextSeq += 1
            }
            if count > 0 {
                buffer.withUnsafeBufferPointer { splitter.feed(UnsafeBufferPointer(rebasing: $0[0..<count]), emit) }
            } else if count == 0 {
                splitter.finish(emit)  // end of input: the last line may lack its newline
            }  // on a stop or a read error, a half-received line is dropped, not answered
            enqueue(units, inputBytes: inputBytes)
            if count <= 0 { break }
        }
        monitor.withLock(waking: [.writer]) { $0.readerDone = true }
    }

    /// Blocks until fewer than the limit of lines and bytes are in flight; `false` when the output is gone.
    private func waitForCapacity() -> Bool {
        monitor.wait(
            as: .reader,
            until: { state in
                state.outputClosed || state.inFlightLines == 0
                    || (state.inFlightLines < limits.maxInFlightLines && state.inFlightBytes < limits.maxInFlightBytes)
            },
            then: { !$0.outputClosed })
    }

    /// Reads one chunk: its size, 0 at end of input, -1 on a read error or a stop.
    private func readChunk(into buffer: inout [UInt8]) -> Int {
        var descriptors = [
            pollfd(fd: input, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stopDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if descriptors[1].revents != 0 { return -1 }
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR || errno == EAGAIN { continue }
            return count
        }
    }

    private func enqueue(_ units: [WorkUnit], inputBytes: Int) {
        guard !units.isEmpty else { return }
        monitor.withLock { state in
            state.inFlightLines += units.count
            state.inFlightBytes += inputBytes
        }
        stats.addInFlight(units.count)
        queue.push(units)
    }

    // MARK: Writing

    private func writeLoop() {
        while true {
            let next = monitor.wait(
                as: .writer,
                until: { !$0.output.isEmpty || ($0.readerDone && $0.inFlightLines == 0) },
                then: { state -> (bytes: [UInt8], lines: Int, inputBytes: Int, closed: Bool)? in
                    if state.output.isEmpty { return nil }
                    var bytes = state.spare
                    swap(&bytes, &state.output)
                    defer {
                        state.outputLines = 0
                        state.outputInputBytes = 0
                    }
                    return (bytes, state.outputLines, state.outputInputBytes, state.outputClosed)
                })
            guard var next else { break }
            var closed = next.closed
            if !closed, !writeAll(next.bytes) { closed = true }
            next.bytes.removeAll(keepingCapacity: true)
            let done = next
            monitor.withLock(waking: [.reader]) { state in
                state.inFlightLines -= done.lines
                state.inFlightBytes -= done.inputBytes
                if closed { state.outputClosed = true }
                if state.spare.capacity < done.bytes.capacity, done.bytes.capacity <= 1 << 22 { state.spare = done.bytes }
            }
            stats.addInFlight(-done.lines)
        }
        if ownsDescriptors {
            close(input)
            if output != input { close(output) }
        }
        finished.withLock { continuation in
            continuation?.resume()
            continuation = nil
        }
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(output, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }
}
