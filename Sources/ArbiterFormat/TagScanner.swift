// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterRegex
import Foundation

/// One tag-like token in a text, such as `<think>`, `</answer>` or a malformed `< Think >`.
struct TagToken: Equatable {
    /// The tag name, lowercased.
    var name: String
    /// Whether it is a closing tag.
    var closing: Bool
    /// Whether it is written exactly `<name>` or `</name>` (no spaces, no other case).
    var exact: Bool
    /// Byte range in the scanned text.
    var range: Range<Int>
}

/// Finds the tags of a set of names in a text, tolerating case and spaces so that a malformed variant is seen
/// (and can be refused) rather than treated as prose. Linear: one PCRE2 scan.
struct TagScanner {
    let names: [String]
    private let pattern: CompiledPattern

    /// The most tags one scanner looks for, and the longest tag name.
    static let maximumTags = 32
    static let maximumNameLength = 64

    /// A scanner for tag names made of letters, digits, `_`, `-`, `:` and `.`, compiled in `patterns`.
    init(names: [String], patterns: PatternCache) throws {
        guard names.count <= Self.maximumTags else {
            throw ArbiterError(.invalidOptions, "at most \(Self.maximumTags) tags may be given, got \(names.count)")
        }
        for name in names {
            guard !name.isEmpty, name.utf8.count <= Self.maximumNameLength, name.utf8.allSatisfy({ Self.isNameByte($0) })
            else {
                throw ArbiterError(
                    .invalidOptions,
                    "tag name '\(name.prefix(80))' must be 1 to \(Self.maximumNameLength) letters, digits, '_', '-', ':' or '.'")
            }
        }
        self.names = names
        let alternatives = names.map { "\\Q\($0)\\E" }.joined(separator: "|")
        do {
            pattern = try patterns.pattern("<\\s*(/?)\\s*(\(alternatives))\\s*>", options: .caseless)
        } catch {
            throw ArbiterError(.invalidOptions, "tag names do not make a valid pattern: \(error.message)")
        }
    }

    /// Every tag token in order; `nil` when the scan hit its step budget.
    func tokens(in text: String) -> [TagToken]? {
        let (matches, stopped) = pattern.allMatches(in: text)
        if stopped != nil { return nil }
        let utf8 = Array(text.utf8)
        return matches.compactMap { match in
            // The name group always takes part in a match; a match without it is skipped rather than trapped on.
            guard match.groups.count > 1, let nameRange = match.groups[1] else { return nil }
            let closing = !(match.groups[0]?.isEmpty ?? true)
            let raw = String(decoding: utf8[nameRange], as: UTF8.self)
            let name = raw.lowercased()
            let whole = String(decoding: utf8[match.range], as: UTF8.self)
            let exactText = closing ? "</\(raw)>" : "<\(raw)>"
            let declared = names.first { $0.lowercased() == name } ?? name
            return TagToken(name: declared, closing: closing, exact: whole == exactText && raw == declared, range: match.range)
        }
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: ":"),
            UInt8(ascii: "."):
            true
        default: false
        }
    }
}

/// Text helpers shared by the format verifiers.
enum FormatText {
    /// The text with CRLF and lone CR line endings turned into LF.
    static func normalizingLineEndings(_ text: String) -> String {
        let hasCR = text.utf8.withContiguousStorageIfAvailable { $0.isEmpty ? false : memchr($0.baseAddress!, 0x0D, $0.count) != nil }
        guard hasCR ?? text.utf8.contains(0x0D) else { return text }
        return text.replacingCRLF()
    }

    /// The number of Unicode scalars in UTF-8 bytes (what Python's `len` counts).
    static func scalarCount(_ bytes: ArraySlice<UInt8>) -> Int {
        bytes.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }

    /// Whether a byte slice holds nothing between or around blocks: only whitespace and zero-width characters
    /// (zero-width spaces, joiners, soft hyphens and other format or default-ignorable characters). What may stand
    /// outside a block; a block's own content must pass ``isEmptyContent(_:)``.
    static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool {
        if bytes.allSatisfy({ $0 == 0x20 || (0x09...0x0D).contains($0) }) { return true }
        return String(decoding: bytes, as: UTF8.self).unicodeScalars.allSatisfy(isOutsideBlank)
    }

    /// Whitespace, format characters (Cf) and default-ignorable code points.
    private static func isOutsideBlank(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        return properties.isWhitespace || properties.isDefaultIgnorableCodePoint || properties.generalCategory == .format
    }

    /// Whether a block's content shows nothing a reader can see: only scalars ``InvisibleScalars/isInvisible(_:)``
    /// (whitespace, default-ignorable and format characters, controls such as NUL, U+2800 BRAILLE PATTERN BLANK), so
    /// that they cannot pass for reasoning or an answer.
    static func isEmptyContent(_ bytes: ArraySlice<UInt8>) -> Bool {
        InvisibleScalars.isBlank(utf8: bytes)
    }

    /// The text of a byte slice.
    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    fileprivate func replacingCRLF() -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var previousCR = false
        for byte in utf8 {
            if byte == 0x0D {
                bytes.append(0x0A)
                previousCR = true
                continue
            }
            if byte == 0x0A, previousCR {
                previousCR = false
                continue
            }
            previousCR = false
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
