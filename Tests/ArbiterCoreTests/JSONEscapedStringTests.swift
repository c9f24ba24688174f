// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

@testable import ArbiterCore
import Testing

/// The one-pass decoder of escaped strings gives the string the step-by-step reader gives, and declines (leaving the
/// error to that reader) exactly where it throws; `isValidUTF8` accepts what `String(validating:)` accepts.
@Suite("JSON escaped strings")
struct JSONEscapedStringTests {
    /// Pieces strings are made of: plain text, every escape, surrogate pairs (whole, lone, cut, followed by a bad
    /// escape), raw UTF-8 valid and not, control characters and quotes.
    static let pieces: [[UInt8]] = [
        "a", "hello world", " ", "\\n", "\\t", "\\r", "\\b", "\\f", "\\/", "\\\\", "\\\"", "\\u0041", "\\u00e9", "\\u20AC",
        "\\uD83D\\uDE00", "\\ud83d\\ude00", "\\ud800", "\\udc00", "\\ud800\\u0041", "\\ud800\\uZZZZ", "\\ud800\\u12",
        "\\u12", "\\uZZZZ", "\\q", "\\", "\\u", "é", "日本", "😀", "\u{7F}",
    ].map { Array($0.utf8) } + [[0x01], [0x1F], [0x0A], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
                                [0x80], [0xE2, 0x82], [0xFF], [0xC3], [0xF0, 0x9F, 0x98], [0xE0, 0x9F, 0x80], [0x22]]

    @Test("one pass and step by step agree on every string of up to four pieces, and the one pass takes the valid ones")
    func agree() {
        var generator = SplitMix(seed: 18)
        var decoded = 0
        var declined = 0
        for round in 0..<20_000 {
            var body: [UInt8] = []
            let count = round < Self.pieces.count ? 1 : 1 + Int(generator.next() % 4)
            for index in 0..<count {
                body += round < Self.pieces.count && index == 0
                    ? Self.pieces[round] : Self.pieces[Int(generator.next() % UInt64(Self.pieces.count))]
            }
            // An escape first, so that both readers run; a closing quote, then more text (a reader must stop there).
            let text = [UInt8(ascii: "\"")] + Array("\\n".utf8) + body + Array("\",\"z\"".utf8)
            text.withUnsafeBufferPointer { buffer in
                let (onePass, stepByStep) = JSONParser.escapedStringReadings(in: buffer, at: 0)
                switch stepByStep {
                case .success(let expected):
                    #expect(onePass == expected, "\(String(decoding: text, as: UTF8.self).debugDescription)")
                    decoded += 1
                case .failure:
                    #expect(onePass == nil, "\(String(decoding: text, as: UTF8.self).debugDescription)")
                    declined += 1
                }
                // Through the public reader: a string exactly when the step-by-step reader reads one, and the value
                // parsing the same bytes gives.
                let viaString = JSONParser.string(in: buffer, at: 0)
                #expect((viaString == nil) == ((try? stepByStep.get()) == nil))
                if let (string, end) = viaString {
                    #expect((try? JSONParser.parse(UnsafeBufferPointer(rebasing: buffer[0..<end])))?.stringValue == string)
                }
            }
        }
        // Negative control: both outcomes are exercised many times.
        #expect(decoded > 2_000 && declined > 2_000)
    }

    @Test("isValidUTF8 agrees with String(validating:) on random and edge byte strings")
    func validation() {
        var generator = SplitMix(seed: 7)
        var valid = 0
        var invalid = 0
        let edges: [UInt8] = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC,
                              0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF, 0x41]
        for round in 0..<200_000 {
            let length = Int(generator.next() % 6)
            let bytes = (0..<length).map { _ in
                round % 2 == 0 ? edges[Int(generator.next() % UInt64(edges.count))] : UInt8(truncatingIfNeeded: generator.next())
            }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            let found = bytes.withUnsafeBufferPointer { JSONParser.isValidUTF8($0) }
            #expect(found == expected, "\(bytes)")
            if expected { valid += 1 } else { invalid += 1 }
        }
        // Every scalar's encoding is valid; a few known-bad forms are not (negative control).
        for value in stride(from: 0, through: 0x10FFFF, by: 97) {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let bytes = Array(String(Character(scalar)).utf8)
            #expect(bytes.withUnsafeBufferPointer { JSONParser.isValidUTF8($0) })
        }
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE0, 0x80, 0x80], [0xF0, 0x80, 0x80, 0x80]] {
            #expect(!bad.withUnsafeBufferPointer { JSONParser.isValidUTF8($0) })
        }
        #expect(valid > 20_000 && invalid > 20_000)
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("JSON string scan, eight bytes at a time")
struct JSONWordScanTests {
    @Test("needsLook is true exactly when one of the eight bytes is a quote, a backslash, below 0x20 or above 0x7F")
    func exact() {
        var generator = SplitMix(seed: 3)
        var flagged = 0
        let interesting: [UInt8] = [0x00, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xFF, 0x41, 0x61]
        for round in 0..<300_000 {
            var bytes = [UInt8](repeating: 0, count: 8)
            for index in 0..<8 {
                bytes[index] = round % 3 == 0
                    ? UInt8(truncatingIfNeeded: generator.next())
                    : (generator.next() % 4 == 0 ? interesting[Int(generator.next() % UInt64(interesting.count))] : 0x61)
            }
            let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            let expected = bytes.contains { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 || $0 >= 0x80 }
            #expect(JSONParser.needsLook(word) == expected, "\(bytes)")
            if expected { flagged += 1 }
        }
        // Control: both answers occur often.
        #expect(flagged > 50_000 && flagged < 250_000)
    }

    @Test("long strings with a special byte at every offset are skipped and checked as parse reads them")
    func longStrings() {
        var accepted = 0
        for special: [UInt8] in [[0x5C, 0x6E], [0xC3, 0xA9], [0x01], [0xC3], [0x22]] {
            for offset in 0..<24 {
                var body = [UInt8](repeating: UInt8(ascii: "a"), count: 30)
                body.insert(contentsOf: special, at: offset)
                let text = [UInt8(ascii: "[")] + [UInt8(ascii: "\"")] + body + Array("\",1]".utf8)
                let parsed = (try? JSONParser.parse(text)) != nil
                #expect(text.withUnsafeBufferPointer { JSONParser.isValid($0) } == parsed)
                if parsed { accepted += 1 }
            }
        }
        #expect(accepted == 48)
    }
}
