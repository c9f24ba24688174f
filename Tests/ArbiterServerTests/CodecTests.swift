// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
@testable import ArbiterServer
import Testing

/// The codec is the request path's pure part: decoding and encoding, without threads or statistics.
@Suite("Request codec")
struct CodecTests {
    let codec = RequestCodec(registry: .builtin, verifierOverride: nil)

    func decode(_ text: String) -> DecodedLine { codec.decode(Array(text.utf8)) }

    @Test("a request decodes to a prepared verification with its id, verifier and sample")
    func single() throws {
        guard case .single(.request(let request)) = decode(#"{"id":7,"verifier":"exact","response":"42","reference":"42"}"#)
        else { Issue.record("not a prepared request"); return }
        #expect(request.id == .int(7))
        #expect(request.verifierName == "exact")
        #expect(request.sample.response == "42")
    }

    @Test("bad lines decode to the error that answers them, keeping a leading id where there is one")
    func failures() {
        if case .failure(let id, let error) = decode(#"{"id":"x","verifier":"exact","response":"#) {
            #expect(id == .string("x"))
            #expect(error.code == .invalidJSON)
        } else { Issue.record("truncated JSON must be a failure") }
        if case .failure(let id, let error) = decode("[1,2]") {
            #expect(id == nil)
            #expect(error.code == .invalidRequest)
        } else { Issue.record("an array is not a request") }
        if case .single(.failure(let id, _, let error)) = decode(#"{"id":1,"verifier":"exat","response":"1"}"#) {
            #expect(id == .int(1))
            #expect(error.code == .unknownVerifier && error.message.contains("exact"))
        } else { Issue.record("an unknown verifier is an error for that request") }
        if case .single(.failure(_, _, let error)) = decode(#"{"verifier":"exact","response":3}"#) {
            #expect(error.code == .invalidRequest && error.message.contains("'response' must be a string"))
        } else { Issue.record("a number response is refused") }
    }

    @Test("a batch decodes item by item: one bad item is an error in its slot, its neighbours are prepared")
    func batch() {
        guard case .batch(let id, let items) = decode(
            #"{"id":"b","batch":[{"verifier":"exact","response":"1","reference":"1"},5,{"op":"ping"}]}"#)
        else { Issue.record("not a batch"); return }
        #expect(id == .string("b"))
        #expect(items.count == 3)
        if case .request = items[0] {} else { Issue.record("item 0 is a request") }
        if case .failure(_, _, let error) = items[1] { #expect(error.message.contains("batch item 1")) } else {
            Issue.record("item 1 is an error")
        }
        if case .failure(_, _, let error) = items[2] { #expect(error.message.contains("may not hold")) } else {
            Issue.record("item 2 is an error")
        }
    }

    @Test("ops decode with their id; a batch line encodes every result in order and null for a missing one")
    func opsAndBatchLines() {
        if case .op(let op, let id) = decode(#"{"id":3,"op":"stats"}"#) {
            #expect(op == .string("stats") && id == .int(3))
        } else { Issue.record("an op") }
        let line = RequestCodec.batchLine(id: .string("b"), results: [Array(#"{"score":1}"#.utf8), nil])
        #expect(String(decoding: line, as: UTF8.self) == "{\"id\":\"b\",\"results\":[{\"score\":1},null]}\n")
    }

    @Test("the leading id is read from the first 4 KiB only (an id beyond it is not looked for)")
    func leadingIDPrefix() {
        #expect(RequestCodec.leadingID(of: Array(#"{"id": "q", "verifier": "#.utf8)) == .string("q"))
        let late = Array(("{" + String(repeating: " ", count: 5000) + #""id":1}"#).utf8)
        #expect(RequestCodec.leadingID(of: late) == nil)
    }

    @Test("mayWait: a request to a verifier that may suspend may wait; a synchronous one, a batch, an op, an error do not")
    func mayWait() {
        var registry = VerifierRegistry.builtin
        registry.register(TestVerifier.self)
        let codec = RequestCodec(registry: registry, verifierOverride: nil)
        func decode(_ text: String) -> DecodedLine { codec.decode(Array(text.utf8)) }
        let gate = decode(#"{"id":1,"verifier":"gate","response":"x"}"#)
        guard case .single(.request(let request)) = gate, case .asynchronous = request.call else {
            Issue.record("the gate verifier is not called asynchronously")
            return
        }
        // The line that may suspend is the control: the same check answers true for it.
        #expect(gate.mayWait)
        #expect(!decode(#"{"id":1,"verifier":"exact","response":"42","reference":"42"}"#).mayWait)
        #expect(!decode(#"{"id":1,"verifier":"exact","response":"4\n2","reference":{"a":[1]}}"#).mayWait)
        #expect(!decode(#"{"id":1,"batch":[{"verifier":"gate","response":"x"}]}"#).mayWait)
        #expect(!decode(#"{"id":1,"op":"ping"}"#).mayWait)
        #expect(!decode(#"{"id":1,"verifier":"no-such-verifier","response":"x"}"#).mayWait)
    }
}
