// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// Text as the reference implementation sees it: a sequence of Unicode scalars (Python's string indices), with the
/// string operations the constraints use (`split()`, `strip(chars)`, `lower()`, `isupper()`, `\w+` words …), written
/// on scalar arrays so that the checks agree with Python's definitions character for character.
typealias Scalars = [Unicode.Scalar]

/// ASCII punctuation, Python's `string.punctuation`.
let asciiPunctuation: Set<Unicode.Scalar> = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)
/// `string.punctuation` plus the space, the characters the IFBench checks strip from words.
let punctuationAndSpace = ScalarSet(asciiPunctuation.union([" "]))
/// ``asciiPunctuation`` for stripping.
let asciiPunctuationSet = ScalarSet(asciiPunctuation)

/// A small set of scalars tested without hashing: ASCII members as bits, others in a short list (the characters a
/// check strips or splits off, looked up once per scalar of a response).
struct ScalarSet: Sendable, ExpressibleByArrayLiteral {
    private var ascii: UInt128 = 0
    private var others: [Unicode.Scalar] = []

    init(_ scalars: some Sequence<Unicode.Scalar>) {
        for scalar in scalars {
            if scalar.value < 0x80 {
                ascii |= 1 << scalar.value
            } else if !others.contains(scalar) {
                others.append(scalar)
            }
        }
    }

    init(arrayLiteral elements: Unicode.Scalar...) { self.init(elements) }

    func contains(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x80 ? ascii >> scalar.value & 1 == 1 : others.contains(scalar)
    }
}

extension Unicode.Scalar {
    /// Python's `str.isspace()` for one character (Unicode White_Space plus the ASCII separators 0x1C…0x1F).
    var isPySpace: Bool {
        if value < 0x80 { return value == 0x20 || (0x09...0x0D).contains(value) || (0x1C...0x1F).contains(value) }
        return properties.isWhitespace
    }

    /// A character of Python's `\w` in a Unicode pattern: a letter, a number or the underscore.
    var isPyWord: Bool {
        if value < 0x80 {
            return (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
                || value == 0x5F
        }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }

    /// A character of `\w` in the `regex` module that NLTK's `RegexpTokenizer` uses (IFEval's word count): Unicode
    /// Alphabetic, marks, decimal digits, connector punctuation and the joiners — unlike `re`, combining accents
    /// belong to their word and `²` or `½` do not.
    var isRegexWord: Bool {
        if value < 0x80 {
            return (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
                || value == 0x5F
        }
        if properties.isAlphabetic || value == 0x200C || value == 0x200D { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// Python's `str.isdigit()` for one character (decimal digits and other digits such as superscripts).
    var isPyDigit: Bool {
        if value < 0x80 { return (0x30...0x39).contains(value) }
        return properties.numericType == .decimal || properties.numericType == .digit
    }

    /// An uppercase or titlecase letter (a cased character that `isupper` accepts).
    var isPyUpper: Bool {
        if value < 0x80 { return (0x41...0x5A).contains(value) }
        return properties.isUppercase
    }

    /// A lowercase letter.
    var isPyLower: Bool {
        if value < 0x80 { return (0x61...0x7A).contains(value) }
        return properties.isLowercase
    }

    /// A titlecase letter (cased, neither upper nor lower in Python's sense).
    var isTitlecase: Bool { value >= 0x80 && properties.generalCategory == .titlecaseLetter }

    /// A character of Python's `string.punctuation` (``asciiPunctuation``), tested without hashing.
    var isASCIIPunctuation: Bool {
        // Bit n of the mask for character 0x20 + n: !"#$%&'()*+,-./ :;<=>?@ [\]^_` {|}~ (not space, digits, letters).
        value >= 0x21 && value < 0x7F && (0x7800_0001_F800_0001_FC00_FFFE as UInt128) >> (value - 0x20) & 1 == 1
    }

    /// An ASCII letter.
    var isASCIILetter: Bool { (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value) }
}

enum Py {
    /// `str.split()`: runs of whitespace separate, none at the ends.
    static func split(_ text: some Collection<Unicode.Scalar>) -> [Scalars] {
        if let words = text.withContiguousStorageIfAvailable(splitContiguous) { return words }
        var words: [Scalars] = []
        var current: Scalars = []
        for scalar in text {
            if scalar.isPySpace {
                if !current.isEmpty {
                    words.append(current)
                    current.removeAll(keepingCapacity: true)
                }
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// `str.split()` over contiguous scalars: each word copied once, at its size (not grown scalar by scalar).
    private static func splitContiguous(_ text: UnsafeBufferPointer<Unicode.Scalar>) -> [Scalars] {
        var words: [Scalars] = []
        var index = 0
        let count = text.count
        while index < count {
            while index < count, text[index].isPySpace { index += 1 }
            guard index < count else { break }
            let start = index
            while index < count, !text[index].isPySpace { index += 1 }
            words.append(Array(UnsafeBufferPointer(rebasing: text[start..<index])))
        }
        return words
    }

    /// The number of words `str.split()` finds, without building them.
    static func splitCount(_ text: some Collection<Unicode.Scalar>) -> Int {
        var count = 0
        var inWord = false
        for scalar in text {
            if scalar.isPySpace {
                inWord = false
            } else if !inWord {
                inWord = true
                count += 1
            }
        }
        return count
    }

    /// `str.split(separator)` for a non-empty separator.
    static func split(_ text: Scalars, separator: Scalars) -> [Scalars] {
        var parts: [Scalars] = []
        var start = 0
        var index = 0
        let count = text.count
        let length = separator.count
        while index + length <= count {
            if text[index] == separator[0], text[index..<index + length].elementsEqual(separator) {
                parts.append(Array(text[start..<index]))
                index += length
                start = index
            } else {
                index += 1
            }
        }
        parts.append(Array(text[start..<count]))
        return parts
    }

    /// `str.strip()` (whitespace) or `str.strip(chars)`.
    static func strip(_ text: some BidirectionalCollection<Unicode.Scalar>, _ chars: ScalarSet? = nil) -> Scalars {
        let drop: (Unicode.Scalar) -> Bool = chars.map { set in { set.contains($0) } } ?? { $0.isPySpace }
        guard let first = text.firstIndex(where: { !drop($0) }) else { return [] }
        let last = text.lastIndex(where: { !drop($0) })!
        return Array(text[first...last])
    }

    /// `str.lstrip(chars)`.
    static func lstrip(_ text: some Collection<Unicode.Scalar>, _ chars: ScalarSet? = nil) -> Scalars {
        let drop: (Unicode.Scalar) -> Bool = chars.map { set in { set.contains($0) } } ?? { $0.isPySpace }
        return Array(text.drop(while: drop))
    }

    /// `str.rstrip(chars)`.
    static func rstrip(_ text: some BidirectionalCollection<Unicode.Scalar>, _ chars: ScalarSet? = nil) -> Scalars {
        let drop: (Unicode.Scalar) -> Bool = chars.map { set in { set.contains($0) } } ?? { $0.isPySpace }
        guard let last = text.lastIndex(where: { !drop($0) }) else { return [] }
        return Array(text[...last])
    }

    /// `str.lower()`.
    static func lower(_ text: Scalars) -> Scalars {
        if text.allSatisfy({ $0.value < 0x80 }) {
            return text.map { (0x41...0x5A).contains($0.value) ? Unicode.Scalar($0.value + 32)! : $0 }
        }
        var lowered: Scalars = []
        lowered.reserveCapacity(text.count)
        for scalar in text {
            if scalar.value < 0x80 {
                lowered.append((0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(scalar.value + 32)! : scalar)
            } else if scalar.properties.changesWhenLowercased {
                lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                lowered.append(scalar)
            }
        }
        return lowered
    }

    /// `str.lower()` of a string.
    static func lower(_ text: String) -> Scalars { lower(Array(text.unicodeScalars)) }

    /// `str.isupper()`: at least one cased character, and no lowercase or titlecase one.
    static func isUpper(_ text: some Collection<Unicode.Scalar>) -> Bool {
        var cased = false
        for scalar in text {
            if scalar.isPyLower || scalar.isTitlecase { return false }
            if scalar.isPyUpper { cased = true }
        }
        return cased
    }

    /// `str.islower()`: at least one cased character, and no uppercase or titlecase one.
    static func isLower(_ text: some Collection<Unicode.Scalar>) -> Bool {
        var cased = false
        for scalar in text {
            if scalar.isPyUpper || scalar.isTitlecase { return false }
            if scalar.isPyLower { cased = true }
        }
        return cased
    }

    /// The text without ASCII punctuation (`str.translate` with `string.punctuation` deleted).
    static func removingPunctuation(_ text: some Collection<Unicode.Scalar>) -> Scalars {
        text.filter { !$0.isASCIIPunctuation }
    }

    /// The number of `\w+` runs (IFEval's word count: NLTK's `RegexpTokenizer(r"\w+")`, whose `\w` is the
    /// `regex` module's).
    static func wordCount(_ text: some Collection<Unicode.Scalar>) -> Int {
        var count = 0
        var inWord = false
        for scalar in text {
            if scalar.isRegexWord {
                if !inWord { count += 1 }
                inWord = true
            } else {
                inWord = false
            }
        }
        return count
    }

    /// The `\w+` runs.
    static func words(_ text: some Collection<Unicode.Scalar>) -> [Scalars] {
        var words: [Scalars] = []
        var current: Scalars = []
        for scalar in text {
            if scalar.isRegexWord {
                current.append(scalar)
            } else if !current.isEmpty {
                words.append(current)
                current.removeAll(keepingCapacity: true)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Non-overlapping occurrences of a non-empty needle (`str.count`).
    static func count(_ needle: Scalars, in text: Scalars) -> Int {
        guard !needle.isEmpty else { return text.count + 1 }
        var count = 0
        var index = 0
        let length = needle.count
        let first = needle[0]
        while index + length <= text.count {
            if text[index] == first, text[index..<index + length].elementsEqual(needle) {
                count += 1
                index += length
            } else {
                index += 1
            }
        }
        return count
    }

    /// The first index of a needle, or `nil` (`str.find`).
    static func find(_ needle: Scalars, in text: Scalars, from start: Int = 0) -> Int? {
        guard !needle.isEmpty else { return start <= text.count ? start : nil }
        var index = start
        let length = needle.count
        while index + length <= text.count {
            if text[index] == needle[0], text[index..<index + length].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// `needle in text`.
    static func contains(_ needle: Scalars, in text: Scalars) -> Bool { find(needle, in: text) != nil }

    /// `text.startswith(prefix)`.
    static func hasPrefix(_ text: Scalars, _ prefix: Scalars) -> Bool {
        text.count >= prefix.count && text[0..<prefix.count].elementsEqual(prefix)
    }

    /// `text.endswith(suffix)`.
    static func hasSuffix(_ text: Scalars, _ suffix: Scalars) -> Bool {
        text.count >= suffix.count && text[(text.count - suffix.count)...].elementsEqual(suffix)
    }

    /// Occurrences of a literal keyword, case-insensitively, as `re.findall(keyword, text, re.IGNORECASE)` counts
    /// them for a keyword without pattern characters.
    static func caselessCount(_ keyword: String, in lowered: Scalars) -> Int {
        count(lower(keyword), in: lowered)
    }

    /// A string from scalars.
    static func string(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        // Contiguous scalars (an array or a slice of one, what the checks hold) are encoded straight into the string's
        // own storage, measured first: one allocation instead of a byte array and a copy of it.
        if let made = scalars.withContiguousStorageIfAvailable({ Self.string(contiguous: $0) }) { return made }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.underestimatedCount)
        for scalar in scalars {
            if scalar.value < 0x80 {
                bytes.append(UInt8(scalar.value))
            } else {
                UTF8.encode(scalar) { bytes.append($0) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func string(contiguous scalars: UnsafeBufferPointer<Unicode.Scalar>) -> String {
        var length = 0
        for scalar in scalars {
            let value = scalar.value
            length += value < 0x80 ? 1 : value < 0x800 ? 2 : value < 0x10000 ? 3 : 4
        }
        guard length > 0 else { return "" }
        return String(unsafeUninitializedCapacity: length) { out in
            var at = 0
            for scalar in scalars {
                let value = scalar.value
                if value < 0x80 {
                    out[at] = UInt8(truncatingIfNeeded: value)
                    at += 1
                } else if value < 0x800 {
                    out[at] = UInt8(truncatingIfNeeded: 0xC0 | value >> 6)
                    out[at + 1] = UInt8(truncatingIfNeeded: 0x80 | value & 0x3F)
                    at += 2
                } else if value < 0x10000 {
                    out[at] = UInt8(truncatingIfNeeded: 0xE0 | value >> 12)
                    out[at + 1] = UInt8(truncatingIfNeeded: 0x80 | value >> 6 & 0x3F)
                    out[at + 2] = UInt8(truncatingIfNeeded: 0x80 | value & 0x3F)
                    at += 3
                } else {
                    out[at] = UInt8(truncatingIfNeeded: 0xF0 | value >> 18)
                    out[at + 1] = UInt8(truncatingIfNeeded: 0x80 | value >> 12 & 0x3F)
                    out[at + 2] = UInt8(truncatingIfNeeded: 0x80 | value >> 6 & 0x3F)
                    out[at + 3] = UInt8(truncatingIfNeeded: 0x80 | value & 0x3F)
                    at += 4
                }
            }
            return at
        }
    }

    /// The scalars of a string in one pass over its UTF-8 (`Array(string.unicodeScalars)` counts them first, a second
    /// pass): a string has at most as many scalars as UTF-8 bytes, and a Swift string's UTF-8 is always valid, so its
    /// sequences are read by their lead byte without checks.
    static func scalars(_ string: String) -> Scalars {
        var string = string
        return string.withUTF8 { scalars(utf8: $0) }
    }

    /// The scalars of valid UTF-8 (a Swift string's, or a piece of it cut at scalar boundaries), read as
    /// ``scalars(_:)`` reads a string's.
    static func scalars(utf8: UnsafeBufferPointer<UInt8>) -> Scalars {
        Scalars(unsafeUninitializedCapacity: utf8.count) { buffer, initialized in
            // ASCII text (most responses): checked, then widened byte by byte, without branches per byte.
            if !utf8.contains(where: { $0 >= 0x80 }) {
                for offset in 0..<utf8.count { buffer[offset] = Unicode.Scalar(utf8[offset]) }
                initialized = utf8.count
                return
            }
            var index = 0
            var at = 0
            let count = utf8.count
            while at < count {
                let lead = UInt32(utf8[at])
                let value: UInt32
                if lead < 0x80 {
                    value = lead
                    at += 1
                } else if lead < 0xE0 {
                    value = (lead & 0x1F) << 6 | UInt32(utf8[at + 1] & 0x3F)
                    at += 2
                } else if lead < 0xF0 {
                    value = (lead & 0x0F) << 12 | UInt32(utf8[at + 1] & 0x3F) << 6 | UInt32(utf8[at + 2] & 0x3F)
                    at += 3
                } else {
                    value = (lead & 0x07) << 18 | UInt32(utf8[at + 1] & 0x3F) << 12
                        | UInt32(utf8[at + 2] & 0x3F) << 6 | UInt32(utf8[at + 3] & 0x3F)
                    at += 4
                }
                buffer[index] = Unicode.Scalar(value) ?? "\u{FFFD}"
                index += 1
            }
            initialized = index
        }
    }
}
