// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterRegex
import Foundation
import Testing

@Suite("PCRE2 wrapper")
struct RegexTests {
    @Test("search, anchoring and whole-subject matching")
    func basics() throws {
        let pattern = try CompiledPattern("b+")
        guard case .match(let match) = pattern.firstMatch(in: "aabbbc") else {
            Issue.record("no match")
            return
        }
        #expect(match.range == 2..<5)
        #expect(pattern.firstMatch(in: "aabbbc", anchored: true) == .noMatch)
        #expect(pattern.firstMatch(in: "bbb", wholeSubject: true) != .noMatch)
        #expect(pattern.firstMatch(in: "bbbc", anchored: true, wholeSubject: true) == .noMatch)
    }

    @Test("flags and inline flags")
    func flags() throws {
        #expect(try CompiledPattern("abc").firstMatch(in: "ABC") == .noMatch)
        #expect(try CompiledPattern("abc", options: .caseless).firstMatch(in: "ABC") != .noMatch)
        #expect(try CompiledPattern("(?i)abc").firstMatch(in: "ABC") != .noMatch)
        #expect(try CompiledPattern("a.b").firstMatch(in: "a\nb") == .noMatch)
        #expect(try CompiledPattern("a.b", options: .dotall).firstMatch(in: "a\nb") != .noMatch)
        #expect(try CompiledPattern("^b$").firstMatch(in: "a\nb\nc") == .noMatch)
        #expect(try CompiledPattern("^b$", options: .multiline).firstMatch(in: "a\nb\nc") != .noMatch)
        #expect(try CompiledPattern("a b # comment", options: .extended).firstMatch(in: "ab") != .noMatch)
    }

    @Test("UTF and UCP: classes and offsets work on characters, not bytes")
    func unicode() throws {
        let word = try CompiledPattern("^\\w+$")
        #expect(word.firstMatch(in: "héllo") != .noMatch)
        #expect(word.firstMatch(in: "日本語") != .noMatch)
        let dot = try CompiledPattern("^.$")
        #expect(dot.firstMatch(in: "😀") != .noMatch)
        let subject = "é😀x"
        guard case .match(let match) = try CompiledPattern("x").firstMatch(in: subject) else {
            Issue.record("no match")
            return
        }
        #expect(CompiledPattern.scalarOffset(match.range.lowerBound, in: subject) == 2)
        #expect(CompiledPattern.text(match.range, in: subject) == "x")
    }

    @Test("named and numbered captures")
    func captures() throws {
        let pattern = try CompiledPattern("(?<year>\\d{4})-(?<month>\\d\\d)(-(\\d\\d))?")
        #expect(pattern.captureCount == 4)
        #expect(pattern.names.map(\.name).sorted() == ["month", "year"])
        guard case .match(let match) = pattern.firstMatch(in: "on 2024-05") else {
            Issue.record("no match")
            return
        }
        #expect(CompiledPattern.text(match.groups[0]!, in: "on 2024-05") == "2024")
        #expect(match.groups[2] == nil)
    }

    @Test("a pattern that does not compile reports PCRE2's message and offset")
    func compileError() {
        do {
            _ = try CompiledPattern("a(b")
            Issue.record("compiled")
        } catch {
            #expect(error.code == .invalidPattern)
            #expect(error.message.contains("missing closing parenthesis"))
            #expect(error.offset == 3)
        }
    }

    @Test("a catastrophic pattern stops at the match limit instead of hanging", .timeLimit(.minutes(1)))
    func catastrophic() throws {
        let subject = String(repeating: "a", count: 50_000) + "b"
        let outcome = try CompiledPattern("(a+)+$").firstMatch(in: subject)
        #expect(outcome == .limitExceeded("match_limit"))
        let nested = try CompiledPattern("^(\\w+\\s?)*$").firstMatch(in: String(repeating: "word ", count: 5000) + "!")
        guard case .limitExceeded = nested else {
            Issue.record("expected a limit, got \(nested)")
            return
        }
        // The mechanism is the match limit reported above (a step budget, not a timer); how fast the limit is reached
        // is measured by scripts/worst-case-inputs.py, never asserted here (the machine may be busy).
    }

    @Test("deep recursion is bounded too")
    func deepRecursion() throws {
        let subject = String(repeating: "(", count: 100_000) + String(repeating: ")", count: 100_000)
        let outcome = try CompiledPattern("^(\\((?1)*\\))$").firstMatch(in: subject)
        guard case .limitExceeded = outcome else {
            Issue.record("expected a limit, got \(outcome)")
            return
        }
    }

    @Test("allMatches walks non-overlapping matches, including empty ones")
    func allMatches() throws {
        let digits = try CompiledPattern("\\d+").allMatches(in: "a1b22c333")
        #expect(digits.matches.map { CompiledPattern.text($0.range, in: "a1b22c333") } == ["1", "22", "333"])
        let empty = try CompiledPattern("x*").allMatches(in: "ééx")
        #expect(empty.matches.map(\.range) == [0..<0, 2..<2, 4..<5, 5..<5], "as Python's re.finditer")
    }

    @Test("the cache compiles each pattern once and stays bounded")
    func cache() throws {
        let cache = PatternCache(capacity: 4)
        let first = try cache.pattern("a+")
        #expect(try cache.pattern("a+") === first)
        #expect(try cache.pattern("a+", options: .caseless) !== first)
        for index in 0..<10 { _ = try cache.pattern("x\(index)") }
        #expect(cache.count == 4)
        #expect(throws: RegexError.self) { try cache.pattern("(") }
    }

    @Test("JIT is used when the library has it")
    func jit() throws {
        #expect(try CompiledPattern("a+").isJIT == CompiledPattern.jitAvailable)
    }
}

@Suite("Compile-time anchoring")
struct AnchoringTests {
    @Test("anchored and end-anchored patterns keep the JIT and match only whole subjects")
    func compiledAnchors() throws {
        let whole = try CompiledPattern("\\d+", options: [.anchored, .endAnchored])
        #expect(whole.isJIT == CompiledPattern.jitAvailable)
        #expect(whole.firstMatch(in: "123") != .noMatch)
        #expect(whole.firstMatch(in: "a123") == .noMatch)
        #expect(whole.firstMatch(in: "123a") == .noMatch)
    }
}
