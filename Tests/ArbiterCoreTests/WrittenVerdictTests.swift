// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Testing

@Suite("verdicts whose details are written as JSON text")
struct WrittenVerdictTests {
    let object: JSONObject = ["count": 3, "why": "a \"quoted\" word\n", "list": [true, "x"]]

    var text: [UInt8] {
        var writer = JSONWriter()
        writer.write(object)
        return writer.bytes
    }

    @Test("the details read back as the object the text holds; writing copies the text")
    func readAndWrite() {
        let written = Verdict(score: 1, passed: true, reason: "ok", writtenDetails: text)
        let built = Verdict(score: 1, passed: true, reason: "ok", details: object)
        #expect(written.details == object)
        var one = JSONWriter()
        written.writeDetails(into: &one)
        var other = JSONWriter()
        built.writeDetails(into: &other)
        #expect(one.bytes == text)
        #expect(other.bytes == text)
    }

    @Test("equal and hashed alike however the details are held; different details are not equal (control)")
    func equality() {
        let written = Verdict(score: 1, passed: true, reason: "ok", writtenDetails: text)
        let built = Verdict(score: 1, passed: true, reason: "ok", details: object)
        #expect(written == built)
        #expect(written.hashValue == built.hashValue)
        var changed = object
        changed["count"] = 4
        #expect(written != Verdict(score: 1, passed: true, reason: "ok", details: changed))
        #expect(written != Verdict(score: 0, passed: true, reason: "ok", writtenDetails: text))
    }

    @Test("setting the details replaces the written text")
    func set() {
        var verdict = Verdict(score: 1, passed: true, reason: "ok", writtenDetails: text)
        verdict.details["extra"] = "yes"
        var writer = JSONWriter()
        verdict.writeDetails(into: &writer)
        var expected = object
        expected["extra"] = "yes"
        var want = JSONWriter()
        want.write(expected)
        #expect(writer.bytes == want.bytes)
    }
}
