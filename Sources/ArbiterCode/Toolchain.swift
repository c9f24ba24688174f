// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation

/// How to build and run programs of one language, declared in `verifiers/toolchains/NAME.json`.
///
/// ```json
/// {"name": "cpp", "aliases": ["c++"], "source": "main.cpp", "interpreter": ["/usr/bin/g++", "g++"],
///  "compile": ["{interpreter}", "-O2", "-o", "main", "main.cpp"], "run": ["./main"],
///  "harness": {"file": "harness.py", "code_file": "python.harness.py", "run": ["{interpreter}", "harness.py"],
///              "prepare": ["{interpreter}", "-c", "…"], "prepared_file": "harness.bin",
///              "prepared_run": ["{interpreter}", "-c", "…"]},
///  "env": {}, "limits": {"compile_time_s": 60, "compile_memory_mb": 2048, "processes": 64, "address_space_mb": 0}}
/// ```
/// `{interpreter}` in a command is the first candidate of `interpreter` found on this host (absolute paths as
/// given, bare names on `PATH`, skipping version-manager shims, which cost ~100 ms a start). A toolchain with a
/// `harness` supports the `test` and `calls` forms; every toolchain supports stdin/stdout tests.
public struct Toolchain: Sendable, Hashable {
    /// The language's name.
    public var name: String
    /// Other names accepted in `language` and on code fences.
    public var aliases: [String]
    /// The file the program is written to.
    public var source: String
    /// The resolved interpreter or compiler, when found.
    public var interpreter: String?
    /// The candidates that were tried.
    public var interpreterCandidates: [String]
    /// The compile command, if the language is compiled.
    public var compile: [String]?
    /// The command that runs the program (stdin/stdout tests).
    public var run: [String]
    /// The harness, for `test` and `calls` tests.
    public var harness: Harness?
    /// For compiled languages without a harness: how one `test` program (with its own `main`) is built around the
    /// program (`test_template`).
    public var testTemplate: TestTemplate?
    /// Directories the sandbox shows besides /usr, /etc and /dev: the toolchain's `visible` list, plus the top two
    /// levels of an interpreter installed elsewhere (such as `/opt/swift`).
    public var visible: [String]
    /// Extra environment variables.
    public var environment: [String: String]
    /// Compile limits and minimums for runs.
    public var compileSeconds: Double
    /// Memory for the compiler.
    public var compileMemoryMB: Int
    /// The least process count runs of this language get (runtimes with threads need more).
    public var minimumProcesses: Int
    /// The least address space (RLIMIT_AS) a run gets where that limit bounds memory (no memory cgroup): runtimes
    /// that reserve large virtual ranges (node's code range) cannot start under `memory_mb` alone. Bytes; 0 for none.
    public var minimumAddressSpace: Int
    /// With a harness fork server: the code that server runs as `__main__` for a stdin/stdout case instead of
    /// executing ``run`` (`warm_run`; it must do what ``run`` does). `nil`: stdin/stdout cases execute ``run``.
    public var warmRun: String? = nil

    public static func == (lhs: Toolchain, rhs: Toolchain) -> Bool {
        lhs.name == rhs.name && lhs.aliases == rhs.aliases && lhs.source == rhs.source
            && lhs.interpreterCandidates == rhs.interpreterCandidates && lhs.compile == rhs.compile
            && lhs.run == rhs.run && lhs.harness == rhs.harness && lhs.testTemplate == rhs.testTemplate
            && lhs.environment == rhs.environment
            && lhs.visible == rhs.visible && lhs.compileSeconds == rhs.compileSeconds
            && lhs.compileMemoryMB == rhs.compileMemoryMB
            && lhs.minimumProcesses == rhs.minimumProcesses && lhs.minimumAddressSpace == rhs.minimumAddressSpace
            && lhs.warmRun == rhs.warmRun
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(source)
    }

    /// Whether a name (of a language or a code fence) means this toolchain.
    public func answers(to language: String) -> Bool {
        let lowered = language.lowercased()
        return lowered == name || aliases.contains(lowered)
    }

    /// A command with `{interpreter}` substituted, and `{harness_code}` by the harness's code (a split harness passes
    /// its code on the command line, where the program's process, in a PID namespace of its own, cannot change it).
    func command(_ template: [String]) -> [String] {
        template.map {
            switch $0 {
            case "{interpreter}": interpreter ?? $0
            case "{harness_code}": harness?.code ?? $0
            default: $0
            }
        }
    }

    /// Reads a toolchain from its JSON.
    /// - Parameters:
    ///   - object: The declaration.
    ///   - harnessCode: Reads a harness `code_file` by name.
    /// - Throws: ``ArbiterError`` `invalid_request` naming what is wrong.
    public init(_ object: JSONObject, harnessCode: (String) throws(ArbiterError) -> String) throws(ArbiterError) {
        let fields = JSONFields(object)
        /// A declaration's `code`, inline or read from its `code_file`, ending with a line break.
        func code(of declaration: JSONFields, _ key: String) throws(ArbiterError) -> String {
            let text: String
            if let inline = try declaration.string("code") {
                text = inline
            } else if let codeFile = try declaration.string("code_file", nonEmpty: true) {
                text = try harnessCode(codeFile)
            } else {
                throw ArbiterError(.invalidRequest, "'\(key)' needs 'code' or 'code_file'")
            }
            return text.hasSuffix("\n") ? text : text + "\n"
        }
        let name = try fields.requiredString("name")
        let source = try Self.fileName("source", in: fields)
        self.name = name.lowercased()
        self.source = source
        self.run = try Self.required("run", in: fields)
        self.aliases = (try fields.strings("aliases") ?? []).map { $0.lowercased() }
        self.interpreterCandidates = try fields.strings("interpreter") ?? []
        self.compile = try fields.strings("compile", nonEmpty: true)
        if let declaration = try fields.object("harness") {
            let harness = JSONFields(declaration, context: "'harness': ")
            let file = try Self.fileName("file", in: harness)
            let harnessRun = try Self.required("run", in: harness)
            let prepare = try harness.strings("prepare", nonEmpty: true)
            let preparedRun = try harness.strings("prepared_run", nonEmpty: true)
            let preparedFile = try harness.string("prepared_file").map { _ throws(ArbiterError) in
                try Self.fileName("prepared_file", in: harness)
            }
            let declared = [prepare != nil, preparedRun != nil, preparedFile != nil]
            guard declared.allSatisfy({ $0 }) || declared.allSatisfy({ !$0 }) else {
                throw ArbiterError(
                    .invalidRequest, "'harness' needs all of 'prepare', 'prepared_file' and 'prepared_run', or none")
            }
            self.harness = Harness(
                file: file, code: try code(of: harness, "harness"), run: harnessRun, prepare: prepare,
                preparedFile: preparedFile, preparedRun: preparedRun,
                installsSetup: try harness.bool("setup") ?? false)
            if let serverDeclaration = try harness.object("fork_server") {
                let server = JSONFields(serverDeclaration, context: "'harness.fork_server': ")
                self.harness?.forkServer = ForkServerDeclaration(
                    code: try code(of: server, "harness.fork_server"), run: try Self.required("run", in: server))
            }
            if let compilerDeclaration = try harness.object("test_compiler") {
                let compiler = JSONFields(compilerDeclaration, context: "'harness.test_compiler': ")
                self.harness?.testCompiler = ForkServerDeclaration(
                    code: try code(of: compiler, "harness.test_compiler"), run: try Self.required("run", in: compiler))
            }
            if let hostDeclaration = try harness.object("host") {
                let host = JSONFields(hostDeclaration, context: "'harness.host': ")
                self.harness?.host = HarnessHost(
                    file: try Self.fileName("file", in: host), code: try code(of: host, "harness.host"),
                    run: try Self.required("run", in: host))
            }
        }
        if let declaration = try fields.object("test_template") {
            let template = JSONFields(declaration, context: "'test_template': ")
            testTemplate = TestTemplate(
                code: try code(of: template, "test_template"), file: try Self.fileName("file", in: template),
                preprocess: try Self.required("preprocess", in: template),
                testFile: try Self.fileName("test_file", in: template),
                compile: try Self.required("compile", in: template), symbols: try Self.required("symbols", in: template))
            let prepare = try template.strings("prepare", nonEmpty: true)
            let preparedCompile = try template.strings("prepared_compile", nonEmpty: true)
            let preparedFile = try template.string("prepared_file").map { _ throws(ArbiterError) in
                try Self.fileName("prepared_file", in: template)
            }
            let declared = [prepare != nil, preparedCompile != nil, preparedFile != nil]
            guard declared.allSatisfy({ $0 }) || declared.allSatisfy({ !$0 }) else {
                throw ArbiterError(
                    .invalidRequest,
                    "'test_template' needs all of 'prepare', 'prepared_file' and 'prepared_compile', or none")
            }
            testTemplate?.prepare = prepare
            testTemplate?.preparedFile = preparedFile
            testTemplate?.preparedCompile = preparedCompile
        }
        var environment: [String: String] = [:]
        let env = JSONFields(try fields.object("env") ?? [:], context: "'env': ")
        for key in env.object.keys {
            guard let value = try env.string(key) else { throw env.error(key, mustBe: "a string") }
            environment[key] = value
        }
        self.environment = environment
        let limits = JSONFields(try fields.object("limits") ?? [:], context: "'limits': ")
        self.compileSeconds = try limits.number("compile_time_s", in: 0.1...3600, what: "a number of seconds from 0.1 to 3600") ?? 30
        self.compileMemoryMB = try limits.integer("compile_memory_mb", in: 16...65536) ?? 1024
        self.minimumProcesses = try limits.integer("processes", in: 1...4096) ?? 1
        self.minimumAddressSpace = (try limits.integer("address_space_mb", in: 0...1_048_576) ?? 0) << 20
        self.warmRun = try fields.string("warm_run", nonEmpty: true)
        self.interpreter = Self.resolve(interpreterCandidates)
        var visible = try fields.strings("visible") ?? []
        if let interpreter, !["/usr/", "/bin/", "/sbin/", "/lib"].contains(where: { interpreter.hasPrefix($0) }) {
            let top = interpreter.split(separator: "/").prefix(2)
            if top.count == 2 { visible.append("/" + top.joined(separator: "/")) }
        }
        self.visible = visible
    }

    /// A file name (no `/`) that must be there.
    private static func fileName(_ key: String, in fields: JSONFields) throws(ArbiterError) -> String {
        guard let name = try fields.string(key, nonEmpty: true), !name.contains("/") else {
            throw fields.error(key, mustBe: "a file name (no '/')")
        }
        return name
    }

    /// A command (a non-empty array of non-empty strings) that must be there.
    private static func required(_ key: String, in fields: JSONFields) throws(ArbiterError) -> [String] {
        guard let command = try fields.strings(key, nonEmpty: true) else {
            throw fields.error(key, mustBe: "a non-empty array of non-empty strings")
        }
        return command
    }

    /// The first candidate that exists and that the sandbox user may execute; shims of version managers are skipped.
    static func resolve(_ candidates: [String]) -> String? {
        let searchPath = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
            .split(separator: ":").map(String.init).filter { !$0.contains("/shims") && !$0.isEmpty }
        for candidate in candidates {
            let paths = candidate.hasPrefix("/") ? [candidate] : searchPath.map { $0 + "/" + candidate }
            for path in paths {
                guard let real = realpath(path, nil) else { continue }
                let resolved = String(cString: real)
                free(real)
                if resolved.contains("/shims/") { continue }
                if isExecutableByOthers(resolved) { return resolved }
            }
        }
        return nil
    }

    /// Whether every directory on the way and the file itself let "others" in (the sandbox user is one).
    private static func isExecutableByOthers(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        if geteuid() != 0 { return access(path, X_OK) == 0 }
        guard info.st_mode & 0o001 != 0 else { return false }
        var directory = (path as NSString).deletingLastPathComponent
        while directory != "/" && !directory.isEmpty {
            guard stat(directory, &info) == 0, info.st_mode & 0o001 != 0 else { return false }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return true
    }
}

extension Toolchain {
    /// Why this language cannot run a reference of this form, or `nil` when it can: `setup` only where the harness
    /// installs it (python, javascript); `test` scripts and `calls` only with a harness, except that a language with
    /// a test template (C, C++) takes exactly one `test` program. The one rule of both places that ask: the run
    /// (an `invalid_reference` error when the reference or the options named the language) and the choice of a
    /// language from the response's fence tags, which skips a tag whose language cannot run the reference.
    func refusal(for spec: TestSpec) -> ArbiterError? {
        if spec.setup != nil, harness?.installsSetup != true {
            return ArbiterError(.invalidReference, "language '\(name)' does not take a reference 'setup' (python does)")
        }
        guard harness == nil else { return nil }
        switch spec.form {
        case .standardIO: return nil
        case .script(let tests, _) where testTemplate != nil:
            return tests.count == 1
                ? nil
                : ArbiterError(.invalidReference, "language '\(name)' takes one 'test' program (with a main), got \(tests.count)")
        case .script, .calls:
            return ArbiterError(
                .invalidReference,
                "language '\(name)' supports only stdin/stdout tests ('tests')"
                    + (testTemplate == nil ? "" : " and 'test' scripts") + ": its toolchain has no harness")
        }
    }
}

/// The toolchains the code verifier knows: the built-in ones, replaced or extended by `verifiers/toolchains/*.json`.
public struct ToolchainSet: Sendable {
    /// Every toolchain, by name.
    public private(set) var all: [String: Toolchain] = [:]
    /// Files that could not be read, with reasons.
    public private(set) var problems: [String] = []

    /// The built-in toolchains, then the files of a directory (when given) over them.
    /// - Parameter directory: A `toolchains` directory.
    public init(directory: URL?) {
        for (name, json) in BuiltinToolchains.declarations {
            do {
                let toolchain = try Self.parse(Array(json.utf8)) { file throws(ArbiterError) in
                    guard let code = BuiltinToolchains.harnesses[file] else {
                        throw ArbiterError(.invalidRequest, "no built-in harness '\(file)'")
                    }
                    return code
                }
                all[toolchain.name] = toolchain
            } catch {
                problems.append("built-in \(name): \(error.message)")
            }
        }
        guard let directory else { return }
        let files =
            ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
        for url in files {
            do {
                let data = try Data(contentsOf: url)
                let toolchain = try Self.parse(Array(data)) { file throws(ArbiterError) in
                    guard !file.contains("/"),
                        let code = try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                    else { throw ArbiterError(.invalidRequest, "cannot read harness '\(file)'") }
                    return code
                }
                all[toolchain.name] = toolchain
            } catch let error as ArbiterError {
                problems.append("\(url.path): \(error.message)")
            } catch {
                problems.append("\(url.path): \(error.localizedDescription)")
            }
        }
    }

    private static func parse(_ bytes: [UInt8], harnessCode: (String) throws(ArbiterError) -> String)
        throws(ArbiterError) -> Toolchain
    {
        guard case .object(let object) = try JSONParser.parse(bytes) else {
            throw ArbiterError(.invalidRequest, "a toolchain must be a JSON object, got another JSON value")
        }
        return try Toolchain(object, harnessCode: harnessCode)
    }

    /// The toolchain a language name or alias means.
    public func toolchain(for language: String) -> Toolchain? {
        if let exact = all[language.lowercased()] { return exact }
        return all.values.sorted { $0.name < $1.name }.first { $0.answers(to: language) }
    }

    /// The names, sorted.
    public var names: [String] { all.keys.sorted() }
}

/// A toolchain's harness for the `test` and `calls` forms: a program of Arbiter's that runs the cases and reports
/// them on fd 4.
public struct Harness: Sendable, Equatable {
    /// The file it is written to, in the run's work directory.
    public var file: String
    /// Its code.
    public var code: String
    /// The command that runs it from the work directory.
    public var run: [String]
    /// Optional: a command run once per daemon, in a sandboxed directory holding ``file``, that writes
    /// ``preparedFile`` there (Python compiles the harness to a marshalled code object, so that runs do not recompile
    /// 36 kB of source, about 8 ms, each time).
    public var prepare: [String]?
    /// What ``prepare`` leaves; Arbiter keeps its bytes and writes them into each run's directory.
    public var preparedFile: String?
    /// The command that runs the prepared harness. When preparing fails, runs use ``run`` instead.
    public var preparedRun: [String]?
    /// Whether it installs a reference's `setup` code after the program and before the tests (`"setup": true`).
    public var installsSetup: Bool = false
    /// A split harness (`"host": {"file", "code" or "code_file", "run"}`): the program runs in this second process,
    /// which the sandbox starts in PID and mount namespaces of its own, so that it can neither see, signal nor read
    /// the harness; the two talk over pipes (the host's fds 3 and 4, the harness's 6 and 7). Without one the program
    /// runs in the harness's process (or in a process the harness forks, as Python's does).
    public var host: HarnessHost?
    /// A fork server (`"fork_server": {"code" or "code_file", "run"}`): a warm interpreter per sandbox slot that forks
    /// each run's harness process instead of starting the interpreter (as root only; see ``ForkServer``).
    public var forkServer: ForkServerDeclaration?
    /// A test compiler (`"test_compiler": {"code" or "code_file", "run"}`, started like a fork server): a warm
    /// interpreter per sandbox, outside every run, that compiles `test` scripts as the harness would; the daemon keeps
    /// its answers by script and sends them to the harness (a `code` section on fd 3), which then only loads them
    /// (see ``TestCompilers``).
    public var testCompiler: ForkServerDeclaration?
}

/// How a toolchain's fork server starts: `run` (with `{interpreter}`, and `{code}` replaced by ``code``).
public struct ForkServerDeclaration: Sendable, Equatable {
    /// The server's code.
    public var code: String
    /// The command that starts it.
    public var run: [String]
}

/// How a compiled language builds a `test` program (MultiPL-E style, with its own `main`) around the program.
///
/// The program is preprocessed alone (``preprocess``, with `-dD` so that the output keeps the system headers' macro
/// definitions); its own `#define`, `#undef` and `#pragma` lines are dropped, so its macros never reach the test.
/// The test's translation unit (``testFile``) is that text, then `#undef NDEBUG` and `<assert.h>` again, then the
/// test. ``compile`` links it after the wrapper (``code``, written to ``file``; it wraps `main`), and ``symbols``
/// lists what the binary defines (`nm -P --defined-only`), so that a program defining what the test's failure path
/// or the wrapper relies on (`__assert_fail`, `abort`, `exit`, …) is refused.
public struct TestTemplate: Sendable, Equatable {
    /// The wrapper's code.
    public var code: String
    /// The file the wrapper is written to.
    public var file: String
    /// Preprocesses the program alone into `program.i`.
    public var preprocess: [String]
    /// The file the test's translation unit is written to.
    public var testFile: String
    /// Compiles and links the wrapper and the test's translation unit into the run's binary.
    public var compile: [String]
    /// Lists the symbols the binary defines.
    public var symbols: [String]
    /// Optional, all three or none: a command run once per daemon, in a sandboxed directory holding ``file``, that
    /// compiles the wrapper alone into ``preparedFile``; test programs are then linked with that object by
    /// ``preparedCompile`` instead of compiling the wrapper each time. When preparing fails, ``compile`` is used.
    public var prepare: [String]? = nil
    /// What ``prepare`` leaves (the wrapper's object file).
    public var preparedFile: String? = nil
    /// ``compile`` with the prepared object in place of the wrapper's source.
    public var preparedCompile: [String]? = nil
}

/// The program's process of a split harness (``Harness/host``).
public struct HarnessHost: Sendable, Equatable {
    /// The file it is written to, in the run's work directory.
    public var file: String
    /// Its code.
    public var code: String
    /// The command that runs it from the work directory.
    public var run: [String]
}
