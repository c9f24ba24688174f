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
