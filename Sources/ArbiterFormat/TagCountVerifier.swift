// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterRegex

/// `tag-count`: partial credit, 1/n for each of n required tags that opens once, closes once, in that order, is
/// written exactly, holds something a reader can see (not only whitespace, invisible or control characters: see
/// ``InvisibleScalars``) and is not inside a Markdown code fence.
public struct TagCountVerifier: Verifier, SynchronousVerifier {
    /// Options of ``TagCountVerifier``.
    public struct Configuration: VerifierConfiguration, PatternConfiguration {
        /// The required tags.
        public let tags: [String]
        let scanner: TagScanner

        public static let options: [OptionSpec] = [
            OptionSpec(
                "tags", .stringList, default: .array([.string("think"), .string("answer")]),
                "Tags that must each appear exactly once, opened then closed.")
        ]

        /// Reads the options on their own, compiling in a small cache of this configuration's own (a registry
        /// made by ``VerifierRegistry/registerFormatVerifiers(patterns:)`` shares the cache it was given).
        public init(options: OptionValues) throws {
            try self.init(options: options, patterns: PatternCache(capacity: 4))
        }

        /// Reads the options, compiling patterns in `patterns`.
        public init(options: OptionValues, patterns: PatternCache) throws {
            tags = options.strings("tags")
            guard !tags.isEmpty else { throw ArbiterError(.invalidOptions, "option 'tags' must name at least one tag") }
            guard Set(tags.map { $0.lowercased() }).count == tags.count else {
                throw ArbiterError(.invalidOptions, "option 'tags' names a tag twice")
            }
            scanner = try TagScanner(names: tags, patterns: patterns)
        }
    }

    public static let name = "tag-count"
    public static let summary = "Partial credit: 1/n for each of n required tags that appears exactly once, well-formed."

    private let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func verify(_ sample: Sample) throws -> Verdict {
        let text = FormatText.normalizingLineEndings(sample.response)
        guard let tokens = configuration.scanner.tokens(in: text) else { return .fail("match_limit") }
        var statuses = JSONObject()
        var good = 0
        let bytes = Array(text.utf8)
        let fences = Self.fencedRanges(bytes)
        for tag in configuration.tags {
            var status = Self.status(of: tokens.filter { $0.name == tag })
            if status == "ok", let open = tokens.first(where: { $0.name == tag && !$0.closing }),
                let close = tokens.first(where: { $0.name == tag && $0.closing })
            {
                if fences.contains(where: { $0.contains(open.range.lowerBound) || $0.contains(close.range.lowerBound) }) {
                    status = "fenced"
                } else if InvisibleScalars.isBlank(utf8: bytes[open.range.upperBound..<close.range.lowerBound]) {
                    status = "empty"
                }
            }
            if status == "ok" { good += 1 }
            statuses[tag] = .string(status)
        }
        let score = Double(good) / Double(configuration.tags.count)
        let reason = good == configuration.tags.count ? "all_tags" : (good == 0 ? "no_tags" : "some_tags")
        return Verdict(score: score, passed: good == configuration.tags.count, reason: reason, details: ["tags": .object(statuses)])
    }

    /// Byte ranges inside Markdown code fences: from a line starting with three backticks (or tildes) to the next
    /// such line, or to the end of the text when the fence is never closed.
    static func fencedRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var openedAt: Int?
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            var first = lineStart
            while first < lineEnd, bytes[first] == 0x20 { first += 1 }
            let marker = first + 2 < lineEnd ? bytes[first] : 0
            if (marker == UInt8(ascii: "`") || marker == UInt8(ascii: "~")), bytes[first + 1] == marker, bytes[first + 2] == marker {
                if let start = openedAt {
                    ranges.append(start..<lineEnd)
                    openedAt = nil
                } else {
                    openedAt = lineStart
                }
            }
            lineStart = lineEnd + 1
        }
        if let start = openedAt { ranges.append(start..<bytes.count) }
        return ranges
    }

    private static func status(of tokens: [TagToken]) -> String {
        if tokens.contains(where: { !$0.exact }) { return "malformed" }
        let opens = tokens.filter { !$0.closing }
        let closes = tokens.filter(\.closing)
        if opens.isEmpty && closes.isEmpty { return "missing" }
        if opens.count > 1 || closes.count > 1 { return "repeated" }
        guard let open = opens.first else { return "unopened" }
        guard let close = closes.first else { return "unclosed" }
        return open.range.upperBound <= close.range.lowerBound ? "ok" : "misordered"
    }
}
