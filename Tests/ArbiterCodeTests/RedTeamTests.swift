// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Testing

/// False passes found by a red-team pass on the test harnesses, each refused now.
@Suite("code: red-team findings")
struct RedTeamTests {
    static let humanEval: JSONValue = [
        "language": "python", "entry_point": "add",
        "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(10, 1) == 11\n",
    ]

    @Test("Python: shadowing the comparison helper, __module__ spoofing and a test-time tracer do not pass",
          arguments: [
        #"""
        # shadow the rewritten comparison helper in program globals
        __arbiter_strict_eq__ = lambda a, b: True
        def add(a, b):
            return 0
        """#,
        #"""
        # __module__ spoof: own __eq__ trusted
        class W:
            __module__ = 'fractions'
            def __eq__(self, o): return True
            def __ne__(self, o): return False
        def add(a, b):
            return W()
        """#,
        #"""
        # global trace: when the test script's module frame returns, replace check's code with a no-op
        import sys
        def glob(frame, event, arg):
            if frame.f_code.co_filename.startswith('test_') and frame.f_code.co_name == '<module>':
                def local(fr, ev, a):
                    if ev == 'return':
                        c = fr.f_globals.get('check')
                        if c is not None:
                            c.__code__ = (lambda candidate: None).__code__
                    return local
                return local
            return None
        sys.settrace(glob)
        def add(a, b):
            return 0
        """#,
    ])
    func pythonTest(_ program: String) async throws {
        let verdict = try await judge(fenced(program), Self.humanEval)
        #expect(!verdict.passed && verdict.score == 0, "\(verdict.details)")
    }

    @Test("Python: builtins and modules the test uses cannot be shadowed or poisoned by the program")
    func shadowedBuiltins() async throws {
        let reference: JSONValue = [
            "language": "python", "entry_point": "truncate_number",
            "test": "import math\ndef check(candidate):\n    assert abs(candidate(3.5) - 0.5) < 1e-6\n    assert math.isclose(candidate(1.25), 0.25)\n",
        ]
        let verdict = try await judge(fenced(#"""
        # shadow builtins the test uses via program globals; poison sys.modules
        import sys, types
        def abs(x): return 0
        m = types.ModuleType('math'); m.isclose = lambda *a, **k: True
        sys.modules['math'] = m
        class W:
            def __eq__(self, o): return True
            def __sub__(self, o): return 0
            def __float__(self): return 0.0
        def truncate_number(x):
            return W()
        """#), reference)
        #expect(!verdict.passed && verdict.score == 0, "\(verdict.details)")
        let honest = try await judge(fenced("def truncate_number(x):\n    return x % 1.0"), reference)
        #expect(honest.passed, "\(honest.details)")
    }

    @Test("Python: always-equal elements in sets and through `in` do not pass")
    func setsAndMembership() async throws {
        let program = """
            class W:
                def __eq__(self, o): return True
                def __hash__(self): return 1
            def f(n):
                return {W(), W()} if n == 1 else W()
            """
        let reference: JSONValue = ["language": "python", "test": ["assert f(1) == {1, 2}", "assert f(3) in (4, 5)"]]
        let verdict = try await judge(fenced(program), reference)
        #expect(verdict.score == 0, "\(verdict.details)")
        let honest = try await judge(fenced("def f(n):\n    return {1, 2} if n == 1 else 4"), reference)
        #expect(honest.passed)
    }

    @Test("calls: a forged \"passed\" record is never taken without comparing the value")
    func forgedCallRecord() async throws {
        let reference: JSONValue = [
            "language": "python", "calls": ["function": "add", "cases": [["args": [1, 2], "expected": 3]]],
        ]
        let verdict = try await judge(fenced(#"""
        # frame walk: steal nonce, forge report
        import sys, os
        f = sys._getframe(1)
        n = f.f_locals['nonce']
        os.write(4, (n + ' [0, "passed", 0]\n' + n + ' ["end"]\n').encode())
        os._exit(0)
        """#), reference)
        #expect(!verdict.passed && verdict.score == 0, "\(verdict.details)")
    }

    @Test("JavaScript: Array.prototype.toJSON cannot rewrite reports; the test's assert is the original")
    func javascript() async throws {
        let test: JSONValue = [
            "language": "javascript",
            "test": "const assert = require(\"node:assert\");\nassert.deepEqual(add(1, 2), 3);\nassert.strictEqual(add(5, 5), 10);\n",
        ]
        let calls: JSONValue = [
            "language": "javascript", "calls": ["function": "add", "cases": [["args": [1, 2], "expected": 3]]],
        ]
        for program in [#"""
        // prototype pollution: the harness's report() JSON.stringify()s an array -> Array.prototype.toJSON rewrites every record
        Object.defineProperty(Array.prototype, 'toJSON', { value: function () {
          return (typeof this[0] === 'number' && typeof this[1] === 'string') ? [this[0], 'passed', 0] : Array.from(this);
        }, configurable: true, writable: true });
        function add(a, b) { return 0; }
        """#, #"""
        // only mutate the shared assert module's methods
        const a = require('node:assert');
        for (const k of ['deepEqual','strictEqual','deepStrictEqual','equal','ok','notEqual']) a[k] = () => {};
        function add(a, b) { return 0; }
        """#] {
            #expect(try await !judge(fenced(program, "javascript"), test).passed)
            #expect(try await !judge(fenced(program, "javascript"), calls).passed)
        }
        #expect(try await judge(fenced("function add(a, b) { return a + b; }", "javascript"), test).passed)
        #expect(try await judge(fenced("function add(a, b) { return a + b; }", "javascript"), calls).passed)
    }

    @Test("JavaScript calls: NaN, undefined and a Map are not null, [null] and {}")
    func strictJSON() async throws {
        let reference: JSONValue = [
            "language": "javascript",
            "calls": ["function": "f", "cases": [
                ["args": [0], "expected": .null], ["args": [1], "expected": [.null]], ["args": [2], "expected": [:]],
            ]],
        ]
        let verdict = try await judge(fenced(#"""
        function f(i){ return [NaN, [undefined], new Map([[1,2]])][i]; }
        """#, "javascript"), reference)
        #expect(verdict.score == 0, "\(verdict.details)")
    }

    @Test("C: a program that defines NDEBUG does not switch the test's asserts off")
    func ndebug() async throws {
        let reference: JSONValue = [
            "language": "c", "test": "#include <assert.h>\nint main(void) {\n    assert(add(1, 2) == 3);\n    return 0;\n}\n",
        ]
        #expect(try await !judge(fenced(#"""
        #define NDEBUG 1
        int add(int a, int b) { return 0; }
        """#, "c"), reference).passed)
        #expect(try await judge(fenced("int add(int a, int b) { return a + b; }", "c"), reference).passed)
    }
}
