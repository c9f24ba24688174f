// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Testing

/// False passes found by a red-team pass on the test harnesses, each refused now.
@Suite(
    "code: red-team findings",
    .enabled(if: isolatedTestsRun, "needs namespaces (root or unprivileged user namespaces)"))
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

    /// Attacks on the nonce of the Python harness: each reads it by one route and writes a "passed" record for every
    /// case and the end, on fd 4 or through the runner's /proc entry. Against the single-process harness (the
    /// program and the tests in one interpreter) the frame walk, the garbage-collector walk and the /proc/self/mem
    /// scan forged a pass; now the program runs in a process that never held the nonce nor fd 4, apart from a
    /// non-dumpable runner.
    static let nonceThieves = [
        #"""
        # frame walk: the nonce in a calling frame's locals
        import os, sys
        def add(a, b):
            return 0
        _frame = sys._getframe()
        while _frame is not None:
            _nonce = _frame.f_locals.get("nonce")
            if isinstance(_nonce, str):
                _lines = "".join('%s [%d, "passed", 0]\n' % (_nonce, i) for i in range(64)) + _nonce + ' ["end"]\n'
                os.write(4, _lines.encode())
                os._exit(0)
            _frame = _frame.f_back
        """#,
        #"""
        # garbage collector: the nonce in a harness closure's cells (gc.get_objects) or a referrer of this module
        import gc, os, re
        def add(a, b):
            return 0
        _shape = re.compile(r"[0-9a-z]{1,13}(?:-[0-9a-z]{1,13}){3}\Z")
        _found = set()
        _objects = gc.get_objects() + gc.get_referrers(globals())
        for _object in _objects:
            _values = list(_object.values()) if isinstance(_object, dict) else []
            for _cell in getattr(_object, "__closure__", None) or ():
                try:
                    _values.append(_cell.cell_contents)
                except ValueError:
                    pass
            _found.update(v for v in _values if isinstance(v, str) and _shape.match(v))
        for _nonce in _found:
            _lines = "".join('%s [%d, "passed", 0]\n' % (_nonce, i) for i in range(64)) + _nonce + ' ["end"]\n'
            os.write(4, _lines.encode())
        if _found:
            os._exit(0)
        """#,
        #"""
        # /proc/self/mem: every nonce-shaped string in this process's writable memory
        import os, re
        def add(a, b):
            return 0
        _shape = re.compile(rb"(?<![0-9a-z-])[0-9a-z]{6,13}(?:-[0-9a-z]{6,13}){3}(?![0-9a-z-])")
        _found = set()
        with open("/proc/self/maps") as _maps, open("/proc/self/mem", "rb", buffering=0) as _mem:
            for _line in _maps:
                _fields = _line.split()
                if "rw" not in _fields[1]:
                    continue
                _start, _end = (int(x, 16) for x in _fields[0].split("-"))
                try:
                    _mem.seek(_start)
                    _found.update(_shape.findall(_mem.read(_end - _start)))
                except (OSError, OverflowError, ValueError):
                    pass
        _out = b"".join(b"".join(b'%s [%d, "passed", 0]\n' % (n, i) for i in range(64)) + n + b' ["end"]\n'
                        for n in _found)
        if _found:
            os.write(4, _out)
            os._exit(0)
        """#,
        #"""
        # the parent: nonce-shaped strings in /proc/<ppid>/mem, fd 3 and environ; reports through fd 4 or the
        # parent's fd 4; at import and again inside the call, when the runner holds the nonce
        import os, re
        _shape = re.compile(rb"(?<![0-9a-z-])[0-9a-z]{6,13}(?:-[0-9a-z]{6,13}){3}(?![0-9a-z-])")
        def _steal():
            parent = os.getppid()
            found = set()
            try:
                with open("/proc/%d/maps" % parent) as maps, open("/proc/%d/mem" % parent, "rb", buffering=0) as mem:
                    for line in maps:
                        fields = line.split()
                        if "rw" in fields[1]:
                            start, end = (int(x, 16) for x in fields[0].split("-"))
                            try:
                                mem.seek(start)
                                found.update(_shape.findall(mem.read(end - start)))
                            except (OSError, OverflowError, ValueError):
                                pass
            except OSError:
                pass
            for name in ("fd/3", "environ"):
                try:
                    with open("/proc/%d/%s" % (parent, name), "rb") as f:
                        found.update(_shape.findall(f.read()))
                except OSError:
                    pass
            out = b"".join(b"".join(b'%s [%d, "passed", 0]\n' % (n, i) for i in range(64)) + n + b' ["end"]\n'
                           for n in found)
            for path in ("/proc/self/fd/4", "/proc/%d/fd/4" % parent):
                try:
                    with open(path, "wb", buffering=0) as f:
                        f.write(out)
                except OSError:
                    pass
        _steal()
        def add(a, b):
            _steal()
            return 0
        """#,
    ]

    @Test("Python: the nonce cannot be read by a frame walk, gc, /proc/self/mem or the parent's /proc entries",
          arguments: nonceThieves)
    func nonceTheft(_ program: String) async throws {
        let verdict = try await judge(fenced(program), Self.humanEval)
        #expect(!verdict.passed && verdict.score == 0, "\(verdict.details)")
        let mbpp = try await judge(fenced(program), ["test": ["assert add(1, 2) == 3", "assert add(0, 1) == 1"]])
        #expect(!mbpp.passed && mbpp.score == 0, "\(mbpp.details)")
    }

    @Test("Python: a result whose __bool__ reads its caller's code cannot fake a bare `assert f(x)`")
    func truthByCallerInspection() async throws {
        let reference: JSONValue = [
            "language": "python", "entry_point": "is_prime",
            "test": "def check(candidate):\n    assert candidate(7)\n    assert not candidate(8)\n    assert candidate(13)\n",
        ]
        let liar = #"""
            # __bool__ looks at the instruction that asked: a jump that passes when true gets True, else False
            import sys
            def _wanted():
                frame = sys._getframe(2)
                code, at = frame.f_code.co_code, frame.f_lasti
                import dis
                name = dis.opname[code[at]]
                return "IF_TRUE" in name or "IF_NOT" in name or name == "UNARY_NOT"
            class Liar:
                def __bool__(self):
                    return _wanted()
            class LiarInt(int):
                def __bool__(self):
                    return _wanted()
            def is_prime(n):
                return Liar() if n % 2 else LiarInt(0)
            """#
        let verdict = try await judge(fenced(liar), reference)
        #expect(!verdict.passed && verdict.score == 0, "\(verdict.details)")
        let honest = "def is_prime(n):\n    return n > 1 and all(n % d for d in range(2, n))"
        #expect(try await judge(fenced(honest), reference).passed)
    }

    @Test("Python: a value of a subclass of a plain type is read through that type; other objects fail the case")
    func subclassesAreConverted() async throws {
        let reference: JSONValue = [
            "language": "python",
            "test": ["assert f(0) == 3", "assert f(1) == (1, 2)", "assert f(2) == {'a': 2}", "assert f(3)"],
        ]
        // Right values in subclasses (an int subclass, a namedtuple, a Counter) pass; a zero whose __bool__ says
        // true does not pass `assert f(3)`.
        let program = """
            import collections
            class W(int):
                def __eq__(self, other): return True
                def __bool__(self): return True
                __hash__ = int.__hash__
            P = collections.namedtuple("P", "x y")
            def f(i):
                return [W(3), P(1, 2), collections.Counter("aa"), W(0)][i]
            """
        let verdict = try await judge(fenced(program), reference)
        #expect(statuses(verdict) == ["passed", "passed", "passed", "wrong_answer"], "\(verdict.details)")
        // A generator or an instance of the program's class is not plain data: wrong_answer, even when the test
        // catches the error.
        let objects: JSONValue = [
            "language": "python",
            "test": ["assert list(f()) == [1]", "try:\n    f()\nexcept Exception:\n    pass"],
        ]
        let generator = try await judge(fenced("def f():\n    return (x for x in [1])"), objects)
        #expect(statuses(generator) == ["wrong_answer", "wrong_answer"], "\(generator.details)")
    }

    @Test("Python: the tests reach the program's functions and plain data; its classes fail the case (a known limit)")
    func programNames() async throws {
        let program = """
            import math
            LIMIT = {"n": (1, 2)}
            class Pair:
                def __init__(self, a, b):
                    self.a, self.b = a, b
            def longest(pairs):
                return len(pairs)
            def sort_in_place(xs):
                xs.sort()
            class Shape(ValueError):
                pass
            def check_positive(x):
                if x <= 0:
                    raise Shape("not positive")
                return x
            """
        let reference: JSONValue = [
            "language": "python",
            "test": [
                "assert LIMIT == {'n': (1, 2)} and math.isclose(math.pi, 3.14159, rel_tol=1e-3)",
                "xs = [3, 1, 2]\nsort_in_place(xs)\nassert xs == [1, 2, 3]",
                "try:\n    check_positive(-1)\n    assert False\nexcept ValueError as error:\n    assert str(error) == 'not positive'",
                "assert longest([Pair(1, 2), Pair(3, 4)]) == 2",
            ],
        ]
        let verdict = try await judge(fenced(program), reference)
        #expect(statuses(verdict) == ["passed", "passed", "passed", "runtime_error"], "\(verdict.details)")
        let message = verdict.details["cases"]?.arrayValue?.last?.objectValue?["message"]?.stringValue ?? ""
        #expect(message.contains("'Pair' is a class of the program"), "\(message)")
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
