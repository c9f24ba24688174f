// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
@testable import ArbiterServer
import Testing

/// The request scanner (the decoding fast path) reads only lines it is sure of, and reads them as the full parser does.
@Suite("Request scanner")
struct ScannerTests {
    let codec = RequestCodec(registry: .builtin, verifierOverride: nil)

    func scan(_ text: String) -> ScannedRequest? {
        Array(text.utf8).withUnsafeBufferPointer { RequestScanner.scan($0) }
    }

    /// The answer a line gets through `decode` (scanner first) and through the full parser alone.
    func bothAnswers(_ text: String) -> (fast: String, full: String) {
        func encode(_ decoded: DecodedLine) -> String {
            var out = JSONWriter()
            switch decoded {
            case .single(.request(let request)):
                out.write(request.id ?? .string("<none>"))
                out.write(string: "|\(request.verifierName)|\(request.sample.response)|")
                out.write(request.sample.reference)
                out.write(string: "|\(request.sample.prompt ?? "<none>")")
            case .single(.failure(let id, _, let error)), .failure(let id, let error):
                codec.writeError(id: id, error, into: &out)
            case .batch: out.write(string: "batch")
            case .op: out.write(string: "op")
            }
            return String(decoding: out.bytes, as: UTF8.self)
        }
        let line = Array(text.utf8)
        return (encode(codec.decode(line)), encode(codec.decodeFully(line)))
    }

    @Test("the common request shape is scanned, with the fields the full parser reads")
    func commonShape() throws {
        let lines = [
            #"{"id":7,"verifier":"exact","response":"42","reference":"42"}"#,
            #" { "id" : "a" , "verifier":"exact", "response":"x y", "reference":-1.5e3, "prompt":"q" } "#,
            #"{"verifier":"exact","response":"é","reference":null,"id":null,"prompt":null}"#,
            #"{"response":"1","verifier":"exact","reference":true,"id":false}"#,
        ]
        for line in lines {
            #expect(scan(line) != nil, "\(line)")
            let answers = bothAnswers(line)
            #expect(answers.fast == answers.full, "\(line)")
        }
        let scanned = try #require(scan(lines[1]))
        #expect(scanned.id == .string("a") && scanned.reference == .number(JSONNumber(literal: "-1.5e3")))
        #expect(scanned.response == "x y" && scanned.prompt == "q")
    }

    @Test("a line ending with an object or array value is left to the wide scan at once; same answers either way")
    func structuredLast() {
        let fields = { (text: String) in Array(text.utf8).withUnsafeBufferPointer { RequestScanner.scanFields($0) } }
        let structured = [
            #"{"verifier":"exact","response":"x","reference":{"a":1}}"#,
            #"{"verifier":"exact","response":"x","reference":["a"] } "#,
            #"{"verifier":"exact","response":"x","reference":"x","options":{}}"#,
            "{\"verifier\":\"exact\",\"response\":\"x\",\"reference\":[1]\n}\r\n",
        ]
        for line in structured {
            #expect(fields(line) == nil, "\(line)")
            let answers = bothAnswers(line)
            #expect(answers.fast == answers.full, "\(line)")
        }
        // Controls: a string or a scalar last, even one ending in a brace, is still scanned.
        for line in [
            #"{"verifier":"exact","response":"x","reference":"{a}"}"#,
            #"{"verifier":"exact","response":"x]","reference":7 }"#,
            #"{"verifier":"exact","reference":"}","response":"]"}"#,
        ] {
            #expect(fields(line) != nil, "\(line)")
            #expect(scan(line) != nil, "\(line)")
        }
    }

    @Test("every other line goes to the full parser, and gets the same answer either way")
    func fallBack() {
        let lines = [
            #"{"id":1,"verifier":"exact","response":"a\nb","reference":"a"}"#,  // an escape
            #"{"id":1,"verifier":"exact","response":"a","response":"b","reference":"b"}"#,  // a repeated key
            #"{"id":1,"verifier":"exact","response":"a","reference":"a","options":{"trim":false}}"#,
            #"{"id":1,"verifier":"exact","response":"a","reference":"a","meta":1}"#,  // an unknown key
            #"{"id":[1],"verifier":"exact","response":"a","reference":"a"}"#,  // a compound id
            #"{"id":1,"verifier":"exact","response":"a","reference":["a"]}"#,
            #"{"id":1,"verifier":"exact","response":3,"reference":"a"}"#,
            #"{"id":1,"response":"a","reference":"a"}"#,  // no verifier
            #"{"id":1,"verifier":"exact","reference":"a"}"#,  // no response
            #"{"id":1,"verifier":"exact","response":"a","reference":"a"} x"#,  // trailing bytes
            #"{"id":1,"verifier":"exact","response":"a","reference":"a",}"#,  // a trailing comma
            #"{"id":01,"verifier":"exact","response":"a","reference":"a"}"#,  // a bad number
            #"{"id":1,"verifier":"exact","response":"a","prompt":3}"#,
            #"{"id":1,"verifier":"exact","response":"a\#tb"}"#,  // a raw tab
            #"{"op":"ping","id":1}"#, #"{"id":1,"batch":[]}"#, "[1]", "{}", "",
            // Keys that differ from a known one in one byte, within and after the first eight bytes compared at once.
            #"{"idd":1,"verifier":"exact","response":"a","reference":"a"}"#,
            #"{"id":1,"verifiex":"exact","response":"a","reference":"a"}"#,
            #"{"id":1,"verifier":"exact","responsE":"a","reference":"a"}"#,
            #"{"id":1,"verifier":"exact","response":"a","referencf":"a"}"#,
            #"{"id":1,"verifier":"exact","response":"a","reference":"a","prompT":"q"}"#,
            #"{"verifier":"exact","response":"a","id"#, #"{"id"#, #"{"i"#,
        ]
        for line in lines {
            #expect(scan(line) == nil, "\(line)")
            let answers = bothAnswers(line)
            #expect(answers.fast == answers.full, "\(line)")
        }
        // Invalid UTF-8 is not scanned either: the full parser answers it with its error.
        var bytes = Array(#"{"id":1,"verifier":"exact","response":"?","reference":"a"}"#.utf8)
        bytes[bytes.firstIndex(of: UInt8(ascii: "?"))!] = 0xFF
        #expect(bytes.withUnsafeBufferPointer { RequestScanner.scan($0) } == nil)
        guard case .failure(_, let error) = codec.decode(bytes) else {
            Issue.record("invalid UTF-8 must be an error")
            return
        }
        #expect(error.code == .invalidJSON)
    }

    @Test("a repeated key keeps its last value, as the full parser does (negative control for the scanner's refusal)")
    func repeatedKey() {
        guard case .single(.request(let request)) = codec.decode(
            Array(#"{"verifier":"exact","response":"a","response":"b","reference":"b"}"#.utf8))
        else {
            Issue.record("not a request")
            return
        }
        #expect(request.sample.response == "b")
    }
}
