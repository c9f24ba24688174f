// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterRegex
import Foundation

/// A fixed pattern of the constraints, compiled once (PCRE2 in UTF + UCP mode: `\w`, `\s`, `\d` and `\b` are
/// Unicode-aware, as in Python's `re` on `str`; `$` under `multiline` matches before each `\n`, as in Python).
struct Pattern: Sendable {
    let compiled: CompiledPattern

    init(_ pattern: String, _ options: RegexOptions = []) {
        do {
            compiled = try CompiledPattern(pattern, options: options)
        } catch {
            preconditionFailure("built-in pattern \(pattern) does not compile: \(error)")
        }
    }

    /// A pattern built from a row's kwargs (escaped literals around a fixed frame), compiled once per distinct text
    /// through the bounded cache the kwargs carry (the registry's): GRPO sends the same row with every rollout of a prompt.
    /// - Throws: ``ArbiterError`` `invalid_reference` if it does not compile (escaped text always should).
    init(cached pattern: String, for kwargs: Kwargs) throws(ArbiterError) {
        do {
            compiled = try kwargs.patterns.pattern(pattern)
        } catch {
            throw kwargs.error("a pattern built from its kwargs does not compile: \(error.message)")
        }
    }

    /// Every non-overlapping match (`re.findall`), as byte ranges.
    func matches(_ text: String) -> [Range<Int>] {
        compiled.allMatches(in: text).matches.map(\.range)
    }

    /// The matched texts.
    func findAll(_ text: String) -> [String] {
        let utf8 = Array(text.utf8)
        return matches(text).map { String(decoding: utf8[$0], as: UTF8.self) }
    }

    /// Whether it matches anywhere (`re.search`).
    func found(in text: String) -> Bool {
        if case .match = compiled.firstMatch(in: text) { return true }
        return false
    }

    /// Whether it matches at the start (`re.match`).
    func matchesStart(_ text: String) -> Bool {
        if case .match = compiled.firstMatch(in: text, anchored: true) { return true }
        return false
    }

    /// `re.split` for a pattern without groups.
    func split(_ text: String) -> [String] {
        let utf8 = Array(text.utf8)
        var parts: [String] = []
        var start = 0
        for range in matches(text) {
            parts.append(String(decoding: utf8[start..<range.lowerBound], as: UTF8.self))
            start = range.upperBound
        }
        parts.append(String(decoding: utf8[start...], as: UTF8.self))
        return parts
    }

    /// `re.sub` with a function of the match's groups.
    func replace(_ text: String, _ replacement: ([String?]) -> String) -> String {
        String(decoding: replace(bytes: Array(text.utf8), replacement), as: UTF8.self)
    }

    /// `re.sub` on UTF-8 bytes (valid UTF-8 in, valid UTF-8 out); the text unchanged when nothing matches.
    func replace(bytes utf8: [UInt8], _ replacement: ([String?]) -> String) -> [UInt8] {
        var output: [UInt8] = []
        var start = 0
        var offset = 0
        var matched = false
        while offset <= utf8.count {
            let outcome = utf8.withUnsafeBufferPointer { compiled.firstMatch(inUTF8: $0, from: offset) }
            guard case .match(let match) = outcome else { break }
            if !matched {
                output.reserveCapacity(utf8.count + 64)
                matched = true
            }
            output.append(contentsOf: utf8[start..<match.range.lowerBound])
            var groups: [String?] = [String(decoding: utf8[match.range], as: UTF8.self)]
            for group in match.groups {
                groups.append(group.map { String(decoding: utf8[$0], as: UTF8.self) })
            }
            output.append(contentsOf: replacement(groups).utf8)
            start = match.range.upperBound
            offset = match.range.isEmpty ? match.range.upperBound + 1 : match.range.upperBound
        }
        guard matched else { return utf8 }
        output.append(contentsOf: utf8[min(start, utf8.count)...])
        return output
    }
}

/// Byte-level `str.replace` for ASCII-free-of-surprises needles (UTF-8 is self-synchronising, so a byte match of
/// valid UTF-8 is a character match).
enum Bytes {
    static func replaceAll(_ text: [UInt8], _ target: StaticString, _ replacement: StaticString) -> [UInt8] {
        let needle = UnsafeBufferPointer(start: target.utf8Start, count: target.utf8CodeUnitCount)
        let with = UnsafeBufferPointer(start: replacement.utf8Start, count: replacement.utf8CodeUnitCount)
        guard let first = needle.first, text.count >= needle.count else { return text }
        return text.withUnsafeBufferPointer { bytes in
            var output: [UInt8] = []
            var index = 0
            var copied = 0
            var found = false
            while index + needle.count <= bytes.count {
                if bytes[index] == first, matches(bytes, at: index, needle) {
                    if !found {
                        output.reserveCapacity(bytes.count + 16)
                        found = true
                    }
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[copied..<index]))
                    output.append(contentsOf: with)
                    index += needle.count
                    copied = index
                } else {
                    index += 1
                }
            }
            guard found else { return text }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[copied...]))
            return output
        }
    }

    static func contains(_ text: [UInt8], _ target: StaticString) -> Bool {
        text.withUnsafeBufferPointer { contains($0, target) }
    }

    /// Whether UTF-8 text holds the bytes of `target`: each occurrence of its first byte found by `memchr`, the rest
    /// compared there.
    static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ target: StaticString) -> Bool {
        let needle = UnsafeBufferPointer(start: target.utf8Start, count: target.utf8CodeUnitCount)
        guard let first = needle.first, let base = bytes.baseAddress, bytes.count >= needle.count else { return false }
        let lastStart = bytes.count - needle.count
        var from = 0
        while from <= lastStart, let found = memchr(base + from, Int32(first), lastStart + 1 - from) {
            let at = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if matches(bytes, at: at, needle) { return true }
            from = at + 1
        }
        return false
    }

    /// Whether the text holds `***`.
    static func containsTripleStar(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { contains($0, "***") }
    }

    /// Whether `needle` occurs in `bytes` at `index` (the caller checked that it fits).
    private static func matches(
        _ bytes: UnsafeBufferPointer<UInt8>, at index: Int, _ needle: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        for offset in 1..<needle.count where bytes[index + offset] != needle[offset] { return false }
        return true
    }
}

/// A literal text as a pattern (for the reference's patterns built from kwargs, such as a section splitter): letters,
/// digits and spaces as they are, every other character as `\x{…}` (so that no text, a NUL included, changes the
/// pattern's meaning).
func escapeRegex(_ text: String) -> String {
    var escaped = ""
    for scalar in text.unicodeScalars {
        if scalar.isASCIILetter || (0x30...0x39).contains(scalar.value) || scalar == " " {
            escaped.unicodeScalars.append(scalar)
        } else {
            escaped += "\\x{" + String(scalar.value, radix: 16) + "}"
        }
    }
    return escaped
}
