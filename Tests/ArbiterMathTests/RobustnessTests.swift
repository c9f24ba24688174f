// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterMath
import Testing

/// Inputs that crashed the daemon (a trap, a stack overflow), overflowed into a false reward, or were mis-read; each
/// with a control that the same construction, written sensibly, still earns its reward.
@Suite("math: hostile answers neither crash nor earn a false reward")
struct MathRobustnessTests {
    /// A digit-less second argument after a one-character first one: a forced unwrap trapped on `.` and `e`.
    @Test("\\frac1.5, \\frac1e308, \\binom1.5 … are unreadable, not a crash", arguments: [
        "The answer is $\\frac1.5$.", "The answer is $\\frac1e308$.", "The answer is $\\dfrac1.5$.",
        "The answer is $\\tfrac1.5$.", "The answer is $\\binom1.5$.", "The answer is $\\frac.5$.",
        "$\\boxed{\\frac1e5}$", "$\\boxed{\\sqrt1.5}$", "$\\boxed{\\frac1٣}$", "$\\boxed{1e٣}$", "$\\boxed{\\frac٣4}$",
    ])
    func oneCharacterArguments(_ response: String) async throws {
        let verdict = try await grade(response, "1")
        #expect(!verdict.passed, "\(verdict.reason)")
    }

    @Test("control: one-digit arguments still read as LaTeX does")
    func oneDigitControl() async throws {
        #expect(try await grade("The answer is $\\frac12$.", "0.5").passed)
        #expect(try await grade("The answer is $\\binom52$.", "10").passed)
        #expect(try await grade("The answer is $\\frac1{.5}$.", "2").passed)
        #expect(try await grade("The answer is $\\frac123$.", "\\frac{3}{2}").passed)
    }

    /// Each `!` wraps the value once more; `\frac\frac…` and `\sqrt\sqrt…` recursed without passing the depth count.
    @Test("thousands of !, \\frac or \\sqrt in a row are a budget verdict, not a stack overflow", .timeLimit(.minutes(1)),
        arguments: [
            "\\boxed{3" + String(repeating: "!", count: 5_000) + "}",
            "\\boxed{2^3" + String(repeating: "!", count: 5_000) + "}",
            "\\boxed{" + String(repeating: "\\frac", count: 3_000) + "12}",
            "\\boxed{" + String(repeating: "\\sqrt", count: 3_000) + "4}",
            "\\boxed{" + String(repeating: "\\mathrm", count: 3_000) + "4}",
        ])
    func chains(_ response: String) async throws {
        let verdict = try await grade(response, "3")
        #expect(verdict.reason == "budget")
    }

    @Test("control: short chains still compute")
    func chainControl() async throws {
        #expect(try await grade("\\boxed{3!!}", "720").passed)
        #expect(try await grade("\\boxed{\\frac{\\frac{1}{2}}{2}}", "\\frac14").passed)
        #expect(try await grade("\\boxed{\\sqrt{\\sqrt{16}}}", "2").passed)
    }

    /// `2^1e99999` read its exponent as 0 and equalled 1; huge or tiny decimals were compared as doubles, where
    /// 1.5e400 and 1.2e400 are both infinite and 1e-400 and 2e-400 both 0.
    @Test("numbers past a double's range are never equal by overflow or underflow", arguments: [
        ("\\boxed{2^1e99999}", "1"), ("\\boxed{2^1e99999}", "2"), ("\\boxed{1.5e400}", "1.2e400"),
        ("\\boxed{1e-400}", "2e-400"), ("\\boxed{-1.5e400}", "-1.2e400"), ("\\boxed{1.5e400}", "-1.5e400"),
        ("\\boxed{\\pi\\cdot 10^{-400}}", "2\\pi\\cdot 10^{-400}"), ("\\boxed{e^{-1000}}", "e^{-2000}"),
        ("\\boxed{e^{-1000}\\sqrt2}", "e^{-1000}\\sqrt3"), ("\\boxed{e^{-1000x}}", "e^{-2000x}"),
        ("\\boxed{\\sqrt{2}\\cdot 10^{-320}}", "\\sqrt{3}\\cdot 10^{-320}"), ("\\boxed{\\frac{\\pi}{10^{400}}}", "\\frac{2\\pi}{10^{400}}"),
        ("\\boxed{1" + String(repeating: "0", count: 6_000) + "}", "10^{6000}"),
    ])
    func noOverflowEquality(_ response: String, _ reference: String) async throws {
        let verdict = try await grade(response, reference)
        #expect(!verdict.passed, "\(verdict.reason) \(verdict.details["method"] ?? "")")
    }

    @Test("control: the same huge and tiny values, written differently, are equal")
    func hugeControl() async throws {
        #expect(try await grade("\\boxed{1.5e400}", "15e399").passed)
        #expect(try await grade("\\boxed{1e-400}", "10^{-400}").passed)
        #expect(try await grade("\\boxed{2^1e3}", "2^{1000}").passed)
        #expect(try await grade("\\boxed{e^{-10}}", "\\frac{1}{e^{10}}").passed)
        #expect(try await grade("\\boxed{\\pi\\cdot 10^{-4}}", "10^{-4}\\pi").passed)
        #expect(try await grade("\\boxed{0 \\cdot \\pi}", "0").passed)
        let digits = "1" + String(repeating: "0", count: 4_000)
        #expect(try await grade("\\boxed{\(digits) + 1}", "1 + \(digits)").passed)
    }

    @Test("decimal_tolerance is relative and exact far past a double's range")
    func toleranceOnHugeDecimals() async throws {
        var registry = VerifierRegistry()
        registry.registerMathVerifiers()
        let tolerant = try registry.entry(named: "math").verifier(options: ["decimal_tolerance": .double(0.01)])
        let close = try await tolerant.verify(Sample(response: "\\boxed{1.005e400}", reference: "1e400"))
        let far = try await tolerant.verify(Sample(response: "\\boxed{1.5e400}", reference: "1e400"))
        let tiny = try await tolerant.verify(Sample(response: "\\boxed{1.5e-400}", reference: "1e-400"))
        #expect(close.passed)
        #expect(!far.passed)
        #expect(!tiny.passed)
    }

    /// Found by `scripts/worst-case-inputs.py`: 3,300 digit groups in a 20 KB answer took 43 s in a debug build
    /// (the bracket depth was recounted from the start for each group). Its speed is measured there; here, that
    /// grouping still reads as before.
    @Test("thousands separators join in one pass, and not inside brackets", .timeLimit(.minutes(1)))
    func thousandsInOnePass() async throws {
        let verdict = try await grade("\\boxed{" + String(repeating: "1,000 ", count: 3_300) + "}", "1")
        #expect(!verdict.passed)
        #expect(try await grade("\\boxed{1,000,000}", "1000000").passed)
        #expect(try await grade("\\boxed{(12,102)}", "(12, 102)").passed)
        #expect(try await !grade("\\boxed{(12,102)}", "12102").passed)
        #expect(try await grade("\\boxed{\\{1,234\\}}", "\\{1, 234\\}").passed)
    }

    /// A GSM8K solution as the reference: the answer is what follows `####`.
    @Test("a GSM8K-style reference grades on its final answer")
    func gsm8kReference() async throws {
        let reference = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips.\n#### 72"
        let right = try await grade("She sold 72 clips in all, so the answer is $\\boxed{72}$.", reference)
        #expect(right.passed)
        #expect(right.details["reference"] == "72")
        #expect(try await !grade("The answer is $\\boxed{24}$.", reference).passed)
        #expect(try await grade("The answer is 1000.", "10*100 = <<10*100=1000>>1000\n#### 1,000").passed)
        // The last marker counts: a solution that states 72 along the way but ends `#### 24` is 24.
        #expect(try await !grade("\\boxed{72}", "Natalia sold 72 clips.\n#### 24").passed)
    }
}
