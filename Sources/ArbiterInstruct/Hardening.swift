// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// The `hardened` option: the response as a reader sees it, so that characters the reference implementations take
/// literally cannot buy a reward. Off by default (the default agrees with the reference); each step closes a trick
/// the reference misses:
///
/// 1. **Invisible characters are dropped**: every scalar ``InvisibleScalars/isInvisible(_:)`` but whitespace —
///    format characters (Unicode category Cf: zero-width space and joiners, the word joiner, the byte-order mark,
///    the soft hyphen, bidirectional controls, tags), the other default-ignorable code points (the combining
///    grapheme joiner U+034F, variation selectors, Khmer U+17B4/U+17B5, U+2065, the Hangul fillers U+115F, U+1160,
///    U+3164, U+FFA0), controls (NUL, U+0001–U+001B but tab and line ends, DEL, U+0080–U+009F; U+001C–U+001F are
///    Python's whitespace and stay, as whitespace does) and U+2800. A
///    zero-width space splits a word for `\w+` counts (`one\u{200B}two` is two words to the reference) and hides a
///    forbidden word (`b\u{200B}ad`), as does a combining grapheme joiner (`b\u{34F}ad`).
/// 2. **Compatibility forms are folded** (NFKC): fullwidth letters and punctuation (`ｂａｄ`, `，`), mathematical
///    alphanumerics (`𝐛𝐚𝐝`), ligatures, circled and other styled letters read as the plain ones.
/// 3. **Look-alike letters in mixed-script words are folded**: in a word that holds a Latin letter, Cyrillic and
///    Greek letters that look like Latin ones (`а е о р с у х і ѕ ј`, `Α Β Ε Η Ι Κ Μ Ν Ο Ρ Τ Χ`, …) become those
///    Latin letters (`bаd` with a Cyrillic `а` is `bad`). A word without Latin letters (Russian, Greek) is left as
///    it is, so the language of real Cyrillic or Greek text does not change.
/// 4. **Comma look-alikes are commas**: the ideographic comma `、`, the Arabic `،`, the single low quotation mark
///    `‚` and the other scripts' commas (after NFKC the fullwidth `，` and the small `﹐` are already `,`), so
///    `punctuation:no_comma` cannot be passed with a comma drawn from another block.
enum Hardening {
    /// What normalising changed, for the verdict's details.
    struct Changes: Sendable, Equatable {
        var invisible = 0
        var compatibility = 0
        var lookAlikes = 0
        var commas = 0

        var isEmpty: Bool { invisible == 0 && compatibility == 0 && lookAlikes == 0 && commas == 0 }
    }

    /// The response normalised, and what changed.
    static func normalise(_ scalars: Scalars) -> (Scalars, Changes) {
        var changes = Changes()
        // Plain ASCII text (no control other than whitespace, no DEL) has nothing to normalise.
        guard scalars.contains(where: { $0.value >= 0x7F || ($0.value < 0x20 && !$0.isPySpace) }) else {
            return (scalars, changes)
        }
        // 1. Invisible characters.
        var visible = scalars.filter { !isInvisible($0) }
        changes.invisible = scalars.count - visible.count
        // 2. NFKC, only where some scalar has a compatibility mapping that NFKC would apply (most text has none).
        let compatible = visible.filter { scalar in
            scalar.value >= 0xA0 && scalar.properties.changesWhenNFKCCaseFolded
                && String(scalar).precomposedStringWithCompatibilityMapping.unicodeScalars.elementsEqual([scalar]) == false
        }
        if !compatible.isEmpty {
            changes.compatibility = compatible.count
            visible = Array(Py.string(visible).precomposedStringWithCompatibilityMapping.unicodeScalars)
        }
        // 3. Look-alike letters inside words that also hold a Latin letter.
        var index = 0
        while index < visible.count {
            guard isWordScalar(visible[index]) else {
                index += 1
                continue
            }
            var end = index
            var latin = false
            var alike = false
            while end < visible.count, isWordScalar(visible[end]) {
                if visible[end].isASCIILetter { latin = true } else if lookAlikes[visible[end]] != nil { alike = true }
                end += 1
            }
            if latin && alike {
                for position in index..<end {
                    if let plain = lookAlikes[visible[position]] {
                        visible[position] = plain
                        changes.lookAlikes += 1
                    }
                }
            }
            index = end
        }
        // 4. Commas of other blocks.
        for position in visible.indices where commaLookAlikes.contains(visible[position]) {
            visible[position] = ","
            changes.commas += 1
        }
        return (visible, changes)
    }

    /// A scalar that shows nothing and is not whitespace: ``InvisibleScalars/isInvisible(_:)`` (default-ignorable
    /// and format characters, controls, U+2800) except Python's whitespace (`White_Space` and the ASCII separators
    /// U+001C–U+001F), which still separates words as it does for the reference (dropping U+001C would make
    /// `simple\u{1C}time` pass `format:no_whitespace`).
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value == 0x7F || (scalar.value < 0x20 && !scalar.isPySpace) }
        return InvisibleScalars.isInvisible(scalar) && !scalar.properties.isWhitespace
    }

    /// A letter or combining mark: what makes up a word for the look-alike rule.
    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.isASCIILetter }
        return scalar.properties.isAlphabetic || scalar.properties.generalCategory == .nonspacingMark
    }

    /// Cyrillic and Greek letters drawn like Latin ones (the common entries of Unicode's confusables for these
    /// scripts), and the Latin letter each looks like.
    static let lookAlikes: [Unicode.Scalar: Unicode.Scalar] = {
        let pairs: [(UInt32, Character)] = [
            // Cyrillic lowercase
            (0x0430, "a"), (0x0435, "e"), (0x043E, "o"), (0x0440, "p"), (0x0441, "c"), (0x0443, "y"), (0x0445, "x"),
            (0x0456, "i"), (0x0455, "s"), (0x0458, "j"), (0x0501, "d"), (0x04BB, "h"), (0x051B, "q"), (0x051D, "w"),
            (0x0475, "v"), (0x0457, "i"),
            // Cyrillic uppercase
            (0x0410, "A"), (0x0412, "B"), (0x0415, "E"), (0x041A, "K"), (0x041C, "M"), (0x041D, "H"), (0x041E, "O"),
            (0x0420, "P"), (0x0421, "C"), (0x0422, "T"), (0x0425, "X"), (0x0406, "I"), (0x0405, "S"), (0x0408, "J"),
            (0x04AE, "Y"), (0x0474, "V"), (0x051C, "W"), (0x050C, "G"),
            // Greek
            (0x0391, "A"), (0x0392, "B"), (0x0395, "E"), (0x0396, "Z"), (0x0397, "H"), (0x0399, "I"), (0x039A, "K"),
            (0x039C, "M"), (0x039D, "N"), (0x039F, "O"), (0x03A1, "P"), (0x03A4, "T"), (0x03A5, "Y"), (0x03A7, "X"),
            (0x03BF, "o"), (0x03B1, "a"), (0x03B9, "i"), (0x03BD, "v"), (0x03C5, "u"), (0x03F2, "c"), (0x03F3, "j"),
        ]
        var table: [Unicode.Scalar: Unicode.Scalar] = [:]
        for (code, latin) in pairs { table[Unicode.Scalar(code)!] = latin.unicodeScalars.first! }
        return table
    }()

    /// Commas of other scripts and blocks that NFKC leaves as they are.
    static let commaLookAlikes: Set<Unicode.Scalar> = Set(
        [0x3001, 0x060C, 0x201A, 0x055D, 0x1802, 0x1808, 0x2E41, 0xA4FE, 0x07F8, 0x1363, 0xA60D, 0xA6F5, 0x2E34]
            .compactMap(Unicode.Scalar.init(_:) as (UInt32) -> Unicode.Scalar?))
}
