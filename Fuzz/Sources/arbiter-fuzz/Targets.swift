// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterFormat
import ArbiterInstruct
import ArbiterLanguage
import ArbiterMath
@testable import ArbiterServer
import Foundation

/// One fuzz target: a name and what it does with an input. Inputs with two parts (a response and a reference, or a
/// pattern) separate them with a NUL byte; without one the whole input is the response.
struct FuzzTarget: Sendable {
    let name: String
    let run: @Sendable ([UInt8]) -> Void
    /// An input run once before fuzzing, so that what loads on first use (the language models) is loaded.
    var warmUp: [UInt8] = Array("The answer is $\\boxed{4}$.\u{0}4".utf8)

    static let all: [FuzzTarget] = [
        FuzzTarget(name: "math", run: math),
        FuzzTarget(name: "format", run: format),
        FuzzTarget(name: "language", run: language, warmUp: Array("<think>Le chat dort.</think>\u{0}fr".utf8)),
        FuzzTarget(name: "exact", run: exactAndRegex),
        FuzzTarget(name: "recipe", run: recipes, warmUp: Array("<think>2+2</think><answer>4</answer>\u{0}4".utf8)),
        FuzzTarget(
            name: "codec", run: codec,
            warmUp: Array(#"{"id":1,"verifier":"language-id","response":"Le chat dort sur le canapé."}"#.utf8)),
        FuzzTarget(name: "lines", run: lines),
        FuzzTarget(
            name: "instruction", run: instruction,
            // `change_case:english_lowercase` reads the language: its identifier loads on first use (18 s under the
            // sanitizer on a busy machine, which made the first seed the run's slowest unit).
            warmUp: Array(
                #"hello.\#u{0}{"instruction_id_list":["detectable_format:title","change_case:english_lowercase"],"kwargs":[{},{}]}"#.utf8)),
    ]

    // MARK: Verifiers

    /// `math`: the response against the reference, as the daemon runs it.
    static func math(_ bytes: [UInt8]) {
        let (response, reference) = split(bytes)
        verify("math", response: response, reference: .string(reference ?? "42"))
    }

    /// Every format verifier with its default options on the response.
    static func format(_ bytes: [UInt8]) {
        let (response, reference) = split(bytes)
        for name in ["think-format", "tag-count", "repetition", "length", "steps"] {
            verify(name, response: response, reference: .string(reference ?? ""))
        }
    }

    /// `language-id` and `language` (R1's consistency) against a target language.
    static func language(_ bytes: [UInt8]) {
        let (response, reference) = split(bytes)
        let target = JSONValue.string(reference.map { String($0.prefix(8)) } ?? "en")
        verify("language-id", response: response, reference: target)
        verify("language", response: response, reference: target)
        verify("language", response: response, reference: target, options: ["span": "all"])
    }

    /// `exact` in its four option combinations, and `regex` with the second part as the pattern.
    static func exactAndRegex(_ bytes: [UInt8]) {
        let (response, reference) = split(bytes)
        for trim in [true, false] {
            for caseSensitive in [true, false] {
                verify("exact", response: response, reference: .string(reference ?? ""),
                    options: ["trim": .bool(trim), "case_sensitive": .bool(caseSensitive)])
            }
        }
        if let reference {
            verify("regex", response: response, reference: .null, options: ["pattern": .string(reference)])
            verify("regex", response: response, reference: .null,
                options: ["pattern": .string(reference), "mode": "full", "flags": ["caseless", "dotall"]])
        }
    }

    /// The recipes of `verifiers/` (`r1`, `r1-zero`) and the declared `r1-format`.
    static func recipes(_ bytes: [UInt8]) {
        let (response, reference) = split(bytes)
        for name in ["r1", "r1-zero", "r1-format"] where (try? registry.entry(named: name)) != nil {
            verify(name, response: response, reference: .string(reference ?? "42"))
        }
    }

    /// `instruction` (IFEval / IFBench / open-instruct constraints) in strict and loose mode: the second part is the
    /// dataset row as JSON (`instruction_id_list` + `kwargs`), or one fixed row when it does not parse.
    static func instruction(_ bytes: [UInt8]) {
        let (response, row) = split(bytes)
        let fallback: JSONValue = [
            "instruction_id_list": ["length_constraints:number_words", "detectable_format:number_bullet_lists"],
            "kwargs": [["relation": "at least", "num_words": 3], ["num_bullets": 2]],
        ]
        let reference = row.flatMap { try? JSONParser.parse($0) } ?? fallback
        for mode in ["strict", "loose"] {
            verify("instruction", response: response, reference: reference, options: ["mode": .string(mode)])
        }
    }

    // MARK: The daemon's request path

    /// `RequestCodec.decode` on a request line (strict JSON, the batch form, options validated against each
    /// verifier's specification), then the verdict or error encoded; requests to deterministic verifiers are run.
    static func codec(_ bytes: [UInt8]) {
        let codec = RequestCodec(registry: registry, verifierOverride: nil)
        var answers: [[UInt8]] = []
        switch codec.decode(bytes) {
        case .single(let item):
            answers.append(answer(item, codec))
        case .batch(let id, let items):
            let results = items.prefix(16).map { answer($0, codec) }.map { $0.isEmpty ? nil : $0 }
            answers.append(RequestCodec.batchLine(id: id, results: results))
        case .op(_, let id):
            var out = JSONWriter()
            codec.writeOpAnswer(id: id, body: ["pong": true], into: &out)
            answers.append(out.bytes)
        case .failure(let id, let error):
            var out = JSONWriter()
            codec.writeError(id: id, error, into: &out)
            answers.append(out.bytes)
        }
        _ = RequestCodec.leadingID(of: bytes)
        // The fast path answers only what the full parser would: a line it reads is a request of a known verifier
        // with the same id, response, reference and prompt when decoded fully.
        if let scanned = bytes.withUnsafeBufferPointer({ RequestScanner.scan($0) }),
            let entry = try? registry.entry(named: scanned.verifier), (try? entry.defaultVerifier.get()) != nil
        {
            guard case .single(.request(let full)) = codec.decodeFully(bytes) else {
                preconditionFailure("the scanner read a line the full parser does not decode as one request")
            }
            precondition(full.id == scanned.id, "the scanner's id differs: \(String(describing: scanned.id)) vs \(String(describing: full.id))")
            precondition(full.verifierName == scanned.verifier, "the scanner's verifier differs")
            precondition(full.sample.response == scanned.response, "the scanner's response differs")
            precondition(full.sample.reference == scanned.reference, "the scanner's reference differs: \(scanned.reference) vs \(full.sample.reference)")
            precondition(full.sample.prompt == scanned.prompt, "the scanner's prompt differs")
        }
        // The wide scan likewise: a line it reads decodes fully to the same request (the reference, held as JSON text
        // for a JSONReferenceVerifier, parsed for the comparison).
        if let wide = bytes.withUnsafeBufferPointer({ codec.decodeWide($0) }) {
            guard case .single(.request(let scanned)) = wide, case .single(.request(let full)) = codec.decodeFully(bytes)
            else {
                preconditionFailure("the wide scan read a line the full parser does not decode as one request")
            }
            precondition(full.id == scanned.id, "the wide scan's id differs")
            precondition(full.verifierName == scanned.verifierName, "the wide scan's verifier differs")
            precondition(full.fullSample == scanned.fullSample, "the wide scan's sample differs")
        }
        // Every answer is one line of valid JSON.
        for line in answers where !line.isEmpty {
            let body = line.last == 0x0A ? Array(line.dropLast()) : line
            precondition(!body.contains(0x0A), "an answer holds a newline")
            precondition((try? JSONParser.parse(body)) != nil, "an answer is not JSON: \(String(decoding: body, as: UTF8.self))")
        }
    }

    /// The encoded answer to one item (empty for a request this target does not run).
    private static func answer(_ item: BatchItem, _ codec: RequestCodec) -> [UInt8] {
        var out = JSONWriter()
        switch item {
        case .request(let request):
            // Code runs and plugin processes are not fuzzed here (they start processes).
            guard runnable.contains(request.verifierName) else { return [] }
            let verdict = blocking { try? await request.verifier.verify(request.fullSample) }
            if let verdict { codec.writeVerdict(id: request.id, verdict, nanoseconds: 1, into: &out) }
        case .failure(let id, _, let error):
            codec.writeErrorObject(id: id, error, into: &out)
        }
        return out.bytes
    }

    /// `LineSplitter` fed in chunks whose sizes come from the input, with a small line limit; every emitted line
    /// must be a line of the input (no newline in it, within the limit, none blank).
    static func lines(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let limit = Int(first) + 1
        var splitter = LineSplitter(maxLineBytes: limit)
        var events: [LineSplitter.Event] = []
        var offset = 1
        var step = 1
        while offset < bytes.count {
            let size = min(bytes.count - offset, 1 + Int(bytes[offset]) % 97 * step % 300)
            bytes[offset..<(offset + size)].withUnsafeBufferPointer { chunk in splitter.feed(chunk) { events.append($0) } }
            offset += size
            step += 1
        }
        splitter.finish { events.append($0) }
        for event in events {
            guard case .line(let line) = event else { continue }
            precondition(!line.contains(0x0A), "a line holds a newline")
            precondition(line.count <= limit + 1, "a line is over the limit: \(line.count) > \(limit)")
            precondition(!line.isEmpty, "an empty line was emitted")
        }
    }

    // MARK: Helpers

    /// Verifiers the codec target runs (deterministic, no processes).
    static let runnable: Set<String> = [
        "exact", "regex", "math", "think-format", "tag-count", "repetition", "length", "steps", "language",
        "language-id", "r1", "r1-zero", "r1-format", "instruction",
    ]

    /// The built-in verifiers and the definitions of the checkout's `verifiers/` (recipes, `r1-format`).
    static let registry: VerifierRegistry = {
        var registry = VerifierRegistry.builtin
        registry.registerFormatVerifiers(patterns: .shared)
        registry.registerMathVerifiers()
        registry.registerLanguageVerifiers()
        registry.registerInstructionVerifiers(patterns: .shared)
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("verifiers")
        _ = VerifierDefinitions.load(from: directory, into: &registry)
        return registry
    }()

    /// The response and, after the first NUL byte, the reference; invalid UTF-8 is repaired as a decoder would.
    static func split(_ bytes: [UInt8]) -> (response: String, reference: String?) {
        guard let nul = bytes.firstIndex(of: 0) else { return (String(decoding: bytes, as: UTF8.self), nil) }
        return (String(decoding: bytes[..<nul], as: UTF8.self), String(decoding: bytes[(nul + 1)...], as: UTF8.self))
    }

    /// Runs a verifier with options; errors (an invalid reference or pattern) are answers, not findings.
    static func verify(_ name: String, response: String, reference: JSONValue, options: JSONObject? = nil) {
        guard let entry = try? registry.entry(named: name), let verifier = try? entry.verifier(options: options) else { return }
        let sample = Sample(response: response, reference: reference)
        _ = blocking { try? await verifier.verify(sample) }
    }

    /// Waits for an async call from libFuzzer's synchronous callback.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.value = await body()
            done.signal()
        }
        done.wait()
        guard let value = box.value else { preconditionFailure("the task ended without a value") }
        return value
    }
}

/// Hands a value from a task to the waiting thread (written before the semaphore's signal, read after its wait).
private final class Box<T>: @unchecked Sendable {
    var value: T?
}
