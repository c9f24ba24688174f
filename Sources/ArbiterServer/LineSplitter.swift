// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// Splits a byte stream into request lines.
///
/// A line ends at `\n`; a `\r` before it is dropped; blank lines are skipped; the last line may lack its newline.
/// A line longer than the limit is not kept: the rest of it is skipped and it becomes one `tooLarge` event, with the
/// id read from its first bytes when it starts with `{"id": …`.
///
/// A line that lies within one chunk is a slice of that chunk, sharing its storage: a read costs one allocation,
/// not one per line.
struct LineSplitter {
    enum Event {
        case line(ArraySlice<UInt8>)
        case tooLarge(size: Int, id: JSONValue?)
    }

    let maxLineBytes: Int
    private var partial: [UInt8] = []
    private var skipping = false
    private var skippedSize = 0
    private var skippedID: JSONValue? = nil

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// Splits a chunk, calling `emit` for every complete line.
    mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, _ emit: (Event) -> Void) {
        feed(Array(chunk), emit)
    }

    /// Splits a chunk, calling `emit` for every complete line; lines within the chunk are slices of it.
    mutating func feed(_ chunk: [UInt8], _ emit: (Event) -> Void) {
        chunk.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var start = 0
            while start < buffer.count,
                let found = memchr(base + start, 0x0A, buffer.count - start)
            {
                let end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                endLine(with: UnsafeBufferPointer(rebasing: buffer[start..<end]), in: chunk, at: start, emit)
                start = end + 1
            }
            if start < buffer.count { extend(with: UnsafeBufferPointer(rebasing: buffer[start...])) }
        }
    }

    /// Ends the stream: the last line, if it had no newline.
    mutating func finish(_ emit: (Event) -> Void) {
        endLine(with: UnsafeBufferPointer(start: nil, count: 0), in: [], at: 0, emit)
    }

    private mutating func extend(with piece: UnsafeBufferPointer<UInt8>) {
        if skipping {
            skippedSize += piece.count
        } else if partial.count + piece.count > maxLineBytes + 1 {
            startSkipping(with: piece)
        } else {
            partial.append(contentsOf: piece)
        }
    }

    /// Ends a line whose last piece is `piece`, found in `chunk` at `offset`.
    private mutating func endLine(
        with piece: UnsafeBufferPointer<UInt8>, in chunk: [UInt8], at offset: Int, _ emit: (Event) -> Void
    ) {
        if !skipping, partial.count + piece.count > maxLineBytes + 1 {
            startSkipping(with: piece)
        } else if !skipping {
            var line: ArraySlice<UInt8>
            if partial.isEmpty {
                line = chunk[offset..<(offset + piece.count)]
            } else {
                var joined = partial
                joined.append(contentsOf: piece)
                line = joined[...]
                partial = []
            }
            if line.last == 0x0D { line.removeLast() }
            if line.count > maxLineBytes {
                emit(.tooLarge(size: line.count, id: RequestCodec.leadingID(of: line)))
            } else if !Self.isBlank(line) {
                emit(.line(line))
            }
            return
        } else {
            skippedSize += piece.count
        }
        emit(.tooLarge(size: skippedSize, id: skippedID))
        skipping = false
        skippedSize = 0
        skippedID = nil
    }

    private mutating func startSkipping(with piece: UnsafeBufferPointer<UInt8>) {
        var head = partial
        head.append(contentsOf: piece.prefix(max(0, RequestCodec.idPrefixBytes - head.count)))
        skippedID = RequestCodec.leadingID(of: head)
        skippedSize = partial.count + piece.count
        skipping = true
        partial = []
    }

    private static func isBlank(_ line: ArraySlice<UInt8>) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}
