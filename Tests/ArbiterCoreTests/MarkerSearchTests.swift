// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Testing

@Suite("marker search")
struct MarkerSearchTests {
    @Test("first and last ASCII markers, exact or ignoring case, on scalar bounds of non-ASCII text")
    func markers() {
        let text = "é<Think>a</THINK>中<think>b</think>"
        let first = text.firstRange(ofMarker: "<think>")
        #expect(first.map { text.utf8.distance(from: text.startIndex, to: $0.lowerBound) } == 21)
        #expect(text.firstRange(ofMarker: "<think>", ignoringCase: true).map { String(text[$0]) } == "<Think>")
        #expect(text.lastRange(ofMarker: "</think>").map { String(text[$0]) } == "</think>")
        let lastIgnoring = text.lastRange(ofMarker: "</think", ignoringCase: true)
        #expect(lastIgnoring.map { String(text[$0.upperBound...]) } == ">")
        let afterFirst = text.firstRange(ofMarker: "</think>", ignoringCase: true)!
        #expect(text.firstRange(ofMarker: "<think", from: afterFirst.upperBound, ignoringCase: true).map { String(text[$0]) }
            == "<think")
        #expect(text.firstRange(ofMarker: "<THINK>") == nil && text.lastRange(ofMarker: "") == nil)
        #expect(text.firstRange(ofMarker: "<think>x", ignoringCase: true) == nil)
    }

    @Test("endsWith(marker:): the marker at the end, trailing whitespace (ASCII or not) aside, case folded on request")
    func endsWithMarker() {
        #expect("Q\n<|assistant|>\n<think>\n".endsWith(marker: "<think>"))
        #expect("q <think> \n\u{3000}".endsWith(marker: "<think>"))
        #expect("Q <THINK>".endsWith(marker: "<think>", ignoringCase: true))
        // Controls: a different case, a closed block, text after the tag, a text shorter than the marker, no marker.
        #expect(!"Q <THINK>".endsWith(marker: "<think>"))
        #expect(!"q <think> then </think>".endsWith(marker: "<think>"))
        #expect(!"<think> q".endsWith(marker: "<think>"))
        #expect(!"k>".endsWith(marker: "<think>"))
        #expect(!"".endsWith(marker: "<think>"))
        #expect(!"abc".endsWith(marker: ""))
    }
}
