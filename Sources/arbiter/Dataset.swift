// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import ArbiterThreads
import Foundation

/// The formats `arbiter grade` reads.
enum DatasetFormat: String, CaseIterable, Sendable {
    case jsonl, csv, tsv

    /// The format a file name implies (`.gz` looked through); JSON lines for anything else and for stdin.
    static func guess(path: String) -> DatasetFormat {
        var name = path.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        if name.hasSuffix(".csv") { return .csv }
        if name.hasSuffix(".tsv") || name.hasSuffix(".tab") { return .tsv }
        return .jsonl
    }
}

/// Which fields of a dataset row become which fields of a request: `--map response=completion,reference=answer`.
///
/// A source is a field name or a dotted path into nested objects (`reward_model.ground_truth`); a request field
/// that is not mapped is taken from the row's field of the same name when there is one.
struct FieldMap: Sendable {
    /// The request fields a map may set.
    static let targets = ["response", "reference", "prompt", "verifier", "options", "id"]

    var sources: [String: [String]] = [:]

    init() {}

    /// Parses `target=source,target=source`.
    init(parsing text: String) throws(ArbiterError) {
        for pair in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ArbiterError(.invalidRequest, "--map takes target=source pairs separated by commas, got '\(pair)'")
            }
            guard Self.targets.contains(parts[0]) else {
                throw ArbiterError(
                    .invalidRequest, "--map: '\(parts[0])' is not a request field (\(Self.targets.joined(separator: ", ")))")
            }
            sources[parts[0]] = parts[1].split(separator: ".").map(String.init)
        }
    }

    /// The request for a row, or the error that answers it (a mapped field the row lacks).
    func request(from row: JSONObject) -> Result<JSONObject, ArbiterError> {
        var request = JSONObject()
        for target in Self.targets {
            if let path = sources[target] {
                guard let value = Self.value(at: path, in: row) else {
                    return .failure(
                        ArbiterError(
                            .invalidRequest,
                            "row has no field '\(path.joined(separator: "."))' (mapped to '\(target)' by --map)"))
                }
                request[target] = value
            } else if let value = row[target] {
                request[target] = value
            }
        }
        return .success(request)
    }

    static func value(at path: [String], in row: JSONObject) -> JSONValue? {
        var current: JSONValue = .object(row)
        for key in path {
            guard let next = current.objectValue?[key] else { return nil }
            current = next
        }
        return current == .null ? nil : current
    }
}

/// Reads rows of a dataset one at a time: JSON lines, or CSV/TSV with a header row (RFC 4180 quoting, fields may
/// hold newlines), from a file, a gzip-compressed file (through `gzip -dc`) or stdin.
final class DatasetReader: @unchecked Sendable {  // read by one thread at a time
    enum Row {
        /// A row as an object (CSV values are strings).
        case row(JSONObject)
        /// A row that cannot be read (not JSON, not an object, a CSV row with too many fields).
        /// (`id` is the one a JSON line begins with, as `arbiter serve` would echo it.)
        case unreadable(ArbiterError, id: JSONValue? = nil)
    }

    private let handle: FileHandle
    private let decompressor: Process?
    private let format: DatasetFormat
    private var buffer: [UInt8] = []
    private var position = 0
    private var ended = false
    private var header: [String]? = nil
    private(set) var lineNumber = 0

    init(path: String, format: DatasetFormat) throws {
        self.format = format
        let source: FileHandle
        if path == "-" {
            source = .standardInput
        } else {
            guard let opened = FileHandle(forReadingAtPath: path) else {
                throw ArbiterError(.invalidRequest, "cannot open '\(path)': \(String(cString: strerror(errno)))")
            }
            source = opened
        }
        let magic = path == "-" ? Data() : (try? source.read(upToCount: 2)) ?? Data()
        if magic == Data([0x1F, 0x8B]) {
            try? source.close()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "exec gzip -dc -- \"$0\"", path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            decompressor = process
            handle = pipe.fileHandleForReading
        } else {
            decompressor = nil
            handle = source
            buffer = Array(magic)
        }
    }

    deinit {
        decompressor?.terminate()
    }

    /// The next row, or `nil` at the end.
    func next() -> Row? {
        switch format {
        case .jsonl:
            while let line = nextLine() {
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                do {
                    guard case .object(let object) = try JSONParser.parse(line) else {
                        return .unreadable(ArbiterError(.invalidRequest, "line \(lineNumber) is not a JSON object"))
                    }
                    return .row(object)
                } catch {
                    return .unreadable(
                        ArbiterError(.invalidJSON, "line \(lineNumber): \(error.message)"),
                        id: JSONParser.leadingID(Array(line.prefix(4096))))
                }
            }
            return nil
        case .csv, .tsv:
            let separator = UInt8(ascii: format == .csv ? "," : "\t")
            if header == nil {
                guard let names = nextRecord(separator: separator) else { return nil }
                header = names
            }
            guard let fields = nextRecord(separator: separator), let header else { return nil }
            if fields.count == 1, fields[0].isEmpty { return next() }  // a blank line
            guard fields.count <= header.count else {
                return .unreadable(
                    ArbiterError(
                        .invalidRequest,
                        "line \(lineNumber) has \(fields.count) fields, the header names \(header.count)"))
            }
            var object = JSONObject()
            for (name, value) in zip(header, fields) { object[name] = .string(value) }
            return .row(object)
        }
    }

    // MARK: Bytes

    private func fill() -> Bool {
        if ended { return false }
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
        guard let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty else {
            ended = true
            return false
        }
        buffer.append(contentsOf: chunk)
        return true
    }

    /// Whether the next row needs a read from the source (which may block): a feeder flushes before that.
    var bufferExhausted: Bool { position >= buffer.count }

    private func nextLine() -> [UInt8]? {
        while true {
            if let newline = buffer[position...].firstIndex(of: 0x0A) {
                var line = Array(buffer[position..<newline])
                position = newline + 1
                lineNumber += 1
                if line.last == 0x0D { line.removeLast() }
                return line
            }
            if !fill() {
                guard position < buffer.count else { return nil }
                let line = Array(buffer[position...])
                position = buffer.count
                lineNumber += 1
                return line
            }
        }
    }

    private func nextByte() -> UInt8? {
        if position >= buffer.count, !fill() { return nil }
        defer { position += 1 }
        return buffer[position]
    }

    private func peekByte() -> UInt8? {
        if position >= buffer.count, !fill() { return nil }
        return buffer[position]
    }

    /// One CSV/TSV record: fields split at the separator outside quotes; `""` inside quotes is a quote.
    private func nextRecord(separator: UInt8) -> [String]? {
        guard peekByte() != nil else { return nil }
        lineNumber += 1
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var atFieldStart = true
        while let byte = nextByte() {
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if peekByte() == UInt8(ascii: "\"") {
                        field.append(byte)
                        position += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if byte == 0x0A { lineNumber += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\"") where atFieldStart:
                quoted = true
                atFieldStart = false
            case separator:
                fields.append(String(decoding: field, as: UTF8.self))
                field = []
                atFieldStart = true
            case 0x0A:
                if field.last == 0x0D { field.removeLast() }
                fields.append(String(decoding: field, as: UTF8.self))
                return fields
            default:
                field.append(byte)
                atFieldStart = false
            }
        }
        if field.last == 0x0D { field.removeLast() }
        fields.append(String(decoding: field, as: UTF8.self))
        return fields
    }
}

/// One row's outcome as the pipeline's observers see it (in row order, on the splicer thread).
struct ObservedRow {
    var number: Int
    var id: JSONValue?
    /// The start of the row's response (when the pipeline keeps excerpts).
    var excerpt: String?
    /// The verifier the row was sent to, when known.
    var verifier: String?
    /// The server's answer line (`{"id":…,…}`), or the error the pipeline answered the row with itself.
    var answer: Result<ArraySlice<UInt8>, ArbiterError>

    /// The answer as a JSON object (parsed on demand: observers that need a few fields scan them instead).
    var answerObject: Result<JSONObject, ArbiterError> {
        answer.flatMap { bytes in
            guard let object = (try? JSONParser.parse(bytes))?.objectValue else {
                return .failure(ArbiterError(.internal, "unreadable answer"))
            }
            return .success(object)
        }
    }
}

/// Sees every row's outcome: the report's and the comparison's collectors.
protocol RowObserver: AnyObject {
    func observe(_ row: ObservedRow)
}

/// How the pipeline shapes requests and output rows.
struct PipelineShape {
    /// Output rows start with `"row"` (datasets read through a map, kept columns, CSV/TSV); otherwise each answer
    /// keeps the row's own `id` only, as `arbiter serve` writes it.
    var numberRows = true
    /// The verifier every row is sent to (`--verifier`); set on the request by the pipeline.
    var verifier: String?
    /// Turns a row's request into the request sent (e.g. a batch of two configurations for `--compare`).
    var transform: (@Sendable (JSONObject) -> JSONObject)?
    /// The configuration hash written into each output row as `"config"` (a string, or one per batch item).
    var configuration: (@Sendable (JSONObject) -> JSONValue)?
    /// Keep the start of each response for observers.
    var excerpts = false
}

/// Turns dataset rows into requests for a server and its answers into output rows, in order.
///
/// A feeder thread reads rows, maps them and writes request lines (id = the row's number) into the server's input;
/// a splicer thread reads the server's answers (in order: the server runs `ordered`) and writes each as an output
/// row that starts with `"row"`, the row's own `id` (if it has one) and the kept fields. A row that cannot become a
/// request is answered by the splicer itself, in its place, with an error. Observers see every row's outcome.
final class DatasetPipeline: @unchecked Sendable {
    /// What the splicer needs to know about one row, in row order.
    private struct RowNote {
        var number: Int
        var prefix: [UInt8]  // `{"row":N,…,` — the answer's fields follow
        var error: ArbiterError?
        var id: JSONValue?
        var excerpt: String?
        var verifier: String?
    }

    let serverInput: Int32
    let serverOutput: Int32
    private let notes = NSCondition()
    private var pending: [RowNote] = []
    private var fed = false
    private var unreadable: [ArbiterError.Code] = []
    /// The splicer thread, joined once the output is complete.
    private var splicer: BlockingThread?
    private let observers: [any RowObserver]

    init(
        reader: DatasetReader, map: FieldMap, keep: [String], output: Int32, shape: PipelineShape = PipelineShape(),
        observers: [any RowObserver] = []
    ) throws {
        self.observers = observers
        var toServer: [Int32] = [0, 0]
        var fromServer: [Int32] = [0, 0]
        guard pipe(&toServer) == 0, pipe(&fromServer) == 0 else {
            throw ArbiterError(.internal, "pipe(): \(String(cString: strerror(errno)))")
        }
        serverInput = toServer[0]
        serverOutput = fromServer[1]
        let keptPaths = keep.map { ($0, $0.split(separator: ".").map(String.init)) }
        let feedDescriptor = toServer[1]
        let numberRows = shape.numberRows
        _ = try BlockingThread(name: "arbiter-feed") { [self] in
            var number = 0
            var line = JSONWriter(capacity: 1 << 16)
            var batch: [RowNote] = []
            var feeding = true
            /// Publishes the batched notes, then writes the batched request lines: one lock and one write per
            /// batch, not per row.
            func flush() {
                if !batch.isEmpty {
                    note(batch)
                    batch.removeAll(keepingCapacity: true)
                }
                if !line.bytes.isEmpty {
                    if !Self.writeAll(line.bytes, to: feedDescriptor) { feeding = false }
                    line.bytes.removeAll(keepingCapacity: true)
                }
            }
            while feeding, let row = reader.next() {
                number += 1
                var prefix = JSONWriter(capacity: 64)
                var rowID: JSONValue?
                var excerpt: String?
                var verifierName = shape.verifier
                if numberRows {
                    prefix.raw("{\"row\":")
                    prefix.write(int: number)
                } else {
                    prefix.byte(UInt8(ascii: "{"))
                }
                var request: Result<JSONObject, ArbiterError>
                switch row {
                case .row(let object):
                    // Without a map a row is already a request: it goes as it is (a batch, an op, its own keys).
                    request = map.sources.isEmpty ? .success(object) : map.request(from: object)
                    if let id = FieldMap.value(at: ["id"], in: object), map.sources["id"] == nil {
                        rowID = id
                    } else if case .success(let mapped) = request, let id = mapped["id"] {
                        rowID = id
                    }
                    if let rowID {
                        prefix.raw(numberRows ? ",\"id\":" : "\"id\":")
                        prefix.write(rowID)
                    } else if !numberRows {
                        prefix.raw("\"id\":null")
                    }
                    if case .success(var mapped) = request {
                        if let verifierName { mapped["verifier"] = .string(verifierName) }
                        verifierName = mapped["verifier"]?.stringValue
                        if shape.excerpts {
                            excerpt = GradeReport.clip(mapped["response"]?.stringValue ?? "", GradeReport.excerptCharacters)
                        }
                        if let transform = shape.transform { mapped = transform(mapped) }
                        if let configuration = shape.configuration {
                            prefix.raw(",\"config\":")
                            prefix.write(configuration(mapped))
                        }
                        request = .success(mapped)
                    }
                    for (name, path) in keptPaths where name != "id" {
                        prefix.byte(UInt8(ascii: ","))
                        prefix.write(string: name)
                        prefix.byte(UInt8(ascii: ":"))
                        prefix.write(FieldMap.value(at: path, in: object) ?? .null)
                    }
                case .unreadable(let error, let id):
                    request = .failure(error)
                    rowID = id
                    if numberRows, let id {
                        prefix.raw(",\"id\":")
                        prefix.write(id)
                    } else if !numberRows {
                        prefix.raw("\"id\":")
                        prefix.write(id ?? .null)
                    }
                }
                prefix.byte(UInt8(ascii: ","))
                switch request {
                case .success(var object):
                    object["id"] = .int(number)
                    batch.append(RowNote(number: number, prefix: prefix.bytes, error: nil, id: rowID, excerpt: excerpt, verifier: verifierName))
                    line.write(.object(object))
                    line.byte(UInt8(ascii: "\n"))
                case .failure(let error):
                    batch.append(RowNote(number: number, prefix: prefix.bytes, error: error, id: rowID, excerpt: excerpt, verifier: verifierName))
                }
                if line.bytes.count >= 1 << 16 || batch.count >= 1024 || reader.bufferExhausted { flush() }
            }
            flush()
            close(feedDescriptor)
            notes.lock()
            fed = true
            notes.broadcast()
            notes.unlock()
        }
        let answers = fromServer[0]
        splicer = try BlockingThread(name: "arbiter-splice") { [self] in
            splice(answers: answers, output: output)
            close(answers)
            if output != 1 { close(output) }
        }
    }

    private func note(_ rows: [RowNote]) {
        notes.lock()
        pending.append(contentsOf: rows)
        notes.broadcast()
        notes.unlock()
    }

    /// The notes of the next rows in order (all that are published), or `nil` once every row is spliced.
    private func nextNotes() -> [RowNote]? {
        notes.lock()
        defer { notes.unlock() }
        while pending.isEmpty {
            if fed { return nil }
            notes.wait()
        }
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    private func splice(answers: Int32, output: Int32) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var received: [UInt8] = []
        var start = 0
        var out: [UInt8] = []
        func nextAnswer() -> ArraySlice<UInt8>? {
            while true {
                if let newline = received[start...].firstIndex(of: 0x0A) {
                    defer { start = newline + 1 }
                    return received[start..<newline]
                }
                received.removeFirst(start)
                start = 0
                let count = buffer.withUnsafeMutableBytes { read(answers, $0.baseAddress, $0.count) }
                if count <= 0 { return nil }
                received.append(contentsOf: buffer[0..<count])
            }
        }
        splicing: while let batch = nextNotes() {
            for note in batch {
                out.append(contentsOf: note.prefix)
                if let error = note.error {
                    var writer = JSONWriter(capacity: 128)
                    writer.raw("\"error\":")
                    writer.write(error.jsonObject)
                    writer.raw("}\n")
                    out.append(contentsOf: writer.bytes)
                    unreadable.append(error.code)
                    observe(note, .failure(error))
                } else if let answer = nextAnswer() {
                    // The server's answer is `{"id":N,…}` with our integer id: keep what follows the first comma.
                    guard let comma = answer.firstIndex(of: UInt8(ascii: ",")) else { continue }
                    out.append(contentsOf: answer[(comma + 1)...])
                    out.append(0x0A)
                    if !observers.isEmpty { observe(note, .success(answer)) }
                } else {
                    break splicing
                }
            }
            // One write per batch of notes: few system calls, and no answer is held back from a slow source.
            _ = Self.writeAll(out, to: output)
            out.removeAll(keepingCapacity: true)
        }
        _ = Self.writeAll(out, to: output)
    }

    private func observe(_ note: RowNote, _ answer: Result<ArraySlice<UInt8>, ArbiterError>) {
        let row = ObservedRow(number: note.number, id: note.id, excerpt: note.excerpt, verifier: note.verifier, answer: answer)
        for observer in observers { observer.observe(row) }
    }

    /// Waits for the last row to be written; the codes of the rows answered here (not by the server).
    func finish() -> [ArbiterError.Code] {
        splicer?.join()
        return unreadable
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }
}
