// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// The C/C++ `test` form (``TestTemplate``): the program preprocessed alone, then the test's translation unit built
/// from its text without its macros, compiled after the wrapper, and its symbols checked.
extension RunSession {
    /// Builds the test program; `nil` when it is ready to run, else the `compile_error` every case gets.
    func buildTestProgram(test: String, template: TestTemplate) async throws(ArbiterError) -> CaseResult? {
        try materialize()
        if let failure = try await compile(template.preprocess) { return failure }
        let preprocessed: String
        switch Self.readSmallFile(workDirectory + "/program.i", limit: 64 << 20) {
        case .some(let text): preprocessed = text
        case .none:
            return CaseResult(status: "compile_error", message: "the preprocessed program is missing or over 64 MiB")
        }
        let program: ProgramText
        switch ProgramText.from(preprocessed: preprocessed, source: toolchain.source) {
        case .success(let text): program = text
        case .failure(let refusal): return CaseResult(status: "compile_error", message: refusal.message)
        }
        let unit = program.text + "\n#undef NDEBUG\n#include <assert.h>\n# 1 \"test\"\n" + test + "\n"
        try write(unit, to: template.testFile, replacing: true)
        // The wrapper compiled once per daemon when the toolchain prepares it, else with every test program.
        let linked: [String]
        let wrapperFile: String
        if let preparedCompile = template.preparedCompile, let preparedFile = template.preparedFile,
            let object = await sandbox.preparedHarnesses.wrapper(for: toolchain, in: sandbox)
        {
            try write(object, to: preparedFile, replacing: true)
            (linked, wrapperFile) = (preparedCompile, preparedFile)
        } else {
            try write(template.code, to: template.file, replacing: true)
            (linked, wrapperFile) = (template.compile, template.file)
        }
        if let failure = try await compile(linked) { return failure }
        compileDetails?["wrapper"] = .string(wrapperFile == template.file ? "compiled" : "prepared")
        // The sources are large (every header of the program again) and every later run would copy them in.
        for name in ["program.i", template.testFile, wrapperFile] { unlink(workDirectory + "/" + name) }
        let command = toolchain.command(template.symbols)
        let outcome = try await sandbox.run(
            executable: command[0], arguments: command, environment: environment, workDirectory: workDirectory,
            visible: toolchain.visible, limits: compileLimits)
        guard outcome.exitCode == 0 else {
            return CaseResult(
                status: "compile_error", message: "cannot list the test program's symbols",
                stderr: Self.text(outcome.stderr, limit: 500))
        }
        if let symbol = Self.forbiddenSymbol(in: String(decoding: outcome.stdout, as: UTF8.self)) {
            return CaseResult(
                status: "compile_error",
                message: "the program defines '\(symbol)', which the test's failure path or its wrapper relies on")
        }
        return nil
    }

    /// A file's text, unless it is missing, not a regular file, or longer than `limit` bytes.
    static func readSmallFile(_ path: String, limit: Int) -> String? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) <= limit else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            offset += n
        }
        return String(decoding: bytes[..<offset], as: UTF8.self)
    }

    /// Symbols a program must not define in a test binary: the assert machinery, the ways out of a process, and
    /// what the wrapper links with. Definitions of the C++ standard library's own (strong) symbols too.
    static func forbiddenSymbol(in listing: String) -> String? {
        let exact: Set<String> = [
            "abort", "exit", "_exit", "_Exit", "quick_exit", "at_quick_exit", "atexit", "on_exit", "raise", "kill",
            "signal", "sigaction", "__wrap_main", "__real_main",
        ]
        var wrapperSeen = false
        for line in listing.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2 else { continue }
            let name = String(fields[0]), type = fields[1]
            guard let letter = type.first, letter.isUppercase || letter == "V" || letter == "W" || letter == "u" else {
                continue
            }
            if name == "__wrap_main" && !wrapperSeen {
                wrapperSeen = true
                continue
            }
            if exact.contains(name) || name.hasPrefix("__assert") { return name }
            let strong = "TDBRC".contains(letter)
            if strong && ["_ZSt", "_ZNSt", "_ZNKSt", "_ZN9__gnu_cxx", "_ZN10__cxxabiv1"].contains(where: name.hasPrefix) {
                return name
            }
        }
        return nil
    }
}

/// The program as the test's translation unit holds it: its own lines as the preprocessor left them (its macros
/// expanded, its `#define`, `#undef` and `#pragma` lines dropped) and each system header it included as an
/// `#include` of that header again, so that the headers are read in the test's context, untouched by the program's
/// macros.
struct ProgramText {
    var text: String

    struct Refusal: Error {
        var message: String
    }

    /// Operators that would change what the test's comparisons and conditions mean if the program defined them:
    /// equality, the three-way comparison, logical ones and conversions. A conversion operator names its type after
    /// whitespace (`operator bool`, `operator const char *`) or a `::` (`operator ::size_t`); without either the
    /// letters continue one identifier (`operators`, `operator_count`), which is not an operator and is allowed.
    static let refusedOperator = try! NSRegularExpression(
        pattern: #"\boperator\b\s*(==|!=|<=>|!(?!=)|&&|\|\||::)|\boperator\s+(?!new\b|delete\b|co_await\b)[A-Za-z_]"#)

    static func from(preprocessed: String, source: String) -> Result<ProgramText, Refusal> {
        var output = ""
        var current = ""
        var included: Set<String> = []
        var own = ""
        for line in preprocessed.split(separator: "\n", omittingEmptySubsequences: false) {
            if let marker = Marker(line) {
                if current == source, marker.file != source, marker.flags.contains(1) {
                    guard marker.flags.contains(3), marker.file.hasPrefix("/") else {
                        return .failure(
                            Refusal(message: "the program includes '\(marker.file)', which is not a system header"))
                    }
                    if included.insert(marker.file).inserted { output += "#include \"\(marker.file)\"\n" }
                }
                current = marker.file
                if current == source { output += "# \(marker.line) \"\(source)\"\n" }
                continue
            }
            guard current == source else { continue }
            if line.first == "#" || line.drop(while: { $0 == " " || $0 == "\t" }).first == "#" { continue }
            output += line + "\n"
            own += line + "\n"
        }
        let range = NSRange(own.startIndex..., in: own)
        if let match = refusedOperator.firstMatch(in: own, range: range), let found = Range(match.range, in: own) {
            return .failure(
                Refusal(
                    message: "the program defines '\(own[found])…': in the C/C++ test form the program and the test "
                        + "share a translation unit, and equality, logical or conversion operators of the program "
                        + "could change what the test's asserts mean"))
        }
        return .success(ProgramText(text: output))
    }

    /// A line marker of the preprocessor: `# <line> "<file>" <flags>`.
    struct Marker {
        var line: Int
        var file: String
        var flags: Set<Int>

        init?(_ text: Substring) {
            guard text.hasPrefix("# "), let quote = text.firstIndex(of: "\""),
                let number = Int(text[text.index(text.startIndex, offsetBy: 2)..<quote].trimmingCharacters(in: .whitespaces)),
                let close = text[text.index(after: quote)...].lastIndex(of: "\"")
            else { return nil }
            line = number
            file = String(text[text.index(after: quote)..<close])
            flags = Set(text[text.index(after: close)...].split(separator: " ").compactMap { Int($0) })
        }
    }
}
