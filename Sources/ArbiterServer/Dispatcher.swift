// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore

import Foundation

/// Answers request lines: decodes them with the ``RequestCodec``, runs verifiers and ops, encodes the answers, and
/// records every answer in the statistics — in this one place.
///
/// It writes into the caller's buffer so that the hot path allocates little. It never throws: every line gets
/// exactly one answer.
public struct Dispatcher: Sendable {
    /// What the `ping` op reports and the dispatcher enforces.
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

    /// The longest line looked at for an op answered ahead of queued work.
    static let opLineLimit = 4096

    let codec: RequestCodec
    let byteVerifiers: ByteVerifierTable
    let settings: Settings
    let stats: ServerStats

    /// A dispatcher.
    /// - Parameters:
    ///   - registry: The verifiers.
    ///   - settings: Limits and overrides.
    ///   - stats: Where to count.
    public init(registry: VerifierRegistry, settings: Settings, stats: ServerStats) {
        self.codec = RequestCodec(registry: registry, verifierOverride: settings.verifierOverride)
        self.byteVerifiers = ByteVerifierTable(registry: registry, verifierOverride: settings.verifierOverride)
        self.settings = settings
        self.stats = stats
    }

    /// Answers one request line, appending the answer (without the newline) to `out`.
    /// - Parameters:
    ///   - line: The request line without its newline.
    ///   - out: The output buffer.
    ///   - slot: The worker's statistics slot.
    ///   - now: On entry, a clock reading from no later than the start of this line; on return, one from no earlier
    ///     than its end. The clock is read twice for a verification (around `verify`) and not otherwise on the
    ///     common path, so that the worker needs no reading of its own per line.
    /// - Returns: `nil` when the answer was written; for a batch, its id and items, to be run and written later.
    nonisolated(nonsending) func handle(line: ArraySlice<UInt8>, into out: inout JSONWriter, slot: Int, now: inout UInt64)
        async -> (id: JSONValue, items: [BatchItem])?
    {
        await handle(codec.decode(line), into: &out, slot: slot, now: &now)
    }

    /// Answers one decoded request line, as ``handle(line:into:slot:now:)`` does; a worker decodes first, to see
    /// whether the line may suspend (``DecodedLine/mayWait``) and hand over the answers it holds before it.
    nonisolated(nonsending) func handle(_ decoded: DecodedLine, into out: inout JSONWriter, slot: Int, now: inout UInt64)
        async -> (id: JSONValue, items: [BatchItem])?
    {
        let started = now
        switch decoded {
        case .failure(let id, let error):
            codec.writeError(id: id, error, into: &out)
            now = record(slot: slot, error: error.code, verifier: nil, since: started, countRequest: true)
        case .op(let op, let id):
            answerOp(op, id: id, into: &out, slot: slot)
            now = monotonicNanoseconds()
        case .batch(let id, let items):
            stats.record(slot: slot) { $0.requests += 1 }
            now = monotonicNanoseconds()
            return (id, items)
        case .single(.failure(let id, let verifier, let error)):
            codec.writeError(id: id, error, into: &out)
            now = record(slot: slot, error: error.code, verifier: verifier, since: started, countRequest: true)
        case .single(.request(let request)):
            now = await run(request, into: &out, slot: slot, topLevel: true)
        }
        return nil
    }

    /// The byte path: answers a request line of the common shape for a ``ByteVerifier`` (such as `exact` without
    /// options) straight from its bytes — no strings, no ``Sample``, no ``JSONObject`` — and counts it. The answer is
    /// written with its newline.
    ///
    /// Any line it is not sure of (non-ASCII text, a reference that is not a string or number, another verifier, a
    /// verdict the verifier leaves to the general path) gives `false` with nothing written or recorded: the caller
    /// then answers it with ``handle(_:into:slot:now:)``, which gives the same answer to the lines taken here.
    /// - Parameters:
    ///   - line: The request line without its newline.
    ///   - out: The output buffer.
    ///   - tally: The worker's counts, added to the statistics by ``record(_:slot:)`` before the answer is handed over.
    ///   - now: On entry, the clock reading taken when the worker finished its previous line (or began its share);
    ///     on return, one taken after the verdict. The clock is read once per line here: the `ms` reported is the
    ///     time from that previous reading to the verdict (decoding and verifying), not only the verifier's.
    /// - Returns: Whether the line was answered.
    func answerBytes(
        _ line: UnsafeBufferPointer<UInt8>, into out: inout JSONWriter, tally: inout ByteTally, now: inout UInt64
    ) -> Bool {
        guard let fields = RequestScanner.scanFields(line), fields.allASCII,
            let verifier = byteVerifiers.index(named: UnsafeBufferPointer(rebasing: line[fields.verifier])),
            let reference = fields.reference, reference.kind == .string || reference.kind == .number,
            let verdict = byteVerifiers.verdict(
                verifier, response: UnsafeBufferPointer(rebasing: line[fields.response]),
                reference: UnsafeBufferPointer(rebasing: line[reference.contents]))
        else { return false }
        let ended = monotonicNanoseconds()
        let elapsed = ended &- now
        now = ended
        codec.writeCompactVerdict(
            id: fields.id.map { UnsafeBufferPointer(rebasing: line[$0.start..<$0.end]) }, verdict, nanoseconds: elapsed,
            newline: true, into: &out)
        tally.record(verifier: verifier, verdict, nanoseconds: elapsed)
        return true
    }

    /// A tally for ``answerBytes(_:into:tally:now:)``.
    func makeTally() -> ByteTally {
        ByteTally(verifiers: byteVerifiers.names.count)
    }

    /// Adds a tally of the byte path to the statistics and empties it: called before the answers it counts are handed
    /// over, so that statistics count every answer written.
    func record(_ tally: inout ByteTally, slot: Int) {
        guard !tally.isEmpty else { return }
        stats.record(slot: slot) { $0.add(&tally, names: byteVerifiers.names) }
    }

    /// Answers one request line on its own, running a batch's items one after another.
    ///
    /// For `arbiter check`, tests and embedding; the daemon spreads a batch's items over its workers instead.
    /// - Parameter line: The request line without its newline.
    /// - Returns: The answer line without its newline.
    public func answer(line: [UInt8]) async -> [UInt8] {
        var out = JSONWriter()
        var now = monotonicNanoseconds()
        guard let batch = await handle(line: line[...], into: &out, slot: 0, now: &now) else { return out.bytes }
        var results: [[UInt8]?] = []
        for item in batch.items {
            var result = JSONWriter()
            _ = await run(item: item, into: &result, slot: 0)
            results.append(result.bytes)
        }
        var bytes = RequestCodec.batchLine(id: batch.id, results: results)
        bytes.removeLast()
        return bytes
    }

    /// Runs one batch item, appending its result object to `out`.
    /// - Returns: A clock reading taken after the item ran, or `nil` when the clock was not read.
    nonisolated(nonsending) func run(item: BatchItem, into out: inout JSONWriter, slot: Int) async -> UInt64? {
        switch item {
        case .request(let request):
            return await run(request, into: &out, slot: slot, topLevel: false)
        case .failure(let id, let verifier, let error):
            codec.writeErrorObject(id: id, error, into: &out)
            record(slot: slot, error: error.code, verifier: verifier, since: nil, countRequest: false)
            return nil
        }
    }

    /// Answers a line that was over the size limit.
    func answerTooLarge(size: Int, id: JSONValue?, into out: inout JSONWriter, slot: Int) {
        let error = ArbiterError(
            .tooLarge,
            "request line of \(size) bytes is over the limit of \(settings.maxLineBytes) bytes (see --max-line)")
        codec.writeError(id: id, error, into: &out)
        record(slot: slot, error: error.code, verifier: nil, since: nil, countRequest: true)
    }

    /// Answers a request (a line, or a batch item) that was not run because the drain time after a stop was over.
    func answerCancelled(id: JSONValue?, into out: inout JSONWriter, slot: Int, topLevel: Bool) {
        stats.countCancelled()
        let error = ArbiterError(
            .cancelled, "the daemon is shutting down and its drain time ran out before this request could run; resend it")
        codec.writeErrorObject(id: topLevel ? (id ?? .null) : id, error, into: &out)
        record(slot: slot, error: error.code, verifier: nil, since: nil, countRequest: topLevel)
    }

    /// Runs a prepared request and writes its answer; a top-level request (not a batch item) always carries an `id`
    /// (`null` when absent) and counts as a request line in the statistics, under the same lock as its verdict.
    /// - Returns: The clock reading taken when the verification ended.
    nonisolated(nonsending) private func run(_ request: PreparedRequest, into out: inout JSONWriter, slot: Int, topLevel: Bool) async -> UInt64 {
        let started = monotonicNanoseconds()
        let outcome: Result<Verdict, ArbiterError>
        switch request.call {
        case .synchronous(let verifier):
            // Called directly: no asynchronous call, no task allocation, on the worker's thread.
            outcome = Self.outcome(request.verifierName) { try verifier.verifyNow(request.sample) }
        case .jsonReference(let verifier):
            if let referenceJSON = request.referenceJSON {
                let sample = request.sample
                outcome = Self.outcome(request.verifierName) {
                    try referenceJSON.withUnsafeBufferPointer { json in
                        try verifier.verify(response: sample.response, referenceJSON: json, prompt: sample.prompt)
                    }
                }
            } else {
                outcome = Self.outcome(request.verifierName) { try verifier.verifyNow(request.sample) }
            }
        case .asynchronous(let verifier):
            do {
                outcome = Self.checked(try await verifier.verify(request.sample), request.verifierName)
            } catch {
                if Task.isCancelled {
                    // The drain time after a stop ran out while it ran: its worker was cancelled (a code run killed).
                    stats.countCancelled()
                    outcome = .failure(
                        ArbiterError(
                            .cancelled,
                            "the daemon is shutting down and its drain time ran out while this request ran; resend it"))
                } else {
                    outcome = Self.failure(error, request.verifierName)
                }
            }
        }
        let ended = monotonicNanoseconds()
        let elapsed = ended &- started
        let id = request.id ?? (topLevel ? .null : nil)
        switch outcome {
        case .success(let verdict):
            codec.writeVerdict(id: id, verdict, nanoseconds: elapsed, into: &out)
            stats.record(slot: slot) {
                if topLevel { $0.requests += 1 }
                $0.recordVerdict(verifier: request.verifierName, verdict, nanoseconds: elapsed)
            }
        case .failure(let error):
            codec.writeErrorObject(id: id, error, into: &out)
            stats.record(slot: slot) {
                if topLevel { $0.requests += 1 }
                $0.recordError(verifier: request.verifierName, error.code, nanoseconds: elapsed)
            }
        }
        return ended
    }

    /// The outcome of a synchronous verification.
    private static func outcome(_ name: String, _ verify: () throws -> Verdict) -> Result<Verdict, ArbiterError> {
        do {
            return checked(try verify(), name)
        } catch {
            return failure(error, name)
        }
    }

    /// A verdict, or an `internal` error when its score is not finite.
    private static func checked(_ verdict: Verdict, _ name: String) -> Result<Verdict, ArbiterError> {
        if verdict.score.isFinite { return .success(verdict) }
        return .failure(ArbiterError(.internal, "verifier '\(name)' returned a non-finite score"))
    }

    /// A thrown error as an answer: an ``ArbiterError`` as it is, anything else as `internal`.
    private static func failure(_ error: any Error, _ name: String) -> Result<Verdict, ArbiterError> {
        if let error = error as? ArbiterError { return .failure(error) }
        return .failure(ArbiterError(.internal, "verifier '\(name)' failed: \(error)"))
    }

    // MARK: Ops

    /// Answers an op line at once, ahead of queued verification work (so that `ping` and `stats` stay prompt under
    /// load); `nil` for any other line, which is queued as usual. The reader asks this only of lines holding the
    /// bytes `"op"` (``OpMentions``), and only short lines are parsed here.
    /// - Parameter line: A request line without its newline.
    /// - Returns: The answer line with its newline, or `nil`.
    func answerOpAhead(line: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard line.count <= Self.opLineLimit else { return nil }
        guard case .op(let op, let id) = codec.decode(line) else { return nil }
        var out = JSONWriter(capacity: 256)
        answerOp(op, id: id, into: &out, slot: settings.jobs)
        out.byte(UInt8(ascii: "\n"))
        return out.bytes
    }

    private func answerOp(_ op: JSONValue, id: JSONValue?, into out: inout JSONWriter, slot: Int) {
        let known = ["ping", "list", "stats"].contains(op.stringValue ?? "")
        if known { record(slot: slot, error: nil, verifier: nil, since: nil, countRequest: true) }  // stats count themselves
        let body: JSONObject
        switch op.stringValue {
        case "ping":
            body = [
                "ok": .bool(true), "version": .string(Self.version), "max_line": .int(settings.maxLineBytes),
                "jobs": .int(settings.jobs),
            ]
        case "list":
            body = ["verifiers": .array(codec.registry.all.map { .object($0.jsonObject) })]
        case "stats":
            body = ["stats": .object(stats.jsonObject())]
        default:
            let error = ArbiterError(.invalidRequest, "unknown op \(op.jsonText.prefix(60)) (ops: ping, list, stats)")
            codec.writeError(id: id, error, into: &out)
            record(slot: slot, error: error.code, verifier: nil, since: nil, countRequest: true)
            return
        }
        codec.writeOpAnswer(id: id, body: body, into: &out)
    }

    // MARK: Statistics

    /// Records an answer that is not a verdict; returns the clock reading taken when `started` is given.
    @discardableResult
    private func record(
        slot: Int, error: ArbiterError.Code?, verifier: String?, since started: UInt64?, countRequest: Bool
    ) -> UInt64 {
        let ended = started == nil ? 0 : monotonicNanoseconds()
        let elapsed = started.map { ended &- $0 }
        stats.record(slot: slot) { snapshot in
            if countRequest { snapshot.requests += 1 }
            if let error { snapshot.recordError(verifier: verifier, error, nanoseconds: elapsed) }
        }
        return ended
    }
}
