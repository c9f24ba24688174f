// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Replaces many literal substrings in one left-to-right pass over UTF-8 bytes (Foundation's
/// `replacingOccurrences` costs a bridge to NSString per call on Linux).
struct TextReplacer: Sendable {
    struct Rule: Sendable {
        var target: [UInt8]
        var replacement: [UInt8]
        /// The match counts only when no ASCII letter follows it (`\in` but not `\infty`).
        var wholeCommand: Bool
    }

    private let rules: [[Rule]]

    /// Rules are tried longest first at each position.
    init(_ pairs: [(String, String, wholeCommand: Bool)]) {
        var table = [[Rule]](repeating: [], count: 256)
        for (target, replacement, whole) in pairs where !target.isEmpty {
            let rule = Rule(target: Array(target.utf8), replacement: Array(replacement.utf8), wholeCommand: whole)
            table[Int(rule.target[0])].append(rule)
        }
        rules = table.map { $0.sorted { $0.target.count > $1.target.count } }
    }

    func apply(_ text: String) -> String {
        if let result = text.utf8.withContiguousStorageIfAvailable({ apply(bytes: $0) }) { return result ?? text }
        return Array(text.utf8).withUnsafeBufferPointer { apply(bytes: $0) } ?? text
    }

    /// The bytes with every rule applied, or `nil` when no rule matches (then nothing is copied).
    private func apply(bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var output: [UInt8] = []
        var index = 0
        var copied = 0
        outer: while index < bytes.count {
            let candidates = rules[Int(bytes[index])]
            if !candidates.isEmpty {
                for rule in candidates where Self.matches(rule, bytes, at: index) {
                    if output.isEmpty { output.reserveCapacity(bytes.count + 16) }
                    output.append(contentsOf: bytes[copied..<index])
                    output.append(contentsOf: rule.replacement)
                    index += rule.target.count
                    copied = index
                    continue outer
                }
            }
            index += 1
        }
        guard copied > 0 else { return nil }
        output.append(contentsOf: bytes[copied..<bytes.count])
        return String(decoding: output, as: UTF8.self)
    }

    private static func matches(_ rule: Rule, _ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        let end = index + rule.target.count
        guard end <= bytes.count else { return false }
        for offset in 1..<rule.target.count where bytes[index + offset] != rule.target[offset] { return false }
        if rule.wholeCommand, end < bytes.count {
            let next = bytes[end] | 0x20
            if next >= UInt8(ascii: "a"), next <= UInt8(ascii: "z") { return false }
        }
        return true
    }
}

extension StringProtocol {
    /// Whether `needle` occurs, searched natively on UTF-8 bytes.
    func has(_ needle: String) -> Bool {
        guard !needle.isEmpty else { return true }
        // Both sides' bytes in place (no copy) when they are contiguous, as native strings are.
        if let found = needle.utf8.withContiguousStorageIfAvailable({ target in
            utf8.withContiguousStorageIfAvailable { Self.contains(target, in: $0) }
        }), let found {
            return found
        }
        let target = Array(needle.utf8)
        return target.withUnsafeBufferPointer { target in
            Array(utf8).withUnsafeBufferPointer { Self.contains(target, in: $0) }
        }
    }

    private static func contains(_ target: UnsafeBufferPointer<UInt8>, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= target.count, let base = bytes.baseAddress, let needle = target.baseAddress else {
            return false
        }
        // `memchr` finds each candidate first byte; `memcmp` checks the rest.
        let lastStart = bytes.count - target.count
        var index = 0
        while index <= lastStart {
            guard let found = memchr(base + index, Int32(needle.pointee), lastStart - index + 1) else { return false }
            let start = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + start, needle, target.count) == 0 { return true }
            index = start + 1
        }
        return false
    }
}

extension String {
    /// Every occurrence of `target` (left to right, not overlapping) replaced, on UTF-8 bytes: the literal
    /// `replacingOccurrences(of:with:)` without a bridge to NSString.
    func replacingEvery(_ target: String, with replacement: String) -> String {
        let bytes = Array(utf8)
        let needle = Array(target.utf8)
        guard !needle.isEmpty else { return self }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if index + needle.count <= bytes.count, bytes[index] == needle[0],
                bytes[index..<(index + needle.count)].elementsEqual(needle)
            {
                output.append(contentsOf: replacement.utf8)
                index += needle.count
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
