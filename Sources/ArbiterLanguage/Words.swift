// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// One word of a text: a run of letters (and their combining marks) of one script.
struct Word {
    /// Its script.
    var script: Script
    /// Where its normalised scalars lie in ``Words/scalars``.
    var range: Range<Int>
    /// How many units it counts for: 1 for a word of an alphabet, its letters for a script written without spaces.
    var units: Int
    /// The sentence it belongs to (sentences end at `.`, `!`, `?`, `;`, their CJK forms and line breaks).
    var sentence: Int
    /// The clause it belongs to: sentences are further cut at commas and colons (their CJK forms too).
    var clause: Int = 0
}

/// A text split into words, with every scalar lowercased and folded the way langdetect's profiles were counted
/// (``scalars``), and as written (``originals``, for ``ByteNgramModel``, which reads case).
///
/// Anything that is not a letter or a combining mark (digits, punctuation, symbols, spaces) separates words, and
/// so does a change of script (`API接口` is two words).
struct Words {
    private(set) var scalars: [UInt32] = []
    /// The same scalars as written: `originals[i]` is `scalars[i]` before folding.
    private(set) var originals: [UInt32] = []
    private(set) var words: [Word] = []

    init(_ text: String) {
        scalars.reserveCapacity(text.utf8.count)
        originals.reserveCapacity(text.utf8.count)
        var current: Word?
        var sentence = 0
        var clause = 0
        for scalar in text.unicodeScalars {
            if let script = Script.of(scalar) {
                if let word = current, word.script != script { close(word) ; current = nil }
                if current == nil {
                    current = Word(
                        script: script, range: scalars.count..<scalars.count, units: 0, sentence: sentence, clause: clause)
                }
                scalars.append(Self.folded(scalar))
                originals.append(scalar.value)
                current!.range = current!.range.lowerBound..<scalars.count
                if script.countsCharacters { current!.units += 1 }
            } else if current != nil, Self.isIgnorable(scalar) {
                // Zero-width and soft-hyphen characters inside a word do not split it (`р\u{200B}у\u{200B}с` is one
                // word, not three one-letter ones that count for nothing).
                continue
            } else if current != nil, Self.isMark(scalar) {
                scalars.append(scalar.value)
                originals.append(scalar.value)
                current!.range = current!.range.lowerBound..<scalars.count
            } else {
                if let word = current { close(word) ; current = nil }
                if Self.endsSentence(scalar) {
                    sentence += 1
                    clause += 1
                } else if Self.endsClause(scalar) {
                    clause += 1
                }
            }
        }
        if let word = current { close(word) }
    }

    /// The UTF-8 of some words as written, each with a space before it and the last with one after, as they would
    /// stand in running text.
    func utf8(of indices: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(indices.reduce(1) { $0 + 2 * words[$1].range.count + 1 })
        for index in indices {
            bytes.append(0x20)
            for position in words[index].range {
                let value = originals[position]
                switch value {
                case ..<0x80:
                    bytes.append(UInt8(value))
                case ..<0x800:
                    bytes.append(UInt8(0xC0 | value >> 6))
                    bytes.append(UInt8(0x80 | value & 0x3F))
                case ..<0x10000:
                    bytes.append(UInt8(0xE0 | value >> 12))
                    bytes.append(UInt8(0x80 | value >> 6 & 0x3F))
                    bytes.append(UInt8(0x80 | value & 0x3F))
                default:
                    bytes.append(UInt8(0xF0 | value >> 18))
                    bytes.append(UInt8(0x80 | value >> 12 & 0x3F))
                    bytes.append(UInt8(0x80 | value >> 6 & 0x3F))
                    bytes.append(UInt8(0x80 | value & 0x3F))
                }
            }
        }
        bytes.append(0x20)
        return bytes
    }

    private mutating func close(_ word: Word) {
        var word = word
        if !word.script.countsCharacters { word.units = 1 }
        words.append(word)
    }

    /// The scalar lowercased, with the foldings langdetect applied before counting: Vietnamese letters with two
    /// diacritics (U+1EA0…U+1EFF) collapse to one, Romanian ș/ț with comma become the cedilla forms, and Persian
    /// yeh becomes Arabic yeh.
    @inline(__always)
    static func folded(_ scalar: Unicode.Scalar) -> UInt32 {
        let value = scalar.value
        if value < 0x80 { return value | 0x20 }
        // Caseless letters and the regular capitals of the commonest blocks, without a Unicode property lookup.
        switch value {
        case 0x0430...0x045F, 0x0621...0x064A, 0x0905...0x0939, 0x05D0...0x05EA, 0x3041...0x30FA, 0x3400...0x9FEF,
            0xAC00...0xD7A3, 0x00DF...0x00FF, 0x03AC...0x03CE:
            return value
        case 0x0410...0x042F, 0x00C0...0x00D6, 0x00D8...0x00DE, 0x0391...0x03A1, 0x03A3...0x03AB: return value + 0x20
        case 0x0400...0x040F: return value + 0x50
        default: break
        }
        var lower = value
        if scalar.properties.changesWhenLowercased {
            let mapping = scalar.properties.lowercaseMapping.unicodeScalars
            if mapping.count == 1, let first = mapping.first { lower = first.value }
        }
        switch lower {
        case 0x1EA0...0x1EFF: return 0x1EC3
        case 0x0219: return 0x015F
        case 0x021B: return 0x0163
        case 0x06CC: return 0x064A
        default: return lower
        }
    }

    /// Invisible characters that may sit inside a word: zero-width space, non-joiner and joiner, word joiner,
    /// byte-order mark, soft hyphen.
    static func isIgnorable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD: true
        default: false
        }
    }

    static func isMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: true
        default: false
        }
    }

    static func endsClause(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x2C, 0x3A, 0xFF0C, 0x3001, 0xFF1A, 0x060C: true
        default: false
        }
    }

    static func endsSentence(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x21, 0x2E, 0x3B, 0x3F, 0x3002, 0xFF01, 0xFF1F, 0xFF1B, 0x061F, 0x06D4, 0x0964, 0x0965: true
        default: false
        }
    }
}
