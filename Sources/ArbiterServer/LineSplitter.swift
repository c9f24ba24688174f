// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Synchronization

/// Bytes holding complete request lines, copied once from what was read: the lines of a read are ranges of one
/// storage, so a line costs no allocation and no reference count of its own. Immutable once made.
final class LineStorage: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt8>
    let count: Int
    private let blockSize: Int

    /// `head` followed by `tail`, copied.
    init(_ head: UnsafeBufferPointer<UInt8>, _ tail: UnsafeBufferPointer<UInt8>) {
        count = head.count + tail.count
        (base, blockSize) = StorageBlocks.take(count)
        if let source = head.baseAddress { base.update(from: source, count: head.count) }
        if let source = tail.baseAddress { (base + head.count).update(from: source, count: tail.count) }
    }

    deinit { StorageBlocks.give(base, blockSize) }

    /// The bytes of `range`.
    func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
    }
}

/// Memory for line storages. Storages of large reads (over 64 KiB, such as stdin's 1 MiB reads) come in multiples of
/// 64 KiB and are kept for reuse when freed, up to 8 MiB in all (a kept block serves a storage of half its size or
/// more): the C library gives memory of that size back to the
/// system when it is freed and maps it again on the next read, and the page faults of filling fresh pages were 14 %
/// of the daemon's CPU time on a stream of `exact` requests. Small storages are allocated exact-size.
enum StorageBlocks {
    static let smallest = 64 << 10
    static let maximumKept = 8 << 20

    /// Kept blocks (address and size) and their total size.
    private static let kept = Mutex<(blocks: [(address: UInt, size: Int)], bytes: Int)>(([], 0))

    /// A block for `count` bytes and its size (0 for an exact-size allocation that is not kept when freed). A kept
    /// block of up to twice the size asked for is reused.
    static func take(_ count: Int) -> (UnsafeMutablePointer<UInt8>, Int) {
        guard count > smallest else { return (.allocate(capacity: max(1, count)), 0) }
        let reused = kept.withLock { state -> (address: UInt, size: Int)? in
            guard let index = state.blocks.firstIndex(where: { $0.size >= count && $0.size / 2 <= count }) else {
                return nil
            }
            state.bytes -= state.blocks[index].size
            return state.blocks.remove(at: index)
        }
        if let reused, let pointer = UnsafeMutablePointer<UInt8>(bitPattern: reused.address) { return (pointer, reused.size) }
        let size = (count + smallest - 1) / smallest * smallest
        return (.allocate(capacity: size), size)
    }

    /// Frees a block, or keeps it for reuse.
    static func give(_ pointer: UnsafeMutablePointer<UInt8>, _ size: Int) {
        let keep = size > 0 && kept.withLock { state -> Bool in
            guard state.bytes + size <= maximumKept else { return false }
            state.blocks.append((UInt(bitPattern: pointer), size))
            state.bytes += size
            return true
        }
        if !keep { pointer.deallocate() }
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
    /// What a chunk (or the end of the stream) yields: its lines, as ranges of one storage, and its lines over the
    /// limit, each with the number of kept lines that come before it.
    struct Split {
        var storage: LineStorage? = nil
        var lines: [Range<Int>] = []
        var tooLarge: [(before: Int, size: Int, id: JSONValue?)] = []
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
        Self.events(split(chunk), emit)
    }

    /// Ends the stream, as ``finishSplitting()`` does, with each line a copy of its bytes.
    mutating func finish(_ emit: (Event) -> Void) {
        Self.events(finishSplitting(), emit)
    }

    /// The lines and lines over the limit of a split, in order.
    private static func events(_ split: Split, _ emit: (Event) -> Void) {
        var next = 0
        for (index, range) in split.lines.enumerated() {
            while next < split.tooLarge.count, split.tooLarge[next].before == index {
                emit(.tooLarge(size: split.tooLarge[next].size, id: split.tooLarge[next].id))
                next += 1
            }
            emit(.line(Array(split.storage!.bytes(range))[...]))
        }
        for oversized in split.tooLarge[next...] { emit(.tooLarge(size: oversized.size, id: oversized.id)) }
    }

    /// Splits a chunk: copies its complete lines into one storage; the lines are ranges of it.
    mutating func split(_ chunk: UnsafeBufferPointer<UInt8>) -> Split {
        var result = Split()
        var end = chunk.count  // after the last newline
        while end > 0, chunk[end - 1] != 0x0A { end -= 1 }
        guard end > 0, let base = chunk.baseAddress else {
            extend(with: chunk)
            return result
        }
        var start = 0  // where the storage's copy of the chunk begins
        if skipping || !partial.isEmpty {
            let first = base.distance(to: memchr(base, 0x0A, end)!.assumingMemoryBound(to: UInt8.self))
            let piece = UnsafeBufferPointer(rebasing: chunk[0..<first])
            if skipping {
                skippedSize += piece.count
                endSkipping(into: &result)
                start = first + 1
            } else if partial.count + piece.count > maxLineBytes + 1 {
                startSkipping(with: piece)
                endSkipping(into: &result)
                start = first + 1
            }
        }
        if start < end {
            let storage = partial.withUnsafeBufferPointer {
                LineStorage($0, UnsafeBufferPointer(rebasing: chunk[start..<end]))
            }
            partial = []
            result.storage = storage
            splitLines(storage, into: &result)
        }
        if end < chunk.count { extend(with: UnsafeBufferPointer(rebasing: chunk[end...])) }
        return result
    }

    /// Ends the stream: the last line, if it had no newline.
    mutating func finishSplitting() -> Split {
        var result = Split()
        if skipping {
            endSkipping(into: &result)
        } else if !partial.isEmpty {
            let storage = partial.withUnsafeBufferPointer { LineStorage($0, UnsafeBufferPointer(start: nil, count: 0)) }
            partial = []
            result.storage = storage
            endLine(storage, 0..<storage.count, into: &result)
        }
        return result
    }

    /// The lines of a storage that holds complete lines, each but perhaps the last ended by a newline.
    private func splitLines(_ storage: LineStorage, into result: inout Split) {
        let base = storage.base
        let count = storage.count
        var start = 0
        while start < count {
            guard let found = memchr(base + start, 0x0A, count - start) else {
                endLine(storage, start..<count, into: &result)
                return
            }
            let end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            endLine(storage, start..<end, into: &result)
            start = end + 1
        }
    }

    /// One complete line (without its newline): kept, skipped when blank, or over the limit.
    private func endLine(_ storage: LineStorage, _ whole: Range<Int>, into result: inout Split) {
        var range = whole
        if range.count > maxLineBytes + 1 {
            result.tooLarge.append(
                (result.lines.count, range.count, RequestCodec.leadingID(of: storage.bytes(range))))
            return
        }
        if !range.isEmpty, storage.base[range.upperBound - 1] == 0x0D { range = range.lowerBound..<(range.upperBound - 1) }
        if range.count > maxLineBytes {
            result.tooLarge.append(
                (result.lines.count, range.count, RequestCodec.leadingID(of: storage.bytes(range))))
        } else if !Self.isBlank(storage.base + range.lowerBound, range.count) {
            result.lines.append(range)
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

    private mutating func endSkipping(into result: inout Split) {
        result.tooLarge.append((result.lines.count, skippedSize, skippedID))
        skipping = false
        skippedSize = 0
        skippedID = nil
    }

    /// Whether a line is blank; it looks at the first byte that is not blank only (the `{` of a request).
    private static func isBlank(_ line: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        for offset in 0..<count {
            let byte = line[offset]
            if byte != 0x20, byte != 0x09, byte != 0x0D { return false }
        }
        return true
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
