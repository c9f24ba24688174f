// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// Character 1- to 3-gram statistics of 54 languages, from langdetect's Wikipedia profiles (`ModelData`, compiled
/// into the binary by `scripts/build-language-model.py`).
///
/// Each n-gram `g` of order `n` carries, for each language `l` whose profile has it, the weight
/// `log(1 + p(g|l) / ε)` where `p(g|l)` is its count over the language's `n`-gram total. Adding these weights over
/// a text's n-grams gives each language its naive-Bayes log-likelihood (with every probability floored at `ε`) up
/// to a constant shared by all languages, so that only the n-grams a language has need to be visited; the sum
/// starts from the language's log prior.
public struct LanguageModel: Sendable {
    /// The ISO 639-1 codes, in index order.
    public let languages: [String]
    /// The scripts each language is written in, by index.
    public let scripts: [Set<Script>]
    /// The indices of the languages written in each script, in index order (empty for a script none is written in).
    private let writers: [[Int]]
    /// Each language's log prior: the share of its Wikipedia corpus in all of them (the profiles' letter counts), so
    /// that a text equally likely in Dutch and in Afrikaans is read as Dutch.
    let priors: [Float]
    private let index: NgramTable
    private let postingLanguages: [UInt8]
    private let postingWeights: [Float]

    /// The probability floor of unseen n-grams (langdetect uses 5e-5 for its additive smoothing; a lower floor
    /// lets rare but telling n-grams weigh more).
    static let floor = 2e-5

    /// The languages of the shipped model, in index order, known without reading it (a test checks that they agree).
    public static let codes = [
        "af", "ar", "bg", "bn", "ca", "cs", "cy", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "gu", "he", "hi",
        "hr", "hu", "id", "it", "ja", "kn", "ko", "lt", "lv", "mk", "ml", "mr", "ne", "nl", "no", "pa", "pl", "pt", "ro",
        "ru", "sk", "sl", "so", "sq", "sv", "sw", "ta", "te", "th", "tl", "tr", "uk", "ur", "vi", "zh",
    ]

    /// The model shipped with the package, parsed once on first use (about 17 ms in a release build).
    public static let shared: LanguageModel = {
        let parsed = ModelData.text.withUTF8Buffer { bytes in Result { try LanguageModel(bytes: bytes) } }
        switch parsed {
        case .success(let model): return model
        case .failure(let error): preconditionFailure("the compiled-in language model is damaged: \(error)")
        }
    }()

    /// Parses a model from its text.
    /// - Parameter text: UTF-8 lines `L code t1 t2 t3` then `G ngram index:count,…`, tab-separated.
    /// - Throws: `ArbiterError` `internal` on a malformed line.
    public init(text: String) throws {
        var text = text
        self = try text.withUTF8 { try LanguageModel(bytes: $0) }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) throws {
        var parser = ModelParser()
        try parser.parse(bytes)
        guard !parser.languages.isEmpty else { throw ArbiterError(.internal, "language model: no language") }
        languages = parser.languages
        index = NgramTable(parser.index)
        postingLanguages = parser.postingLanguages
        postingWeights = parser.postingWeights
        scripts = Self.scripts(languages: parser.languages, unigramMass: parser.unigramMass)
        let scripts = scripts
        writers = Script.allCases.map { script in scripts.indices.filter { scripts[$0].contains(script) } }
        let corpus = parser.totals.map { $0[0] }.reduce(0, +)
        priors = parser.totals.map { Float(log($0[0] / corpus)) }
    }

    /// The index of a language code.
    /// - Parameter code: An ISO 639-1 code.
    /// - Returns: Its index, or `nil` when the model lacks it.
    public func index(of code: String) -> Int? {
        languages.firstIndex(of: code)
    }

    /// The languages written in a script.
    /// - Parameter script: A script.
    /// - Returns: Their indices, in index order.
    public func languages(writtenIn script: Script) -> [Int] {
        writers[Int(script.ordinal)]
    }

    /// Adds the weights of one n-gram to the scores of the languages that have it.
    /// - Parameters:
    ///   - key: The n-gram's key (see ``key(_:)``).
    ///   - scores: One score per language.
    @inline(__always)
    func accumulate(_ key: UInt64, into scores: UnsafeMutablePointer<Float>) {
        guard let entry = index[key] else { return }
        let start = Int(entry >> 8)
        for offset in start..<(start + Int(entry & 0xFF)) {
            scores[Int(postingLanguages[offset])] += postingWeights[offset]
        }
    }

    /// The key of an n-gram of up to three scalars (21 bits each; no scalar is zero, so lengths cannot collide).
    /// - Parameter scalars: The n-gram's scalar values.
    /// - Returns: The key.
    @inline(__always)
    static func key(_ a: UInt32, _ b: UInt32 = 0, _ c: UInt32 = 0) -> UInt64 {
        var key = UInt64(a)
        if b != 0 { key = key << 21 | UInt64(b) }
        if c != 0 { key = key << 21 | UInt64(c) }
        return key
    }

    /// A language's scripts: those holding at least a fifth of its letters. Chinese, Japanese and Korean, whose
    /// n-grams the converter drops, are set by hand.
    private static func scripts(languages: [String], unigramMass: [[Script: Double]]) -> [Set<Script>] {
        languages.enumerated().map { index, code in
            switch code {
            case "zh": return [.han]
            case "ja": return [.han, .hiragana, .katakana]
            case "ko": return [.hangul]
            default:
                let mass = unigramMass[index]
                let total = mass.values.reduce(0, +)
                return Set(mass.filter { total > 0 && $0.value / total >= 0.2 }.keys)
            }
        }
    }
}

/// Reads the model's lines into flat arrays, in one pass over the bytes without intermediate strings.
private struct ModelParser {
    var languages: [String] = []
    var totals: [[Double]] = []
    var index: [UInt64: UInt32] = [:]
    var postingLanguages: [UInt8] = []
    var postingWeights: [Float] = []
    var unigramMass: [[Script: Double]] = []

    mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        index.reserveCapacity(60_000)
        postingLanguages.reserveCapacity(160_000)
        postingWeights.reserveCapacity(160_000)
        var start = 0
        var lineNumber = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
            start = end + 1
            guard let first = line.first, first != UInt8(ascii: "#") else { continue }
            if first == UInt8(ascii: "L") {
                try language(line, line: lineNumber)
            } else if first == UInt8(ascii: "G"), line.count > 2, line[1] == 0x09 {
                try ngram(line, line: lineNumber)
            } else {
                throw Self.malformed(lineNumber)
            }
        }
    }

    private mutating func language(_ bytes: UnsafeBufferPointer<UInt8>, line: Int) throws {
        let fields = bytes.split(separator: 0x09, omittingEmptySubsequences: false)
        guard fields.count == 5, languages.count < 255 else { throw Self.malformed(line) }
        let counts = fields[2...].map { Double(Self.integer($0) ?? 0) }
        guard counts.allSatisfy({ $0 > 0 }) else { throw Self.malformed(line) }
        languages.append(String(decoding: fields[1], as: UTF8.self))
        totals.append(counts)
        unigramMass.append([:])
    }

    /// `G<tab>ngram<tab>index:count,index:count,…`
    private mutating func ngram(_ bytes: UnsafeBufferPointer<UInt8>, line: Int) throws {
        var cursor = 2
        var key: UInt64 = 0
        var order = 0
        var firstScalar: UInt32 = 0
        while cursor < bytes.count, bytes[cursor] != 0x09 {
            guard order < 3, let (character, length) = UTF8Scalar.decode({ bytes[$0] }, at: cursor, end: bytes.count) else {
                throw Self.malformed(line)
            }
            let scalar = character.value
            if order == 0 { firstScalar = scalar }
            key = key << 21 | UInt64(scalar)
            order += 1
            cursor += length
        }
        guard order > 0, cursor < bytes.count else { throw Self.malformed(line) }
        cursor += 1
        let unigramScript = order == 1 ? Unicode.Scalar(firstScalar).flatMap(Script.of) : nil
        let first = postingLanguages.count
        while cursor < bytes.count {
            let language = Self.number(bytes, &cursor, until: UInt8(ascii: ":"))
            let count = Self.number(bytes, &cursor, until: UInt8(ascii: ","))
            guard let language, let count, language < languages.count else { throw Self.malformed(line) }
            let probability = Double(count) / totals[language][order - 1]
            postingLanguages.append(UInt8(language))
            postingWeights.append(Float(log1p(probability / LanguageModel.floor)))
            if let unigramScript { unigramMass[language][unigramScript, default: 0] += probability }
        }
        let count = postingLanguages.count - first
        guard count > 0, count < 256, index[key] == nil else { throw Self.malformed(line) }
        index[key] = UInt32(first) << 8 | UInt32(count)
    }

    /// Reads digits up to a terminator (or the end), leaving the cursor after it.
    private static func number(_ bytes: UnsafeBufferPointer<UInt8>, _ cursor: inout Int, until terminator: UInt8) -> Int? {
        var value = 0
        var digits = 0
        while cursor < bytes.count, bytes[cursor] != terminator {
            let digit = bytes[cursor] &- 0x30
            guard digit < 10, digits < 18 else { return nil }
            value = value * 10 + Int(digit)
            digits += 1
            cursor += 1
        }
        cursor += 1
        return digits > 0 ? value : nil
    }

    private static func integer(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        guard !digits.isEmpty, digits.count < 19 else { return nil }
        var value = 0
        for byte in digits {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    private static func malformed(_ line: Int) -> ArbiterError {
        ArbiterError(.internal, "language model: malformed line \(line)")
    }
}

/// An open-addressing hash table from n-gram keys to postings, built once: a multiplicative hash and linear probing
/// cost a fraction of `Dictionary`'s seeded SipHash on the hot path (three lookups per character), and each slot holds
/// its key and value together, so that a hit costs one cache miss, not two.
struct NgramTable: Sendable {
    private struct Slot {
        var key: UInt64
        var value: UInt32
    }

    private let slots: [Slot]
    private let shift: UInt64
    private let mask: Int

    /// A table holding every entry of a dictionary (keys are never zero).
    init(_ entries: [UInt64: UInt32]) {
        var bits: UInt64 = 4
        while (1 << bits) < entries.count * 2 { bits += 1 }
        let capacity = 1 << Int(bits)
        var slots = [Slot](repeating: Slot(key: 0, value: 0), count: capacity)
        shift = 64 - bits
        mask = capacity - 1
        for (key, value) in entries {  // any order: a probe finds its key wherever collisions put it
            var slot = Self.slot(key, shift: shift)
            while slots[slot].key != 0 { slot = (slot + 1) & mask }
            slots[slot] = Slot(key: key, value: value)
        }
        self.slots = slots
    }

    @inline(__always)
    private static func slot(_ key: UInt64, shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The value of a key.
    @inline(__always)
    subscript(key: UInt64) -> UInt32? {
        slots.withUnsafeBufferPointer { slots in
            var slot = Self.slot(key, shift: shift)
            while true {
                let found = slots[slot]
                if found.key == key { return found.value }
                if found.key == 0 { return nil }
                slot = (slot + 1) & mask
            }
        }
    }
}
