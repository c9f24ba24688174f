// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import CPCRE2

/// Compile-time flags of a pattern. Inline flags such as `(?i)` work as well.
public struct RegexOptions: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// Letters match regardless of case (`(?i)`).
    public static let caseless = RegexOptions(rawValue: UInt32(PCRE2_CASELESS))
    /// `^` and `$` match at line starts and ends (`(?m)`).
    public static let multiline = RegexOptions(rawValue: UInt32(PCRE2_MULTILINE))
    /// `.` matches newlines too (`(?s)`).
    public static let dotall = RegexOptions(rawValue: UInt32(PCRE2_DOTALL))
    /// Whitespace and `#` comments in the pattern are ignored (`(?x)`).
    public static let extended = RegexOptions(rawValue: UInt32(PCRE2_EXTENDED))

    /// The match must start at the start of the subject (compiled in, so that the JIT still runs).
    public static let anchored = RegexOptions(rawValue: UInt32(PCRE2_ANCHORED))
    /// The match must end at the end of the subject (compiled in, so that the JIT still runs).
    public static let endAnchored = RegexOptions(rawValue: UInt32(PCRE2_ENDANCHORED))

    /// Options by their names in requests.
    public static let byName: [String: RegexOptions] = [
        "caseless": .caseless, "multiline": .multiline, "dotall": .dotall, "extended": .extended,
    ]
}

/// Bounds on the work of one match, so that no pattern and subject can run away.
public struct RegexLimits: Sendable, Hashable {
    /// How many times PCRE2 may call its internal match function (backtracking steps). Default 1,000,000.
    public var matchLimit: UInt32
    /// How deep backtracking may nest (interpreter only; the JIT is bounded by its stack). Default 10,000.
    public var depthLimit: UInt32

    /// Limits; the defaults answer a catastrophic pattern within tens of milliseconds.
    public init(matchLimit: UInt32 = 1_000_000, depthLimit: UInt32 = 10_000) {
        self.matchLimit = matchLimit
        self.depthLimit = depthLimit
    }
}

/// The error of a pattern that does not compile, with PCRE2's message and the offset in the pattern.
public struct RegexError: Error, Sendable, CustomStringConvertible {
    /// What kind of error.
    public struct Code: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
        /// The pattern does not compile.
        public static let invalidPattern = Code(rawValue: "invalid_pattern")
    }

    /// The code.
    public var code: Code
    /// PCRE2's message, with the offset.
    public var message: String
    /// The offset in the pattern (in bytes) where compilation failed.
    public var offset: Int

    public var description: String { "\(code): \(message)" }
}

/// A successful match: byte ranges into the subject's UTF-8.
public struct RegexMatch: Sendable, Hashable {
    /// The whole match.
    public let range: Range<Int>
    /// Each capture group (index 1 is `groups[0]`); `nil` when the group did not take part.
    public let groups: [Range<Int>?]
}

/// The outcome of a match attempt.
public enum RegexOutcome: Sendable, Hashable {
    /// The pattern matched.
    case match(RegexMatch)
    /// The pattern does not match.
    case noMatch
    /// A limit stopped the search before it could decide; the string says which.
    case limitExceeded(String)
}

/// A compiled PCRE2 pattern (UTF and UCP mode, JIT-compiled when the library supports it). Thread-safe.
///
/// `@unchecked Sendable`: the PCRE2 code and match context are immutable after compilation, and PCRE2 documents
/// both as safe to share between threads that match concurrently.
public final class CompiledPattern: @unchecked Sendable {
    /// The pattern text.
    public let pattern: String
    /// The compile options.
    public let options: RegexOptions
    /// Whether the pattern was JIT-compiled.
    public let isJIT: Bool
    /// The number of capture groups.
    public let captureCount: Int
    /// Named groups and their numbers.
    public let names: [(name: String, number: Int)]
    private let code: OpaquePointer
    private let defaultContext: OpaquePointer
    private let defaultLimits = RegexLimits()

    /// Compiles a pattern.
    /// - Parameters:
    ///   - pattern: The pattern, in PCRE2 (Perl-compatible) syntax.
    ///   - options: Compile flags.
    /// - Throws: ``RegexError`` with PCRE2's message and offset.
    public init(_ pattern: String, options: RegexOptions = []) throws(RegexError) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let flags = options.rawValue | UInt32(PCRE2_UTF) | UInt32(PCRE2_UCP)
        let compiled = pattern.utf8CString.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: UInt8.self) { bytes in
                pcre2_compile_8(bytes.baseAddress, bytes.count - 1, flags, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            throw RegexError(
                code: .invalidPattern,
                message: "\(Self.message(for: errorCode)) at offset \(errorOffset) of the pattern",
                offset: errorOffset)
        }
        self.pattern = pattern
        self.options = options
        self.code = compiled
        self.isJIT = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
        var count: UInt32 = 0
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &count)
        self.captureCount = Int(count)
        self.names = Self.readNames(compiled)
        self.defaultContext = Self.makeContext(defaultLimits)
    }

    deinit {
        pcre2_match_context_free_8(defaultContext)
        pcre2_code_free_8(code)
    }

    /// Finds the first match at or after a byte offset.
    ///
    /// PCRE2 runs anchoring given at match time on its interpreter, not the JIT: for repeated anchored matching,
    /// compile with ``RegexOptions/anchored`` and ``RegexOptions/endAnchored`` instead.
    /// - Parameters:
    ///   - subject: The text to search.
    ///   - start: A byte offset into the subject's UTF-8 (at a character boundary).
    ///   - anchored: Match only at `start`.
    ///   - wholeSubject: The match must also end at the end of the subject.
    ///   - limits: Bounds on the work.
    /// - Returns: The outcome.
    public func firstMatch(
        in subject: String,
        from start: Int = 0,
        anchored: Bool = false,
        wholeSubject: Bool = false,
        limits: RegexLimits = RegexLimits()
    ) -> RegexOutcome {
        var subject = subject
        return subject.withUTF8 { utf8 in
            firstMatch(inUTF8: utf8, from: start, anchored: anchored, wholeSubject: wholeSubject, limits: limits)
        }
    }

    /// Finds the first match in UTF-8 bytes that are known to be valid UTF-8.
    /// - Parameters:
    ///   - utf8: Valid UTF-8.
    ///   - start: A byte offset.
    ///   - anchored: Match only at `start`.
    ///   - wholeSubject: The match must also end at the end of the subject.
    ///   - limits: Bounds on the work.
    /// - Returns: The outcome.
    public func firstMatch(
        inUTF8 utf8: UnsafeBufferPointer<UInt8>,
        from start: Int = 0,
        anchored: Bool = false,
        wholeSubject: Bool = false,
        limits: RegexLimits = RegexLimits()
    ) -> RegexOutcome {
        guard start <= utf8.count else { return .noMatch }
        var flags = UInt32(PCRE2_NO_UTF_CHECK)
        if anchored { flags |= UInt32(PCRE2_ANCHORED) }
        if wholeSubject { flags |= UInt32(PCRE2_ENDANCHORED) }
        let context = limits == defaultLimits ? defaultContext : Self.makeContext(limits)
        defer { if context != defaultContext { pcre2_match_context_free_8(context) } }
        guard let data = pcre2_match_data_create_from_pattern_8(code, nil) else {
            return .limitExceeded("out of memory")
        }
        defer { pcre2_match_data_free_8(data) }
        let base = utf8.baseAddress ?? UnsafePointer(bitPattern: 1)!
        var result = pcre2_match_8(code, base, utf8.count, start, flags, data, context)
        if result == PCRE2_ERROR_JIT_STACKLIMIT {
            result = pcre2_match_8(code, base, utf8.count, start, flags | UInt32(PCRE2_NO_JIT), data, context)
        }
        switch result {
        case PCRE2_ERROR_NOMATCH: return .noMatch
        case PCRE2_ERROR_MATCHLIMIT: return .limitExceeded("match_limit")
        case PCRE2_ERROR_DEPTHLIMIT: return .limitExceeded("depth_limit")
        case PCRE2_ERROR_HEAPLIMIT: return .limitExceeded("heap_limit")
        case PCRE2_ERROR_JIT_STACKLIMIT: return .limitExceeded("jit_stack_limit")
        case ..<0: return .limitExceeded(Self.message(for: result))
        default: return .match(readMatch(data))
        }
    }

    /// Every non-overlapping match, left to right, up to `maximum`.
    /// - Parameters:
    ///   - subject: The text.
    ///   - maximum: The most matches to return.
    ///   - limits: Bounds on the work of each match attempt.
    /// - Returns: The matches, and the limit that stopped the scan early, if any.
    public func allMatches(
        in subject: String,
        maximum: Int = .max,
        limits: RegexLimits = RegexLimits()
    ) -> (matches: [RegexMatch], stoppedBy: String?) {
        var subject = subject
        return subject.withUTF8 { utf8 in
            var matches: [RegexMatch] = []
            var start = 0
            while matches.count < maximum, start <= utf8.count {
                switch firstMatch(inUTF8: utf8, from: start, limits: limits) {
                case .noMatch: return (matches, nil)
                case .limitExceeded(let reason): return (matches, reason)
                case .match(let match):
                    matches.append(match)
                    start = match.range.isEmpty ? Self.nextCharacter(after: match.range.upperBound, in: utf8) : match.range.upperBound
                }
            }
            return (matches, nil)
        }
    }

    /// The text of a byte range of a subject.
    /// - Parameters:
    ///   - range: A range from a match.
    ///   - subject: The subject the match was made in.
    /// - Returns: The text.
    public static func text(_ range: Range<Int>, in subject: String) -> String {
        let utf8 = subject.utf8
        let lower = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
        let upper = utf8.index(lower, offsetBy: range.count)
        return String(subject[lower..<upper])
    }

    /// The number of Unicode scalars (Python's string indices) before a byte offset.
    /// - Parameters:
    ///   - offset: A byte offset into the subject's UTF-8.
    ///   - subject: The subject.
    /// - Returns: The scalar offset.
    public static func scalarOffset(_ offset: Int, in subject: String) -> Int {
        subject.utf8.prefix(offset).reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }

    /// Whether PCRE2 on this machine can JIT-compile.
    public static var jitAvailable: Bool {
        var value: UInt32 = 0
        pcre2_config_8(UInt32(PCRE2_CONFIG_JIT), &value)
        return value != 0
    }

    // MARK: Private

    private func readMatch(_ data: OpaquePointer) -> RegexMatch {
        let vector = pcre2_get_ovector_pointer_8(data)!
        let unset = arbiter_pcre2_unset()
        var groups: [Range<Int>?] = []
        groups.reserveCapacity(captureCount)
        if captureCount > 0 {
            for group in 1...captureCount {
                let lower = vector[2 * group]
                let upper = vector[2 * group + 1]
                groups.append(lower == unset || upper < lower ? nil : lower..<upper)
            }
        }
        let lower = vector[0]
        return RegexMatch(range: lower..<max(lower, vector[1]), groups: groups)
    }

    private static func nextCharacter(after offset: Int, in utf8: UnsafeBufferPointer<UInt8>) -> Int {
        var next = offset + 1
        while next < utf8.count, utf8[next] & 0xC0 == 0x80 { next += 1 }
        return next
    }

    private static func makeContext(_ limits: RegexLimits) -> OpaquePointer {
        let context = pcre2_match_context_create_8(nil)!
        pcre2_set_match_limit_8(context, limits.matchLimit)
        pcre2_set_depth_limit_8(context, limits.depthLimit)
        return context
    }

    private static func readNames(_ code: OpaquePointer) -> [(name: String, number: Int)] {
        var count: UInt32 = 0
        var entrySize: UInt32 = 0
        var table: UnsafePointer<UInt8>? = nil
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMECOUNT), &count)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMETABLE), &table)
        guard let table, count > 0 else { return [] }
        return (0..<Int(count)).map { index in
            let entry = table + index * Int(entrySize)
            let number = Int(entry[0]) << 8 | Int(entry[1])
            let name = String(cString: entry + 2)
            return (name, number)
        }
    }

    private static func message(for code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = pcre2_get_error_message_8(code, &buffer, buffer.count)
        guard length > 0 else { return "PCRE2 error \(code)" }
        return String(decoding: buffer[0..<Int(length)], as: UTF8.self)
    }
}
