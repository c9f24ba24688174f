// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// A writing system, told from a letter's code point (the Unicode blocks each script is encoded in).
public enum Script: String, Sendable, CaseIterable {
    // Each case is the script of that name; its raw value is what verdicts report.
    case latin, greek, cyrillic, armenian, hebrew, arabic, devanagari, bengali, gurmukhi, gujarati, oriya, tamil
    case telugu, kannada, malayalam, sinhala, thai, lao, tibetan, myanmar, georgian, hangul, ethiopic, khmer
    case hiragana, katakana, han
    /// A letter of any script not listed above (Syriac, Thaana, Cherokee, mathematical alphanumerics, …): no
    /// language of the model, so its words count as `und`, never for the target.
    case other

    /// Hashes the case, not its name: the default for an enum with raw values hashes the raw string, and scripts
    /// are hashed once per word.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(ordinal)
    }

    public static func == (lhs: Script, rhs: Script) -> Bool {
        lhs.ordinal == rhs.ordinal
    }

    /// The case's position in the declaration (its index in `allCases`).
    var ordinal: UInt8 { unsafeBitCast(self, to: UInt8.self) }

    /// Whether the script is written without spaces between words, so that Arbiter counts its characters.
    public var countsCharacters: Bool {
        switch self {
        case .han, .hiragana, .katakana, .thai, .lao, .khmer, .myanmar, .tibetan: true
        default: false
        }
    }

    /// Whether the script is Han or Kana (the scripts of Chinese and Japanese).
    public var isSinoJapanese: Bool { self == .han || self == .hiragana || self == .katakana }

    /// How much one letter of the script weighs when deciding which script dominates a text: a Han character
    /// carries about as much as a short word of an alphabet, a Kana or a Hangul syllable as two letters.
    var letterWeight: Int {
        switch self {
        case .han: 3
        case .hiragana, .katakana, .hangul: 2
        default: 1
        }
    }

    /// The script of a letter, or `nil` for a scalar that belongs to none (digits, punctuation, symbols, marks).
    /// - Parameter scalar: A Unicode scalar.
    /// - Returns: Its script when it is a letter.
    public static func of(_ scalar: Unicode.Scalar) -> Script? {
        let value = scalar.value
        if value < 0x80 {
            return (value | 0x20) >= 0x61 && (value | 0x20) <= 0x7A ? .latin : nil
        }
        // Whole runs of letters in the commonest blocks, without a Unicode property lookup.
        switch value {
        case 0x00C0...0x00D6, 0x00D8...0x00F6, 0x00F8...0x017F: return .latin
        case 0x0400...0x0481, 0x048A...0x04FF: return .cyrillic
        case 0x4E00...0x9FEF, 0x3400...0x4DB5: return .han
        case 0xAC00...0xD7A3: return .hangul
        case 0x3041...0x3096: return .hiragana
        case 0x30A1...0x30FA: return .katakana
        case 0x0621...0x063A, 0x0641...0x064A: return .arabic
        case 0x0391...0x03A1, 0x03A3...0x03A9, 0x03B1...0x03C9: return .greek
        case 0x05D0...0x05EA: return .hebrew
        case 0x0905...0x0939: return .devanagari
        default: break
        }
        guard scalar.properties.isAlphabetic else { return nil }
        return ranges.first { $0.range.contains(value) }?.script ?? .other
    }

    // Ordered by how often they appear in model output.
    private static let ranges: [(range: ClosedRange<UInt32>, script: Script)] = [
        (0x00C0...0x024F, .latin), (0x4E00...0x9FFF, .han), (0x3040...0x309F, .hiragana), (0x30A0...0x30FF, .katakana),
        (0xAC00...0xD7AF, .hangul), (0x0400...0x052F, .cyrillic), (0x0600...0x06FF, .arabic), (0x0370...0x03FF, .greek),
        (0x1E00...0x1EFF, .latin), (0x0900...0x097F, .devanagari), (0x0E00...0x0E7F, .thai), (0x0590...0x05FF, .hebrew),
        (0x0250...0x02AF, .latin), (0x0980...0x09FF, .bengali), (0x0A00...0x0A7F, .gurmukhi), (0x0A80...0x0AFF, .gujarati),
        (0x0B00...0x0B7F, .oriya), (0x0B80...0x0BFF, .tamil), (0x0C00...0x0C7F, .telugu), (0x0C80...0x0CFF, .kannada),
        (0x0D00...0x0D7F, .malayalam), (0x0D80...0x0DFF, .sinhala), (0x0E80...0x0EFF, .lao), (0x0F00...0x0FFF, .tibetan),
        (0x1000...0x109F, .myanmar), (0x10A0...0x10FF, .georgian), (0x1100...0x11FF, .hangul), (0x1200...0x137F, .ethiopic),
        (0x1780...0x17FF, .khmer), (0x1F00...0x1FFF, .greek), (0x0530...0x058F, .armenian), (0x0750...0x077F, .arabic),
        (0x08A0...0x08FF, .arabic), (0x2C60...0x2C7F, .latin), (0xA720...0xA7FF, .latin), (0xAB30...0xAB6F, .latin),
        (0x1C80...0x1C8F, .cyrillic), (0x2DE0...0x2DFF, .cyrillic), (0xA640...0xA69F, .cyrillic),
        (0xA8E0...0xA8FF, .devanagari), (0x2E80...0x2FDF, .han), (0x3005...0x3007, .han), (0x3021...0x3029, .han),
        (0x3038...0x303B, .han), (0x3100...0x312F, .han), (0x3130...0x318F, .hangul), (0x31F0...0x31FF, .katakana),
        (0x3400...0x4DBF, .han), (0xA960...0xA97F, .hangul), (0xD7B0...0xD7FF, .hangul), (0xF900...0xFAFF, .han),
        (0xFB1D...0xFB4F, .hebrew), (0xFB50...0xFDFF, .arabic), (0xFE70...0xFEFF, .arabic), (0xFF21...0xFF5A, .latin),
        (0xFF66...0xFF9F, .katakana), (0xFFA0...0xFFDC, .hangul), (0x20000...0x3FFFF, .han),
    ]
}
