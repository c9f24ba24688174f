// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterPlugins
import Foundation
import Synchronization
import Testing

/// A plugin written for these tests: it answers with its pid and misbehaves on request.
/// Where the plugin definitions that outlive their test go (a registry may start its plugin later): removed when the
/// test process exits.
let pluginScratch: URL = {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
        "plugins-\(getpid())-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    pluginScratchPath.withLock { $0 = directory.path }
    atexit {
        if let path = pluginScratchPath.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }
    return directory
}()

private let pluginScratchPath = Mutex<String?>(nil)

let testPlugin = #"""
    import json, os, sys, time
    for line in sys.stdin:
        request = json.loads(line)
        response = request["response"]
        if response == "crash":
            os._exit(3)
        if response == "hang":
            time.sleep(600)
        if response == "garbage":
            print("this is not json", flush=True)
            print(json.dumps({"id": -5, "score": 1}), flush=True)
        if response == "mute":
            time.sleep(60)
        if response == "bad-reference":
            print(json.dumps({"id": request["id"], "error": {"code": "invalid_reference", "message": "no such table"}}), flush=True)
            continue
        if response.startswith("sleep"):
            time.sleep(float(response.split()[1]))
        answer = {"id": request["id"], "score": 0.5, "passed": False, "reason": "half",
                  "details": {"pid": os.getpid(), "options": request["options"], "prompt": request.get("prompt"),
                              "reference": request["reference"], "cwd": os.getcwd(),
                              "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd"))}}
        print(json.dumps(answer), flush=True)
    """#

@Suite("Process plugins", .timeLimit(.minutes(1)))
struct PluginTests {
    /// A definitions directory holding the test plugin under `name`, with the given extra definition keys.
    static func load(_ extra: String = "", name: String = "echo") throws -> (VerifierRegistry, ProcessPlugins, URL) {
        let directory = pluginScratch.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try testPlugin.write(to: directory.appendingPathComponent("bin/plugin.py"), atomically: true, encoding: .utf8)
        let definition = #"{"kind": "process", "command": ["/usr/bin/python3", "bin/plugin.py"]"# + extra + "}"
        try definition.write(to: directory.appendingPathComponent("\(name).json"), atomically: true, encoding: .utf8)
        var registry = VerifierRegistry.builtin
        let plugins = ProcessPlugins()
        let problems = VerifierDefinitions.load(from: directory, into: &registry, kinds: [.recipe, plugins.kind])
        #expect(problems.isEmpty, "\(problems)")
        return (registry, plugins, directory)
    }

    static func judge(_ registry: VerifierRegistry, _ response: String, options: JSONObject? = nil) async throws
        -> Verdict
    {
        let verifier = try registry.entry(named: "echo").verifier(options: options)
        return try await verifier.verify(Sample(response: response, reference: ["table": "t"], prompt: "p"))
    }

    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    @Test("a plugin inherits only stdin, stdout and stderr, not descriptors the daemon opened without O_CLOEXEC")
    func descriptors() async throws {
        var leaked: [Int32] = [-1, -1]
        #expect(pipe(&leaked) == 0)  // no O_CLOEXEC, as Foundation's Pipe and many libraries open them
        defer { for fd in leaked { close(fd) } }
        let (registry, plugins, _) = try Self.load()
        defer { plugins.stop() }
        let fds = try #require(try await Self.judge(registry, "hello").details["fds"]?.arrayValue)
        // 0, 1, 2, and the descriptor Python's listdir itself opened.
        #expect(fds.count <= 4, "\(fds)")
        #expect(!fds.contains(.int(Int(leaked[0]))) || Int(leaked[0]) <= 3)
        #expect(!fds.contains(.int(Int(leaked[1]))) || Int(leaked[1]) <= 3)
    }

    @Test("a request goes to the plugin with its options, prompt and reference, in the definition's directory")
    func roundTrip() async throws {
        let (registry, plugins, directory) = try Self.load(
            #", "options": [{"name": "mode", "type": "enum", "choices": ["a", "b"], "default": "a", "description": "m"}]"#)
        defer { plugins.stop() }
        let verdict = try await Self.judge(registry, "hello")
        #expect(verdict.score == 0.5 && !verdict.passed && verdict.reason == "half")
        #expect(verdict.details["options"] == ["mode": "a"])
        #expect(verdict.details["prompt"] == "p")
        #expect(verdict.details["reference"] == ["table": "t"])
        let cwd = try #require(verdict.details["cwd"]?.stringValue)
        #expect(URL(fileURLWithPath: cwd).resolvingSymlinksInPath().path == directory.resolvingSymlinksInPath().path)
        let overridden = try await Self.judge(registry, "hello", options: ["mode": "b"])
        #expect(overridden.details["options"] == ["mode": "b"])
        #expect(throws: ArbiterError.self) { try registry.entry(named: "echo").verifier(options: ["mode": "c"]) }
        #expect(try registry.entry(named: "echo").jsonObject["kind"] == "process")
    }

    @Test("a plugin that dies mid-request: that request gets internal, the next is served by a new process")
    func crash() async throws {
        let (registry, plugins, _) = try Self.load()
        defer { plugins.stop() }
        let first = try await Self.judge(registry, "hello")
        let firstPid = try #require(first.details["pid"]?.doubleValue)
        do {
            _ = try await Self.judge(registry, "crash")
            Issue.record("a crash must be an error")
        } catch let error as ArbiterError {
            #expect(error.code == .internal)
            #expect(error.message.contains("exited with status 3"), "\(error.message)")
        }
        let after = try await Self.judge(registry, "hello")
        #expect(after.reason == "half")
        #expect(after.details["pid"]?.doubleValue != firstPid)
        #expect(plugins.all.first?.restartCount == 1)
    }

    @Test("a plugin that hangs is killed after timeout_s, with its process group; the next request is served")
    func timeout() async throws {
        let (registry, plugins, _) = try Self.load(#", "timeout_s": 0.5"#)
        defer { plugins.stop() }
        let first = try await Self.judge(registry, "hello")
        let pid = Int32(try #require(first.details["pid"]?.doubleValue))
        // The plugin sleeps 600 s: only the time-out (named in the error) ends this, and it kills the process.
        do {
            _ = try await Self.judge(registry, "hang")
            Issue.record("a hang must be an error")
        } catch let error as ArbiterError {
            #expect(error.code == .internal)
            #expect(error.message.contains("no answer within 0.5 s"), "\(error.message)")
        }
        #expect(!Self.isAlive(pid))
        #expect(try await Self.judge(registry, "hello").reason == "half")
    }

    @Test("stray output lines are skipped, never taken for the answer; a plugin's invalid_reference stays invalid_reference")
    func answers() async throws {
        let (registry, plugins, _) = try Self.load()
        defer { plugins.stop() }
        // The plugin prints a non-JSON line and a JSON line with another id before its real answer.
        let verdict = try await Self.judge(registry, "garbage")
        #expect(verdict.reason == "half" && verdict.score == 0.5)
        // And the next request gets its own answer, not a leftover line.
        #expect(try await Self.judge(registry, "next").reason == "half")
        do {
            _ = try await Self.judge(registry, "bad-reference")
            Issue.record("expected invalid_reference")
        } catch let error as ArbiterError {
            #expect(error.code == .invalidReference)
            #expect(error.message == "no such table")
        }
        #expect(try await Self.judge(registry, "hello").reason == "half")
    }

    @Test("a plugin that reads nothing cannot block the daemon: a request larger than the pipe times out")
    func notReading() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plugins-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try #"{"kind": "process", "command": ["sleep", "600"], "timeout_s": 0.5}"#.write(
            to: directory.appendingPathComponent("echo.json"), atomically: true, encoding: .utf8)
        var registry = VerifierRegistry.builtin
        let plugins = ProcessPlugins()
        #expect(VerifierDefinitions.load(from: directory, into: &registry, kinds: [plugins.kind]).isEmpty)
        // 1 MB is far over a pipe's buffer: a blocking write would never return (the suite's time limit would end the
        // test); the error names the time-out as what ended the request.
        do {
            _ = try await Self.judge(registry, String(repeating: "x", count: 1 << 20))
            Issue.record("expected a time-out")
        } catch let error as ArbiterError {
            #expect(error.code == .internal)
            #expect(error.message.contains("no answer within 0.5 s"), "\(error.message)")
        }
        // stop() joins every plugin thread, so it returns only once the thread left its blocked write.
        plugins.stop()
    }

    @Test("no more than `workers` processes run at once, and stop() ends them all")
    func concurrency() async throws {
        let (registry, plugins, _) = try Self.load(#", "workers": 2"#)
        let pids = try await withThrowingTaskGroup(of: Double.self) { group in
            for _ in 0..<8 {
                group.addTask { try await Self.judge(registry, "sleep 0.05").details["pid"]?.doubleValue ?? -1 }
            }
            var pids = Set<Double>()
            for try await pid in group { pids.insert(pid) }
            return pids
        }
        #expect(pids.count <= 2 && pids.count >= 1, "\(pids)")
        #expect(!pids.contains(-1))
        for pid in pids { #expect(Self.isAlive(Int32(pid))) }
        plugins.stop()
        for pid in pids { #expect(!Self.isAlive(Int32(pid))) }
        await #expect(throws: ArbiterError.self) { try await Self.judge(registry, "hello") }
    }

    @Test("a command that cannot start is an internal error saying so")
    func missingCommand() async throws {
        let directory = pluginScratch.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try #"{"kind": "process", "command": ["/nonexistent/plugin"]}"#.write(
            to: directory.appendingPathComponent("echo.json"), atomically: true, encoding: .utf8)
        var registry = VerifierRegistry.builtin
        let plugins = ProcessPlugins()
        defer { plugins.stop() }
        #expect(VerifierDefinitions.load(from: directory, into: &registry, kinds: [plugins.kind]).isEmpty)
        do {
            _ = try await Self.judge(registry, "hello")
            Issue.record("expected an error")
        } catch let error as ArbiterError {
            #expect(error.code == .internal)
            #expect(error.message.contains("could not start"), "\(error.message)")
        }
    }

    @Test("bad plugin definitions are reported", arguments: [
        (#"{"kind": "process"}"#, "'command'"),
        (#"{"kind": "process", "command": []}"#, "'command'"),
        (#"{"kind": "process", "command": ["x"], "workers": 0}"#, "'workers'"),
        (#"{"kind": "process", "command": ["x"], "timeout_s": -1}"#, "'timeout_s'"),
        (#"{"kind": "process", "command": ["x"], "options": [{"name": "k", "type": "colour"}]}"#, "unknown type"),
        (#"{"kind": "process", "command": ["x"], "options": [{"name": "k", "type": "boolean", "default": 3}]}"#, "default"),
        (#"{"kind": "process", "command": ["x"], "wokers": 2}"#, "unknown key 'wokers'"),
    ])
    func badDefinitions(_ text: String, _ message: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plugins-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try text.write(to: directory.appendingPathComponent("bad.json"), atomically: true, encoding: .utf8)
        var registry = VerifierRegistry.builtin
        let plugins = ProcessPlugins()
        let problems = VerifierDefinitions.load(from: directory, into: &registry, kinds: [plugins.kind])
        #expect(problems.count == 1)
        #expect(problems.first?.reason.contains(message) == true, "\(problems)")
    }
}
