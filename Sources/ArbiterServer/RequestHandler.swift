// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

/// A verification request that passed validation and is ready to run.
struct PreparedRequest: Sendable {
    var id: JSONValue?
    var verifierName: String
    var verifier: any SampleVerifier
    var sample: Sample
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

/// Turns request lines into response lines: parsing, validation, ops, running verifiers and recording statistics.
///
/// It writes into the caller's buffer so that the hot path allocates little. It never throws: every line gets
/// exactly one answer.
public struct RequestHandler: Sendable {
    /// What the `ping` op reports and the handler enforces.
    public struct Settings: Sendable {
        /// The longest request line accepted, in bytes.
        public var maxLineBytes: Int
        /// The number of concurrent verifications.
        public var jobs: Int
        /// When set, every request uses this verifier whatever it names (as `arbiter grade --verifier` does).
        public var verifierOverride: String?

        /// Settings.
        /// - Parameters:
        ///   - maxLineBytes: The line limit.
        ///   - jobs: Concurrent verifications.
        ///   - verifierOverride: A verifier for every request, or `nil`.
        public init(maxLineBytes: Int, jobs: Int, verifierOverride: String? = nil) {
            self.maxLineBytes = maxLineBytes
            self.jobs = jobs
            self.verifierOverride = verifierOverride
        }
    }

    /// The Arbiter version reported by `ping`.
    public static let version = "0.1.0"

    let registry: VerifierRegistry
    let settings: Settings
    let stats: ServerStats

    /// A handler.
    /// - Parameters:
    ///   - registry: The verifiers.
    ///   - settings: Limits and overrides.
    ///   - stats: Where to count.
    public init(registry: VerifierRegistry, settings: Settings, stats: ServerStats) {
        self.registry = registry
        self.settings = settings
        self.stats = stats
    }

    /// Answers one request line, appending the response (without the newline) to `out`.
    /// - Parameters:
    ///   - line: The request line without its newline.
    ///   - out: The output buffer.
    ///   - slot: The worker's statistics slot.
    /// - Returns: `nil` when the answer was written; for a batch, its id and items, to be run and written later.
    func handle(line: [UInt8], into out: inout JSONWriter, slot: Int) async -> (id: JSONValue, items: [BatchItem])? {
        let started = monotonicNanoseconds()
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(line)
        } catch {
            // Like too_large: a line that begins `{"id": …` keeps its id, so that the caller knows which one failed.
            writeError(id: JSONParser.leadingID(Array(line.prefix(LineSplitter.idPrefixBytes))), error, into: &out)
            record(slot: slot, error: error.code, verifier: nil, since: started, countRequest: true)
            return nil
        }
        guard case .object(let object) = parsed else {
            let error = ArbiterError(.invalidRequest, "a request must be a JSON object, got \(parsed.typeName)")
            writeError(id: nil, error, into: &out)
            record(slot: slot, error: error.code, verifier: nil, since: started, countRequest: true)
            return nil
        }
        let id = object["id"]
        if let op = object["op"] {
            handleOp(op, id: id, into: &out, slot: slot)
            return nil
        }
        if let batch = object["batch"] {
            return prepareBatch(batch, id: id, into: &out, slot: slot, started: started)
        }
        switch prepare(object, id: id) {
        case .failure(let id, let verifier, let error):
            writeError(id: id ?? .null, error, into: &out)
            record(slot: slot, error: error.code, verifier: verifier, since: started, countRequest: true)
        case .request(let request):
            await run(request, into: &out, slot: slot, topLevel: true)
        }
        return nil
    }

    /// Answers one request line on its own, running a batch's items one after another.
    ///
    /// For `arbiter check`, tests and embedding; the daemon spreads a batch's items over its workers instead.
    /// - Parameter line: The request line without its newline.
    /// - Returns: The response line without its newline.
    public func answer(line: [UInt8]) async -> [UInt8] {
        var out = JSONWriter()
        guard let batch = await handle(line: line, into: &out, slot: 0) else { return out.bytes }
        var results: [[UInt8]?] = []
        for item in batch.items {
            var result = JSONWriter()
            await run(item: item, into: &result, slot: 0)
            results.append(result.bytes)
        }
        var bytes = BatchCollector.line(id: batch.id, results: results)
        bytes.removeLast()
        return bytes
    }

    /// Answers a request (a line, or a batch item) that was not run because the drain time after a stop was over.
    func answerCancelled(id: JSONValue?, into out: inout JSONWriter, slot: Int, topLevel: Bool) {
        let error = ArbiterError(
            .cancelled, "the daemon is shutting down and its drain time ran out before this request could run; resend it")
        writeErrorObject(id: topLevel ? (id ?? .null) : id, error, into: &out)
        record(slot: slot, error: error.code, verifier: nil, since: nil, countRequest: topLevel)
    }

    /// Answers a line that was over the size limit.
    func answerTooLarge(size: Int, id: JSONValue?, into out: inout JSONWriter, slot: Int) {
        let error = ArbiterError(
            .tooLarge,
            "request line of \(size) bytes is over the limit of \(settings.maxLineBytes) bytes (see --max-line)")
        writeError(id: id, error, into: &out)
        record(slot: slot, error: error.code, verifier: nil, since: nil, countRequest: true)
    }

    /// Runs one batch item, appending its result object to `out`.
    func run(item: BatchItem, into out: inout JSONWriter, slot: Int) async {
        switch item {
        case .request(let request):
            await run(request, into: &out, slot: slot, topLevel: false)
        case .failure(let id, let verifier, let error):
            writeErrorObject(id: id, error, into: &out)
            record(slot: slot, error: error.code, verifier: verifier, since: nil, countRequest: false)
        }
    }

    // MARK: Requests

    private func prepareBatch(
        _ batch: JSONValue,
        id: JSONValue?,
        into out: inout JSONWriter,
        slot: Int,
        started: UInt64
    ) -> (id: JSONValue, items: [BatchItem])? {
        guard case .array(let elements) = batch else {
            let error = ArbiterError(.invalidRequest, "'batch' must be an array of requests, got \(batch.typeName)")
            writeError(id: id ?? .null, error, into: &out)
            record(slot: slot, error: error.code, verifier: nil, since: started, countRequest: true)
            return nil
        }
        stats.record(slot: slot) { $0.requests += 1 }
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
        return (id ?? .null, items)
    }

    private func prepare(_ object: JSONObject, id: JSONValue?) -> BatchItem {
        let name: String
        if let override = settings.verifierOverride {
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

    /// Runs a prepared request and writes its answer; a top-level request (not a batch item) always carries an `id`
    /// (`null` when absent) and counts as a request line in the statistics, under the same lock as its verdict.
    private func run(_ request: PreparedRequest, into out: inout JSONWriter, slot: Int, topLevel: Bool) async {
        let started = monotonicNanoseconds()
        let outcome: Result<Verdict, ArbiterError>
        do {
            let verdict = try await request.verifier.verify(request.sample)
            if verdict.score.isFinite {
                outcome = .success(verdict)
            } else {
                outcome = .failure(
                    ArbiterError(.internal, "verifier '\(request.verifierName)' returned a non-finite score"))
            }
        } catch let error as ArbiterError {
            outcome = .failure(error)
        } catch {
            outcome = .failure(ArbiterError(.internal, "verifier '\(request.verifierName)' failed: \(error)"))
        }
        let elapsed = monotonicNanoseconds() &- started
        let id = request.id ?? (topLevel ? .null : nil)
        switch outcome {
        case .success(let verdict):
            writeVerdict(id: id, verdict, nanoseconds: elapsed, into: &out)
            stats.record(slot: slot) {
                if topLevel { $0.requests += 1 }
                $0.recordVerdict(verifier: request.verifierName, verdict, nanoseconds: elapsed)
            }
        case .failure(let error):
            writeErrorObject(id: id, error, into: &out)
            stats.record(slot: slot) {
                if topLevel { $0.requests += 1 }
                $0.recordError(verifier: request.verifierName, error.code, nanoseconds: elapsed)
            }
        }
    }

    // MARK: Ops

    /// The longest line looked at for an op answered ahead of queued work.
    static let opLineLimit = 4096

    /// Answers an op line at once, ahead of queued verification work (so that `ping` and `stats` stay prompt under
    /// load); `nil` for any other line, which is queued as usual. Only short lines holding `"op"` are parsed here.
    /// - Parameter line: A request line without its newline.
    /// - Returns: The answer line with its newline, or `nil`.
    func answerOpAhead(line: [UInt8]) -> [UInt8]? {
        guard line.count <= Self.opLineLimit, Self.contains(line, "\"op\"") else { return nil }
        guard case .object(let object)? = try? JSONParser.parse(line), let op = object["op"], object["batch"] == nil
        else { return nil }
        var out = JSONWriter(capacity: 256)
        handleOp(op, id: object["id"], into: &out, slot: settings.jobs)
        out.byte(UInt8(ascii: "\n"))
        return out.bytes
    }

    private static func contains(_ line: [UInt8], _ needle: StaticString) -> Bool {
        let count = needle.utf8CodeUnitCount
        guard line.count >= count else { return false }
        let first = needle.utf8Start.pointee
        var index = 0
        while index <= line.count - count {
            if line[index] == first, (1..<count).allSatisfy({ line[index + $0] == needle.utf8Start[$0] }) { return true }
            index += 1
        }
        return false
    }

    private func handleOp(_ op: JSONValue, id: JSONValue?, into out: inout JSONWriter, slot: Int) {
        var body: JSONObject
        let known = ["ping", "list", "stats"].contains(op.stringValue ?? "")
        if known { record(slot: slot, error: nil, verifier: nil, since: nil, countRequest: true) }
        switch op.stringValue {
        case "ping":
            body = [
                "ok": .bool(true), "version": .string(Self.version), "max_line": .int(settings.maxLineBytes),
                "jobs": .int(settings.jobs),
            ]
        case "list":
            body = ["verifiers": .array(registry.all.map { .object($0.jsonObject) })]
        case "stats":
            body = ["stats": .object(stats.jsonObject())]
        default:
            let error = ArbiterError(
                .invalidRequest, "unknown op \(op.jsonText.prefix(60)) (ops: ping, list, stats)")
            writeError(id: id, error, into: &out)
            record(slot: slot, error: error.code, verifier: nil, since: nil, countRequest: true)
            return
        }
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

    // MARK: Writing

    /// `{"id":…,"score":…,"passed":…,"reason":…,"details":…,"ms":…}`; the id is left out when `nil`.
    private func writeVerdict(id: JSONValue?, _ verdict: Verdict, nanoseconds: UInt64, into out: inout JSONWriter) {
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
        out.write(verdict.details)
        if let components = verdict.components {
            out.raw(",\"components\":")
            out.write(components)
        }
        out.raw(",\"ms\":")
        out.write(milliseconds: Double(nanoseconds) / 1e6)
        out.byte(UInt8(ascii: "}"))
    }

    /// A top-level error line: the id is always present (`null` when unknown).
    private func writeError(id: JSONValue?, _ error: ArbiterError, into out: inout JSONWriter) {
        writeErrorObject(id: id ?? .null, error, into: &out)
    }

    private func writeErrorObject(id: JSONValue?, _ error: ArbiterError, into out: inout JSONWriter) {
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

    private func record(slot: Int, error: ArbiterError.Code?, verifier: String?, since started: UInt64?, countRequest: Bool) {
        let elapsed = started.map { monotonicNanoseconds() &- $0 }
        stats.record(slot: slot) { snapshot in
            if countRequest { snapshot.requests += 1 }
            if let error { snapshot.recordError(verifier: verifier, error, nanoseconds: elapsed) }
        }
    }
}
