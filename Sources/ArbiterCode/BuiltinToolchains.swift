// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// The toolchains and harnesses built into the code verifier: the same text as `verifiers/toolchains/` (a test keeps
/// them equal), so that `code` works for python, c, cpp, javascript and bash without the directory.
enum BuiltinToolchains {
    /// Each toolchain declaration, by file name.
    static let declarations: [(String, String)] = [
        (
            "bash.json",
            #"""
            {
              "name": "bash",
              "aliases": ["sh", "shell"],
              "source": "main.sh",
              "interpreter": ["/usr/bin/bash", "/bin/bash", "bash"],
              "run": ["{interpreter}", "main.sh"],
              "env": {},
              "limits": {}
            }
            """#
        ),
        (
            "c.json",
            #"""
            {
              "name": "c",
              "aliases": ["h"],
              "source": "main.c",
              "interpreter": ["/usr/bin/gcc", "gcc", "cc"],
              "compile": ["{interpreter}", "-O2", "-std=gnu17", "-pipe", "-o", "main", "main.c", "-lm"],
              "run": ["./main"],
              "test_template": {
                "code_file": "c.test.c",
                "compile": ["{interpreter}", "-O2", "-std=gnu17", "-pipe", "-Wl,--wrap=main", "-o", "main", "main.c", "-lm"]
              },
              "env": {},
              "limits": {"compile_time_s": 30, "compile_memory_mb": 1024}
            }
            """#
        ),
        (
            "cpp.json",
            #"""
            {
              "name": "cpp",
              "aliases": ["c++", "cxx", "cc", "hpp"],
              "source": "main.cpp",
              "interpreter": ["/usr/bin/g++", "g++", "c++"],
              "compile": ["{interpreter}", "-O2", "-std=gnu++17", "-pipe", "-o", "main", "main.cpp"],
              "run": ["./main"],
              "test_template": {
                "code_file": "c.test.c",
                "compile": ["{interpreter}", "-O2", "-std=gnu++17", "-pipe", "-Wl,--wrap=main", "-o", "main", "main.cpp"]
              },
              "env": {},
              "limits": {"compile_time_s": 60, "compile_memory_mb": 2048}
            }
            """#
        ),
        (
            "javascript.json",
            #"""
            {
              "name": "javascript",
              "aliases": ["js", "node", "nodejs"],
              "source": "main.js",
              "interpreter": ["/usr/bin/node", "/usr/local/bin/node", "node"],
              "run": ["{interpreter}", "--stack-size=65500", "main.js"],
              "harness": {"file": "harness.js", "code_file": "javascript.harness.js", "run": ["{interpreter}", "harness.js"]},
              "env": {},
              "limits": {"processes": 32}
            }
            """#
        ),
        (
            "python.json",
            #"""
            {
              "name": "python",
              "aliases": ["py", "python3"],
              "source": "main.py",
              "interpreter": ["/usr/bin/python3", "/usr/local/bin/python3", "python3"],
              "run": ["{interpreter}", "-I", "-S", "-c", "import sys,builtins;builtins.exit=builtins.quit=sys.exit;sys.path+=['/usr/local/lib/python%d.%d/dist-packages'%sys.version_info[:2],'/usr/lib/python3/dist-packages'];sys.argv=['main.py'];__file__='main.py';del builtins;exec(compile(open(__file__,encoding='utf-8').read(),__file__,'exec'))"],
              "harness": {"file": "harness.py", "code_file": "python.harness.py", "run": ["{interpreter}", "-I", "-S", "harness.py"]},
              "env": {},
              "limits": {}
            }
            """#
        ),
    ]

    /// Harness and test-template code, by `code_file` name.
    static let harnesses: [String: String] = [
        "c.test.c": #"""
        /* Arbiter's test wrapper for C and C++ (the `test` form, MultiPL-E style: one test program whose `main` asserts).
           The program, then the test verbatim; the link wraps `main` (-Wl,--wrap=main), so this `__wrap_main` runs first:
           it reads the nonce from fd 3 before any test code runs, calls the test's `main`, and when that returns 0 reports
           "<nonce> [0, "passed", ms]" and "<nonce> ["end"]" on fd 4. A failed `assert` aborts (a wrong answer); a program
           that exits early leaves no record. Asserts are switched back on between the two (a program that defines NDEBUG
           or its own `assert` must not disable the test's). */
        @ARBITER_PROGRAM@
        #undef NDEBUG
        #include <assert.h>
        @ARBITER_TEST@
        #include <stdio.h>
        #include <string.h>
        #include <time.h>
        #include <unistd.h>

        #ifdef __cplusplus
        extern "C" {
        #endif
        int __real_main(int argc, char **argv);
        int __wrap_main(int argc, char **argv);
        #ifdef __cplusplus
        }
        #endif

        int __wrap_main(int argc, char **argv) {
            char nonce[160];
            ssize_t length = read(3, nonce, sizeof nonce - 1);
            close(3);
            if (length <= 0) return 99;
            nonce[length] = 0;
            char *end = strchr(nonce, '\n');
            if (end) *end = 0;
            struct timespec begun, done;
            clock_gettime(CLOCK_MONOTONIC, &begun);
            int code = __real_main(argc, argv);
            clock_gettime(CLOCK_MONOTONIC, &done);
            double ms = (double)(done.tv_sec - begun.tv_sec) * 1e3 + (double)(done.tv_nsec - begun.tv_nsec) / 1e6;
            fflush(stdout);
            dprintf(4, "%s [0, \"%s\", %.3f]\n%s [\"end\"]\n", nonce, code == 0 ? "passed" : "wrong_answer", ms, nonce);
            return code;
        }
        """#,
        "javascript.harness.js": #"""
        // Arbiter's JavaScript test harness, for the `test` and `calls` forms. Before the program runs, it reads a nonce and
        // its instructions from fd 3 and closes it (lines "nonce", "form", "program", "entry point", "function", "count",
        // then per case "<byte length>" and that many bytes: a script, or the JSON array of a call's arguments). It runs the
        // program, then the cases, and reports each on fd 4 as "<nonce> <JSON array>", ending with `<nonce> ["end"]`. The
        // program never sees the nonce, so exiting early cannot pass for reaching the end.
        "use strict";
        (() => {
            const fs = require("fs");
            const vm = require("vm");
            // Bound now, so that a program that patches these cannot skip the tests or rewrite the reports.
            const write = fs.writeSync, exitNow = process.exit.bind(process), stringify = JSON.stringify, parse = JSON.parse;
            const runInThisContext = vm.runInThisContext, bufferFrom = Buffer.from.bind(Buffer);
            const isArray = Array.isArray, prototypeOf = Object.getPrototypeOf, keysOf = Object.keys;
            const isFiniteNumber = Number.isFinite, objectPrototype = Object.prototype;
            // The assert modules as they are before the program runs: a program can replace their functions (they are
            // shared objects), so tests get copies taken now.
            const pristine = (name) => {
                const original = require(name);
                const copy = (...args) => original(...args);
                for (const key of keysOf(original)) copy[key] = original[key];
                return copy;
            };
            const asserts = { assert: pristine("node:assert"), strict: pristine("node:assert/strict") };
            const testRequire = (name) => {
                if (name === "assert" || name === "node:assert") return asserts.assert;
                if (name === "assert/strict" || name === "node:assert/strict") return asserts.strict;
                return require(name);
            };
            const raw = fs.readFileSync(3);
            fs.closeSync(3);
            let position = 0;
            const line = () => {
                const end = raw.indexOf(10, position);
                const value = raw.toString("utf8", position, end);
                position = end + 1;
                return value;
            };
            const nonce = line(), form = line(), program = line(), entryPoint = line(), functionName = line();
            const count = Number(line());
            const cases = [];
            for (let index = 0; index < count; index++) {
                const length = Number(line());
                cases.push(raw.toString("utf8", position, position + length));
                position += length;
            }
            const clock = () => Number(process.hrtime.bigint()) / 1e6;
            // A record is built by string concatenation of primitives only: JSON.stringify of an array would call a
            // `toJSON` the program put on Array.prototype, and rewrite the record.
            const field = (value) => (typeof value === "number" ? stringify(value) : stringify("" + value));
            const report = (first, second, third, fourth, rawValue) => {
                let text = nonce + " [" + field(first);
                if (second !== undefined) text += ", " + field(second);
                if (third !== undefined) text += ", " + field(third);
                if (fourth !== undefined) text += ", " + field(fourth);
                if (rawValue !== undefined) text += ", " + rawValue;
                const data = bufferFrom(text + "]\n");
                let offset = 0;
                while (offset < data.length) offset += write(4, data, offset);
            };
            // A call's result as strict JSON: plain arrays and objects, finite numbers, strings, booleans and null only
            // (NaN, undefined, functions, Maps and class instances are not JSON and must not turn into null or {}).
            const strictJSON = (value, depth) => {
                if (depth > 100) return undefined;
                if (value === null || typeof value === "boolean") return value ? "true" : value === null ? "null" : "false";
                if (typeof value === "number") return isFiniteNumber(value) ? stringify(value) : undefined;
                if (typeof value === "string") return stringify(value);
                if (typeof value !== "object") return undefined;
                if (isArray(value)) {
                    let text = "[";
                    for (let index = 0; index < value.length; index++) {
                        const item = strictJSON(value[index], depth + 1);
                        if (item === undefined) return undefined;
                        text += (index ? "," : "") + item;
                    }
                    return text + "]";
                }
                const prototype = prototypeOf(value);
                if (prototype !== objectPrototype && prototype !== null) return undefined;
                let text = "{", first = true;
                for (const key of keysOf(value)) {
                    const item = strictJSON(value[key], depth + 1);
                    if (item === undefined) return undefined;
                    text += (first ? "" : ",") + stringify(key) + ":" + item;
                    first = false;
                }
                return text + "}";
            };
            const describe = (error) => String(error && error.stack ? error.stack.split("\n")[0] : error).slice(0, 500);
            const status = (error) => {
                if (error && (error.name === "AssertionError" || error.code === "ERR_ASSERTION")) return "wrong_answer";
                if (error instanceof RangeError && /allocation|memory/i.test(String(error.message))) return "memory_limit";
                return "runtime_error";
            };
            const finish = () => {
                report("end");
                exitNow(0);
            };
            const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
            const lookup = (name) => {
                if (!identifier.test(name)) return undefined;
                try {
                    return runInThisContext(`typeof ${name} === "undefined" ? undefined : ${name}`);
                } catch (error) {
                    return undefined;
                }
            };
            globalThis.require = require;
            globalThis.module = module;
            globalThis.exports = module.exports;
            let started = clock();
            try {
                runInThisContext(fs.readFileSync(program, "utf8"), { filename: program });
            } catch (error) {
                report("program", "runtime_error", clock() - started, describe(error));
                finish();
            }
            const find = (name) => {
                const value = lookup(name);
                if (value !== undefined) return value;
                const exported = module.exports;
                if (typeof exported === "function" && exported.name === name) return exported;
                return exported && typeof exported === "object" ? exported[name] : undefined;
            };
            if (form === "test") cases.forEach((test, index) => {
                const begun = clock();
                globalThis.require = testRequire;
                try {
                    const before = lookup("check");
                    runInThisContext(test, { filename: `test_${index}` });
                    const check = lookup("check");
                    if (entryPoint && typeof check === "function" && check !== before) {
                        const candidate = find(entryPoint);
                        if (candidate === undefined) throw new ReferenceError(`entry point ${entryPoint} is not defined`);
                        check(candidate);
                    }
                    report(index, "passed", clock() - begun);
                } catch (error) {
                    report(index, status(error), clock() - begun, describe(error));
                }
            });
            if (form === "calls") {
                const fn = find(functionName);
                cases.forEach((args, index) => {
                    const begun = clock();
                    try {
                        if (typeof fn !== "function") throw new ReferenceError(`function ${functionName} is not defined`);
                        const value = fn(...parse(args));
                        const elapsed = clock() - begun;
                        const text = strictJSON(value, 0);
                        if (text === undefined) {
                            report(index, "unserializable", elapsed, "not plain JSON (NaN, undefined, a Map, a class instance...)");
                            return;
                        }
                        report(index, "value", elapsed, undefined, text);
                    } catch (error) {
                        report(index, status(error), clock() - begun, describe(error));
                    }
                });
            }
            finish();
        })();
        """#,
        "python.harness.py": #"""
        # Arbiter's Python test harness, for the `test` and `calls` forms. Python runs with -S (skipping `site`, about 4 ms
        # a start), so it first puts back what programs rely on: the distribution's package directories on sys.path and the
        # exit()/quit() builtins (python.json's `run` does the same for stdin/stdout tests). It imports nothing beyond what
        # the interpreter has loaded at start (json alone would cost ~10 ms; it is imported only for `calls`).
        #
        # Before the program runs, it reads a nonce and its instructions from fd 3 and closes it: lines "nonce", "form",
        # "program", "entry point", "function", "count", then per case "<byte length>" and that many bytes (a script, or the
        # JSON array of a call's arguments). It runs the program, then the cases, and reports each on fd 4 as
        # "<nonce> <JSON array>", ending with "<nonce> ["end"]". The program never sees the nonce, so exiting early cannot
        # pass for reaching the end.


        def _arbiter_site():
            import builtins
            import sys

            builtins.exit = builtins.quit = sys.exit
            sys.path += ["/usr/local/lib/python%d.%d/dist-packages" % sys.version_info[:2], "/usr/lib/python3/dist-packages"]


        def _arbiter_harness():
            import posix
            import sys
            import time

            # Bound now, so that a program that patches these modules or builtins cannot skip the tests or rewrite the reports.
            write, read, close, exit_now, clock = posix.write, posix.read, posix.close, posix._exit, time.perf_counter
            is_instance, text, kind, is_callable, as_float = isinstance, str, type, callable, float
            run_code, compile_code, numbered, as_repr, rounded = exec, compile, enumerate, repr, round
            chunks = []
            while True:
                chunk = read(3, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
            close(3)
            data = b"".join(chunks)
            del chunks
            position = 0

            def line():
                nonlocal position
                end = data.index(b"\n", position)
                value = data[position:end].decode("utf-8")
                position = end + 1
                return value

            nonce, form, program, entry, function_name, count = line(), line(), line(), line(), line(), int(line())
            cases = []
            for _ in range(count):
                length = int(line())
                cases.append(data[position:position + length].decode("utf-8"))
                position += length
            del data
            escapes = {code: "\\u%04x" % code for code in range(32)}
            escapes.update({ord("\\"): "\\\\", ord('"'): '\\"'})

            def quote(value):
                return '"' + text(value).translate(escapes) + '"'

            def report(*fields, value=None):
                parts = [quote(field) if is_instance(field, str) else as_repr(as_float(field)) if is_instance(field, float)
                         else text(field) for field in fields]
                if value is not None:
                    parts.append(value)
                payload = (nonce + " [" + ", ".join(parts) + "]\n").encode("utf-8", "replace")
                while payload:
                    payload = payload[write(4, payload):]

            def describe(error):
                return (kind(error).__name__ + ": " + text(error))[:500]

            def status(error):
                if is_instance(error, AssertionError):
                    return "wrong_answer"
                if is_instance(error, MemoryError):
                    return "memory_limit"
                return "runtime_error"

            def finish():
                report("end")
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    exit_now(0)

            def elapsed(begun):
                return rounded((clock() - begun) * 1000, 3)

            # "AlwaysEqual": a result whose class says it equals anything (an int subclass, or any object, with __eq__
            # returning True) must not pass `assert candidate(x) == 5`. Tests run with their `==`, `!=`, `in` and `not in`
            # rewritten to these functions, which read a value of any non-builtin class through the builtin type it derives
            # from, and never let an object without one equal a plain value by its own say-so.
            import _ast as ast  # the C module: `import ast` costs ~14 ms of every run

            plain_types = (int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset)
            mro_of, int_of, float_of, complex_of = kind.__dict__["__mro__"].__get__, int.__int__, float.__float__, complex.__complex__
            plain_form = {
                int: int_of, float: float_of, complex: complex_of, str: str.__str__, bytes: lambda value: bytes.__bytes__(value)
                if hasattr(bytes, "__bytes__") else bytes(memoryview(value)), list: lambda value: list(list.__iter__(value)),
                tuple: lambda value: tuple(tuple.__iter__(value)), dict: lambda value: dict(dict.items(value)),
                set: lambda value: set(set.__iter__(value)), frozenset: lambda value: frozenset(frozenset.__iter__(value)),
            }

            def plainly(value):
                """The value as plain builtin data: itself for a builtin type, else read through the builtin type its class
                derives from (None when there is none: such an object never equals a plain value by its own say-so)."""
                cls = kind(value)
                if cls in plain_types:
                    return value
                for base in mro_of(cls):
                    convert = plain_form.get(base)
                    if convert is not None:
                        return convert(value)
                return None

            def strict_eq(left, right):
                a, b = plainly(left), plainly(right)
                if a is None or b is None:
                    if a is None and b is None:
                        return left == right  # two objects of non-builtin types: the test compares such objects
                    return False
                if kind(a) in (list, tuple) and kind(b) in (list, tuple):
                    return kind(a) is kind(b) and len(a) == len(b) and all(strict_eq(x, y) for x, y in zip(a, b))
                if kind(a) is dict and kind(b) is dict:
                    return len(a) == len(b) and all(key in b and strict_eq(a[key], b[key]) for key in a)
                if kind(a) in (set, frozenset) and kind(b) in (set, frozenset):
                    plain_a, plain_b = [plainly(x) for x in a], [plainly(y) for y in b]
                    if None in plain_a or None in plain_b:
                        return False
                    return set(plain_a) == set(plain_b)
                return a == b

            def strict_in(item, container):
                plain = plainly(container)
                if kind(plain) in (list, tuple, set, frozenset):
                    return any(strict_eq(item, element) for element in plain)
                if kind(plain) is dict:
                    return any(strict_eq(item, key) for key in plain)
                plain_item = plainly(item)
                if plain is None or plain_item is None:
                    return item in container if plain is None and plain_item is None else False
                return plain_item in plain

            # The rewrite uses only what is bound here, before the program runs (it could patch ast or builtins).
            only_ast = ast.PyCF_ONLY_AST
            ast_node, ast_compare, ast_eq, ast_ne, ast_in, ast_not_in = ast.AST, ast.Compare, ast.Eq, ast.NotEq, ast.In, ast.NotIn
            rewritten = (ast_eq, ast_ne, ast_in, ast_not_in)
            ast_call, ast_name, ast_load, ast_unary, ast_not = ast.Call, ast.Name, ast.Load, ast.UnaryOp, ast.Not
            length, get_attribute, set_attribute = len, getattr, setattr
            positions = ("lineno", "col_offset", "end_lineno", "end_col_offset")

            def rewrite(node):
                for field in node._fields:
                    value = get_attribute(node, field, None)
                    if is_instance(value, list):
                        value[:] = [rewrite(item) if is_instance(item, ast_node) else item for item in value]
                    elif is_instance(value, ast_node):
                        set_attribute(node, field, rewrite(value))
                if is_instance(node, ast_compare) and length(node.ops) == 1 and is_instance(node.ops[0], rewritten):
                    operator = node.ops[0]
                    helper = "__arbiter_strict_eq__" if is_instance(operator, (ast_eq, ast_ne)) else "__arbiter_strict_in__"
                    call = ast_call(func=ast_name(id=helper, ctx=ast_load()), args=[node.left, node.comparators[0]], keywords=[])
                    result = call if is_instance(operator, (ast_eq, ast_in)) else ast_unary(op=ast_not(), operand=call)
                    for new in (result, call, call.func, result.operand if result is not call else call):
                        for position in positions:
                            set_attribute(new, position, get_attribute(node, position, None))
                    return result
                return node

            def compile_test(source, name):
                return compile_code(rewrite(compile_code(source, name, "exec", only_ast)), name, "exec")

            # Tests run in their own globals whose builtins (a private copy) hold the comparison: the program's functions
            # see their own globals, not these.
            test_builtins = dict(__builtins__.__dict__ if hasattr(__builtins__, "__dict__") else __builtins__)
            test_builtins["__arbiter_strict_eq__"] = strict_eq
            test_builtins["__arbiter_strict_in__"] = strict_in
            modules_before = dict(sys.modules)
            set_trace, set_profile = sys.settrace, sys.setprofile

            namespace = {"__name__": "__arbiter_program__", "__builtins__": __builtins__}
            started = clock()
            try:
                with open(program, encoding="utf-8") as source:
                    code = compile_code(source.read(), program, "exec")
                run_code(code, namespace)
            except BaseException as error:
                report("program", "memory_limit" if is_instance(error, MemoryError) else "runtime_error", elapsed(started),
                       describe(error))
                finish()
            if form == "test":
                for index, test in numbered(cases):
                    begun = clock()
                    try:
                        # The test sees the program's names, except any that would shadow a builtin or the comparison
                        # helpers, and the modules as they were before the program ran; no tracer of the program runs.
                        set_trace(None)
                        set_profile(None)
                        sys.modules.clear()
                        sys.modules.update(modules_before)
                        scope = {name: value for name, value in namespace.items()
                                 if name not in test_builtins or name in ("__name__", "__doc__")}
                        scope["__builtins__"] = test_builtins
                        before = scope.get("check")
                        run_code(compile_test(test, "test_%d" % index), scope)
                        check = scope.get("check")
                        if entry and is_callable(check) and check is not before:
                            if entry not in namespace:
                                raise NameError("entry point %r is not defined" % entry)
                            check(namespace[entry])
                        report(index, "passed", elapsed(begun))
                    except BaseException as error:
                        report(index, status(error), elapsed(begun), describe(error))
            elif form == "calls":
                import json

                dumps, loads = json.dumps, json.loads
                function = namespace.get(function_name)
                for index, arguments in numbered(cases):
                    begun = clock()
                    try:
                        if not is_callable(function):
                            raise NameError("function %r is not defined" % function_name)
                        result = function(*loads(arguments))
                        took = elapsed(begun)
                        try:
                            encoded = dumps(result, allow_nan=False, ensure_ascii=True)
                        except (TypeError, ValueError) as error:
                            report(index, "unserializable", took, describe(error))
                            continue
                        report(index, "value", took, value=encoded)
                    except BaseException as error:
                        report(index, status(error), elapsed(begun), describe(error))
            finish()


        _arbiter_site()
        _arbiter_harness()
        """#,
    ]
}
