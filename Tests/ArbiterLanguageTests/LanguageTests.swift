// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

@testable import ArbiterLanguage

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("fixtures/language")

let registry: VerifierRegistry = {
    var registry = VerifierRegistry.builtin
    registry.registerLanguageVerifiers()
    return registry
}()

/// The languages the issue requires.
let required = "ar cs de el en es fa fr he hi id it ja ko nl pl pt ru sv th tr uk vi zh".split(separator: " ").map(String.init)

/// Runs a verifier by name with options on a sample.
func judge(
    _ name: String, _ options: JSONObject = [:], response: String, reference: JSONValue = .null, prompt: String? = nil
) async throws -> Verdict {
    let verifier = try registry.entry(named: name).verifier(options: options)
    return try await verifier.verify(Sample(response: response, reference: reference, prompt: prompt))
}

/// Reads a JSON-lines fixture.
func loadObjects(_ name: String) throws -> [JSONObject] {
    try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
        .split(separator: "\n").map { try JSONParser.parse(String($0)).objectValue ?? [:] }
}

/// One sentence of `fixtures/language/sentences.jsonl`.
struct Sentence: Sendable {
    var language: String
    var text: String

    /// The evaluation set (`sentences.jsonl`), or the development set (`dev-sentences.jsonl`) on which model
    /// choices are made.
    static func load(_ file: String = "sentences.jsonl") throws -> [Sentence] {
        try loadObjects(file).map {
            Sentence(language: $0["language"]?.stringValue ?? "", text: $0["text"]?.stringValue ?? "")
        }
    }
}

// Serialized: its accuracy tests each run thousands of identifications (seconds in a debug build); run together
// they would hold every thread of the cooperative pool on a 2-core machine and stall other suites' timed tests.
@Suite("language identification", .serialized)
struct LanguageIdentificationTests {
    let identifier = LanguageIdentifier()

    @Test("the model covers at least 50 languages, every required one among them")
    func coverage() {
        let languages = identifier.model.languages
        #expect(languages.count >= 50)
        #expect(languages == LanguageModel.codes)
        for code in required { #expect(languages.contains(code), "\(code)") }
        #expect(identifier.model.scripts[identifier.model.index(of: "ru")!] == [.cyrillic])
        #expect(identifier.model.scripts[identifier.model.index(of: "hi")!] == [.devanagari])
        #expect(identifier.model.scripts[identifier.model.index(of: "fa")!] == [.arabic])
    }

    @Test("the evaluation set has at least 40 real sentences in every required language")
    func evaluationSet() throws {
        let sentences = try Sentence.load()
        for code in required {
            #expect(sentences.filter { $0.language == code }.count >= 40, "\(code)")
        }
    }

    @Test("open-set accuracy on the evaluation set's required languages is at least 98 % (the goal is 97 %)")
    func openSetAccuracy() throws {
        let sentences = try Sentence.load().filter { required.contains($0.language) }
        let accuracy = Self.accuracy(identifier, sentences, candidates: [])
        #expect(accuracy >= 0.98, "open-set accuracy \(accuracy)")
    }

    @Test("accuracy with the required languages as candidates is at least 99 %, on the evaluation and development sets",
        arguments: ["sentences.jsonl", "dev-sentences.jsonl"])
    func candidateAccuracy(_ file: String) throws {
        let sentences = try Sentence.load(file).filter { required.contains($0.language) }
        #expect(sentences.count > 1_500)
        let candidates = Set(required.compactMap(identifier.model.index(of:)))
        let accuracy = Self.accuracy(identifier, sentences, candidates: candidates)
        #expect(accuracy >= 0.99, "accuracy with candidates on \(file): \(accuracy)")
    }

    @Test("the two models together are never worse than either alone, and better on the two sets taken together")
    func modelsTogether() throws {
        let characters = LanguageIdentifier(evidence: .characters)
        let bytes = LanguageIdentifier(evidence: .bytes)
        #expect(characters.byteModel == nil && bytes.byteModel != nil && identifier.evidence == .both)
        let allRequired = Set(required.compactMap(identifier.model.index(of:)))
        var errors: [String: Int] = [:]
        for file in ["sentences.jsonl", "dev-sentences.jsonl"] {
            let sentences = try Sentence.load(file).filter { required.contains($0.language) }
            for candidates in [allRequired, []] {
                let mode = "\(file), \(candidates.isEmpty ? "open-set" : "with candidates")"
                let together = Self.accuracy(identifier, sentences, candidates: candidates)
                errors["both", default: 0] += Int(((1 - together) * Double(sentences.count)).rounded())
                for (name, alone) in [("characters", characters), ("bytes", bytes)] {
                    let accuracy = Self.accuracy(alone, sentences, candidates: candidates)
                    errors[name, default: 0] += Int(((1 - accuracy) * Double(sentences.count)).rounded())
                    #expect(together >= accuracy, "\(mode): \(name) alone \(accuracy), both \(together)")
                }
            }
        }
        #expect(errors["both"]! < errors["characters"]! && errors["both"]! < errors["bytes"]!, "\(errors)")
    }

    static func accuracy(_ identifier: LanguageIdentifier, _ sentences: [Sentence], candidates: Set<Int>) -> Double {
        let correct = sentences.filter { identifier.identify($0.text, candidates: candidates)?.language == $0.language }
        return Double(correct.count) / Double(sentences.count)
    }

    @Test("scripts decide Greek, Hebrew, Thai, Korean, Japanese and Chinese", arguments: [
        ("Η γλώσσα είναι πλούσια.", "el"), ("השפה הזאת יפה מאוד.", "he"), ("ภาษาไทยเป็นภาษาที่สวยงาม", "th"),
        ("한국어는 아름다운 언어입니다.", "ko"), ("日本語はとても美しい言語です。", "ja"), ("中文是一种非常美丽的语言。", "zh"),
    ])
    func scripts(_ text: String, _ language: String) throws {
        let found = try #require(identifier.identify(text))
        #expect(found.language == language)
        #expect(found.confidence == 1)
    }

    @Test("a Kana dropped into Chinese does not make it Japanese; Japanese written with Kanji is still Japanese")
    func kanaShare() {
        // The consistency counter's sentence rule (a fifth of the Han and Kana) in identify too: `language-id` and
        // instruction's `language:response_language` read it (one kana made 47 Han characters Japanese).
        #expect(identifier.identify("我们先计算两个数的总和，然后再除以二，没有问题の")?.language == "zh")
        #expect(identifier.identify("まず二つの数を足して、それから二で割ります。")?.language == "ja")
        #expect(identifier.identify("東京都の人口は約千四百万人です。")?.language == "ja")
        // Control: the same Chinese text without the Kana was Chinese before and is now.
        #expect(identifier.identify("我们先计算两个数的总和，然后再除以二，没有问题")?.language == "zh")
    }

    @Test("English terms do not outvote the Hindi or Chinese around them")
    func embeddedEnglish() {
        #expect(identifier.identify("सभी Asset State Store साफ़ करें")?.language == "hi")
        #expect(identifier.identify("PRAGMA journal_mode 不被 SQLite 支援")?.language == "zh")
    }

    @Test("Script.of knows letters and refuses digits, punctuation and symbols")
    func scriptOf() {
        #expect(Script.of("a") == .latin && Script.of("é") == .latin && Script.of("ж") == .cyrillic)
        #expect(Script.of("ب") == .arabic && Script.of("क") == .devanagari && Script.of("漢") == .han)
        #expect(Script.of("か") == .hiragana && Script.of("カ") == .katakana && Script.of("한") == .hangul)
        #expect(Script.of("7") == nil && Script.of("!") == nil && Script.of("∑") == nil && Script.of("。") == nil)
    }
}

@Suite("language-id")
struct LanguageIDTests {
    @Test("details give the language, confidence, runner-up and script")
    func details() async throws {
        let verdict = try await judge("language-id", response: "Der schnelle braune Fuchs springt über den faulen Hund.")
        #expect(verdict.passed && verdict.reason == "identified")
        #expect(verdict.details["language"] == "de")
        #expect(verdict.details["script"] == "latin")
        let confidence = try #require(verdict.details["confidence"]?.doubleValue)
        #expect(confidence > 0.9 && confidence <= 1)
        #expect(verdict.details["runner_up"]?.objectValue?["language"]?.stringValue != nil)
    }

    @Test("a reference language decides passed and score")
    func reference() async throws {
        let text = "La réponse est quatre, car deux plus deux font quatre."
        let match = try await judge("language-id", response: text, reference: "fr")
        #expect(match.passed && match.score == 1 && match.reason == "match")
        let miss = try await judge("language-id", response: text, reference: "es")
        #expect(!miss.passed && miss.score == 0 && miss.reason == "mismatch")
        #expect(try await judge("language-id", response: "Olá, tudo bem com você?", reference: "pt-BR").passed)
    }

    @Test("candidates restrict the decision")
    func candidates() async throws {
        let text = "O gato está dormindo no sofá da sala."
        #expect(try await judge("language-id", response: text).details["language"] == "pt")
        let restricted = try await judge("language-id", ["candidates": ["es", "en"]], response: text)
        #expect(restricted.details["language"] == "es")
    }

    @Test("code, math and URLs are not read")
    func prose() async throws {
        let text = "Voici la solution: $\\frac{a}{b}$ et `print(\"hello world\")` https://example.com/the/english/path"
        #expect(try await judge("language-id", response: text).details["language"] == "fr")
    }

    @Test("a response without letters is no_text")
    func noText() async throws {
        let verdict = try await judge("language-id", response: "12 + 30 = 42 $x^2$")
        #expect(!verdict.passed && verdict.reason == "no_text" && verdict.score == 0)
    }

    @Test("unknown languages are invalid_options or invalid_reference")
    func errors() async {
        await #expect(throws: ArbiterError.self) { try await judge("language-id", ["candidates": ["xx"]], response: "a") }
        do {
            _ = try await judge("language-id", response: "hello there", reference: "klingon")
            Issue.record("accepted an unknown reference")
        } catch let error as ArbiterError {
            #expect(error.code == .invalidReference)
        } catch {
            Issue.record("unexpected \(error)")
        }
        await #expect(throws: ArbiterError.self) { try await judge("language-id", response: "hi", reference: 3) }
    }
}

/// One case of `fixtures/language/consistency.jsonl`: a chain of thought written here with a known share.
struct ConsistencyCase: CustomTestStringConvertible, Sendable {
    var object: JSONObject
    var testDescription: String { object["note"]?.stringValue ?? "" }

    static func load() throws -> [ConsistencyCase] {
        try loadObjects("consistency.jsonl").map(ConsistencyCase.init)
    }
}

@Suite("language (consistency)")
struct LanguageConsistencyTests {
    @Test(arguments: try ConsistencyCase.load())
    func fixture(_ testCase: ConsistencyCase) async throws {
        let row = testCase.object
        var options: JSONObject = [:]
        if let target = row["target"] { options["target"] = target }
        if let span = row["span"] { options["span"] = span }
        let verdict = try await judge(
            "language", options, response: row["response"]?.stringValue ?? "", reference: row["reference"] ?? .null,
            prompt: row["prompt"]?.stringValue)
        let expected = try #require(row["score"]?.doubleValue)
        #expect(abs(verdict.score - expected) < 1e-9, "score \(verdict.score), details \(verdict.details)")
        if let counts = row["counts"]?.objectValue {
            let found = verdict.details["counts"]?.objectValue.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.key, $0.value) }) }
            #expect(found == Dictionary(uniqueKeysWithValues: counts.map { ($0.key, $0.value) }))
        }
        if let neutral = row["neutral"] { #expect(verdict.details["neutral_units"] == neutral) }
        if let reason = row["reason"] { #expect(verdict.reason == reason.stringValue) }
        if let source = row["target_from"] { #expect(verdict.details["target_from"] == source) }
    }

    @Test("an English CoT dense with LaTeX and a code block scores 1.0 for en, and what is dropped is really there")
    func latexAndCode() async throws {
        let cot = try #require(ConsistencyCase.load().first { $0.testDescription.hasPrefix("English CoT dense") })
        let response = try #require(cot.object["response"]?.stringValue)
        let verdict = try await judge("language", ["target": "en"], response: response)
        #expect(verdict.score == 1 && verdict.passed && verdict.reason == "consistent")
        // Negative control: the raw text holds French that only the filter keeps out of the count.
        let english = try #require(LanguageModel.shared.index(of: "en"))
        let raw = LanguageCounter(identifier: LanguageIdentifier()).count(response, target: english)
        #expect(raw.counts.keys.contains { $0 != "en" }, "\(raw)")
        let prose = ProseFilter.prose(response)
        for dropped in ["racines", "polynôme", "numpy.org", "frac", "Delta", "sympy", "align"] {
            #expect(!prose.contains(dropped), "\(dropped) left in the prose")
        }
        #expect(prose.contains("The output confirms both roots"))
        #expect(prose.contains("somme") && prose.contains("produit"), "the argument of \\text counts")
    }

    @Test("English sentences of the evaluation set score 1 for en; other Latin-script ones of 5 words or more score 0")
    func sentencesAgainstEnglish() async throws {
        let sentences = try Sentence.load()
        let counter = LanguageCounter(identifier: LanguageIdentifier())
        let english = try #require(LanguageModel.shared.index(of: "en"))
        func share(_ text: String) -> Double? {
            let counts = counter.count(ProseFilter.prose(text), target: english)
            return counts.total == 0 ? nil : Double(counts.counts["en"] ?? 0) / Double(counts.total)
        }
        let ownShares = sentences.filter { $0.language == "en" }.compactMap { share($0.text) }
        #expect(Double(ownShares.filter { $0 == 1 }.count) / Double(ownShares.count) >= 0.95)
        let foreign = sentences.filter {
            ["de", "es", "fr", "it", "nl", "pl", "pt", "sv", "tr", "cs"].contains($0.language)
                && $0.text.split(separator: " ").filter { $0.count > 1 }.count >= LanguageCounter.shortTargetRun
        }
        let foreignShares = foreign.compactMap { share($0.text) }
        let rejected = Double(foreignShares.filter { $0 == 0 }.count) / Double(foreignShares.count)
        #expect(rejected >= 0.85, "\(rejected) of \(foreignShares.count)")
    }

    @Test("without target, reference or prompt the target is fallback_target; with it empty, invalid_reference")
    func noTarget() async throws {
        let fallback = try await judge("language", response: "<think>hello there my friend</think>")
        #expect(fallback.details["target"] == "en" && fallback.details["target_from"] == "fallback" && fallback.score == 1)
        do {
            _ = try await judge("language", ["fallback_target": ""], response: "<think>hello there my friend</think>")
            Issue.record("accepted a request without a target")
        } catch let error as ArbiterError {
            #expect(error.code == .invalidReference)
        } catch {
            Issue.record("unexpected \(error)")
        }
        await #expect(throws: ArbiterError.self) { try await judge("language", ["target": "xx"], response: "a") }
        await #expect(throws: ArbiterError.self) { try await judge("language", ["fallback_target": "xx"], response: "a") }
        await #expect(throws: ArbiterError.self) {
            try await judge("language", ["fallback_target": ""], response: "a b c", prompt: "2 + 2 = ?")
        }
    }

    @Test("threshold decides passed")
    func threshold() async throws {
        let response = "<think>我们先计算总和。Let me double check the total again.然后得到答案。</think>"
        #expect(try await !judge("language", ["target": "zh"], response: response).passed)
        #expect(try await judge("language", ["target": "zh", "threshold": 0.6], response: response).passed)
    }

    // Linear time is measured by scripts/worst-case-inputs.py; here the verdicts are checked, and the time limit only
    // catches a hang (a quadratic reading of these inputs takes minutes).
    @Test(
        "unmatched delimiters, long runs of backticks, unclosed braces and many short runs are read in linear time",
        .timeLimit(.minutes(3)))
    func unmatchedDelimiters() async throws {
        let chunk = "we compute $x and \\[ then ``` or ` and $$ again <think "
        let response = String(repeating: chunk, count: 5_000)
        let verdict = try await judge("language", ["target": "en", "span": "all"], response: response)
        #expect(verdict.score > 0.9)
        let tildes = String(repeating: "~", count: 200_000) + " " + String(repeating: "`", count: 100_000)
        #expect(try await judge("language", ["target": "en"], response: tildes).reason == "no_words")
        let shortRuns = String(repeating: "Ok then. Да. ", count: 10_000)
        let mixed = try await judge("language", ["target": "en"], response: shortRuns)
        #expect(abs(mixed.score - 2.0 / 3.0) < 1e-9, "\(mixed.details)")
        // Unclosed braces of text and reference commands: brace matching has a budget proportional to the text.
        let braces = "$$" + String(repeating: "\\text{ a ", count: 50_000) + "$$ and then we go home now"
            + String(repeating: " \\label{x ", count: 50_000) + " and we are done here"
        let unclosed = try await judge("language", ["target": "en"], response: braces)
        #expect(unclosed.score == 1, "\(unclosed.details)")
        // Unclosed runs of backticks and tildes of many different lengths (each length searched once, by binary
        // search), and one sentence of 100,000 units (a run grows in place): both were quadratic or worse.
        let stairs = (1...600).reversed().map { String(repeating: "`", count: $0) + " word and more words here " }.joined()
            + (1...600).reversed().map { "\n" + String(repeating: "~", count: $0 + 2) + " text" }.joined()
        #expect(try await judge("language", ["target": "en"], response: stairs).score > 0.9)
        let longRun = String(repeating: "我 ", count: 100_000)
        #expect(try await judge("language", ["target": "zh"], response: longRun).score == 1)
    }
}

@Suite("language model and text handling")
struct LanguageInternalsTests {
    @Test("a damaged model is an error, not a crash", arguments: [
        "", "L\ten\t1\t2\n", "L\ten\t1\t2\t3\nG\tab\t0:x\n", "L\ten\t1\t2\t3\nG\tabcd\t0:1\n", "L\ten\t1\t2\t3\nG\tab\t7:1\n",
        "X\n",
    ])
    func damaged(_ text: String) {
        #expect(throws: ArbiterError.self) { try LanguageModel(text: text) }
    }

    @Test("a damaged byte model is an error, not a crash", arguments: [
        "", "B\t1000\txx,yy\n", "B\t0\txx\nP\tAAA=\n", "B\t1000\txx,yy\nP\tAAAAAA==\n",
        "B\t1000\txx,yy\nP\tAAAAAA==\nF\t61\tAAA=\n", "B\t1000\txx\nP\tAAA=\nF\t6\tAAA=\n",
        "B\t1000\txx\nP\tAAA=\nF\t0102030405\tAAA=\n", "B\t1000\txx\nP\tAAA=\nF\tzz\tAAA=\n",
        "B\t1000\txx\nP\tAAA=\nF\t61\tAAA=\nF\t61\tAAA=\n", "B\t1000\txx\nP\tA!A=\n", "X\n",
    ])
    func damagedByteModel(_ text: String) {
        #expect(throws: ArbiterError.self) { try ByteNgramModel(text: text) }
    }

    @Test("the byte model reads case and every overlapping feature; the shipped one has the character model's languages")
    func byteModel() throws {
        // Features "A" (0x41) and "Ab" (0x4162); weights xx: 0, -1; yy: -1, 0 (int16 × 1000, little-endian).
        func row(_ values: [Int16]) -> String {
            Data(values.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] })
                .base64EncodedString()
        }
        let model = try ByteNgramModel(
            text: "B\t1000\txx,yy\nP\t\(row([0, -500]))\nF\t41\t\(row([0, -1000]))\nF\t4162\t\(row([-1000, 0]))\n")
        var scores: [Float] = [0, 0]
        Array("AbAbA ab".utf8).withUnsafeBufferPointer { bytes in
            scores.withUnsafeMutableBufferPointer { model.accumulate(bytes, into: $0.baseAddress!) }
        }
        #expect(scores == [-2, -3], "three A (xx 0, yy -1 each), two Ab (xx -1, yy 0 each), lowercase ab nothing")
        #expect(model.priors == [0, -0.5])
        #expect(ByteNgramModel.shared.languages == LanguageModel.codes)
    }

    @Test("a script's ordinal is its index in allCases, and the model lists each script's languages")
    func scriptOrdinals() {
        for (index, script) in Script.allCases.enumerated() {
            #expect(Int(script.ordinal) == index)
            #expect(Set([script, .latin]).count == (script == .latin ? 1 : 2))
        }
        let model = LanguageModel.shared
        #expect(model.languages(writtenIn: .latin).contains(model.index(of: "en")!))
        #expect(model.languages(writtenIn: .cyrillic).map { model.languages[$0] }.sorted() == ["bg", "mk", "ru", "uk"])
        #expect(model.languages(writtenIn: .han).map { model.languages[$0] } == ["ja", "zh"])
    }

    @Test("the fast paths for common blocks agree with the Unicode properties")
    func fastPaths() {
        for value in UInt32(0x80)...0xFFFF {
            guard let scalar = Unicode.Scalar(value), let script = Script.of(scalar) else { continue }
            #expect(scalar.properties.isAlphabetic, "\(value)")
            let lower = scalar.properties.lowercaseMapping.unicodeScalars
            var expected = lower.count == 1 ? lower.first!.value : value
            switch expected {
            case 0x1EA0...0x1EFF: expected = 0x1EC3
            case 0x0219: expected = 0x015F
            case 0x021B: expected = 0x0163
            case 0x06CC: expected = 0x064A
            default: break
            }
            #expect(Words.folded(scalar) == expected, "\(value) (\(script))")
        }
    }

    @Test("a small model parses and identifies")
    func smallModel() throws {
        let model = try LanguageModel(text: "L\txx\t10\t10\t10\nL\tyy\t10\t10\t10\nG\ta\t0:9,1:1\nG\tb\t1:9\nG\t ab\t0:5\n")
        #expect(model.languages == ["xx", "yy"])
        let identifier = LanguageIdentifier(model: model)
        #expect(identifier.identify("aaa aa")?.language == "xx")
        #expect(identifier.identify("bbb bb")?.language == "yy")
    }

    @Test("think, answer and all spans", arguments: [
        ("<think>r</think>a", nil as String?, ThinkSpan.think, "<think>r"), ("<think>r</think>a", nil, .answer, "a"),
        ("<think>r</think>a", nil, .all, "<think>r</think>a"), ("plain", nil, .think, "plain"), ("plain", nil, .answer, "plain"),
        ("<think>unclosed", nil, .think, "<think>unclosed"), ("<think>unclosed", nil, .answer, ""),
        // Reasoning before a second, fake think block is read too; the answer follows the last close.
        ("中文<think>en</think>a", nil, .think, "中文<think>en"), ("<think>x</think>y<think>z</think>a", nil, .answer, "a"),
        ("r</think>a", "User: hi <think>\n", .think, "r"), ("r</think>a", "User: hi <think>\n", .answer, "a"),
        ("still thinking", "User: hi <think>", .answer, ""),
    ])
    func spans(_ response: String, _ prompt: String?, _ span: ThinkSpan, _ expected: String) {
        #expect(span.text(of: response, prompt: prompt) == expected[...])
    }

    @Test("the prose filter keeps prose and drops code, math, URLs and tags (whitespace runs compared as one)", arguments: [
        ("a $x+1$ b", "a b"), ("a $$\\sum_i i$$ b", "a b"), ("a \\(x\\) b \\[y\\] c", "a b c"),
        ("a `code` b", "a b"), ("a\n```\nlet x = 1\n```\nb", "a\nb"), ("see https://x.org/p now", "see now"),
        ("<answer>4</answer>", " 4 "), ("costs 5$ only", "costs 5$ only"), ("a \\alpha b", "a b"),
        ("unclosed $ stays", "unclosed $ stays"), ("\\begin{align}x&=1\\end{align} ok", "\nok"),
        ("x < y and y > z", "x < y and y > z"),
        // Other scripts in code and math, and the argument of \text, still count; Latin and Greek in them do not.
        ("a `变量 x` b", "a 变量 b"), ("```py\n# 注释 comment\ny = 1\n```", "\n注释\n"),
        ("$\\text{if } x \\text{ is odd}$", " if is odd "), ("$\\alpha + 面积 \\cdot β$", " 面积 "),
        ("\\[\\mbox{für alle} \\; n\\]", " für alle "), ("$x \\text{unclosed$", " "),
        ("\\begin{itemize}\n\\item Hola amigos\n\\end{itemize}", "\nHola amigos\n"),
        ("see \\label{eq:main} and \\ref{fig:a}", "see and "), ("\\begin{proof} easy \\end{proof}", "\neasy\n"),
        // Hiding places that do not work: a tag, a URL, a control symbol or a reference command's argument cannot
        // swallow other scripts; Greek words (not one-letter variables) in math count.
        ("see \\ref{我们先计算} now", "see 我们先计算 now"), ("\\begin{我们}", "我们\n"), ("$α + λόγος$", " λόγος "),
        ("<a中文推理> ok", "<a中文推理> ok"), ("https://example.org/中文推理 ok", " 中文推理 ok"), ("\\中\\文", " 中 文"),
    ])
    func prose(_ text: String, _ expected: String) {
        // A run of whitespace is a line break when it holds one (a sentence ends there), else a space.
        func collapsed(_ value: String) -> String {
            value.replacing(#/\s+/#) { $0.output.contains("\n") ? "\n" : " " }
        }
        #expect(collapsed(ProseFilter.prose(text)) == expected, "\(collapsed(ProseFilter.prose(text)).debugDescription)")
    }

    @Test("words: scripts split words, marks stay inside, units are characters for Han and Thai")
    func words() {
        let words = Words("API接口 नमस्ते ภาษาไทย Ünïcode")
        #expect(words.words.map(\.script) == [.latin, .han, .devanagari, .thai, .latin])
        #expect(words.words.map(\.units) == [1, 2, 1, 7, 1])
        #expect(words.words[0].sentence == 0)
        #expect(Words("One. Two").words.map(\.sentence) == [0, 1])
    }
}

@Suite("language over every required language")
struct LanguagePerLanguageTests {
    /// A chain of thought made of the first ten evaluation sentences of a language, one per line.
    static func chain(_ language: String, _ sentences: [Sentence]) -> String {
        "<think>" + sentences.filter { $0.language == language }.prefix(10).map(\.text).joined(separator: "\n") + "</think>"
    }

    @Test("a chain of thought of a language's sentences scores at least 0.9 for it and at most 0.15 for English")
    func everyLanguage() async throws {
        let sentences = try Sentence.load()
        for language in required {
            let cot = Self.chain(language, sentences)
            let own = try await judge("language", ["target": .string(language)], response: cot)
            #expect(own.score >= 0.9, "\(language): \(own.score) \(own.details)")
            guard language != "en" else { continue }
            let english = try await judge("language", ["target": "en"], response: cot)
            #expect(english.score <= 0.15, "\(language) read as English: \(english.score) \(english.details)")
        }
    }

    @Test("the score falls as foreign sentences replace target ones")
    func monotonic() async throws {
        let sentences = try Sentence.load()
        let english = sentences.filter { $0.language == "en" && $0.text.split(separator: " ").count >= 6 }.prefix(6)
        let german = sentences.filter { $0.language == "de" && $0.text.split(separator: " ").count >= 6 }.prefix(6)
        var previous = 1.1
        for swapped in 0...6 {
            let lines = german.prefix(swapped).map(\.text) + english.dropFirst(swapped).map(\.text)
            let verdict = try await judge("language", ["target": "en"], response: lines.joined(separator: "\n"))
            #expect(verdict.score < previous, "\(swapped) German lines: \(verdict.score)")
            previous = verdict.score
        }
        #expect(previous <= 0.15)
    }
}

/// The attack review of session 30: a short prompt's language, Chinese with a Kana dropped in, foreign reasoning
/// cut into short pieces.
@Suite("language: attack review (session 30)")
struct LanguageAttackReviewTests {
    static let english = "<think>We need to compute this carefully. First we write down the expression and then simplify it step by step.</think> \\boxed{70}"
    static let romanian = "<think>Trebuie să calculăm cu atenție. Mai întâi scriem expresia și apoi o simplificăm pas cu pas.</think> \\boxed{70}"

    @Test("a short English prompt's target is the fallback, English: English reasoning scores 1, Romanian 0", arguments: [
        "Compute $\\dbinom{8}{4}$.", "Evaluate $\\log_28\\sqrt{2}$.", "Calculate $6 \\cdot 8\\frac{1}{3}$.",
        "Integrate $\\int x^2 \\, dx$.", "Differentiate $f(x) = x^3 \\sin x$.", "Solve for $x$: $5 - x = 8$.", "x",
        "Let $z = 2 + i$. Compute $z^2$.",
    ])
    func shortPrompt(_ prompt: String) async throws {
        // Before: ro, ro, ro, de, it, no, fr, fr from the prompt, so Romanian reasoning was paid and English not.
        let english = try await judge("language", response: Self.english, prompt: prompt)
        #expect(english.details["target"] == "en" && english.details["target_from"] == "fallback", "\(english.details)")
        #expect(english.score == 1 && english.passed)
        let romanian = try await judge("language", response: Self.romanian, prompt: prompt)
        #expect(romanian.score == 0 && !romanian.passed, "\(romanian.details)")
        // An explicit target, a language-code reference, and an emptied fallback_target keep the old answers.
        #expect(try await judge("language", ["target": "ro"], response: Self.romanian, prompt: prompt).score == 1)
        #expect(try await judge("language", response: Self.romanian, reference: "ro", prompt: prompt).score == 1)
        let guessed = try await judge("language", ["fallback_target": ""], response: Self.english, prompt: prompt)
        #expect(guessed.details["target_from"] == "prompt" && guessed.details["target"] != "en")
    }

    @Test("a prompt without words, or no prompt, takes the fallback instead of failing the request", arguments: [
        "$2+2=?$", "2+2=?", "$\\int_0^1 x\\,dx$", "🙂🙂", "```python\nprint(1)\n```", nil,
    ])
    func wordlessPrompt(_ prompt: String?) async throws {
        let verdict = try await judge("language", response: Self.english, prompt: prompt)
        #expect(verdict.details["target"] == "en" && verdict.details["target_from"] == "fallback" && verdict.score == 1)
        #expect(try await judge("language", response: Self.romanian, prompt: prompt).score == 0)
        #expect(try await judge("language", ["fallback_target": "ro"], response: Self.romanian, prompt: prompt).score == 1)
    }

    @Test("prompts that say their language keep it: long ones, short ones that rule English out, scripts", arguments: [
        ("What is the smallest positive perfect cube that can be written as the sum of three consecutive integers?", "en"),
        ("Find the remainder when $2^{100}$ is divided by 7.", "en"),
        ("Trouvez le reste de la division de $2^{100}$ par 7.", "fr"),
        ("Calculez l'intégrale $\\int_0^1 x\\,dx$.", "fr"),
        ("Löse die Gleichung $x^2 = 4$.", "de"),
        ("Resuelve la ecuación $x^2 = 4$.", "es"),
        ("Rozwiąż równanie $x^2 = 4$.", "pl"),
        ("Rezolvați ecuația $x^2 = 4$.", "ro"),
        ("Вычислите $\\dbinom{8}{4}$.", "ru"),
        ("计算 $\\dbinom{8}{4}$。", "zh"),
        ("$\\dbinom{8}{4}$ を計算せよ。", "ja"),
        ("Υπολογίστε $\\dbinom{8}{4}$.", "el"),
    ])
    func promptsKeepTheirLanguage(_ prompt: String, _ language: String) async throws {
        let verdict = try await judge("language", response: Self.english, prompt: prompt)
        #expect(verdict.details["target"] == .string(language) && verdict.details["target_from"] == "prompt", "\(verdict.details)")
    }

    @Test("Chinese with a Kana or a few dropped in is Chinese; Japanese, kanji-heavy lines too, stays Japanese")
    func kana() async throws {
        let chinese = "<think>我们先计算总和，然后检查结果是否正确。首先把所有的数字加起来，得到总和为四。最后确认这个答案没有问题。の</think>4"
        let prompt = "次の計算をしてください。二と二を足すといくつですか。"
        // Before: 47 of 47 units Japanese.
        let verdict = try await judge("language", response: chinese, prompt: prompt)
        #expect(verdict.details["target"] == "ja")
        #expect(verdict.details["counts"] == ["zh": 46, "ja": 1], "\(verdict.details)")
        let sprinkled = "<think>我们先计算の总和。然后检查の结果。最后确认の答案。</think>"
        #expect(try await judge("language", ["target": "ja"], response: sprinkled).score < 0.3)
        // Controls: real Japanese, a kanji-heavy line of mathematics, and a kanji-only heading in Japanese text.
        let japanese = "<think>二次方程式の解の公式を使う。\n判別式\nまず判別式を計算します。値は正なので、実数解は二つあります。</think>"
        let ja = try await judge("language", ["target": "ja"], response: japanese)
        #expect(ja.score == 1, "\(ja.details)")
        let zh = try await judge("language", ["target": "zh"], response: japanese)
        #expect(zh.details["counts"]?.objectValue?["zh"] == .int(3), "only the heading is Chinese: \(zh.details)")
        for sentence in try Sentence.load() + Sentence.load("dev-sentences.jsonl") where sentence.language == "ja" {
            for target in ["ja", "zh"] {
                let counts = try await judge("language", ["target": .string(target)], response: sentence.text).details["counts"]
                #expect(counts?.objectValue?["zh"] == nil, "\(sentence.text) \(target): \(String(describing: counts))")
            }
        }
    }

    @Test("foreign reasoning in pieces of 2 to 4 words is not the target's; honest English with names stays 1")
    func shortRuns() async throws {
        let french = "<think>Let me work through this carefully. Soit n le nombre. Il est pair. Donc n vaut deux k. Or k est premier. Donc k vaut deux. Ainsi n vaut quatre. Vérifions. Quatre est pair. Deux est premier. Tout est bon.</think> The answer is \\boxed{4}."
        // Before: 34 of 34 units English.
        let verdict = try await judge("language", response: french, prompt: "Please solve the following problem and explain your reasoning step by step.")
        #expect(verdict.details["target"] == "en")
        #expect(verdict.score < 0.6 && !verdict.passed, "\(verdict.details)")
        let honest = [
            "Let me compute the total first. We need the sum of the roots. By Vieta, it is five. Okay. So far so good. Now check. Good.",
            "Hmm, wait. Let me recheck. Yes, that works. By Fermat's little theorem, we reduce the exponent. Then apply Euler. Done.",
            "Alice has five apples. Bob gives her three more. So Alice has eight. Right. Next, Carol takes two. Left with six.",
            "Using the Cauchy-Schwarz inequality, we bound the sum. Then by AM-GM, equality holds. So the minimum is two.",
            "Apply L'Hôpital's rule. The limit becomes one. Then we use Taylor series. Nice. So the answer is one half.",
            "Consider the Fibonacci sequence. Each term is the sum of the two before. Per Binet's formula, we get phi. Okay then.",
            "By Bézout's identity, there exist integers. Via the Euclidean algorithm, we find them. Nice, works. Done.",
            "Per Gauss's lemma, the polynomial is irreducible. Eisenstein's criterion applies with prime two. Great.",
            "Let n be the number. Suppose n is even. Then n equals two k. Thus k is prime. Hence k is two. So n is four.",
            "We check the answer again. Cauchy-Schwarz. Irreducible, Eisenstein. Natalia sold clips, OK. Large pizzas. Done.",
        ]
        for text in honest {
            let verdict = try await judge("language", ["target": "en"], response: "<think>\(text)</think>")
            #expect(verdict.score == 1, "\(text): \(verdict.details)")
        }
        // Names no language clearly claims stay with their sentence's language (`stripe connect` leans French at 0.52).
        for (text, target) in [("Stripe Connect: slepenā atslēga", "lv"), ("Stripe Connect: Khóa có thể xuất bản", "vi")] {
            #expect(try await judge("language", ["target": .string(target)], response: text).score == 1, "\(text)")
        }
    }
}

extension LanguageAttackReviewTests {
    @Test("every English prompt of short-prompts.jsonl gets the target en; the others keep their language or fall back")
    func shortPromptsFixture() async throws {
        var kept = 0
        var others = 0
        for row in try loadObjects("short-prompts.jsonl") {
            let language = try #require(row["language"]?.stringValue)
            let verdict = try await judge("language", response: Self.english, prompt: row["prompt"]?.stringValue)
            let target = verdict.details["target"]?.stringValue
            if language == "en" {
                #expect(target == "en", "\(row): \(verdict.details)")
            } else {
                others += 1
                if target == language { kept += 1 }
            }
        }
        // 61 prompts in other languages: most keep theirs (a short Cyrillic one may still be read as Bulgarian).
        #expect(others == 61 && kept >= 50, "\(kept) of \(others)")
    }
}
