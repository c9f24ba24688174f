// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// Bytes holding complete request lines, copied once from what was read: the lines of a read are ranges of one
/// storage, so a line costs no allocation and no reference count of its own. Immutable once made.
final class LineStorage: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt8>
    let count: Int

    /// `head` followed by `tail`, copied.
    init(_ head: UnsafeBufferPointer<UInt8>, _ tail: UnsafeBufferPointer<UInt8>) {
        count = head.count + tail.count
        base = .allocate(capacity: max(1, count))
        if let source = head.baseAddress { base.update(from: source, count: head.count) }
        if let source = tail.baseAddress { (base + head.count).update(from: source, count: tail.count) }
    }

    deinit { base.deallocate() }

    /// The bytes of `range`.
    func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
    }
}

/// Splits a byte stream into request lines.
///
/// A line ends at `\n`; a `\r` before it is dropped; blank lines are skipped; the last line may lack its newline.
/// A line longer than the limit is not kept: the rest of it is skipped and it becomes one `tooLarge` event, with the
/// id read from its first bytes when it starts with `{"id": …`.
///
/// The complete lines of a chunk (with the start of the first one, held from earlier chunks) are copied once into a
/// ``LineStorage``, and each line is a range of it: a read costs one allocation, not one per line.
struct LineSplitter {
    /// A line (as a range of the chunk's storage) or a line over the limit.
    enum Piece {
        case line(Range<Int>)
        case tooLarge(size: Int, id: JSONValue?)
    }

    /// A line as a copy of its bytes, or a line over the limit (for callers that want each line on its own).
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

    /// Splits a chunk, calling `emit` for every complete line, each a copy of its bytes.
    mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, _ emit: (Event) -> Void) {
        split(chunk) { storage, piece in emit(Self.event(piece, storage)) }
    }

    /// Ends the stream, as ``finishSplitting(_:)`` does, with each line a copy of its bytes.
    mutating func finish(_ emit: (Event) -> Void) {
        finishSplitting { storage, piece in emit(Self.event(piece, storage)) }
    }

    private static func event(_ piece: Piece, _ storage: LineStorage?) -> Event {
        switch piece {
        case .line(let range): .line(Array(storage!.bytes(range))[...])
        case .tooLarge(let size, let id): .tooLarge(size: size, id: id)
        }
    }

    /// Splits a chunk: copies its complete lines into one storage and calls `emit` with it for every line (a range
    /// of the storage) and every line over the limit, in order.
    /// - Returns: The storage, or `nil` when the chunk completed no line that is kept.
    @discardableResult
    mutating func split(_ chunk: UnsafeBufferPointer<UInt8>, _ emit: (LineStorage?, Piece) -> Void) -> LineStorage? {
        var end = chunk.count  // after the last newline
        while end > 0, chunk[end - 1] != 0x0A { end -= 1 }
        guard end > 0, let base = chunk.baseAddress else {
            extend(with: chunk)
            return nil
        }
        var start = 0  // where the storage's copy of the chunk begins
        if skipping || !partial.isEmpty {
            let first = base.distance(to: memchr(base, 0x0A, end)!.assumingMemoryBound(to: UInt8.self))
            let piece = UnsafeBufferPointer(rebasing: chunk[0..<first])
            if skipping {
                skippedSize += piece.count
                endSkipping(emit)
                start = first + 1
            } else if partial.count + piece.count > maxLineBytes + 1 {
                startSkipping(with: piece)
                endSkipping(emit)
                start = first + 1
            }
        }
        var storage: LineStorage? = nil
        if start < end {
            storage = partial.withUnsafeBufferPointer { LineStorage($0, UnsafeBufferPointer(rebasing: chunk[start..<end])) }
            partial = []
            splitLines(storage!, emit)
        }
        if end < chunk.count { extend(with: UnsafeBufferPointer(rebasing: chunk[end...])) }
        return storage
    }

    /// Ends the stream: the last line, if it had no newline.
    mutating func finishSplitting(_ emit: (LineStorage?, Piece) -> Void) {
        if skipping {
            endSkipping(emit)
        } else if !partial.isEmpty {
            let storage = partial.withUnsafeBufferPointer { LineStorage($0, UnsafeBufferPointer(start: nil, count: 0)) }
            partial = []
            endLine(storage, 0..<storage.count, emit)
        }
    }

    /// Emits the lines of a storage that holds complete lines, each but perhaps the last ended by a newline.
    private func splitLines(_ storage: LineStorage, _ emit: (LineStorage?, Piece) -> Void) {
        let base = storage.base
        var start = 0
        while start < storage.count {
            guard let found = memchr(base + start, 0x0A, storage.count - start) else {
                endLine(storage, start..<storage.count, emit)
                return
            }
            let end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            endLine(storage, start..<end, emit)
            start = end + 1
        }
    }

    /// Emits one complete line (without its newline): kept, skipped when blank, or over the limit.
    private func endLine(_ storage: LineStorage, _ whole: Range<Int>, _ emit: (LineStorage?, Piece) -> Void) {
        var range = whole
        if range.count > maxLineBytes + 1 {
            emit(storage, .tooLarge(size: range.count, id: RequestCodec.leadingID(of: storage.bytes(range))))
            return
        }
        if !range.isEmpty, storage.base[range.upperBound - 1] == 0x0D { range = range.lowerBound..<(range.upperBound - 1) }
        if range.count > maxLineBytes {
            emit(storage, .tooLarge(size: range.count, id: RequestCodec.leadingID(of: storage.bytes(range))))
        } else if !Self.isBlank(storage.bytes(range)) {
            emit(storage, .line(range))
        }
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

    private mutating func startSkipping(with piece: UnsafeBufferPointer<UInt8>) {
        var head = partial
        head.append(contentsOf: piece.prefix(max(0, RequestCodec.idPrefixBytes - head.count)))
        skippedID = RequestCodec.leadingID(of: head)
        skippedSize = partial.count + piece.count
        skipping = true
        partial = []
    }

    private mutating func endSkipping(_ emit: (LineStorage?, Piece) -> Void) {
        emit(nil, .tooLarge(size: skippedSize, id: skippedID))
        skipping = false
        skippedSize = 0
        skippedID = nil
    }

    private static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}

/// Where the bytes `"op"` occur in a storage, found once per read: the reader asks of every line whether it may be an
/// op (answered ahead of queued work), and most reads hold none. It looks for the byte `p` with the C library's
/// vectorised `memchr` (rarer than the quote in requests) and checks the bytes around each.
struct OpMentions {
    private var positions: [Int] = []
    private var next = 0

    init() {}

    init(_ storage: LineStorage) {
        let base = storage.base
        var start = 2
        while start + 1 < storage.count, let found = memchr(base + start, 0x70, storage.count - 1 - start) {
            let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if base[index - 2] == 0x22, base[index - 1] == UInt8(ascii: "o"), base[index + 1] == 0x22 {
                positions.append(index - 2)
            }
            start = index + 1
        }
    }

    /// Whether `"op"` lies within `range`; ranges must be asked about in increasing order.
    mutating func any(in range: Range<Int>) -> Bool {
        while next < positions.count, positions[next] < range.lowerBound { next += 1 }
        return next < positions.count && positions[next] + 4 <= range.upperBound
    }
}
