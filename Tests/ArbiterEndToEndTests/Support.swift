// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Synchronization

/// Paths of the package under test.
enum Paths {
    /// The package root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A file under `fixtures/`.
    static func fixture(_ relative: String) -> URL {
        root.appendingPathComponent("fixtures").appendingPathComponent(relative)
    }

    /// The `arbiter` executable built beside this test bundle.
    static var binary: URL {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent("arbiter")
    }

    /// A fresh scratch directory, inside this test process's own (``scratchRoot``): all are removed when it exits.
    static func scratch() throws -> URL {
        let directory = scratchRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}

/// The directory of this test process's scratch directories, removed when the process exits (the tests' own
/// directories used to stay in the temporary directory: hundreds after a few runs of the suite).
let scratchRoot: URL = {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
        "arbiter-tests-\(getpid())-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    scratchRootPath.withLock { $0 = directory.path }
    atexit {
        if let path = scratchRootPath.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }
    return directory
}()

private let scratchRootPath = Mutex<String?>(nil)

/// What a finished `arbiter` process left.
struct ProcessResult {
    var status: Int32
    var reason: Process.TerminationReason
    var stdout: Data
    var stderr: Data

    var stdoutLines: [String] {
        String(decoding: stdout, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init).filter { !$0.isEmpty }
    }

    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs `arbiter` with arguments and a whole input, waiting for it to exit.
func runArbiter(_ arguments: [String], input: Data = Data(), stdinFile: URL? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = Paths.binary
    process.arguments = arguments
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    let stdin = Pipe()
    if let stdinFile {
        process.standardInput = try FileHandle(forReadingFrom: stdinFile)
    } else {
        process.standardInput = stdin
    }
    try process.run()
    let writer = Thread {
        if stdinFile == nil {
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
    }
    writer.start()
    let errors = ReadAll(stderr.fileHandleForReading)
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus, reason: process.terminationReason, stdout: output, stderr: errors.wait())
}

/// Reads a handle to its end on a thread of its own.
final class ReadAll: @unchecked Sendable {
    private let done = NSCondition()
    private var data: Data?

    init(_ handle: FileHandle) {
        Thread { [self] in
            let all = handle.readDataToEndOfFile()
            done.lock()
            data = all
            done.broadcast()
            done.unlock()
        }.start()
    }

    func wait() -> Data {
        done.lock()
        defer { done.unlock() }
        while data == nil { done.wait() }
        return data!
    }
}

/// Compares an answer with an expected value: placeholders `<any>`, `<number>`, `<string>`, `<object>` and
/// `<literal:TEXT>` (a number written exactly as TEXT) match by kind; everything else must be equal.
enum JSONMatch {
    /// `nil` when `actual` matches `expected`, else where and how it differs.
    static func mismatch(expected: JSONValue, actual: JSONValue?, path: String = "$") -> String? {
        if case .string(let pattern) = expected, pattern.hasPrefix("<"), pattern.hasSuffix(">") {
            return placeholder(pattern, actual: actual, path: path)
        }
        guard let actual else { return "\(path): missing, expected \(expected.jsonText)" }
        switch (expected, actual) {
        case (.object(let want), .object(let got)):
            if want.keys.sorted() != got.keys.sorted() {
                return "\(path): keys \(got.keys.sorted()) but expected \(want.keys.sorted())"
            }
            for entry in want {
                if let problem = mismatch(expected: entry.value, actual: got[entry.key], path: "\(path).\(entry.key)") {
                    return problem
                }
            }
            return nil
        case (.array(let want), .array(let got)):
            guard want.count == got.count else { return "\(path): \(got.count) elements, expected \(want.count)" }
            for (offset, pair) in zip(want, got).enumerated() {
                if let problem = mismatch(expected: pair.0, actual: pair.1, path: "\(path)[\(offset)]") { return problem }
            }
            return nil
        case (.number(let want), .number(let got)):
            return want.double == got.double ? nil : "\(path): \(got.literal), expected \(want.literal)"
        default:
            return expected == actual ? nil : "\(path): \(actual.jsonText), expected \(expected.jsonText)"
        }
    }

    private static func placeholder(_ pattern: String, actual: JSONValue?, path: String) -> String? {
        guard let actual else { return "\(path): missing, expected \(pattern)" }
        switch pattern {
        case "<any>": return nil
        case "<number>": if case .number = actual { return nil }
        case "<string>": if case .string = actual { return nil }
        case "<object>": if case .object = actual { return nil }
        case "<array>": if case .array = actual { return nil }
        default:
            if pattern.hasPrefix("<literal:"), case .number(let number) = actual,
                number.literal == String(pattern.dropFirst(9).dropLast())
            {
                return nil
            }
        }
        return "\(path): \(actual.jsonText) does not match \(pattern)"
    }
}
