// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
@testable import ArbiterServer
import Synchronization
import Testing

/// A verifier that takes its reference as JSON text and says which way it got it.
private struct EchoReference: Verifier, JSONReferenceVerifier {
    struct Configuration: VerifierConfiguration {
        static let options: [OptionSpec] = [OptionSpec("tag", .string(choices: []), default: "plain", "A label.")]
        let tag: String
        init(options: OptionValues) {
            tag = options.string("tag")
            EchoReference.made.withLock { $0[tag, default: 0] += 1 }
        }
    }

    /// How many configurations were made, by tag.
    static let made = Mutex<[String: Int]>([:])
    static let name = "echo-reference"
    static let summary = "Echoes its reference."
    let configuration: Configuration
    init(configuration: Configuration) { self.configuration = configuration }

    func verify(_ sample: Sample) throws -> Verdict {
        answer(sample.response, sample.reference, sample.prompt, path: "value")
    }

    func verify(response: String, referenceJSON: UnsafeBufferPointer<UInt8>, prompt: String?) throws -> Verdict {
        answer(response, try JSONParser.parse(referenceJSON), prompt, path: "json")
    }

    private func answer(_ response: String, _ reference: JSONValue, _ prompt: String?, path: String) -> Verdict {
        .pass("echo", details: [
            "response": .string(response), "reference": reference, "prompt": prompt.map { .string($0) } ?? .null,
            "tag": .string(configuration.tag), "path": .string(path),
        ])
    }
}

/// The wide scan (escapes, options, structured references) reads lines as the full parser does; the rest fall back.
@Suite("Request scanner, wide shape")
struct WideScanTests {
    static let registry: VerifierRegistry = {
        var registry = VerifierRegistry.builtin
        registry.register(EchoReference.self)
        return registry
    }()
    let codec = RequestCodec(registry: Self.registry, verifierOverride: nil)

    /// The request a decoded line holds, written out (the reference read from its JSON text where it is held so).
    func describe(_ decoded: DecodedLine) -> String {
        var out = JSONWriter()
        switch decoded {
        case .single(.request(let request)):
            let sample = request.fullSample
            out.write(request.id ?? .string("<none>"))
            out.write(string: "|\(request.verifierName)|\(sample.response)|")
            out.write(sample.reference)
            out.write(string: "|\(sample.prompt ?? "<none>")")
            if case .asynchronous = request.call { out.write(string: "|async") }
        case .single(.failure(let id, _, let error)), .failure(let id, let error):
            codec.writeError(id: id, error, into: &out)
        case .batch: out.write(string: "batch")
        case .op: out.write(string: "op")
        }
        return String(decoding: out.bytes, as: UTF8.self)
    }

    func wide(_ line: String) -> DecodedLine? {
        Array(line.utf8).withUnsafeBufferPointer { codec.decodeWide($0) }
    }

    @Test("lines of the wide shape are read without the full parser, with the fields it reads")
    func wideShape() {
        let lines = [
            #"{"id":1,"verifier":"exact","response":"a\nb","reference":"a\nb"}"#,
            #"{"id":"q","verifier":"exact","response":"x","reference":"x","options":{"trim":false}}"#,
            #"{"id":2,"verifier":"exact","response":"x","reference":["x",1],"prompt":"p\t\u00e9"}"#,
            #"{"verifier":"exact","response":"\ud83d\ude00","reference":{"a":{"b":[null]}},"options":null,"prompt":null}"#,
            #"{"verifier":"exact","response":"é \" ü","options":{},"id":null}"#,
            #"{"id":3,"verifier":"echo-reference","response":"r","reference":{"k":[1,"\n"]},"options":{"tag":"t"}}"#,
            #" { "id" : 4 , "verifier" : "echo-reference" , "response" : "r" , "reference" : [ 1 , 2 ] } "#,
        ]
        for line in lines {
            let fast = wide(line)
            #expect(fast != nil, "\(line)")
            #expect(fast.map(describe) == describe(codec.decodeFully(Array(line.utf8))), "\(line)")
            #expect(describe(codec.decode(Array(line.utf8))) == describe(codec.decodeFully(Array(line.utf8))))
        }
    }

    @Test("every other line falls back to the full parser, which gives the same answer either way")
    func fallBack() {
        let lines = [
            #"{"id":1,"verifier":"exact","response":"a","response":"b"}"#,  // a repeated key
            #"{"id":1,"verifier":"exact","response":"a","options":{"trim":false},"options":{}}"#,
            #"{"id":1,"verifier":"exact","response":"a","meta":{}}"#,  // an unknown key
            #"{"id":1,"verifier":"exact","response":"a","options":3}"#,  // options not an object
            #"{"id":1,"verifier":"exact","response":"a","options":[]}"#,
            #"{"id":1,"verifier":"exact","response":"a","options":{"nope":1}}"#,  // an unknown option
            #"{"id":1,"verifier":"exact","response":"a","options":{"trim":"yes"}}"#,  // an ill-typed option
            #"{"id":1,"verifier":"exakt","response":"a","options":{}}"#,  // an unknown verifier
            #"{"id":1,"verifier":"exakt","response":"a\n"}"#,
            #"{"id":1,"verifier":"exact","response":"a\q"}"#,  // a bad escape
            #"{"id":1,"verifier":"exact","response":"a\u12"}"#,
            #"{"id":1,"verifier":"exact","response":"a","reference":{"a":}}"#,  // invalid JSON in the reference
            #"{"id":1,"verifier":"exact","response":"a","reference":[01]}"#,
            #"{"id":1,"verifier":"exact","response":"a","reference":{"a":1,}}"#,
            #"{"id":1,"verifier":"exact","response":"a","reference":["a\#tb"]}"#,  // a raw tab
            #"{"id":1,"verifier":"exact","response":"a","prompt":3}"#,
            #"{"id":1,"verifier":"exact","response":"a","prompt":["p"]}"#,
            #"{"id":"a\nb","verifier":"exact","response":"a"}"#,  // an id with an escape
            #"{"id":{"x":1},"verifier":"exact","response":"a"}"#,  // a compound id
            #"{"id":1,"verifier":"ex\u0061ct","response":"a"}"#,  // a name with an escape
            #"{"id":1,"verifier":"exact","reference":"a"}"#,  // no response
            #"{"id":1,"response":"a\n","reference":"a"}"#,  // no verifier
            #"{"id":1,"verifier":"exact","response":"a\n"} x"#,  // trailing bytes
            #"{"id":1,"verifier":"exact","response":"a\n","reference":"#,  // cut
            #"{"op":"ping","id":1}"#, #"{"id":1,"batch":[{"verifier":"exact","response":"a\n"}]}"#, "[1]", "",
            #"{"id":1,"verifier":"exact","response":"a","optionz":{}}"#,
        ]
        for line in lines {
            #expect(wide(line) == nil, "\(line)")
            #expect(describe(codec.decode(Array(line.utf8))) == describe(codec.decodeFully(Array(line.utf8))), "\(line)")
        }
        // Nesting past the parser's limit inside the reference, and invalid UTF-8 in an escaped response.
        let deep = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        let deepLine = #"{"verifier":"exact","response":"a","reference":"# + deep + "}"
        #expect(wide(deepLine) == nil)
        guard case .failure(_, let error) = codec.decode(Array(deepLine.utf8)) else {
            Issue.record("nesting past the limit must be an error")
            return
        }
        #expect(error.code == .invalidJSON)
        var bytes = Array(#"{"verifier":"exact","response":"a\n?"}"#.utf8)
        bytes[bytes.firstIndex(of: UInt8(ascii: "?"))!] = 0xFF
        #expect(bytes.withUnsafeBufferPointer { codec.decodeWide($0) } == nil)
        guard case .failure(_, let utf8Error) = codec.decode(bytes) else {
            Issue.record("invalid UTF-8 must be an error")
            return
        }
        #expect(utf8Error.code == .invalidJSON)
    }

    @Test("a JSONReferenceVerifier gets a structured reference as JSON text; other verifiers and scalars get values")
    func referenceJSON() async throws {
        let line = #"{"id":5,"verifier":"echo-reference","response":"r","reference":{"k": [1, "x"]},"options":{"tag":"t"}}"#
        guard case .single(.request(let request)) = codec.decode(Array(line.utf8)) else {
            Issue.record("not a request")
            return
        }
        #expect(request.referenceJSON == Array(#"{"k": [1, "x"]}"#.utf8))
        #expect(request.sample.reference == .null)
        guard case .jsonReference = request.call else {
            Issue.record("the verifier is called with the reference's text")
            return
        }
        // Through the dispatcher: the verifier took the JSON path on the scanned line and the value path on the
        // parsed one (negative control), with the same reference.
        let dispatcher = Dispatcher(
            registry: Self.registry, settings: .init(maxLineBytes: 1 << 20, jobs: 1), stats: ServerStats(workers: 1))
        let answer = try JSONParser.parse(await dispatcher.answer(line: Array(line.utf8)))
        let details = try #require(answer.objectValue?["details"]?.objectValue)
        #expect(details["path"] == .string("json") && details["tag"] == .string("t"))
        #expect(details["reference"] == .object(["k": [1, "x"]]))
        guard case .single(.request(let parsed)) = codec.decodeFully(Array(line.utf8)) else {
            Issue.record("not a request")
            return
        }
        #expect(parsed.referenceJSON == nil)
        let direct = try #require(parsed.verifier as? EchoReference).verify(parsed.sample)
        #expect(direct.details["path"] == .string("value") && direct.details["reference"] == details["reference"])
        // A string reference is a value even for this verifier; an exact request's structured reference too.
        for other in [
            #"{"verifier":"echo-reference","response":"r","reference":"a\nb"}"#,
            #"{"verifier":"exact","response":"r\n","reference":{"k":1}}"#,
        ] {
            guard case .single(.request(let request)) = codec.decode(Array(other.utf8)) else {
                Issue.record("not a request: \(other)")
                continue
            }
            #expect(request.referenceJSON == nil && request.sample.reference != .null)
        }
    }

    @Test("a verifier configured with options is made once per options text and reused")
    func configuredOnce() {
        func verifier(_ text: String) -> EchoReference? {
            guard case .single(.request(let request)) = codec.decode(Array(text.utf8)) else { return nil }
            return request.verifier as? EchoReference
        }
        let line = #"{"verifier":"echo-reference","response":"r\n","options":{"tag":"once"}}"#
        for _ in 0..<5 { #expect(verifier(line)?.configuration.tag == "once") }
        #expect(EchoReference.made.withLock { $0["once"] } == 1)
        // Other options are another verifier; the first is still found.
        #expect(verifier(#"{"verifier":"echo-reference","response":"r\n","options":{"tag":"twice"}}"#)?.configuration.tag == "twice")
        #expect(verifier(line)?.configuration.tag == "once")
        #expect(EchoReference.made.withLock { $0["once"] } == 1)
        // Negative control: the full parser configures the verifier for every line.
        for _ in 0..<3 { _ = codec.decodeFully(Array(line.utf8)) }
        #expect(EchoReference.made.withLock { $0["once"] } == 4)
        // The same options under another verifier's name are not mixed up with these.
        #expect(verifier(#"{"verifier":"exact","response":"r\n","options":{"tag":"t"}}"#) == nil)
    }
}
