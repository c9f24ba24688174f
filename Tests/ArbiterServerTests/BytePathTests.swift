// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
@testable import ArbiterServer
import Testing

/// The daemon's byte path (`exact` answered from the request line's bytes) gives every line it takes the answer of
/// the general path, records it the same way, and refuses, without writing or counting anything, every line it is
/// not sure of.
@Suite("Byte path")
struct BytePathTests {
    /// A verifier that does not judge bytes.
    struct AlwaysPass: Verifier, SynchronousVerifier {
        static let name = "always"
        static let summary = "Passes everything."
        init(configuration: NoOptions) {}
        func verify(_ sample: Sample) throws -> Verdict { .pass("always") }
    }

    func dispatcher(override: String? = nil) -> Dispatcher {
        var registry = VerifierRegistry.builtin
        registry.register(AlwaysPass.self)
        return Dispatcher(
            registry: registry, settings: .init(maxLineBytes: 1 << 20, jobs: 1, verifierOverride: override),
            stats: ServerStats(workers: 1))
    }

    /// The answer without its `"ms":…` field (the only field that depends on the clock).
    func withoutTime(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.replacingOccurrences(of: #","ms":[0-9.]+"#, with: "", options: .regularExpression)
    }

    /// The byte path's answer without its newline, or `nil` when it refused the line (then nothing may have been
    /// written).
    func bytePath(_ dispatcher: Dispatcher, _ line: String) -> [UInt8]? {
        var out = JSONWriter()
        var now = monotonicNanoseconds()
        var tally = dispatcher.makeTally()
        let answered = Array(line.utf8).withUnsafeBufferPointer {
            dispatcher.answerBytes($0, into: &out, tally: &tally, now: &now)
        }
        dispatcher.record(&tally, slot: 0)
        #expect(tally.isEmpty)
        if !answered {
            #expect(out.bytes.isEmpty, "a refused line wrote \(String(decoding: out.bytes, as: UTF8.self))")
            return nil
        }
        #expect(out.bytes.last == 0x0A, "the answer ends its line")
        return out.bytes.last == 0x0A ? Array(out.bytes.dropLast()) : out.bytes
    }

    func generalPath(_ dispatcher: Dispatcher, _ line: String) async -> [UInt8] {
        var out = JSONWriter()
        var now = monotonicNanoseconds()
        _ = await dispatcher.handle(dispatcher.codec.decode(Array(line.utf8)), into: &out, slot: 0, now: &now)
        return out.bytes
    }

    static let taken = [
        #"{"id":""# + String(repeating: "i", count: 600) + #"","verifier":"exact","response":"a","reference":"b"}"#,
        #"{"id":0,"verifier":"exact","response":"42","reference":"42"}"#,
        #"{"id":1,"verifier":"exact","response":"the answer is 42","reference":"42"}"#,
        #"{"id":"a-7","verifier":"exact","response":"  42 ","reference":"42"}"#,
        #"{"id":-1.5e3,"verifier":"exact","response":"42","reference":42}"#,
        #"{"id":true,"verifier":"exact","response":"4","reference":"42"}"#,
        #"{"id":null,"verifier":"exact","response":"","reference":""}"#,
        #"{"verifier":"exact","response":"x","reference":"y","prompt":"q"}"#,
        #" { "reference" : "Ab" , "response" : "Ab" , "verifier" : "exact" , "prompt" : null , "id" : false } "#,
        #"{"id":123456789012345678901234567890,"verifier":"exact","response":"1e5","reference":1e5}"#,
    ]

    @Test("every line it takes gets the general path's answer and is counted as the general path counts it")
    func sameAnswers() async throws {
        let fast = dispatcher(), general = dispatcher()
        for line in Self.taken {
            let answer = try #require(bytePath(fast, line), "\(line) was refused")
            #expect(withoutTime(answer) == withoutTime(await generalPath(general, line)), "\(line)")
            #expect(String(decoding: answer, as: UTF8.self).contains(#","ms":"#))
        }
        let mine = fast.stats.snapshot(), theirs = general.stats.snapshot()
        #expect(mine.requests == Self.taken.count && mine.requests == theirs.requests)
        #expect(mine.verdicts == theirs.verdicts && mine.passed == theirs.passed && mine.scoreSum == theirs.scoreSum)
        #expect(mine.reasons == theirs.reasons && mine.reasons["equal"] == 6 && mine.reasons["not_equal"] == 4)
        #expect(mine.verifiers["exact"]?.verdicts == theirs.verifiers["exact"]?.verdicts)
        #expect(mine.latency.total == UInt64(Self.taken.count))
    }

    @Test("lines it is not sure of are refused: nothing written, nothing counted (negative control)")
    func refused() async {
        let lines = [
            #"{"id":1,"verifier":"exact","response":"é","reference":"é"}"#,  // not ASCII
            #"{"id":"é","verifier":"exact","response":"a","reference":"a"}"#,
            #"{"id":1,"verifier":"exact","response":"a","reference":"a","prompt":"é"}"#,
            #"{"id":1,"verifier":"exact","response":"a","reference":true}"#,  // an unusable reference: an error
            #"{"id":1,"verifier":"exact","response":"a"}"#,  // no reference: an error
            #"{"id":1,"verifier":"exact","response":"a\nb","reference":"a"}"#,  // an escape
            #"{"id":1,"verifier":"exact","response":"a","reference":"a","options":{"trim":false}}"#,
            #"{"id":1,"verifier":"exacts","response":"a","reference":"a"}"#,  // an unknown verifier
            #"{"id":1,"verifier":"always","response":"a","reference":"a"}"#,  // a verifier that does not judge bytes
            #"{"op":"ping","id":1}"#, "not json",
        ]
        let fast = dispatcher()
        for line in lines {
            #expect(bytePath(fast, line) == nil, "\(line) was taken")
        }
        #expect(fast.stats.snapshot().requests == 0)
        // The general path answers each of them (with the errors the byte path must not give itself).
        let general = dispatcher()
        for line in lines { #expect(!(await generalPath(general, line)).isEmpty) }
    }

    @Test("on 20,000 generated lines near the common shape, every line taken gets the general path's answer")
    func generatedLines() async throws {
        // A fixed linear congruential sequence: the same lines on every run.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let pieces = ["a", "A", "4", "2", " ", "  ", #"\t"#, #"\\"#, #"\""#, "é", #"\u00e9"#, #"\r"#, "x y", "42", "-"]
        let plain = [0, 1, 2, 3, 4, 5, 12, 13, 14]  // the pieces without escapes or non-ASCII text
        func text() -> String {
            (0..<next(5)).map { _ in next(6) == 0 ? pieces[next(pieces.count)] : pieces[plain[next(plain.count)]] }.joined()
        }
        func value() -> String {
            switch next(8) {
            case 0: return "\(next(1000))"
            case 1: return "-\(next(10)).\(next(100))e\(next(3))"
            case 2: return ["true", "false", "null"][next(3)]
            case 3: return "[1]"
            case 4: return "0\(next(10))"
            default: return "\"" + text() + "\""
            }
        }
        let fast = dispatcher(), general = dispatcher()
        var taken = 0
        for _ in 0..<20_000 {
            var fields = [
                "\"verifier\":\"" + ["exact", "exact", "exact", "always", "Exact"][next(5)] + "\"",
                "\"response\":" + (next(6) == 0 ? value() : "\"" + text() + "\""),
            ]
            if next(4) > 0 { fields.append("\"reference\":" + value()) }
            if next(2) == 0 { fields.append("\"id\":" + value()) }
            if next(5) == 0 { fields.append("\"prompt\":" + value()) }
            if next(20) == 0 { fields.append("\"options\":{}") }
            var generator = SplitMix(seed: UInt64(next(1 << 30)))
            fields.shuffle(using: &generator)
            let line = (next(10) == 0 ? " { " : "{") + fields.joined(separator: next(4) == 0 ? " , " : ",") + "}"
            guard let answer = bytePath(fast, line) else { continue }
            taken += 1
            #expect(withoutTime(answer) == withoutTime(await generalPath(general, line)), "\(line)")
        }
        #expect(taken > 2_000, "too few lines took the byte path (\(taken)) for the test to mean much")
        #expect(fast.stats.snapshot().reasons == general.stats.snapshot().reasons)
    }

    /// A seedable generator for `shuffle`.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            return mixed ^ (mixed >> 31)
        }
    }

    @Test("a verifier override applies on the byte path as on the general path")
    func override() async throws {
        let other = #"{"id":1,"verifier":"always","response":"2","reference":"2"}"#
        let exact = dispatcher(override: "exact")
        let answer = try #require(bytePath(exact, other))
        #expect(withoutTime(answer) == withoutTime(await generalPath(dispatcher(override: "exact"), other)))
        #expect(String(decoding: answer, as: UTF8.self).contains(#""reason":"equal""#))
        // Overridden to a verifier that does not judge bytes, an `exact` line is refused.
        #expect(bytePath(dispatcher(override: "always"), #"{"id":1,"verifier":"exact","response":"2","reference":"2"}"#) == nil)
    }
}
