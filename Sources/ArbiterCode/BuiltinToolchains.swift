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
                "file": "arbiter_wrapper.c",
                "preprocess": ["{interpreter}", "-std=gnu17", "-E", "-dD", "-o", "program.i", "main.c"],
                "test_file": "test.c",
                "compile": ["{interpreter}", "-O2", "-std=gnu17", "-pipe", "-Wl,--wrap=main", "-o", "main", "arbiter_wrapper.c", "test.c", "-lm"],
                "symbols": ["/usr/bin/nm", "-P", "--defined-only", "main"],
                "prepare": ["{interpreter}", "-O2", "-std=gnu17", "-pipe", "-c", "-o", "arbiter_wrapper.o", "arbiter_wrapper.c"],
                "prepared_file": "arbiter_wrapper.o",
                "prepared_compile": ["{interpreter}", "-O2", "-std=gnu17", "-pipe", "-Wl,--wrap=main", "-o", "main", "arbiter_wrapper.o", "test.c", "-lm"]
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
                "file": "arbiter_wrapper.c",
                "preprocess": ["{interpreter}", "-std=gnu++17", "-E", "-dD", "-o", "program.i", "main.cpp"],
                "test_file": "test.cpp",
                "compile": ["{interpreter}", "-O2", "-std=gnu++17", "-pipe", "-Wl,--wrap=main", "-o", "main", "arbiter_wrapper.c", "test.cpp"],
                "symbols": ["/usr/bin/nm", "-P", "--defined-only", "main"],
                "prepare": ["{interpreter}", "-O2", "-std=gnu++17", "-pipe", "-c", "-o", "arbiter_wrapper.o", "arbiter_wrapper.c"],
                "prepared_file": "arbiter_wrapper.o",
                "prepared_compile": ["{interpreter}", "-O2", "-std=gnu++17", "-pipe", "-Wl,--wrap=main", "-o", "main", "arbiter_wrapper.o", "test.cpp"]
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
              "harness": {"file": "harness.js", "code_file": "javascript.harness.js", "run": ["{interpreter}", "-e", "{harness_code}"],
                          "setup": true,
                          "host": {"file": "host.js", "code_file": "javascript.host.js", "run": ["{interpreter}", "--stack-size=65500", "host.js"]}},
              "env": {},
              "limits": {"processes": 32, "address_space_mb": 2048}
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
              "harness": {"file": "harness.py", "setup": true, "code_file": "python.harness.py", "run": ["{interpreter}", "-I", "-S", "harness.py"],
                          "prepare": ["{interpreter}", "-I", "-S", "-c", "import marshal;open('harness.bin','wb').write(marshal.dumps(compile(open('harness.py',encoding='utf-8').read(),'harness.py','exec')))"],
                          "prepared_file": "harness.bin",
                          "prepared_run": ["{interpreter}", "-I", "-S", "-c", "import marshal;exec(marshal.loads(open('harness.bin','rb').read()))"],
                          "fork_server": {"code_file": "python.forkserver.py", "run": ["{interpreter}", "-I", "-S", "-c", "{code}"]},
                          "test_compiler": {"code_file": "python.compiler.py", "run": ["{interpreter}", "-I", "-S", "-c", "{code}"]}},
              "warm_run": "import sys,builtins;builtins.exit=builtins.quit=sys.exit;sys.path+=['/usr/local/lib/python%d.%d/dist-packages'%sys.version_info[:2],'/usr/lib/python3/dist-packages'];sys.argv=['main.py'];__file__='main.py';del builtins;exec(compile(open(__file__,encoding='utf-8').read(),__file__,'exec'))",
              "env": {},
              "limits": {}
            }
            """#
        ),
    ]

    /// Harness and test-template code, by `code_file` name.
    static let harnesses: [String: String] = [
        "c.test.c": #"""
        /* Arbiter's wrapper for the C and C++ `test` form (MultiPL-E style: one test program whose `main` asserts). It is a
           translation unit of its own, linked first with -Wl,--wrap=main beside the test's translation unit, which holds the
           program as the preprocessor left it (the program's own #define, #undef and #pragma lines dropped, so its macros
           never reach the test) followed by the test. Before any constructor of the program runs (.preinit_array), it reads
           the nonce from fd 3, closes it, keeps the nonce only masked, and stacks a seccomp filter that denies handlers for
           SIGABRT (a failed assert must end the process). `__wrap_main` calls the test's `main` and, when it returns 0,
           reports "<nonce> [0, "passed", ms]" and "<nonce> ["end"]" on fd 4. Every system call here is made directly (no
           libc function a program could replace sees the nonce). Valid C and C++. */
        #include <linux/filter.h>
        #include <linux/seccomp.h>
        #include <signal.h>
        #include <stddef.h>
        #include <stdint.h>
        #include <sys/syscall.h>

        #ifdef __cplusplus
        extern "C" {
        #endif
        int __real_main(int argc, char **argv, char **envp);
        int __wrap_main(int argc, char **argv, char **envp);
        #ifdef __cplusplus
        }
        #endif

        static long arbiter_syscall(long number, long a, long b, long c) {
            long result;
        #if defined(__x86_64__)
            __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
        #elif defined(__aarch64__)
            register long x8 __asm__("x8") = number;
            register long x0 __asm__("x0") = a;
            register long x1 __asm__("x1") = b;
            register long x2 __asm__("x2") = c;
            __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
            result = x0;
        #else
        #error "the C/C++ test wrapper supports x86_64 and aarch64"
        #endif
            return result;
        }

        static unsigned char arbiter_mask[160];
        static unsigned char arbiter_masked[160];
        static long arbiter_length = -1;

        static void arbiter_preinit(int argc, char **argv, char **envp) {
            (void)argc; (void)argv; (void)envp;
            unsigned char buffer[160];
            long length = arbiter_syscall(SYS_read, 3, (long)buffer, (long)sizeof buffer - 1);
            arbiter_syscall(SYS_close, 3, 0, 0);
            if (length <= 0) return;
            long end = 0;
            while (end < length && buffer[end] != '\n') end++;
            if (arbiter_syscall(SYS_getrandom, (long)arbiter_mask, end, 0) != end) return;
            for (long i = 0; i < end; i++) {
                arbiter_masked[i] = (unsigned char)(buffer[i] ^ arbiter_mask[i]);
                buffer[i] = 0;
            }
            arbiter_length = end;
            /* No handler for SIGABRT: rt_sigaction(SIGABRT, non-null action) fails with EPERM. */
            struct sock_filter program[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigaction, 0, 5),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SIGABRT, 0, 3),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            };
            struct sock_fprog filter;
            filter.len = (unsigned short)(sizeof program / sizeof program[0]);
            filter.filter = program;
            arbiter_syscall(SYS_prctl, 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0);
            if (arbiter_syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (long)&filter) != 0) arbiter_length = -1;
        }

        __attribute__((used, section(".preinit_array"))) static void (*arbiter_preinit_entry)(int, char **, char **) =
            arbiter_preinit;

        static long arbiter_now_ns(void) {
            struct { long seconds, nanoseconds; } t = {0, 0};
            arbiter_syscall(SYS_clock_gettime, 1 /* CLOCK_MONOTONIC */, (long)&t, 0);
            return t.seconds * 1000000000L + t.nanoseconds;
        }

        static long arbiter_append(char *out, long at, const char *text) {
            while (*text) out[at++] = *text++;
            return at;
        }

        int __wrap_main(int argc, char **argv, char **envp) {
            if (arbiter_length <= 0) return 99;
            long begun = arbiter_now_ns();
            int code = __real_main(argc, argv, envp);
            long micros = (arbiter_now_ns() - begun) / 1000;
            char line[512];
            char nonce[160];
            for (long i = 0; i < arbiter_length; i++) nonce[i] = (char)(arbiter_masked[i] ^ arbiter_mask[i]);
            nonce[arbiter_length] = 0;
            char number[32];
            int digits = 0;
            do { number[digits++] = (char)('0' + micros % 10); micros /= 10; } while (micros > 0);
            while (digits < 4) number[digits++] = '0';
            long at = arbiter_append(line, 0, nonce);
            at = arbiter_append(line, at, code == 0 ? " [0, \"passed\", " : " [0, \"wrong_answer\", ");
            for (int i = digits - 1; i >= 3; i--) line[at++] = number[i];
            line[at++] = '.';
            for (int i = 2; i >= 0; i--) line[at++] = number[i];
            at = arbiter_append(line, at, "]\n");
            at = arbiter_append(line, at, nonce);
            at = arbiter_append(line, at, " [\"end\"]\n");
            for (long i = 0; i < arbiter_length; i++) nonce[i] = 0;
            arbiter_syscall(SYS_write, 4, (long)line, at);
            return code;
        }
        """#,
        "javascript.harness.js": #"""
        // Arbiter's JavaScript test harness (the runner), for the `test` and `calls` forms. It is split in two processes:
        // this one, started with its code on the command line, and the program's process (javascript.host.js), which the
        // sandbox starts beside it in PID and mount namespaces of its own: the program can neither see, signal nor read
        // this process, so it cannot patch the runner's `vm`, `require` or `assert`, read a test's source through
        // `fn.caller`, or find the nonce. The runner reads its nonce and instructions from fd 3 and closes it (lines "nonce",
        // "form", "program", "entry point", "function", "count", then per case "<byte length>" and that many bytes — a
        // script, or the JSON array of a call's arguments — then the reference's setup the same way). It asks the program's
        // process (requests on fd 6, answers on fd 7, one JSON array a line) to load the program and for the names a test
        // mentions; each function of the program is a proxy here whose calls cross as plain data (null, booleans, numbers,
        // strings, arrays, plain objects; NaN, infinities and undefined tagged), and the answers are rebuilt here from plain
        // data only. Each case is reported on fd 4 as "<nonce> <JSON array>", ending with `<nonce> ["end"]`.
        "use strict";
        (() => {
            const fs = require("fs");
            const vm = require("vm");
            const assert = require("assert");
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
            for (let index = 0; index <= count; index++) {
                const length = Number(line());
                cases.push(raw.toString("utf8", position, position + length));
                position += length;
            }
            const setup = cases.pop();
            // "stop" (all_or_nothing, stop_on_failure): the cases after the first that fails are not run. With calls,
            // "expect <tolerance> <unwrap single>" and the expected values follow, so that the calls stop after the first value
            // that surely differs (only where to stop is decided here; the daemon judges every value it gets).
            const stop = position < raw.length && line() === "stop";
            let expectedValues = null, tolerance = 0, unwrapSingle = false;
            if (stop && position < raw.length) {
                const header = line().split(" ");
                if (header.length === 3 && header[0] === "expect") {
                    tolerance = Number(header[1]);
                    unwrapSingle = header[2] === "1";
                    expectedValues = [];
                    for (let index = 0; index < count; index++) {
                        const length = Number(line());
                        expectedValues.push(raw.toString("utf8", position, position + length));
                        position += length;
                    }
                }
            }
            const clock = () => Number(process.hrtime.bigint()) / 1e6;
            const report = (...fields) => {
                const data = Buffer.from(nonce + " [" + fields.map((field) => JSON.stringify(field)).join(", ") + "]\n");
                let offset = 0;
                while (offset < data.length) offset += fs.writeSync(4, data, offset);
            };
            const reportValue = (index, elapsed, text) => {
                const data = Buffer.from(nonce + " [" + index + ", \"value\", " + JSON.stringify(elapsed) + ", " + text + "]\n");
                let offset = 0;
                while (offset < data.length) offset += fs.writeSync(4, data, offset);
            };

            // The channel to the program's process.
            let pending = Buffer.alloc(0);
            const chunk = Buffer.alloc(1 << 16);
            const send = (message) => {
                const data = Buffer.from(JSON.stringify(message) + "\n");
                let offset = 0;
                while (offset < data.length) offset += fs.writeSync(6, data, offset);
            };
            let gone = null;
            class ProgramGone extends Error {}
            const receive = () => {
                for (;;) {
                    const end = pending.indexOf(10);
                    if (end >= 0) {
                        const text = pending.toString("utf8", 0, end);
                        pending = pending.subarray(end + 1);
                        return JSON.parse(text);
                    }
                    let n = 0;
                    try {
                        n = fs.readSync(7, chunk, 0, chunk.length, null);
                    } catch (error) {
                        n = 0;
                    }
                    if (n === 0) {
                        gone = gone || "the program's process ended (it exited or was killed)";
                        throw new ProgramGone(gone);
                    }
                    pending = Buffer.concat([pending, chunk.subarray(0, n)]);
                }
            };
            const exchange = (message) => {
                if (gone) throw new ProgramGone(gone);
                try {
                    send(message);
                } catch (error) {
                    gone = "the program's process ended (it exited or was killed)";
                    throw new ProgramGone(gone);
                }
                const reply = receive();
                if (!Array.isArray(reply) || typeof reply[0] !== "string") throw new ProgramGone("a malformed answer");
                return reply;
            };

            // Plain data across the channel. Values are rebuilt here from JSON only: no object of the program exists here.
            const encode = (value, depth) => {
                if (depth > 1000) throw new TypeError("nested too deeply");
                if (value === null || typeof value === "boolean" || typeof value === "string") return value;
                if (typeof value === "number") return Number.isFinite(value) ? value : { $: "number", v: String(value) };
                if (value === undefined) return { $: "undefined" };
                if (typeof value === "bigint") return { $: "bigint", v: String(value) };
                if (Array.isArray(value)) {
                    const items = [];
                    for (let index = 0; index < value.length; index++) items.push(encode(value[index], depth + 1));
                    return items;
                }
                const prototype = typeof value === "object" ? Object.getPrototypeOf(value) : undefined;
                if (prototype === Object.prototype || prototype === null) {
                    return { $: "object", v: Object.keys(value).map((key) => [key, encode(value[key], depth + 1)]) };
                }
                throw new TypeError("a " + typeof value + " cannot cross to the program's process (plain data only)");
            };
            const decode = (tree) => {
                if (tree === null || typeof tree !== "object") return tree;
                if (Array.isArray(tree)) return tree.map(decode);
                switch (tree.$) {
                    case "number": return Number(tree.v);
                    case "undefined": return undefined;
                    case "bigint": return BigInt(tree.v);
                    case "object": {
                        const object = {};
                        for (const [key, item] of tree.v) {
                            Object.defineProperty(object, String(key), {
                                value: decode(item), enumerable: true, writable: true, configurable: true,
                            });
                        }
                        return object;
                    }
                    default: throw new TypeError("a malformed value");
                }
            };
            const errorTypes = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };
            class NotPlain extends Error {}
            const call = (name, args) => {
                const reply = exchange(["call", name, args.map((arg) => encode(arg, 0))]);
                if (reply[0] === "value") return decode(reply[1]);
                if (reply[0] === "raise") {
                    const message = String(reply[2] ?? "");
                    if (reply[1] === "AssertionError") throw new assert.AssertionError({ message });
                    const error = new (errorTypes[reply[1]] || Error)(message);
                    if (!errorTypes[reply[1]]) error.name = String(reply[1]);
                    throw error;
                }
                throw new NotPlain(String(reply[1] ?? "a malformed answer"));
            };
            const proxy = (name) => {
                const fn = function (...args) { return call(name, args); };
                Object.defineProperty(fn, "name", { value: name });
                return fn;
            };

            const describe = (error) => String(error && error.stack ? error.stack.split("\n")[0] : error).slice(0, 500);
            const status = (error) => {
                if (error instanceof NotPlain) return "wrong_answer";
                if (error && (error.name === "AssertionError" || error.code === "ERR_ASSERTION")) return "wrong_answer";
                if (/allocation|heap out of memory|Invalid array length|Invalid string length/i.test(String(error && error.message)))
                    return "memory_limit";
                return "runtime_error";
            };
            const finish = () => {
                try {
                    if (!gone) exchange(["bye"]);
                } catch (error) {}
                report("end");
                process.exit(0);
            };

            let started = clock();
            let loaded;
            try {
                loaded = exchange(["load", program, setup]);
            } catch (error) {
                loaded = ["failed", "runtime_error", describe(error)];
            }
            if (loaded[0] !== "loaded") {
                const kind = loaded[1] === "memory_limit" ? "memory_limit" : "runtime_error";
                report("program", kind, clock() - started, String(loaded[2] ?? "the program did not load"));
                finish();
            }
            // The names a test may take from the program: identifiers it mentions that are not globals here.
            const keywords = new Set(("break case catch class const continue debugger default delete do else export extends " +
                "false finally for function if import in instanceof let new null return super switch this throw true try " +
                "typeof var void while with yield await async of static get set undefined arguments eval").split(" "));
            const programNames = (source) => {
                const wanted = new Set();
                for (const match of source.matchAll(/[A-Za-z_$][A-Za-z0-9_$]*/g)) {
                    const name = match[0];
                    if (keywords.has(name) || name in globalThis || (entryPoint && name === "check")) continue;
                    wanted.add(name);
                }
                if (entryPoint && !(entryPoint in globalThis)) wanted.add(entryPoint);
                const found = {};
                if (wanted.size === 0) return found;
                const reply = exchange(["names", [...wanted]]);
                if (reply[0] !== "names" || !Array.isArray(reply[1])) return found;
                for (const item of reply[1]) {
                    if (!Array.isArray(item) || typeof item[0] !== "string" || !wanted.has(item[0])) continue;
                    if (item[1] === "function") found[item[0]] = proxy(item[0]);
                    else if (item[1] === "data") found[item[0]] = decode(item[2]);
                }
                return found;
            };
            globalThis.require = require;
            const strictJSON = (value, depth) => {
                if (depth > 100) return undefined;
                if (value === null || typeof value === "boolean") return value ? "true" : value === null ? "null" : "false";
                if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : undefined;
                if (typeof value === "string") return JSON.stringify(value);
                if (typeof value !== "object") return undefined;
                if (Array.isArray(value)) {
                    const items = [];
                    for (let index = 0; index < value.length; index++) {
                        const item = strictJSON(value[index], depth + 1);
                        if (item === undefined) return undefined;
                        items.push(item);
                    }
                    return "[" + items.join(",") + "]";
                }
                const parts = [];
                for (const key of Object.keys(value)) {
                    const item = strictJSON(value[key], depth + 1);
                    if (item === undefined) return undefined;
                    parts.push(JSON.stringify(key) + ":" + item);
                }
                return "{" + parts.join(",") + "}";
            };
            // Whether the daemon could find the value `got` equal to `want` (both parsed JSON): lenient where the daemon is
            // strict (any two numbers within the tolerance, relative or absolute, with some slack), so that a value the
            // daemon accepts is never taken for a failure here.
            const maybeEqual = (got, want) => {
                if (typeof got === "number" && typeof want === "number") {
                    return got === want || Math.abs(got - want) <= (tolerance + 1e-9) * Math.max(1, Math.abs(got), Math.abs(want));
                }
                if (got === null || want === null || typeof got !== "object" || typeof want !== "object") return got === want;
                if (Array.isArray(got) !== Array.isArray(want)) return false;
                if (Array.isArray(got)) return got.length === want.length && got.every((item, index) => maybeEqual(item, want[index]));
                const keys = Object.keys(want);
                if (Object.keys(got).length !== keys.length) return false;
                return keys.every((key) => Object.prototype.hasOwnProperty.call(got, key) && maybeEqual(got[key], want[key]));
            };
            const surelyWrong = (index, text) => {
                if (expectedValues === null) return false;
                try {
                    const got = JSON.parse(text), want = JSON.parse(expectedValues[index]);
                    if (maybeEqual(got, want)) return false;
                    return !(unwrapSingle && Array.isArray(want) && want.length === 1 && maybeEqual(got, want[0]));
                } catch (error) {
                    return false;
                }
            };
            let failed = false;
            if (form === "test") {
                cases.forEach((test, index) => {
                    const begun = clock();
                    if (gone) {
                        report(index, "runtime_error", 0, "not run: the program's process ended in an earlier case");
                        return;
                    }
                    if (failed && stop) return; // the daemon counts the rest as failed, not run
                    failed = true;
                    const names = [];
                    try {
                        const found = programNames(setup + "\n" + test);
                        for (const name of Object.keys(found)) {
                            globalThis[name] = found[name];
                            names.push(name);
                        }
                        // The reference's setup runs here too, so that the test calls its helpers, never the program's.
                        const body = (setup ? setup + "\n" : "") + test;
                        const wrapped = "(function () {\n" + body + "\n;return typeof check === \"function\" ? check : undefined;\n})";
                        const check = new vm.Script(wrapped, { filename: `test_${index}`, lineOffset: -1 }).runInThisContext()();
                        if (entryPoint && typeof check === "function") {
                            if (!(entryPoint in globalThis)) throw new ReferenceError(`entry point ${entryPoint} is not defined`);
                            check(globalThis[entryPoint]);
                        }
                        report(index, "passed", clock() - begun);
                        failed = false;
                    } catch (error) {
                        if (error instanceof ProgramGone) report(index, "runtime_error", clock() - begun, error.message);
                        else report(index, status(error), clock() - begun, describe(error));
                    } finally {
                        for (const name of names) delete globalThis[name];
                    }
                });
            }
            if (form === "calls") {
                cases.forEach((args, index) => {
                    const begun = clock();
                    if (gone) {
                        report(index, "runtime_error", 0, "not run: the program's process ended in an earlier case");
                        return;
                    }
                    if (failed && stop) return; // the daemon counts the rest as failed, not run
                    failed = true;
                    try {
                        const value = call(functionName, JSON.parse(args));
                        const elapsed = clock() - begun;
                        const text = strictJSON(value, 0);
                        if (text === undefined) {
                            report(index, "unserializable", elapsed, "not plain JSON (NaN, undefined, a Map, a class instance...)");
                            return;
                        }
                        reportValue(index, elapsed, text);
                        failed = surelyWrong(index, text);
                    } catch (error) {
                        if (error instanceof NotPlain) report(index, "unserializable", clock() - begun, error.message);
                        else if (error instanceof ProgramGone) report(index, "runtime_error", clock() - begun, error.message);
                        else report(index, status(error), clock() - begun, describe(error));
                    }
                });
            }
            finish();
        })();
        """#,
        "javascript.host.js": #"""
        // Arbiter's JavaScript program host: the program's own process of the split harness (see javascript.harness.js).
        // The sandbox starts it in PID and mount namespaces of its own; it reads requests on fd 3 and answers on fd 4, one
        // JSON array a line: ["load", program, setup], ["names", [names]], ["call", name, [arguments]], ["bye"]. Nothing here
        // is trusted: the runner believes only the plain data it receives.
        "use strict";
        (() => {
            const fs = require("fs");
            const vm = require("vm");
            const readSync = fs.readSync, writeSync = fs.writeSync, exit = process.exit.bind(process);
            const stringify = JSON.stringify, parse = JSON.parse, runInThisContext = vm.runInThisContext;
            let pending = Buffer.alloc(0);
            const chunk = Buffer.alloc(1 << 16);
            const send = (message) => {
                const data = Buffer.from(stringify(message) + "\n");
                let offset = 0;
                while (offset < data.length) offset += writeSync(4, data, offset);
            };
            const receive = () => {
                for (;;) {
                    const end = pending.indexOf(10);
                    if (end >= 0) {
                        const text = pending.toString("utf8", 0, end);
                        pending = pending.subarray(end + 1);
                        return parse(text);
                    }
                    const n = readSync(3, chunk, 0, chunk.length, null);
                    if (n === 0) return null;
                    pending = Buffer.concat([pending, chunk.subarray(0, n)]);
                }
            };
            const encode = (value, depth, active) => {
                if (depth > 1000) throw new TypeError("nested too deeply");
                if (value === null || typeof value === "boolean" || typeof value === "string") return value;
                if (typeof value === "number") return Number.isFinite(value) ? value : { $: "number", v: String(value) };
                if (value === undefined) return { $: "undefined" };
                if (typeof value === "bigint") return { $: "bigint", v: String(value) };
                if (typeof value !== "object") throw new TypeError("a " + typeof value + " is not plain data");
                if (active.has(value)) throw new TypeError("a cycle is not plain data");
                active.add(value);
                try {
                    if (Array.isArray(value)) {
                        const items = [];
                        for (let index = 0; index < value.length; index++) items.push(encode(value[index], depth + 1, active));
                        return items;
                    }
                    const prototype = Object.getPrototypeOf(value);
                    if (prototype !== Object.prototype && prototype !== null) {
                        const name = value && value.constructor && typeof value.constructor.name === "string" ? value.constructor.name : "object";
                        throw new TypeError("a " + name + " is not plain data");
                    }
                    return { $: "object", v: Object.keys(value).map((key) => [key, encode(value[key], depth + 1, active)]) };
                } finally {
                    active.delete(value);
                }
            };
            const decode = (tree) => {
                if (tree === null || typeof tree !== "object") return tree;
                if (Array.isArray(tree)) return tree.map(decode);
                if (tree.$ === "number") return Number(tree.v);
                if (tree.$ === "undefined") return undefined;
                if (tree.$ === "bigint") return BigInt(tree.v);
                const object = {};
                for (const [key, item] of tree.v) {
                    Object.defineProperty(object, String(key), { value: decode(item), enumerable: true, writable: true, configurable: true });
                }
                return object;
            };
            const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
            const lookup = (name) => {
                if (!identifier.test(name)) return undefined;
                try {
                    const value = runInThisContext(`typeof ${name} === "undefined" ? undefined : ${name}`);
                    if (value !== undefined) return value;
                } catch (error) {}
                const exported = module.exports;
                if (typeof exported === "function" && exported.name === name) return exported;
                return exported && typeof exported === "object" ? exported[name] : undefined;
            };
            const errorName = (error) => {
                const names = ["AssertionError", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError"];
                for (const name of names) {
                    if (error && (error.name === name || (error.code === "ERR_ASSERTION" && name === "AssertionError"))) return name;
                }
                return "Error";
            };
            const message = (error) => {
                try {
                    return String(error && error.message !== undefined ? error.message : error).slice(0, 10000);
                } catch (ignored) {
                    return "";
                }
            };
            const request = receive();
            if (!request || request[0] !== "load") exit(1);
            globalThis.require = require;
            globalThis.module = module;
            globalThis.exports = module.exports;
            let loaded;
            try {
                runInThisContext(fs.readFileSync(request[1], "utf8"), { filename: request[1] });
                if (request[2]) runInThisContext(request[2], { filename: "setup" });
                loaded = ["loaded"];
            } catch (error) {
                const memory = /allocation|heap out of memory/i.test(message(error));
                loaded = ["failed", memory ? "memory_limit" : "runtime_error", (errorName(error) + ": " + message(error)).slice(0, 500)];
            }
            send(loaded);
            for (;;) {
                const message_ = receive();
                if (message_ === null || message_[0] === "bye") {
                    if (message_) send(["bye"]);
                    exit(0);
                }
                if (message_[0] === "names") {
                    const found = [];
                    for (const name of message_[1]) {
                        const value = lookup(name);
                        if (value === undefined) continue;
                        if (typeof value === "function") {
                            found.push([name, "function"]);
                            continue;
                        }
                        try {
                            found.push([name, "data", encode(value, 0, new Set())]);
                        } catch (error) {
                            found.push([name, "other", typeof value]);
                        }
                    }
                    send(["names", found]);
                    continue;
                }
                let result;
                try {
                    const fn = lookup(message_[1]);
                    if (typeof fn !== "function") throw new ReferenceError(`function ${message_[1]} is not defined`);
                    result = fn(...decode(message_[2]));
                } catch (error) {
                    send(["raise", errorName(error), message(error)]);
                    continue;
                }
                try {
                    send(["value", encode(result, 0, new Set())]);
                } catch (error) {
                    send(["bad", "returned " + message(error)]);
                }
            }
        })();
        """#,
        "python.compiler.py": #"""
        # Arbiter's Python test compiler: a warm interpreter, one per sandbox, outside every run (never in a run's namespaces or
        # groups, never forking), that compiles test scripts the way the harness's runner would (`compile_test`: parsed, `==`,
        # `!=`, `in` and `not in` rewritten to the strict comparisons, compiled) and answers with the code, marshalled. The
        # daemon keeps the answers by script and hands them to each run's runner on its private fd 3, so a runner only loads
        # the code (microseconds) instead of compiling it (about 0.8 ms and 150 copied pages in a process just forked), and a
        # script used by many responses is compiled once. It runs no test and no program: a script is only compiled.
        #
        # Started like a fork server: the harness's source on stdin (its UTF-8 length on a line, then the bytes), a Unix
        # datagram socket on fd 3 on which it says "ready", then each request is one datagram, the script's name (its file name
        # in tracebacks) on a line and the script; each answer is one datagram, the marshalled code or nothing when the script
        # does not compile (the runner then compiles it itself, and fails the same way as without this process).
        import builtins
        import marshal
        import posix
        import _socket


        def _serve():
            data = b""
            while True:
                chunk = posix.read(0, 1 << 20)
                if not chunk:
                    break
                data += chunk
            newline = data.index(b"\n")
            source = data[newline + 1:newline + 1 + int(data[:newline])].decode("utf-8")
            namespace = {"__name__": "__arbiter_prelude__", "__file__": "harness.py", "__builtins__": builtins}
            exec(compile(source, "harness.py", "exec"), namespace)
            compile_test = namespace["_arbiter_comparisons"]()[2]
            server = _socket.socket(fileno=3)
            _socket.socket.send(server, b"ready")
            while True:
                try:
                    request = _socket.socket.recv(server, 1 << 24)
                except InterruptedError:
                    continue
                if not request:
                    posix._exit(0)
                name, _, script = request.partition(b"\n")
                try:
                    answer = marshal.dumps(compile_test(script.decode("utf-8"), name.decode("utf-8")))
                except BaseException:
                    answer = b""
                try:
                    _socket.socket.send(server, answer)
                except OSError:
                    _socket.socket.send(server, b"")


        _serve()
        """#,
        "python.forkserver.py": #"""
        # Arbiter's Python fork server: a warm interpreter per sandbox slot, so that a run forks instead of starting Python
        # (about 8 ms of CPU a start). Started by the daemon as root (only where the sandbox runs as root), born in the slot's
        # cgroups, with /dev/null as stdout. It reads on stdin the harness's source (its UTF-8 length on a line, then the
        # bytes; or any code to run as `__main__`, such as python.json's `warm_run` for stdin/stdout cases) and the sandbox's
        # seccomp filter (its length on a line, then the bytes of `struct sock_filter`s), compiles that code once, imports the modules the harness and most programs need, and waits on fd 3.
        #
        # For each run, the run's init (already in its fresh PID, mount, network, IPC and UTS namespaces, its root pivoted
        # and its work directory a tmpfs of its own) sends one message: a line of numbers (uid, gid, the CPU rlimit in
        # seconds, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_STACK, RLIMIT_NOFILE, RLIMIT_NPROC, 0 for none, and whether to install
        # the filter), the work directory on a line, the environment as NUL-terminated entries, and eleven descriptors:
        # the run's stdin, stdout, stderr, fds 3 and 4, its mount, PID, network, IPC and UTS namespaces, and a pipe for the
        # answer. The server joins the run's namespaces (its PID namespace for its children), forks the run's process there
        # and returns to its own namespaces; the run's process is thus in the run's PID namespace (it dies with the run's
        # init) and the server's child: the server reaps it and writes its wait status, CPU time and peak memory on the
        # answer pipe, where init waits for them. The run's process writes its pid (in the run's namespace) on the answer
        # pipe, takes the descriptors as 0-4, closes every other, enters the work directory, sets the limits, drops to the
        # run's user (no_new_privs, then the filter), takes the run's environment and runs the harness as `__main__`.
        # Nothing of a run ever returns to the server: each run starts from the server's state before the first run.
        import os
        import sys
        import posix
        import _socket
        import _ctypes
        import resource
        import builtins
        import marshal
        import gc

        # Imported now, so that no run pays for them: what the harness imports, and what programs import most.
        import _ast, _json, json, _signal, time, types  # noqa: F401,E401
        import typing, math, re, collections, itertools, functools, heapq, bisect, string, operator  # noqa: F401,E401


        def _read_input():
            data = b""
            while True:
                chunk = posix.read(0, 1 << 20)
                if not chunk:
                    break
                data += chunk
            posix.close(0)
            posix.open("/dev/null", posix.O_RDONLY)  # fd 0 again, so that the next descriptor opened is not taken as stdin
            parts = []
            position = 0
            for _ in range(2):
                newline = data.index(b"\n", position)
                length = int(data[position:newline])
                parts.append(data[newline + 1:newline + 1 + length])
                position = newline + 1 + length
            return parts[0].decode("utf-8"), parts[1]


        def _libc():
            class Int(_ctypes._SimpleCData):
                _type_ = "i"

            class Long(_ctypes._SimpleCData):
                _type_ = "l"

            class Pointer(_ctypes._SimpleCData):
                _type_ = "P"

            flags = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO

            class Function(_ctypes.CFuncPtr):
                _flags_ = flags
                _restype_ = Int

            class LongFunction(_ctypes.CFuncPtr):
                _flags_ = flags
                _restype_ = Long

            class Library:
                _handle = _ctypes.dlopen(None, 2)

            library = Library()
            try:
                malloc_trim = Function(("malloc_trim", library))  # glibc's; a C library without it trims nothing
            except AttributeError:
                malloc_trim = None
            return (Function(("setns", library)), Function(("prctl", library)), LongFunction(("syscall", library)),
                    Int, Long, Pointer, malloc_trim)


        # Namespaces in the order the server joins a run's (mount last: it changes the root and working directory) and the
        # order of their descriptors in a message (mount, PID, network, IPC, UTS).
        _JOIN_ORDER = ((7, 0x40000000), (8, 0x08000000), (9, 0x04000000), (6, 0x20000000), (5, 0x00020000))
        _OWN = ("net", "ipc", "uts", "pid", "mnt")


        def _serve():
            harness_source, filter_bytes = _read_input()
            harness = compile(harness_source, "harness.py", "exec")
            del harness_source
            # A harness that defines `_arbiter_prelude` (python.harness.py) builds what no run changes once, here: each run
            # forks from it and calls `_arbiter_site()` and `_arbiter_harness(prelude)`, instead of executing the whole file.
            prepared = None
            if "_arbiter_prelude" in harness.co_names:
                namespace = {"__name__": "__arbiter_prelude__", "__file__": "harness.py", "__builtins__": builtins}
                exec(harness, namespace)
                prepared = (namespace, namespace["_arbiter_prelude"]())
            setns, prctl, syscall, Int, Long, _, malloc_trim = _libc()
            drop_capabilities = _capability_dropper(syscall, Int, Long)
            # struct sock_fprog { unsigned short len; struct sock_filter *filter; } and the filter, both kept alive here.
            fprog = _make_fprog(bytearray(filter_bytes), len(filter_bytes) // 8)
            # The arguments of the run's three prctl calls, built once (making ctypes objects costs each run pages and time):
            # PR_CAP_AMBIENT with PR_CAP_AMBIENT_CLEAR_ALL, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP with SECCOMP_MODE_FILTER.
            prctl_arguments = tuple(tuple(Long(value) for value in values) for values in (
                (47, 4, 0, 0, 0), (38, 1, 0, 0, 0), (22, 2, _ctypes.addressof(fprog[0]), 0, 0)))
            own = [posix.open("/proc/self/ns/" + name, posix.O_RDONLY | posix.O_CLOEXEC) for name in _OWN]
            oom = posix.open("/proc/self/oom_score_adj", posix.O_WRONLY | posix.O_CLOEXEC)
            try:
                posix.write(oom, b"-1000")  # needs CAP_SYS_RESOURCE, which a container may not give
            except OSError:
                oom = -1
            server = _socket.socket(fileno=3)
            # Everything allocated so far is shared with every run: keep the collector from touching (and so copying) it.
            gc.collect()
            # The C heap's free memory goes back to the kernel (malloc_trim releases the free pages inside the heap too, not
            # only its top): about 2 MB of the ~8 MB of anonymous memory that every run's two forks would otherwise copy
            # page-table entries of, and that each run's process would tear down at its end. A page that a run allocates
            # there later is a fresh zeroed page instead of a copy of the server's.
            if malloc_trim is not None:
                malloc_trim(Long(0))
            gc.freeze()
            _collapse(syscall, Long)
            _socket.socket.send(server, b"ready")  # the daemon waits for it before it hands the server a run
            while True:
                try:
                    message, fds, _, _ = _socket.socket.recvmsg(server, 1 << 20, _socket.CMSG_SPACE(11 * 4))
                except InterruptedError:
                    continue
                if not message:
                    posix._exit(0)
                received = []
                for level, kind, data in fds:
                    if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
                        received += [int.from_bytes(data[i:i + 4], sys.byteorder, signed=True)
                                     for i in range(0, len(data) - len(data) % 4, 4)]
                # Eleven descriptors from a run of a root daemon; twelve (its user namespace before the answer pipe) from a
                # run in a user namespace of its own (an ordinary user's daemon).
                joined = len(received) == 12
                everything = received
                if len(received) == 11:
                    pid = _fork_into(received, setns, own, oom)
                elif joined:
                    pid = _fork_joined(received, setns)
                    received = received[:10] + received[11:]
                else:
                    pid = -1
                if pid == 0:
                    try:
                        _run(received, message, harness, prepared, prctl, prctl_arguments, drop_capabilities)
                    except BaseException:
                        sys.excepthook(*sys.exc_info())  # on the run's stderr once it has it, else the daemon's
                    finally:
                        posix._exit(127)
                for fd in everything[:-1]:
                    posix.close(fd)
                if pid > 0 and joined:
                    _reap(pid)  # the child that joined the run reports its process's end itself
                elif pid > 0:
                    _wait(pid, received[-1])
                for fd in received[-1:]:
                    posix.close(fd)


        def _fork_into(fds, setns, own, oom):
            """Joins the run's namespaces (its PID namespace for children only), forks the run's process there, and comes
            back to the server's own namespaces. The run's process is thus in the run's PID namespace (it dies with the run's
            init) and the server's child. The server is never the OOM killer's choice (-1000: it sits in the run's memory
            cgroup) where the kernel lets it lower its score; the run's process is, like any other (0, inherited). Returns
            the pid, 0 in the child, or -1."""
            joined = 0
            pid = -1
            try:
                for index, flag in _JOIN_ORDER:
                    if setns(fds[index], flag) != 0:
                        break
                    joined += 1
                if joined == len(_JOIN_ORDER):
                    if oom >= 0:
                        posix.write(oom, b"0")
                    pid = posix.fork()
                    if pid == 0:
                        return 0
            except OSError:
                pid = -1
            finally:
                if pid != 0:
                    if oom >= 0:
                        posix.write(oom, b"-1000")
                    for (_, flag), fd in list(zip(_JOIN_ORDER, own))[:joined]:
                        if setns(fd, flag) != 0:
                            posix._exit(1)  # not back in its own namespaces: the daemon starts a new server
                    posix.chdir("/")
            return pid


        def _fork_joined(fds, setns):
            """For a run in a user namespace of its own: a child joins it (as the namespace's owner, the server's user has
            every capability there) and then the run's other namespaces, and forks the run's process there (in the run's PID
            namespace: it dies with the run's init); the child reaps it, writes its end on the answer pipe, and exits. The
            server cannot join itself: nothing leads back out of a user namespace. One fork more than as root, still far from
            an interpreter's start. Returns the child's pid in the server, 0 in the run's process, or -1."""
            try:
                child = posix.fork()
            except OSError:
                return -1
            if child != 0:
                return child
            try:
                if setns(fds[10], 0x10000000) != 0:  # CLONE_NEWUSER
                    posix._exit(1)
                for index, flag in _JOIN_ORDER:
                    if setns(fds[index], flag) != 0:
                        posix._exit(1)
                posix.chdir("/")
                pid = posix.fork()
            except BaseException:
                posix._exit(1)
            if pid == 0:
                return 0
            for fd in fds[:11]:
                posix.close(fd)
            _wait(pid, fds[11])
            posix._exit(0)


        def _reap(pid):
            while True:
                try:
                    posix.waitpid(pid, 0)
                    return
                except InterruptedError:
                    continue
                except ChildProcessError:
                    return


        def _wait(pid, answer):
            """Reaps the run's process and writes its wait status, CPU seconds and peak memory on the answer pipe, where the
            run's init waits for them. When the run was killed, init is gone and nobody reads them."""
            while True:
                try:
                    _, status, usage = posix.wait4(pid, 0)
                    break
                except InterruptedError:
                    continue
                except ChildProcessError:
                    return
            try:
                posix.write(answer, b"%d %.6f %d\n" % (status, usage.ru_utime + usage.ru_stime, usage.ru_maxrss))
            except OSError:
                pass


        def _collapse(syscall, Long):
            """Asks the kernel to back the server's heap and arenas (its private anonymous writable mappings of 2 MB or more)
            with huge pages (madvise MADV_COLLAPSE, Linux 6.1): each fork then copies one page-table entry for 2 MB instead
            of 512, and each run's process ends with fewer to tear down. Where the kernel cannot, nothing changes."""
            number = {"x86_64": 28, "aarch64": 233}.get(posix.uname().machine)  # SYS_madvise
            if number is None:
                return
            try:
                with open("/proc/self/maps", "rb") as maps:
                    lines = maps.read().split(b"\n")
            except OSError:
                return
            for line in lines:
                fields = line.split()
                anonymous = len(fields) == 5 or (len(fields) == 6 and fields[5] == b"[heap]")
                if not anonymous or fields[1] != b"rw-p" or fields[4] != b"0":
                    continue
                start, end = (int(x, 16) for x in fields[0].split(b"-"))
                # Whole 2 MB blocks only: a range's partial blocks are left as they are.
                first, last = (start + (1 << 21) - 1) & ~((1 << 21) - 1), end & ~((1 << 21) - 1)
                if last > first:
                    syscall(Long(number), Long(first), Long(last - first), Long(25))  # MADV_COLLAPSE


        def _make_fprog(filter_memory, count):
            class Byte(_ctypes._SimpleCData):
                _type_ = "B"

            class Short(_ctypes._SimpleCData):
                _type_ = "H"

            class Pointer(_ctypes._SimpleCData):
                _type_ = "P"

            Filter = Byte * len(filter_memory)
            storage = Filter.from_buffer(filter_memory)

            class Program(_ctypes.Structure):
                _fields_ = [("len", Short), ("filter", Pointer)]

            program = Program()
            program.len = count
            program.filter = _ctypes.addressof(storage)
            return program, storage


        def _capability_dropper(syscall, Int, Long):
            """A function that empties this process's permitted, effective and inheritable capabilities (capset(2), version
            3) and returns whether it could; built once from `_libc()`'s syscall and types."""
            number = {"x86_64": 126, "aarch64": 91}.get(posix.uname().machine)  # SYS_capset
            # The arguments, built once: capset only reads them (version 3 is valid, so the kernel writes nothing back).
            arguments = (Long(number or 0), (Int * 2)(0x20080522, 0), (Int * 6)(0, 0, 0, 0, 0, 0))

            def drop():
                if number is None:
                    return False
                return syscall(*arguments) == 0

            return drop


        def _above(fd, least):
            """A copy of a descriptor numbered above `least`."""
            taken = []
            copy = posix.dup(fd)
            while copy <= least:
                taken.append(copy)
                copy = posix.dup(fd)
            for extra in taken:
                posix.close(extra)
            return copy


        def _run(fds, message, harness, prepared, prctl, prctl_arguments, drop_capabilities):
            """The run's process: descriptors, limits, identity, filter, environment, then the harness."""
            posix.write(fds[10], b"%d\n" % posix.getpid())
            # A session and process group of its own: the server's group lies outside the run, and a signal to the run's
            # process group (kill(0), killpg) reaches every member wherever it is, other runs' processes included.
            posix.setsid()
            header, _, rest = message.partition(b"\n")
            workdir, _, environment = rest.partition(b"\n")
            uid, gid, cpu, address_space, file_size, stack, open_files, processes, seccomp = (int(x) for x in header.split())
            high = [_above(fd, 4) for fd in fds[:5]]
            for target, fd in enumerate(high):
                posix.dup2(fd, target)
            posix.closerange(5, 1 << 20)
            posix.chdir(workdir)
            if cpu > 0:
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            for limit, value in ((resource.RLIMIT_AS, address_space), (resource.RLIMIT_FSIZE, file_size),
                                 (resource.RLIMIT_STACK, stack), (resource.RLIMIT_NOFILE, open_files),
                                 (resource.RLIMIT_NPROC, processes)):
                if value > 0:
                    resource.setrlimit(limit, (value, value))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if gid >= 0:
                posix.setgroups([])
                posix.setresgid(gid, gid, gid)
            if uid >= 0:
                posix.setresuid(uid, uid, uid)
            # No capability is left (as root the switch to the sandbox user cleared them; after joining a user namespace the
            # process holds all of that namespace's): the permitted, effective, inheritable and ambient sets are emptied, as
            # executing a program as a user other than 0 does.
            clear_ambient, no_new_privs, install_filter = prctl_arguments
            if prctl(*clear_ambient) != 0 or not drop_capabilities():
                posix._exit(127)
            if prctl(*no_new_privs) != 0:
                posix._exit(127)
            if seccomp and prctl(*install_filter) != 0:
                posix._exit(127)
            # The run's environment, in the process's and in os.environ's own table (bytes; os.environb and posix.environ are
            # the same table): `os.environ.clear()` walks the mapping protocol in Python, 0.3 ms and 60 pages a run.
            table = os.environ._data
            for key in list(table):
                posix.unsetenv(key)
            table.clear()
            for entry in environment.split(b"\0"):
                key, equals, value = entry.partition(b"=")
                if equals:
                    posix.putenv(key, value)
                    table[key] = value
            main = types.ModuleType("__main__")
            main.__dict__.update({"__file__": "harness.py", "__builtins__": builtins})
            sys.modules["__main__"] = main
            sys.argv = ["harness.py"]
            code = 0
            try:
                if prepared is None:
                    exec(harness, main.__dict__)
                else:
                    namespace, prelude = prepared
                    namespace["_arbiter_site"]()
                    namespace["_arbiter_harness"](prelude)
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
                if not isinstance(stop.code, int) and stop.code is not None:
                    print(stop.code, file=sys.stderr)
            except BaseException:
                sys.excepthook(*sys.exc_info())
                code = 1
            # As an interpreter ends: the program's non-daemon threads and its atexit functions, then the streams.
            try:
                if "threading" in sys.modules:
                    sys.modules["threading"]._shutdown()
                import atexit
                atexit._run_exitfuncs()
            except BaseException:
                sys.excepthook(*sys.exc_info())
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except BaseException:
                    code = code or 120
            posix._exit(code)


        _serve()
        """#,
        "python.harness.py": #"""
        # Arbiter's Python test harness, for the `test` and `calls` forms. Python runs with -S (skipping `site`, about 4 ms
        # a start), so it first puts back what programs rely on: the distribution's package directories on sys.path and the
        # exit()/quit() builtins (python.json's `run` does the same for stdin/stdout tests). It imports nothing beyond what
        # the interpreter has loaded at start, except _ctypes and _json (C modules, under a millisecond together); json
        # itself is imported only for `calls`.
        #
        # Two processes. This one (the runner) makes itself non-dumpable first, so that no other process of its user can
        # read its memory or descriptors (/proc/<pid>/mem, fd, environ; ptrace), then forks the program's process, which
        # closes fds 3 and 4 at once: it never holds the nonce nor the report channel, and the program runs only there.
        # Then the runner reads its nonce and instructions from fd 3 and closes it: lines "nonce", "form", "program",
        # "entry point", "function", "count", then per case "<byte length>" and that many bytes (a script, or the JSON array
        # of a call's arguments). It runs the tests itself, in its own globals where each function of the program is a proxy:
        # a call sends the arguments as plain data (None, bool, int, float, complex, str, bytes, list, tuple, dict, set,
        # frozenset) over a pipe, the program's process calls the function and answers with plain data only, which the runner
        # rebuilds from builtin types. No object of the program ever exists here. Each case is reported on fd 4 as
        # "<nonce> <JSON array>", ending with "<nonce> ["end"]".


        def _arbiter_site():
            import builtins
            import sys

            builtins.exit = builtins.quit = sys.exit
            sys.path += ["/usr/local/lib/python%d.%d/dist-packages" % sys.version_info[:2], "/usr/lib/python3/dist-packages"]


        def _arbiter_hider():
            """A function that makes this process non-dumpable (prctl PR_SET_DUMPABLE 0) and returns whether it is; built once
            (ctypes' classes cost ~0.3 ms), called in each run."""
            try:
                import _ctypes

                class Int(_ctypes._SimpleCData):
                    _type_ = "i"

                class Long(_ctypes._SimpleCData):
                    _type_ = "L"

                class Function(_ctypes.CFuncPtr):
                    _flags_ = _ctypes.FUNCFLAG_CDECL
                    _restype_ = Int

                class Library:
                    _handle = _ctypes.dlopen(None, 2)

                prctl = Function(("prctl", Library()))
                arguments = [Long(value) for value in (4, 0, 3)]
                zero = Long(0)
            except Exception:
                return lambda: False

            def hide():
                try:
                    prctl(arguments[0], zero, zero, zero, zero)  # PR_SET_DUMPABLE, 0
                    return prctl(arguments[2], zero, zero, zero, zero) == 0  # PR_GET_DUMPABLE
                except Exception:
                    return False

            return hide


        def _arbiter_codec():
            """Plain data to and from text, for both processes: JSON where a JSON object is always a tagged value ("t"
            tuple, "d" dict as a flat key-value list, "s" set, "f" frozenset, "c" complex, "b" bytes as latin-1, "x" an int
            too long for decimal). Only builtin types are ever built from text; a value of a subclass of a plain type is
            read through that type (int.__int__, list.__iter__, dict.items, ...), so its own methods never run; anything
            else raises TypeError."""
            import sys

            kind, text, is_instance, length, identity = type, str, isinstance, len, id
            none_type = kind(None)
            scalars = {none_type, bool, int, float, str}
            plain = (bool, int, float, str, none_type, complex, bytes, list, tuple, dict, set, frozenset)
            mro_of = kind.__dict__["__mro__"].__get__
            as_int, as_float, as_str, as_complex = int.__int__, float.__float__, str.__str__, complex.__complex__
            as_bytes, list_items, tuple_items = bytes.__bytes__, list.__iter__, tuple.__iter__
            dict_items, set_items, frozenset_items = dict.items, set.__iter__, frozenset.__iter__

            def tree(value, active):
                cls = kind(value)
                if cls in scalars:
                    if cls is int and (value > 1 << 12000 or value < -(1 << 12000)):
                        return {"x": hex(value)}
                    return value
                base = cls if cls in plain else None
                if base is None:
                    for candidate in mro_of(cls):
                        if candidate in plain:
                            base = candidate
                            break
                    else:
                        raise TypeError("a %s is not plain data" % getattr(cls, "__name__", "value"))
                    if base in scalars:
                        return tree({int: as_int, float: as_float, str: as_str, bool: bool}[base](value), active)
                if base is complex:
                    number = as_complex(value)
                    return {"c": [number.real, number.imag]}
                if base is bytes:
                    return {"b": as_bytes(value).decode("latin-1")}
                key = identity(value)
                if key in active:
                    raise TypeError("a %s holding itself is not plain data" % base.__name__)
                active.add(key)
                try:
                    if base is list:
                        return [item if kind(item) in scalars and kind(item) is not int else tree(item, active)
                                for item in list_items(value)]
                    if base is tuple:
                        return {"t": [tree(item, active) for item in tuple_items(value)]}
                    if base is dict:
                        flat = []
                        for item_key, item in dict_items(value):
                            flat.append(tree(item_key, active))
                            flat.append(tree(item, active))
                        return {"d": flat}
                    return {"s" if base is set else "f": [tree(item, active) for item in
                                                          (set_items if base is set else frozenset_items)(value)]}
                finally:
                    active.discard(key)

            def untag(pairs):
                if length(pairs) != 1:
                    raise ValueError("not plain data")
                tag, payload = pairs[0]
                if kind(payload) is list:
                    if tag == "t":
                        return tuple(payload)
                    if tag == "d" and length(payload) % 2 == 0:
                        return dict(zip(payload[0::2], payload[1::2]))
                    if tag == "s":
                        return set(payload)
                    if tag == "f":
                        return frozenset(payload)
                    if tag == "c" and length(payload) == 2 and all(kind(part) in (int, float) for part in payload):
                        return complex(payload[0], payload[1])
                elif kind(payload) is str:
                    if tag == "b":
                        return payload.encode("latin-1")
                    if tag == "x":
                        return int(payload, 16)
                raise ValueError("not plain data")

            def refuse(value):
                raise TypeError("not plain data")

            try:
                import _json

                class Tagged:
                    strict, object_hook, object_pairs_hook = True, None, staticmethod(untag)
                    parse_float, parse_int, parse_constant = float, int, float

                class Untagged(Tagged):
                    object_pairs_hook = None

                tagged_scanner, json_scanner = _json.make_scanner(Tagged()), _json.make_scanner(Untagged())
                encoder = _json.make_encoder(None, refuse, _json.encode_basestring_ascii, None, ":", ",", False, False, True)

                def scan(scanner, source):
                    value, end = scanner(source, 0)
                    if end != length(source):
                        raise ValueError("not plain data")
                    return value

                def dumps(value):
                    return "".join(encoder(value, 0))

                def loads(source):
                    return scan(tagged_scanner, source)

                def loads_json(source):
                    return scan(json_scanner, source)
            except ImportError:
                import json

                def dumps(value):
                    return json.dumps(value, ensure_ascii=True, allow_nan=True, separators=(",", ":"), default=refuse)

                def loads(source):
                    return json.loads(source, object_pairs_hook=untag, parse_constant=float)

                def loads_json(source):
                    return json.loads(source, parse_constant=float)

            def encode(value):
                """The text of a value (TypeError when it is not plain data)."""
                return dumps(tree(value, set()))

            del sys
            return tree, dumps, encode, loads, loads_json


        def _arbiter_channel(incoming, outgoing, read, write):
            """Messages on a pair of pipes: "<byte length>\\n<ASCII text>". Returns send(text) and receive() (the text, or
            None at the end of the stream or on a malformed frame)."""
            buffer = bytearray()

            def send(message):
                payload = b"%d\n" % len(message) + message.encode("ascii")
                while payload:
                    payload = payload[write(outgoing, payload):]

            def fill():
                chunk = read(incoming, 1 << 16)
                if not chunk:
                    return False
                buffer.extend(chunk)
                return True

            def receive():
                while b"\n" not in buffer[:24]:
                    if len(buffer) >= 24 or not fill():
                        return None
                end = buffer.index(b"\n")
                header = bytes(buffer[:end])
                if not header.isdigit():
                    return None
                size = int(header)
                del buffer[:end + 1]
                while len(buffer) < size:
                    if not fill():
                        return None
                message = bytes(buffer[:size])
                del buffer[:size]
                try:
                    return message.decode("ascii")
                except UnicodeDecodeError:
                    return None

            return send, receive


        def _arbiter_program_process(requests, replies, tree, dumps, encode, loads, loads_json):
            """The program's process: runs the program when told to, then answers calls with plain data until "bye". It never
            returns. Nothing here is trusted: the runner believes only the plain data it receives."""
            import builtins
            import posix
            import sys

            read, write, exit_now, kind, text, is_instance, is_callable = (
                posix.read, posix.write, posix._exit, type, str, isinstance, callable)
            send, receive = _arbiter_channel(requests, replies, read, write)
            builtin_names = builtins.__dict__
            mutable = (list, dict, set)

            def described(error):
                try:
                    message = text(error)[:10000]
                except BaseException:
                    message = ""
                base = "Exception"
                for cls in kind(error).__mro__:
                    if builtin_names.get(cls.__name__) is cls:
                        base = cls.__name__
                        break
                return ["raise", base, kind(error).__name__, message]

            def describe(name, value):
                if is_instance(value, kind(sys)):
                    return [name, "module", text(value.__name__)]
                if is_instance(value, type):
                    return [name, "class", value.__name__]
                if is_callable(value):
                    return [name, "function", ""]
                try:
                    return [name, "data", tree(value, set())]
                except (TypeError, ValueError, RecursionError):
                    return [name, "other", kind(value).__name__]

            def flush():
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except BaseException:
                        pass

            try:
                request = loads(receive() or "[]")
                if not request or request[0] != "load":
                    exit_now(1)
                namespace = {"__name__": "__arbiter_program__", "__builtins__": builtins}
                try:
                    with open(request[1], encoding="utf-8") as source:
                        code = compile(source.read(), request[1], "exec")
                    exec(code, namespace)
                    reply = ["loaded"]
                    if len(request) > 2 and request[2]:
                        # The reference's helpers replace whatever the program defined under their names.
                        try:
                            exec(compile(request[2], "setup", "exec"), namespace)
                        except BaseException as error:
                            reply = ["failed", "runtime_error",
                                     ("the reference's setup failed: " + kind(error).__name__ + ": " + text(error))[:500]]
                except BaseException as error:
                    reply = ["failed", "memory_limit" if is_instance(error, MemoryError) else "runtime_error",
                             (kind(error).__name__ + ": " + text(error))[:500]]
                flush()
                send(encode(reply))
                while True:
                    message = receive()
                    if message is None:
                        exit_now(0)
                    request = loads(message)
                    if request[0] == "bye":
                        flush()
                        send(encode(["bye"]))
                        exit_now(0)
                    if request[0] == "names":
                        send(dumps(["names", [describe(name, namespace[name]) for name in request[1] if name in namespace]]))
                        continue
                    # ["call", name, args, flat keyword pairs, whether to send back changed arguments] or
                    # ["calljson", name, JSON array of arguments]
                    synced = request[0] == "call" and request[4]
                    try:
                        function = namespace[request[1]]
                        if request[0] == "call":
                            arguments, flat = request[2], request[3]
                            keywords = {flat[index]: flat[index + 1] for index in range(0, len(flat), 2)}
                        else:
                            arguments, keywords = loads_json(request[2]), {}
                        result = function(*arguments, **keywords)
                    except BaseException as error:
                        flush()
                        send(encode(described(error)))
                        continue
                    try:
                        alias = -1
                        for index, argument in enumerate(arguments if request[0] == "call" else ()):
                            if result is argument:
                                alias = index
                        changed = [[index, tree(argument, set())] for index, argument in enumerate(arguments)
                                   if synced and kind(argument) in mutable]
                        reply = dumps(["value", None if alias >= 0 else tree(result, set()), alias, changed])
                    except BaseException as error:
                        reply = encode(["bad", "returned %s: %s" % (kind(result).__name__, text(error)[:200])])
                    send(reply)
            except BaseException:
                flush()
                exit_now(1)
            exit_now(1)


        def _arbiter_comparisons():
            """The comparison that tests run with, and the compilation of a test into it: (strict_eq, strict_in, compile_test,
            referenced). Built once."""
            kind, is_instance, compile_code = type, isinstance, compile

            # "AlwaysEqual": a value of a class that says it equals anything must not pass `assert candidate(x) == 5`.
            # Every value that comes from the program is rebuilt here from builtin types, so no such value can reach a test
            # any more; the comparison below stays as a second guard. Tests run with their `==`, `!=`, `in` and `not in`
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

            only_ast = ast.PyCF_ONLY_AST
            ast_node, ast_compare, ast_eq, ast_ne, ast_in, ast_not_in = ast.AST, ast.Compare, ast.Eq, ast.NotEq, ast.In, ast.NotIn
            rewritten = (ast_eq, ast_ne, ast_in, ast_not_in)
            ast_call, ast_name, ast_load, ast_unary, ast_not = ast.Call, ast.Name, ast.Load, ast.UnaryOp, ast.Not
            length, get_attribute, set_attribute = len, getattr, setattr
            positions = ("lineno", "col_offset", "end_lineno", "end_col_offset")
            code_type = kind(_arbiter_comparisons.__code__)

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
                    call_node = ast_call(func=ast_name(id=helper, ctx=ast_load()), args=[node.left, node.comparators[0]],
                                         keywords=[])
                    result = call_node if is_instance(operator, (ast_eq, ast_in)) else ast_unary(op=ast_not(), operand=call_node)
                    for new in (result, call_node, call_node.func, result.operand if result is not call_node else call_node):
                        for position in positions:
                            set_attribute(new, position, get_attribute(node, position, None))
                    return result
                return node

            def compile_test(source, name):
                return compile_code(rewrite(compile_code(source, name, "exec", only_ast)), name, "exec")

            def referenced(code, found):
                """Every name a test's code (and the functions it defines) may look up."""
                found.update(code.co_names)
                for constant in code.co_consts:
                    if kind(constant) is code_type:
                        referenced(constant, found)
                return found

            return strict_eq, strict_in, compile_test, referenced


        def _arbiter_kinds():
            """The classes the runner raises and hands to tests, and the builtin exceptions by name: (ProgramGone, Refused,
            Unavailable, builtin_exceptions). Built once."""

            class ProgramGone(BaseException):
                """The program's process ended or broke the protocol; no case runs after this."""

            class Refused(Exception):
                """Something that cannot cross between the processes (not plain data, a class of the program, ...)."""

            class Unavailable:
                """Stands for a name of the program that cannot cross: any use fails the case (through `refused`, which
                records the failure of the run's case)."""

                def __init__(self, message, refused):
                    object.__setattr__(self, "_message", message)
                    object.__setattr__(self, "_refused", refused)

                def fail(self, *arguments, **keywords):
                    raise object.__getattribute__(self, "_refused")(object.__getattribute__(self, "_message"))

                __call__ = __bool__ = __eq__ = __ne__ = __hash__ = __iter__ = __len__ = __getitem__ = __contains__ = fail
                __lt__ = __le__ = __gt__ = __ge__ = __add__ = __sub__ = __mul__ = __setattr__ = __index__ = __int__ = fail

                def __getattr__(self, name):
                    return object.__getattribute__(self, "fail")()

            import builtins

            builtin_exceptions = {name: value for name, value in builtins.__dict__.items()
                                  if isinstance(value, type) and issubclass(value, BaseException)}
            return ProgramGone, Refused, Unavailable, builtin_exceptions


        def _arbiter_prelude():
            """Everything the harness builds that no run changes: a fork server builds it once before its first run (each run
            forks from it), else each run builds it at its start."""
            import builtins
            import sys

            comparisons = _arbiter_comparisons()
            # The builtins of the tests: a copy of the interpreter's, with exit() and quit() as _arbiter_site makes them, and
            # the comparison helpers.
            test_builtins = dict(builtins.__dict__)
            test_builtins["exit"] = test_builtins["quit"] = sys.exit
            test_builtins["__arbiter_strict_eq__"], test_builtins["__arbiter_strict_in__"] = comparisons[:2]
            import marshal

            # JSON string escapes for the reports (a table for str.translate).
            escapes = {code: "\\u%04x" % code for code in range(32)}
            escapes.update({ord("\\"): "\\\\", ord('"'): '\\"'})
            return {"codec": _arbiter_codec(), "hide": _arbiter_hider(), "comparisons": comparisons, "kinds": _arbiter_kinds(),
                    "test_builtins": test_builtins, "load_code": marshal.loads, "escapes": escapes}


        def _arbiter_harness(prelude):
            import posix
            import sys
            import time
            import _signal

            # Bound now, so that nothing a test does can skip the reports.
            write, read, close, exit_now, clock = posix.write, posix.read, posix.close, posix._exit, time.perf_counter
            is_instance, text, kind, is_callable, as_float = isinstance, str, type, callable, float
            run_code, compile_code, numbered, as_repr, rounded = exec, compile, enumerate, repr, round
            tree, dumps, encode, loads, loads_json = prelude["codec"]

            # Non-dumpable before the program's process exists; that process is forked before the nonce is read and closes
            # fds 3 and 4 before anything of the program runs.
            hidden = prelude["hide"]()
            program_pid = None
            if hidden:
                try:
                    requests_out, requests_in = posix.pipe()
                    replies_out, replies_in = posix.pipe()
                    program_pid = posix.fork()
                except OSError:
                    program_pid = None
                if program_pid == 0:
                    try:
                        close(3)
                        close(4)
                        close(requests_in)
                        close(replies_out)
                        _arbiter_program_process(requests_out, replies_in, tree, dumps, encode, loads, loads_json)
                    finally:
                        exit_now(1)
                if program_pid is not None:
                    close(requests_out)
                    close(replies_in)
            _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
            posix.chdir("/")

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
            for _ in range(count + 1):
                size = int(line())
                cases.append(data[position:position + size].decode("utf-8"))
                position += size
            # The reference's setup: installed in the program's process after the program, and in each test's scope.
            setup = cases.pop()
            # Optional sections, in this order. "stop" (all_or_nothing, stop_on_failure): the test scripts after the first
            # that fails are not run. With calls, "expect <tolerance> <unwrap single>" and the expected values: the calls stop
            # after the first value that surely differs; only where to stop is decided here, the daemon judges every value it
            # gets. "code <n>" and n items: each test script (then the setup) compiled by the daemon's test compiler, as
            # `compile_test` would here (marshalled; empty when it was not), so that this process need not compile it.
            stop = False
            expected_values, tolerance, unwrap_single = None, 0.0, False
            compiled = None
            while position < len(data):
                header = line().split()
                if header == ["stop"]:
                    stop = True
                elif len(header) == 3 and header[0] == "expect":
                    tolerance, unwrap_single, expected_values = as_float(header[1]), header[2] == "1", []
                    for _ in range(count):
                        size = int(line())
                        expected_values.append(data[position:position + size].decode("utf-8"))
                        position += size
                elif len(header) == 2 and header[0] == "code":
                    compiled = []
                    for _ in range(int(header[1])):
                        size = int(line())
                        compiled.append(data[position:position + size])
                        position += size
                else:
                    break
            del data
            escapes = prelude["escapes"]

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

            def elapsed(begun):
                return rounded((clock() - begun) * 1000, 3)

            if program_pid is None:
                reason = "the harness cannot keep the program apart from its tests" + (
                    "" if hidden else " (prctl PR_SET_DUMPABLE is unavailable)")
                for index in range(count):
                    report(index, "runtime_error", 0.0, reason)
                report("end")
                exit_now(0)

            # The program's process: every exchange goes through `exchange`, which records the first failure of the protocol
            # (the process ended, or sent what is not plain data) so that a test cannot swallow it into a pass.
            send, receive = _arbiter_channel(replies_out, requests_in, read, write)

            ProgramGone, Refused, Unavailable, builtin_exceptions = prelude["kinds"]

            def refused(message, verdict="runtime_error"):
                """A Refused error, recorded so that the case fails even when the test catches it."""
                error = Refused(message)
                if state["violation"] is None:
                    state["violation"] = (verdict, error)
                return error

            state = {"gone": None, "violation": None}
            wait, kill = posix.waitpid, posix.kill

            def program_ended():
                """The status and message of the program's process, which has ended or must."""
                if state["gone"] is None:
                    code = None
                    for _ in range(1000):
                        pid, code = wait(program_pid, posix.WNOHANG)
                        if pid:
                            break
                        time.sleep(0.001)
                        code = None
                    if code is None:
                        kill(program_pid, 9)
                        code = wait(program_pid, 0)[1]
                    if posix.WIFSIGNALED(code):
                        signal = posix.WTERMSIG(code)
                        state["gone"] = ("time_limit" if signal == 24 else "killed" if signal == 9 else "runtime_error",
                                         "the program's process was killed by signal %d" % signal)
                    else:
                        state["gone"] = ("runtime_error",
                                         "the program's process exited (code %d)" % posix.WEXITSTATUS(code))
                return state["gone"]

            def exchange(request):
                if state["gone"] is not None:
                    raise ProgramGone(state["gone"][1])
                try:
                    send(request)
                except OSError:
                    raise ProgramGone(program_ended()[1]) from None
                message = receive()
                if message is None:
                    raise ProgramGone(program_ended()[1])
                try:
                    reply = loads(message)
                    if kind(reply) is not list or not reply or kind(reply[0]) is not str:
                        raise ValueError("not a reply")
                    return reply
                except (ValueError, TypeError, RecursionError, UnicodeError, StopIteration) as error:
                    raise refused("the program's process sent what is not plain data (%s)" % describe(error)) from None

            program_exceptions = {}

            def rebuilt_exception(reply):
                """The builtin exception of an error the program raised (by name; a class of its own becomes a subclass of
                the builtin it derives from, so `except ValueError` still catches it)."""
                base, name, message = reply[1:4] if len(reply) >= 4 else ("Exception", "Exception", "")
                cls = builtin_exceptions.get(base) if kind(base) is str else None
                cls = cls if cls is not None and cls not in (SystemExit, KeyboardInterrupt, GeneratorExit) else Exception
                if kind(name) is str and name != cls.__name__:
                    cls = program_exceptions.get((cls, name)) or program_exceptions.setdefault(
                        (cls, name), kind(name if name.isidentifier() else "ProgramError", (cls,), {"__module__": "program"}))
                try:
                    return cls(message if kind(message) is str else "")
                except BaseException:
                    return Exception("%s: %s" % (name, message))

            def sync(argument, new):
                """Puts back what a call changed in a list, dict or set argument (the call ran on a copy)."""
                if is_instance(argument, list) and kind(new) is list:
                    if list.__ne__(argument, new):
                        argument[:] = new
                elif is_instance(argument, (dict, set)) and kind(new) is kind(argument).__mro__[-2] and argument != new:
                    argument.clear()
                    argument.update(new)

            def call(name, arguments, keywords):
                try:
                    flat = []
                    for key, value in keywords.items():
                        flat.append(key)
                        flat.append(value)
                    request = encode(["call", name, list(arguments), flat, True])
                except (TypeError, ValueError, RecursionError) as error:
                    raise refused("%s(...): an argument cannot be passed to the program: %s" % (name, text(error))) from None
                reply = exchange(request)
                if reply[0] == "value" and len(reply) == 4 and kind(reply[2]) is int and kind(reply[3]) is list:
                    for pair in reply[3]:
                        if kind(pair) is list and len(pair) == 2 and kind(pair[0]) is int and 0 <= pair[0] < len(arguments):
                            sync(arguments[pair[0]], pair[1])
                    if 0 <= reply[2] < len(arguments):
                        return arguments[reply[2]]
                    return reply[1]
                if reply[0] == "raise":
                    raise rebuilt_exception(reply) from None
                message = reply[1] if reply[0] == "bad" and len(reply) > 1 and kind(reply[1]) is str else "a malformed reply"
                raise refused("%s(...) %s" % (name, message), "wrong_answer")

            proxies = {}

            def proxy(name):
                if name not in proxies:
                    def function(*arguments, **keywords):
                        return call(name, arguments, keywords)

                    function.__name__ = function.__qualname__ = name
                    proxies[name] = function
                return proxies[name]

            # Modules of the program that a test may use without importing them: the standard library's plain ones,
            # imported here again.
            shared_modules = {"math", "cmath", "string", "re", "random", "collections", "itertools", "functools", "heapq",
                              "bisect", "fractions", "decimal", "statistics", "operator", "datetime", "copy", "json", "typing",
                              "numbers", "array", "hashlib", "unicodedata", "struct", "textwrap"}

            def names(wanted):
                """The program's names among `wanted`: a proxy for each function, a copy of plain data, the module for a
                standard module, and a stand-in that fails the case for anything else."""
                reply = exchange(encode(["names", sorted(wanted)]))
                found = {}
                if reply[0] != "names" or len(reply) != 2 or kind(reply[1]) is not list:
                    return found
                for item in reply[1]:
                    if kind(item) is not list or len(item) != 3 or kind(item[0]) is not str or item[0] not in wanted:
                        continue
                    name, category, payload = item
                    if category == "function":
                        found[name] = proxy(name)
                    elif category == "data":
                        found[name] = payload
                    elif category == "module" and kind(payload) is str and payload.split(".")[0] in shared_modules:
                        try:
                            __import__(payload)
                            found[name] = sys.modules[payload]
                        except BaseException:
                            found[name] = Unavailable(
                                "module %r of the program cannot be imported by the test" % payload, refused)
                    else:
                        what = {"class": "a class", "module": "a module"}.get(category, "an object")
                        found[name] = Unavailable(
                            "%r is %s of the program: tests run in their own process and reach only the program's functions "
                            "and plain data" % (name, what), refused)
                return found

            def finish():
                if state["gone"] is None:
                    try:
                        exchange(encode(["bye"]))
                    except BaseException:
                        pass
                try:
                    kill(program_pid, 9)
                except OSError:
                    pass
                try:
                    wait(program_pid, 0)
                except OSError:
                    pass
                report("end")
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    exit_now(0)

            def outcome(index, begun, error=None):
                """Reports a case: a failure of the protocol first, then the test's own error, else passed."""
                if state["gone"] is not None:
                    report(index, state["gone"][0], elapsed(begun), state["gone"][1])
                elif state["violation"] is not None:
                    report(index, state["violation"][0], elapsed(begun), describe(state["violation"][1]))
                elif error is not None:
                    report(index, status(error), elapsed(begun), describe(error))
                else:
                    return True
                return False

            def not_run(index):
                report(index, "runtime_error", 0.0, "not run: the program's process ended in an earlier case")

            # The program runs in its own process.
            started = clock()
            try:
                loaded = exchange(encode(["load", program, setup]))
            except BaseException:
                loaded = None
            if state["gone"] is not None or loaded is None or loaded[0] != "loaded":
                if loaded is not None and loaded[0] == "failed" and len(loaded) == 3:
                    report("program", "memory_limit" if loaded[1] == "memory_limit" else "runtime_error", elapsed(started),
                           text(loaded[2]))
                else:
                    gone = program_ended() if state["gone"] is None else state["gone"]
                    report("program", gone[0], elapsed(started), gone[1])
                finish()

            strict_eq, strict_in, compile_test, referenced = prelude["comparisons"]

            # Tests run in their own globals whose builtins (the prelude's copy, private to this process) hold the comparison.
            test_builtins = prelude["test_builtins"]
            # The modules as they were at the start, put back before each later script (copying and restoring them touches
            # every module object, so a single script skips it).
            modules_before = dict(sys.modules) if len(cases) > 1 else None
            set_trace, set_profile = sys.settrace, sys.setprofile

            def test_code(index, source, name):
                """A test's code: compiled by the daemon's test compiler when it sent it, else here."""
                if compiled is not None and index < len(compiled) and compiled[index]:
                    return load_code(compiled[index])
                return compile_test(source, name)

            load_code = prelude["load_code"]
            setup_code = test_code(count, setup, "setup") if setup else None
            if form == "test":
                failed = False
                for index, test in numbered(cases):
                    begun = clock()
                    if state["gone"] is not None:
                        not_run(index)
                        continue
                    if failed and stop:
                        break  # the daemon counts the rest as failed, not run
                    state["violation"] = None
                    try:
                        # The test sees the program's names (functions as proxies, plain data as copies), except any that
                        # would shadow a builtin or the comparison helpers, and the modules as they were at the start.
                        set_trace(None)
                        set_profile(None)
                        if index > 0:
                            sys.modules.clear()
                            sys.modules.update(modules_before)
                        code = test_code(index, test, "test_%d" % index)
                        wanted = {name for name in referenced(code, {entry} if entry else set())
                                  if name not in test_builtins and not (name.startswith("__") and name.endswith("__"))}
                        program_names = names(wanted) if wanted else {}
                        scope = dict(program_names)
                        scope["__name__"] = "__arbiter_program__"
                        scope["__builtins__"] = test_builtins
                        if setup_code is not None:
                            # The reference's helpers, run here: the test calls them, never the program's namesakes.
                            run_code(setup_code, scope)
                        before = scope.get("check")
                        run_code(code, scope)
                        check = scope.get("check")
                        if entry and is_callable(check) and check is not before:
                            if entry not in program_names:
                                raise NameError("entry point %r is not defined" % entry)
                            check(program_names[entry])
                        if outcome(index, begun):
                            report(index, "passed", elapsed(begun))
                        else:
                            failed = True
                    except BaseException as error:
                        outcome(index, begun, error)
                        failed = True
            elif form == "calls":
                import json

                dumps = json.dumps

                def maybe_equal(got, want):
                    """Whether the daemon could find the value `got` equal to `want` (both parsed JSON). Lenient where the
                    daemon is strict (any two numbers within the tolerance, relative or absolute, with some slack), so that a
                    value the daemon accepts is never taken for a failure here."""
                    if kind(got) is bool or kind(want) is bool or got is None or want is None:
                        return got is want
                    if kind(got) in (int, float) and kind(want) in (int, float):
                        try:
                            a, b = as_float(got), as_float(want)
                        except OverflowError:
                            return True
                        return abs(a - b) <= (tolerance + 1e-9) * max(1.0, abs(a), abs(b)) or a == b
                    if kind(got) is str or kind(want) is str:
                        return got == want
                    if kind(got) is list and kind(want) is list:
                        return len(got) == len(want) and all(maybe_equal(x, y) for x, y in zip(got, want))
                    if kind(got) is dict and kind(want) is dict:
                        return got.keys() == want.keys() and all(maybe_equal(got[key], want[key]) for key in want)
                    return False

                def surely_wrong(index, encoded):
                    if expected_values is None:
                        return False
                    try:
                        got, want = loads_json(encoded), loads_json(expected_values[index])
                        if maybe_equal(got, want):
                            return False
                        return not (unwrap_single and kind(want) is list and len(want) == 1 and maybe_equal(got, want[0]))
                    except BaseException:
                        return False

                try:
                    defined = names({function_name}).get(function_name)
                except BaseException:
                    defined = None
                failed = False
                for index, arguments in numbered(cases):
                    begun = clock()
                    if state["gone"] is not None:
                        not_run(index)
                        continue
                    if failed and stop:
                        break  # the daemon counts the rest as failed, not run
                    failed = True
                    state["violation"] = None
                    try:
                        if not is_callable(defined) or is_instance(defined, Unavailable):
                            raise NameError("function %r is not defined" % function_name)
                        reply = exchange(encode(["calljson", function_name, arguments]))
                        if reply[0] == "raise":
                            raise rebuilt_exception(reply)
                        if reply[0] != "value" or len(reply) != 4:
                            report(index, "unserializable", elapsed(begun),
                                   reply[1] if reply[0] == "bad" and len(reply) > 1 else "a malformed reply")
                            continue
                        took = elapsed(begun)
                        try:
                            encoded = dumps(reply[1], allow_nan=False, ensure_ascii=True)
                        except (TypeError, ValueError) as error:
                            report(index, "unserializable", took, describe(error))
                            continue
                        report(index, "value", took, value=encoded)
                        failed = surely_wrong(index, encoded)
                    except BaseException as error:
                        outcome(index, begun, error)
            finish()


        # A fork server executes this file under another name (it builds the prelude once, then calls _arbiter_site and
        # _arbiter_harness in each run's process).
        if __name__ != "__arbiter_prelude__":
            _arbiter_site()
            _arbiter_harness(_arbiter_prelude())
        """#,
    ]
}
