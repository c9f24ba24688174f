// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Synchronization

/// A verification request that passed validation and is ready to run.
struct PreparedRequest: Sendable {
    var id: JSONValue?
    var verifierName: String
    /// The verifier, and how it is called; one existential, so that copying a request copies one box.
    var call: VerifierCall
    /// The sample; its reference is `null` when ``referenceJSON`` holds it instead.
    var sample: Sample
    /// For a ``JSONReferenceVerifier`` given a structured reference by the scanner: the reference's JSON text, handed
    /// to the verifier as it is (``sample`` then carries `null`).
    var referenceJSON: [UInt8]?

    init(id: JSONValue?, verifierName: String, call: VerifierCall, sample: Sample, referenceJSON: [UInt8]? = nil) {
        self.id = id
        self.verifierName = verifierName
        self.call = call
        self.sample = sample
        self.referenceJSON = referenceJSON
    }

    /// The sample with its reference, parsed from ``referenceJSON`` when it is held there (for tests and callers
    /// outside the hot path).
    var fullSample: Sample {
        guard let referenceJSON, let reference = try? JSONParser.parse(referenceJSON) else { return sample }
        return Sample(response: sample.response, reference: reference, prompt: sample.prompt)
    }

    init(id: JSONValue?, verifierName: String, verifier: any SampleVerifier, sample: Sample) {
        self.init(id: id, verifierName: verifierName, call: VerifierCall(verifier), sample: sample)
    }

    /// The verifier, however it is called (for callers outside the hot path, such as the fuzz targets).
    var verifier: any SampleVerifier {
        switch call {
        case .synchronous(let verifier): verifier
        case .jsonReference(let verifier): verifier
        case .asynchronous(let verifier): verifier
        }
    }
}

/// A verifier with the way it is called: directly when it answers without suspending (given a structured reference
/// as JSON text when it takes one so), else awaited.
enum VerifierCall: Sendable {
    case synchronous(any SynchronousVerifier)
    case jsonReference(any JSONReferenceVerifier)
    case asynchronous(any SampleVerifier)

    /// Finds out once whether `verifier` is a ``JSONReferenceVerifier`` or a ``SynchronousVerifier``.
    init(_ verifier: any SampleVerifier) {
        if let json = verifier as? any JSONReferenceVerifier {
            self = .jsonReference(json)
        } else if let synchronous = verifier as? any SynchronousVerifier {
            self = .synchronous(synchronous)
        } else {
            self = .asynchronous(verifier)
        }
    }
}

/// One slot of a batch: a prepared request, or the error that answers it.
enum BatchItem: Sendable {
    case request(PreparedRequest)
    case failure(id: JSONValue?, verifier: String?, ArbiterError)

    /// The item's own id, if it has one.
    var id: JSONValue? {
        switch self {
        case .request(let request): request.id
        case .failure(let id, _, _): id
        }
    }
}

/// What a request line asks for, once decoded and validated.
enum DecodedLine: Sendable {
    /// One verification (or the error that answers it).
    case single(BatchItem)
    /// A batch: its id and its items, each a verification or the error that answers it.
    case batch(id: JSONValue, items: [BatchItem])
    /// An op (`ping`, `list`, `stats`, or an unknown one) with the line's id.
    case op(JSONValue, id: JSONValue?)
    /// A line that is not a request at all (not JSON, not an object, a malformed batch).
    case failure(id: JSONValue?, ArbiterError)

    /// Whether answering it may suspend (a verifier that is not a ``SynchronousVerifier``, such as a code run or a
    /// plugin): a worker hands over the answers it holds before such a line.
    var mayWait: Bool {
        // Written as switches: `if case .single(.request(let request)) = self` copied the whole request (a retain
        // and a release of each of its fields) on every line.
        switch self {
        case .single(.request(let request)):
            switch request.call {
            case .asynchronous: true
            case .synchronous, .jsonReference: false
            }
        case .single(.failure), .batch, .op, .failure: false
        }
    }
}

/// The verifiers of the byte path (those that are ``ByteVerifier``s at their default options), looked up by the
/// bytes of the name a request gives, without building or hashing a string. A class, so that the worker's hot loop
/// reads it in place instead of copying a table.
final class ByteVerifierTable: Sendable {
    /// The verifiers' names, by index.
    let names: [String]
    private let nameBytes: [[UInt8]]
    private let verifiers: [any ByteVerifier]
    /// With a verifier override: the override's index, or -1 when it is not a byte verifier. `nil` without one.
    private let overrideIndex: Int?

    init(registry: VerifierRegistry, verifierOverride: String?) {
        var names: [String] = []
        var verifiers: [any ByteVerifier] = []
        for entry in registry.all {
            if case .success(let verifier) = entry.defaultVerifier, let bytes = verifier as? any ByteVerifier {
                names.append(entry.name)
                verifiers.append(bytes)
            }
        }
        self.names = names
        self.nameBytes = names.map { Array($0.utf8) }
        self.verifiers = verifiers
        self.overrideIndex = verifierOverride.map { name in names.firstIndex(of: name) ?? -1 }
    }

    /// The index of the verifier a request naming `name` (its `verifier` string's bytes) is answered by, when it is a
    /// byte verifier; `nil` otherwise (another verifier, an unknown one).
    func index(named name: UnsafeBufferPointer<UInt8>) -> Int? {
        if let overrideIndex { return overrideIndex < 0 ? nil : overrideIndex }
        guard let base = name.baseAddress, !name.isEmpty else { return nil }
        for index in nameBytes.indices where nameBytes[index].count == name.count {
            if nameBytes[index].withUnsafeBufferPointer({ memcmp($0.baseAddress!, base, name.count) == 0 }) { return index }
        }
        return nil
    }

    /// The verdict of verifier `index` (see ``ByteVerifier/compactVerdict(response:reference:)``).
    func verdict(_ index: Int, response: UnsafeBufferPointer<UInt8>, reference: UnsafeBufferPointer<UInt8>) -> CompactVerdict? {
        verifiers[index].compactVerdict(response: response, reference: reference)
    }
}

/// Synchronous verifiers configured with a request's options, by verifier name and the options' JSON text as sent:
/// a trainer sends the same options with every request, and configuring a verifier (validating options, building
/// its configuration) costs more than finding it. A short list searched in order (a daemon sees a handful of option
/// sets; comparing bytes costs less than hashing them); bounded, emptied when full. Only verifiers that answer
/// without suspending are kept (a computation with the same options gives the same verdicts from one instance as
/// from many).
final class ConfiguredVerifiers: Sendable {
    private struct Entry {
        /// The name's UTF-8, a 0 byte (never in a name's UTF-8 nor in JSON text), then the options' text.
        var key: [UInt8]
        var call: VerifierCall
    }

    private let capacity: Int
    private let entries = Mutex<[Entry]>([])

    init(capacity: Int) {
        self.capacity = capacity
    }

    private static func matches(_ key: [UInt8], _ name: String, _ options: UnsafeBufferPointer<UInt8>) -> Bool {
        var name = name
        return name.withUTF8 { name in
            guard key.count == name.count + 1 + options.count else { return false }
            return key.withUnsafeBufferPointer { key in
                key[name.count] == 0 && UnsafeBufferPointer(rebasing: key[..<name.count]).elementsEqual(name)
                    && UnsafeBufferPointer(rebasing: key[(name.count + 1)...]).elementsEqual(options)
            }
        }
    }

    func find(_ name: String, _ options: UnsafeBufferPointer<UInt8>) -> VerifierCall? {
        entries.withLock { entries in
            for entry in entries where Self.matches(entry.key, name, options) { return entry.call }
            return nil
        }
    }

    func insert(_ name: String, _ options: UnsafeBufferPointer<UInt8>, _ call: VerifierCall) {
        var key = Array(name.utf8)
        key.append(0)
        key.append(contentsOf: options)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries.append(Entry(key: key, call: call))
        }
    }
}

/// Each verifier with its options at their defaults, by name, classified (``VerifierCall``) on its first request
/// rather than for every registered verifier at start: each classification is two protocol casts, and a cast's first
/// lookup for a type scans every conformance record of the binary (about 4 % of the daemon's start).
final class DefaultVerifierCalls: Sendable {
    private let entries: [String: VerifierEntry]
    /// Only names with a default verifier are kept, so the table stays as small as the registry.
    private let calls = Mutex<[String: VerifierCall]>([:])

    init(_ registry: VerifierRegistry) {
        var entries: [String: VerifierEntry] = [:]
        for entry in registry.all { entries[entry.name] = entry }
        self.entries = entries
    }

    /// The verifier `name` at its default options, `nil` for an unknown name or one whose defaults do not build.
    func call(named name: String) -> VerifierCall? {
        if let known = calls.withLock({ $0[name] }) { return known }
        guard case .success(let verifier)? = entries[name]?.defaultVerifier else { return nil }
        let call = VerifierCall(verifier)
        calls.withLock { $0[name] = call }
        return call
    }
}

/// The wire format of requests and answers: decodes request lines into prepared requests (looking up verifiers and
/// validating options), and encodes verdicts, errors, op answers and batch lines. No threads, no statistics: every
/// function is a pure step of the request path, testable on its own.
struct RequestCodec: Sendable {
    /// How many leading bytes of a line are looked at for its id when the line cannot be parsed.
    static let idPrefixBytes = 4096

    let registry: VerifierRegistry
    /// When set, every request uses this verifier whatever it names (as `arbiter grade --verifier` does).
    let verifierOverride: String?
    /// Each verifier with its options at their defaults, by name, for the fast path (requests without options).
    private let defaultVerifiers: DefaultVerifierCalls
    /// Synchronous verifiers configured with a request's options, by name and the options' JSON text.
    private let configured: ConfiguredVerifiers
    init(registry: VerifierRegistry, verifierOverride: String?) {
        self.registry = registry
        self.verifierOverride = verifierOverride
        self.defaultVerifiers = DefaultVerifierCalls(registry)
        self.configured = ConfiguredVerifiers(capacity: 32)
    }

    /// The id of a line that cannot be parsed (too large, or not JSON), when it begins `{"id": …`: our clients put
    /// the id first so that even such lines are answered with it.
    static func leadingID(of line: some Collection<UInt8>) -> JSONValue? {
        JSONParser.leadingID(Array(line.prefix(idPrefixBytes)))
    }

    // MARK: Decoding

    /// Decodes and validates one request line.
    ///
    /// A request of the common shape is read by ``RequestScanner`` straight from the bytes; every other line goes
    /// through the full parser, which gives the same answer for the common shape.
    func decode(_ line: [UInt8]) -> DecodedLine {
        decode(line[...])
    }

    /// Decodes and validates one request line, a slice of what was read.
    func decode(_ line: ArraySlice<UInt8>) -> DecodedLine {
        line.withUnsafeBufferPointer { decode($0) }
    }

    /// Decodes and validates one request line, in memory the caller keeps alive.
    func decode(_ line: UnsafeBufferPointer<UInt8>) -> DecodedLine {
        if let scanned = RequestScanner.scan(line),
            let call = defaultVerifiers.call(named: verifierOverride ?? scanned.verifier)
        {
            let name = verifierOverride ?? scanned.verifier
            let sample = Sample(response: scanned.response, reference: scanned.reference, prompt: scanned.prompt)
            return .single(.request(PreparedRequest(id: scanned.id, verifierName: name, call: call, sample: sample)))
        }
        if let decoded = decodeWide(line) { return decoded }
        return decodeFully(line)
    }

    /// Decodes a line of the wider shape that ``RequestScanner/scanWide(_:)`` reads (escapes, a structured reference,
    /// options) without building a ``JSONObject`` for the line; `nil` for any line it does not answer as a request,
    /// which the full parser then decodes (and whose error it finds), so both give the same answer to every line.
    ///
    /// A request with options is answered here only for a synchronous verifier, configured once per verifier and
    /// options text (``ConfiguredVerifiers``); a structured reference goes to a ``JSONReferenceVerifier`` as its JSON
    /// text, and to any other verifier as the value the parser builds from that text.
    func decodeWide(_ line: UnsafeBufferPointer<UInt8>) -> DecodedLine? {
        guard let scanned = RequestScanner.scanWide(line) else { return nil }
        let name = verifierOverride ?? scanned.verifier
        let call: VerifierCall
        if let options = scanned.options {
            guard let found = configuredVerifier(name, options: UnsafeBufferPointer(rebasing: line[options])) else {
                return nil
            }
            call = found
        } else {
            guard let found = defaultVerifiers.call(named: name) else { return nil }
            call = found
        }
        var id: JSONValue? = nil
        if let token = scanned.id {
            guard let value = try? JSONParser.parse(UnsafeBufferPointer(rebasing: line[token.start..<token.end])) else {
                return nil
            }
            id = value
        }
        var reference = JSONValue.null
        var referenceJSON: [UInt8]? = nil
        if let range = scanned.reference {
            let text = UnsafeBufferPointer(rebasing: line[range])
            if case .jsonReference = call, text[0] == UInt8(ascii: "{") || text[0] == UInt8(ascii: "[") {
                referenceJSON = Array(text)
            } else {
                guard let value = try? JSONParser.parse(text) else { return nil }
                reference = value
            }
        }
        let sample = Sample(response: scanned.response, reference: reference, prompt: scanned.prompt)
        return .single(
            .request(PreparedRequest(id: id, verifierName: name, call: call, sample: sample, referenceJSON: referenceJSON)))
    }

    /// The verifier `name` configured with an options object given as JSON text, from the cache or configured now;
    /// `nil` when the full path must answer (an unknown verifier, invalid options, a verifier that may suspend).
    private func configuredVerifier(_ name: String, options: UnsafeBufferPointer<UInt8>) -> VerifierCall? {
        if let found = configured.find(name, options) { return found }
        guard case .object(let sent)? = try? JSONParser.parse(options),
            let entry = try? registry.entry(named: name), let verifier = try? entry.verifier(options: sent)
        else { return nil }
        let call = VerifierCall(verifier)
        if case .asynchronous = call { return nil }
        configured.insert(name, options, call)
        return call
    }

    /// Decodes one request line with the full parser.
    func decodeFully(_ line: some Collection<UInt8>) -> DecodedLine {
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(line)
        } catch {
            return .failure(id: Self.leadingID(of: line), error)
        }
        guard case .object(let object) = parsed else {
            return .failure(id: nil, ArbiterError(.invalidRequest, "a request must be a JSON object, got \(parsed.typeName)"))
        }
        let id = object["id"]
        if let op = object["op"] { return .op(op, id: id) }
        if let batch = object["batch"] { return decodeBatch(batch, id: id) }
        return .single(prepare(object, id: id))
    }

    private func decodeBatch(_ batch: JSONValue, id: JSONValue?) -> DecodedLine {
        guard case .array(let elements) = batch else {
            return .failure(id: id, ArbiterError(.invalidRequest, "'batch' must be an array of requests, got \(batch.typeName)"))
        }
        let items = elements.enumerated().map { offset, element -> BatchItem in
            guard case .object(let object) = element else {
                return .failure(
                    id: nil, verifier: nil,
                    ArbiterError(.invalidRequest, "batch item \(offset) must be a JSON object, got \(element.typeName)"))
            }
            if object["batch"] != nil || object["op"] != nil {
                return .failure(
                    id: object["id"], verifier: nil,
                    ArbiterError(.invalidRequest, "batch item \(offset) may not hold 'batch' or 'op'"))
            }
            return prepare(object, id: object["id"])
        }
        return .batch(id: id ?? .null, items: items)
    }

    func prepare(_ object: JSONObject, id: JSONValue?) -> BatchItem {
        let name: String
        if let override = verifierOverride {
            name = override
        } else {
            switch object["verifier"] {
            case .string(let text)?: name = text
            case nil: return .failure(id: id, verifier: nil, ArbiterError(.invalidRequest, "missing 'verifier'"))
            case let other?:
                return .failure(
                    id: id, verifier: nil,
                    ArbiterError(.invalidRequest, "'verifier' must be a string, got \(other.typeName)"))
            }
        }
        let response: String
        switch object["response"] {
        case .string(let text)?: response = text
        case nil:
            return .failure(id: id, verifier: name, ArbiterError(.invalidRequest, "missing 'response' (the model output)"))
        case let other?:
            return .failure(
                id: id, verifier: name,
                ArbiterError(.invalidRequest, "'response' must be a string, got \(other.typeName)"))
        }
        var prompt: String? = nil
        switch object["prompt"] {
        case .string(let text)?: prompt = text
        case nil, .null?: break
        case let other?:
            return .failure(
                id: id, verifier: name, ArbiterError(.invalidRequest, "'prompt' must be a string, got \(other.typeName)"))
        }
        var options: JSONObject? = nil
        switch object["options"] {
        case .object(let sent)?: options = sent
        case nil, .null?: break
        case let other?:
            return .failure(
                id: id, verifier: name,
                ArbiterError(.invalidRequest, "'options' must be an object, got \(other.typeName)"))
        }
        do throws(ArbiterError) {
            let entry = try registry.entry(named: name)
            let verifier = try entry.verifier(options: options)
            let sample = Sample(response: response, reference: object["reference"] ?? .null, prompt: prompt)
            return .request(PreparedRequest(id: id, verifierName: name, verifier: verifier, sample: sample))
        } catch {
            let known = error.code == .unknownVerifier ? nil : name
            return .failure(id: id, verifier: known, error)
        }
    }

    // MARK: Encoding

    /// `{"id":…,"score":…,"passed":…,"reason":…,"details":…,"ms":…}`; the id is left out when `nil`.
    func writeVerdict(id: JSONValue?, _ verdict: Verdict, nanoseconds: UInt64, into out: inout JSONWriter) {
        out.byte(UInt8(ascii: "{"))
        if let id {
            out.key("id")
            out.write(id)
            out.byte(UInt8(ascii: ","))
        }
        out.key("score")
        out.write(double: verdict.score)
        out.raw(",\"passed\":")
        out.write(bool: verdict.passed)
        out.raw(",\"reason\":")
        out.write(string: verdict.reason)
        out.raw(",\"details\":")
        verdict.writeDetails(into: &out)
        if let components = verdict.components {
            out.raw(",\"components\":")
            out.write(components)
        }
        out.raw(",\"ms\":")
        out.write(milliseconds: Double(nanoseconds) / 1e6)
        out.byte(UInt8(ascii: "}"))
    }

    /// A verdict of the byte path, as ``writeVerdict(id:_:nanoseconds:into:)`` writes the same verdict of a
    /// top-level request (followed by a newline when asked): `id` is the id's token as it appears in the request line (a number, an ASCII string
    /// without escapes, `true`, `false` or `null`, which the writer would write back unchanged), `nil` for none.
    func writeCompactVerdict(
        id: UnsafeBufferPointer<UInt8>?, _ verdict: CompactVerdict, nanoseconds: UInt64, newline: Bool = false,
        into out: inout JSONWriter
    ) {
        let idCount = id?.count ?? 4
        guard verdict.score == 1 || verdict.score == 0, verdict.detailValue >= 0, idCount <= 512 else {
            writeCompactVerdictPiecewise(id: id, verdict, nanoseconds: nanoseconds, into: &out)
            if newline { out.byte(UInt8(ascii: "\n")) }
            return
        }
        // Written into a buffer on the stack, then appended at once: one capacity check per answer.
        let capacity = idCount + verdict.reason.utf8CodeUnitCount + (verdict.detailKey?.utf8CodeUnitCount ?? 0) + 160
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            var cursor = ByteCursor(buffer.baseAddress!)
            cursor.put("{\"id\":")
            if let id { cursor.put(id) } else { cursor.put("null") }
            if verdict.passed {
                cursor.put(verdict.score == 1 ? ",\"score\":1,\"passed\":true,\"reason\":\"" : ",\"score\":0,\"passed\":true,\"reason\":\"")
            } else {
                cursor.put(verdict.score == 1 ? ",\"score\":1,\"passed\":false,\"reason\":\"" : ",\"score\":0,\"passed\":false,\"reason\":\"")
            }
            cursor.put(verdict.reason)
            if let key = verdict.detailKey {
                cursor.put("\",\"details\":{\"")
                cursor.put(key)
                cursor.put("\":")
                cursor.put(decimal: UInt64(verdict.detailValue))
                cursor.put("},\"ms\":")
            } else {
                cursor.put("\",\"details\":{},\"ms\":")
            }
            // Milliseconds with up to three decimals, as JSONWriter.write(milliseconds:) writes them (rounded to the
            // microsecond here in integers).
            let microseconds = (nanoseconds &+ 500) / 1000
            cursor.put(decimal: microseconds / 1000)
            let fraction = Int(microseconds % 1000)
            if fraction != 0 {
                cursor.put(byte: UInt8(ascii: "."))
                cursor.put(byte: UInt8(ascii: "0") + UInt8(fraction / 100))
                if fraction % 100 != 0 {
                    cursor.put(byte: UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
                    if fraction % 10 != 0 { cursor.put(byte: UInt8(ascii: "0") + UInt8(fraction % 10)) }
                }
            }
            cursor.put(byte: UInt8(ascii: "}"))
            if newline { cursor.put(byte: UInt8(ascii: "\n")) }
            out.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress, count: cursor.written(since: buffer.baseAddress!)))
        }
    }

    /// ``writeCompactVerdict(id:_:nanoseconds:into:)`` for any verdict, piece by piece.
    private func writeCompactVerdictPiecewise(
        id: UnsafeBufferPointer<UInt8>?, _ verdict: CompactVerdict, nanoseconds: UInt64, into out: inout JSONWriter
    ) {
        out.raw("{\"id\":")
        if let id { out.bytes.append(contentsOf: id) } else { out.raw("null") }
        out.raw(",\"score\":")
        out.write(double: verdict.score)
        out.raw(verdict.passed ? ",\"passed\":true,\"reason\":\"" : ",\"passed\":false,\"reason\":\"")
        out.raw(verdict.reason)
        if let key = verdict.detailKey {
            out.raw("\",\"details\":{\"")
            out.raw(key)
            out.raw("\":")
            out.write(int: verdict.detailValue)
            out.raw("},\"ms\":")
        } else {
            out.raw("\",\"details\":{},\"ms\":")
        }
        out.write(milliseconds: Double(nanoseconds) / 1e6)
        out.byte(UInt8(ascii: "}"))
    }

    /// A top-level error line: the id is always present (`null` when unknown).
    func writeError(id: JSONValue?, _ error: ArbiterError, into out: inout JSONWriter) {
        writeErrorObject(id: id ?? .null, error, into: &out)
    }

    func writeErrorObject(id: JSONValue?, _ error: ArbiterError, into out: inout JSONWriter) {
        out.byte(UInt8(ascii: "{"))
        if let id {
            out.key("id")
            out.write(id)
            out.byte(UInt8(ascii: ","))
        }
        out.key("error")
        out.write(error.jsonObject)
        out.byte(UInt8(ascii: "}"))
    }

    /// An op's answer: `{"id":…, <body>}`.
    func writeOpAnswer(id: JSONValue?, body: JSONObject, into out: inout JSONWriter) {
        out.byte(UInt8(ascii: "{"))
        out.key("id")
        out.write(id ?? .null)
        for entry in body {
            out.byte(UInt8(ascii: ","))
            out.write(string: entry.key)
            out.byte(UInt8(ascii: ":"))
            out.write(entry.value)
        }
        out.byte(UInt8(ascii: "}"))
    }

    /// A batch's answer line, newline included: `{"id":…,"results":[…]}` with each item's encoded result.
    static func batchLine(id: JSONValue, results: [[UInt8]?]) -> [UInt8] {
        var out = JSONWriter(capacity: results.reduce(32) { $0 + ($1?.count ?? 0) + 1 })
        out.byte(UInt8(ascii: "{"))
        out.key("id")
        out.write(id)
        out.raw(",\"results\":[")
        for (offset, result) in results.enumerated() {
            if offset > 0 { out.byte(UInt8(ascii: ",")) }
            out.bytes.append(contentsOf: result ?? Array("null".utf8))
        }
        out.raw("]}\n")
        return out.bytes
    }
}

/// Writes bytes through a pointer into memory the caller has sized: no capacity or bounds checks.
private struct ByteCursor {
    private var pointer: UnsafeMutablePointer<UInt8>

    init(_ pointer: UnsafeMutablePointer<UInt8>) {
        self.pointer = pointer
    }

    mutating func put(_ text: StaticString) {
        pointer.update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        pointer += text.utf8CodeUnitCount
    }

    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        pointer.update(from: base, count: bytes.count)
        pointer += bytes.count
    }

    mutating func put(byte: UInt8) {
        pointer.pointee = byte
        pointer += 1
    }

    /// A non-negative integer in decimal.
    mutating func put(decimal value: UInt64) {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var value = value
        for offset in stride(from: digits - 1, through: 0, by: -1) {
            pointer[offset] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        }
        pointer += digits
    }

    /// Bytes written since `start`.
    func written(since start: UnsafeMutablePointer<UInt8>) -> Int { start.distance(to: pointer) }
}
