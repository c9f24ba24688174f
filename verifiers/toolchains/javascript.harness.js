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
