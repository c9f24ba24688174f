// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// The second language model: multinomial naive Bayes over byte 1- to 4-grams of a text's UTF-8, from langid.py's
/// model (`ByteModelData`, compiled into the binary by `scripts/build-byte-model.py`).
///
/// langid.py chose its 7,480 features by information gain across domains (government, software, encyclopedia,
/// news), so it holds the longer, telling n-grams (` des`, `ção`, ` het`) that langdetect's 1- to 3-gram
/// Wikipedia profiles cannot; ``LanguageIdentifier`` adds the two models' log-likelihoods. Unlike
/// ``LanguageModel`` it reads text as written, case included (German capitalises its nouns).
public struct ByteNgramModel: Sendable {
    /// The ISO 639-1 codes, in index order (the same as ``LanguageModel/codes``).
    public let languages: [String]
    /// Log priors, shifted so that the largest is 0.
    let priors: [Float]
    /// Every feature and every proper prefix of one, by key (``key(hex:)``): a feature's row, or ``prefixOnly``.
    private let index: NgramTable
    private static let prefixOnly = UInt32.max
    /// `weights[feature * languages.count + language]`: log P(feature | language), each feature's row shifted so
    /// that its largest is 0 (a shift shared by all languages changes no ranking or posterior).
    private let weights: [Float]

    /// The model shipped with the package, parsed once on first use.
    public static let shared: ByteNgramModel = {
        let parsed = ByteModelData.text.withUTF8Buffer { bytes in Result { try ByteNgramModel(bytes: bytes) } }
        switch parsed {
        case .success(let model):
            // Scores are added index by index to the character model's: the two must list the same languages.
            precondition(model.languages == LanguageModel.codes, "the byte language model's languages differ")
            return model
        case .failure(let error): preconditionFailure("the compiled-in byte language model is damaged: \(error)")
        }
    }()

    /// Parses a model from its text.
    /// - Parameter text: UTF-8 lines `B scale codes`, `P priors`, then `F hex-bytes weights` (see the converter).
    /// - Throws: `ArbiterError` `internal` on a malformed line.
    public init(text: String) throws {
        var text = text
        self = try text.withUTF8 { try ByteNgramModel(bytes: $0) }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) throws {
        var languages: [String] = []
        var scale: Float = 0
        var priors: [Float] = []
        var entries: [UInt64: UInt32] = [:]
        var weights: [Float] = []
        entries.reserveCapacity(8_000)
        var lineNumber = 0
        for line in bytes.split(separator: 0x0A) {
            lineNumber += 1
            let fields = line.split(separator: 0x09, omittingEmptySubsequences: false)
            let malformed = ArbiterError(.internal, "byte language model: malformed line \(lineNumber)")
            guard fields[0].count == 1 else { throw malformed }
            switch fields[0].first {
            case UInt8(ascii: "B"):
                guard fields.count == 3, languages.isEmpty, let value = Float(String(decoding: fields[1], as: UTF8.self)),
                    value > 0
                else { throw malformed }
                scale = value
                languages = fields[2].split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self) }
                weights.reserveCapacity(8_000 * languages.count)
            case UInt8(ascii: "P"):
                guard fields.count == 2, scale > 0, Self.append(fields[1], count: languages.count, scale: scale, to: &priors)
                else { throw malformed }
            case UInt8(ascii: "F"):
                guard fields.count == 3, scale > 0, let key = Self.key(hex: fields[1]), entries[key] == nil,
                    Self.append(fields[2], count: languages.count, scale: scale, to: &weights)
                else { throw malformed }
                entries[key] = UInt32(entries.count)
            default:
                throw malformed
            }
        }
        guard !languages.isEmpty, priors.count == languages.count, !entries.isEmpty else {
            throw ArbiterError(.internal, "byte language model: no languages, priors or features")
        }
        self.languages = languages
        self.priors = priors
        // Prefixes let a scan stop extending an n-gram as soon as no feature starts with it (one or two lookups per
        // byte instead of four).
        var table = entries
        for key in entries.keys {
            let length = key >> 32
            for prefixLength in stride(from: length - 1, through: 1, by: -1) {
                let prefix = prefixLength << 32 | (key & 0xFFFF_FFFF) >> (8 * (length - prefixLength))
                if table[prefix] == nil { table[prefix] = Self.prefixOnly }
            }
        }
        self.index = NgramTable(table)
        self.weights = weights
    }

    /// Adds each language's log-likelihood of a byte string (every occurrence of every feature, overlapping).
    /// - Parameters:
    ///   - bytes: UTF-8 text.
    ///   - scores: One score per language, added to.
    func accumulate(_ bytes: UnsafeBufferPointer<UInt8>, into scores: UnsafeMutablePointer<Float>) {
        let count = languages.count
        weights.withUnsafeBufferPointer { weights in
            let base = weights.baseAddress!
            for start in bytes.indices {
                var packed: UInt64 = 0
                for length in 1...min(4, bytes.count - start) {
                    packed = packed << 8 | UInt64(bytes[start + length - 1])
                    guard let feature = index[UInt64(length) << 32 | packed] else { break }
                    guard feature != Self.prefixOnly else { continue }
                    let row = base + Int(feature) * count
                    for language in 0..<count { scores[language] += row[language] }
                }
            }
        }
    }

    /// The table key of a feature: its bytes, big-endian, with its length above them.
    private static func key(hex: Slice<UnsafeBufferPointer<UInt8>>) -> UInt64? {
        guard (2...8).contains(hex.count), hex.count.isMultiple(of: 2) else { return nil }
        var packed: UInt64 = 0
        for digit in hex {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
            default: return nil
            }
            packed = packed << 4 | UInt64(value)
        }
        return UInt64(hex.count / 2) << 32 | packed
    }

    /// Appends one int16 per language, little-endian in base64, divided by the scale.
    private static func append(
        _ base64: Slice<UnsafeBufferPointer<UInt8>>, count: Int, scale: Float, to values: inout [Float]
    ) -> Bool {
        let first = values.count
        var buffer: UInt32 = 0
        var bits = 0
        for character in base64 {
            let sextet: UInt8
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): sextet = character - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): sextet = character - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sextet = character - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): sextet = 62
            case UInt8(ascii: "/"): sextet = 63
            case UInt8(ascii: "="): continue
            default: return false
            }
            buffer = buffer << 6 | UInt32(sextet)
            bits += 6
            if bits >= 16 {
                bits -= 16
                let little = UInt16(truncatingIfNeeded: buffer >> UInt32(bits))
                values.append(Float(Int16(bitPattern: little.byteSwapped)) / scale)
            }
        }
        guard values.count - first == count else {
            values.removeSubrange(first...)
            return false
        }
        return true
    }
}
