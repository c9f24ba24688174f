// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// The one rule for "a scalar a reader cannot see, or that carries no text", shared by the checks that must not pay
/// for blank-looking content: emptiness of a tag or block, words hidden by marks inside them, words joined by a
/// blank that is not a space.
///
/// Invisible: Unicode `White_Space`, `Default_Ignorable_Code_Point` (zero-width space and joiners, the combining
/// grapheme joiner U+034F, variation selectors, the Hangul fillers U+115F, U+1160, U+3164, U+FFA0, the soft hyphen,
/// invisible operators such as U+2065, tags, Khmer U+17B4/U+17B5, …), general categories `Cc` (controls: NUL,
/// U+0001–U+001F, DEL, U+0080–U+009F) and `Cf` (format characters), and U+2800 BRAILLE PATTERN BLANK, which renders
/// as a space.
///
/// ASCII is decided by its value alone (most text is ASCII: no property lookup there).
public enum InvisibleScalars {
    /// Whether a reader sees nothing of `scalar`, or only blank space.
    @inlinable
    public static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return value <= 0x20 || value == 0x7F }
        if value < 0xA0 || value == 0x2800 { return true }  // C1 controls (U+0085 is also White_Space)
        let properties = scalar.properties
        if properties.isWhitespace || properties.isDefaultIgnorableCodePoint { return true }
        switch properties.generalCategory {
        case .control, .format: return true
        default: return false
        }
    }

    /// Of the invisible scalars, those that separate words: `White_Space`, the ASCII information separators
    /// U+001C–U+001F (whitespace to Python's `str.split`), U+2800 and the spacing Hangul fillers U+3164 and U+FFA0.
    /// The others (zero-width characters, marks that show nothing, other controls) show no gap.
    @inlinable
    public static func isBlankSpace(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return value == 0x20 || (0x09...0x0D).contains(value) || (0x1C...0x1F).contains(value) }
        switch value {
        case 0x2800, 0x3164, 0xFFA0: return true
        default: return value >= 0x85 && scalar.properties.isWhitespace
        }
    }

    /// Whether UTF-8 text shows nothing: every scalar is invisible (true for no bytes at all). Decodes as it goes and
    /// stops at the first visible scalar (no copy of the text). Invalid UTF-8 counts as visible, as the U+FFFD a
    /// String would hold there is.
    public static func isBlank<Bytes: Collection>(utf8 bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if !isInvisible(Unicode.UTF8.decode(encoded)) { return false }
            case .error:
                return false
            case .emptyInput:
                return true
            }
        }
    }
}
