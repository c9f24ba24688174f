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
