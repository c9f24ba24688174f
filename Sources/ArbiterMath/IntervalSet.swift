// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// A union of intervals with exact ends, merged: `[0,1]\cup[1,2]` is `[0,2]`, and `\mathbb{R}\setminus\{0\}` is
/// `(-\infty,0)\cup(0,\infty)`. Only unions and set differences are read this way (a lone `(1, 2)` may be a
/// pair), and only when every end is an exact number or ±∞.
struct IntervalSet {
    enum End: Equatable {
        case minusInfinity
        case value(Rational)
        case plusInfinity

        static func < (a: End, b: End) -> Bool {
            switch (a, b) {
            case (.minusInfinity, .minusInfinity), (.plusInfinity, .plusInfinity): return false
            case (.minusInfinity, _), (_, .plusInfinity): return true
            case (_, .minusInfinity), (.plusInfinity, _): return false
            case (.value(let x), .value(let y)): return (x - y).isNegative
            }
        }
    }

    struct Piece: Equatable {
        var low: End
        var lowClosed: Bool
        var high: End
        var highClosed: Bool

        var isEmpty: Bool { high < low || (low == high && !(lowClosed && highClosed)) }
    }

    var pieces: [Piece]

    /// Most pieces handled.
    static let maxPieces = 64

    /// The merged set of a union or set difference, as an expression; `nil` for anything else.
    static func merged(_ expression: MathExpr, evaluator: inout Evaluator) -> MathExpr? {
        switch expression {
        case .union, .function("setminus", _):
            guard let set = read(expression, evaluator: &evaluator) else { return nil }
            return set.normalized().expression
        default:
            return nil
        }
    }

    private static func read(_ expression: MathExpr, evaluator: inout Evaluator) -> IntervalSet? {
        switch expression {
        case .union(let parts):
            var pieces: [Piece] = []
            for part in parts {
                guard let set = read(part, evaluator: &evaluator) else { return nil }
                pieces += set.pieces
            }
            return pieces.count <= maxPieces ? IntervalSet(pieces: pieces) : nil
        case .function("setminus", let arguments) where arguments.count == 2:
            guard let whole = read(arguments[0], evaluator: &evaluator), let removed = read(arguments[1], evaluator: &evaluator)
            else { return nil }
            return whole.subtracting(removed)
        case .bracketed(let open, let close, let ends) where ends.count == 2 && "([".contains(open) && ")]".contains(close):
            guard let low = end(ends[0], evaluator: &evaluator), let high = end(ends[1], evaluator: &evaluator) else {
                return nil
            }
            return IntervalSet(pieces: [Piece(low: low, lowClosed: open == "[", high: high, highClosed: close == "]")])
        case .set(let items):
            var pieces: [Piece] = []
            for item in items {
                guard case .value(let x)? = end(item, evaluator: &evaluator) else { return nil }
                pieces.append(Piece(low: .value(x), lowClosed: true, high: .value(x), highClosed: true))
            }
            return pieces.count <= maxPieces ? IntervalSet(pieces: pieces) : nil
        default:
            return nil
        }
    }

    private static func end(_ expression: MathExpr, evaluator: inout Evaluator) -> End? {
        if expression == .constant(.infinity) { return .plusInfinity }
        if expression == .negate(.constant(.infinity)) { return .minusInfinity }
        guard !expression.hasVariables, let value = evaluator.exact(expression) else { return nil }
        return .value(value)
    }

    /// The pieces sorted, empty ones dropped, and overlapping or touching ones (a shared end closed on one side)
    /// joined.
    func normalized() -> IntervalSet {
        let sorted = pieces.filter { !$0.isEmpty }.sorted { a, b in
            a.low < b.low || (a.low == b.low && a.lowClosed && !b.lowClosed)
        }
        var result: [Piece] = []
        for piece in sorted {
            guard var last = result.last else {
                result.append(piece)
                continue
            }
            let joins = piece.low < last.high || (piece.low == last.high && (piece.lowClosed || last.highClosed))
            guard joins else {
                result.append(piece)
                continue
            }
            if last.high < piece.high {
                last.high = piece.high
                last.highClosed = piece.highClosed
            } else if last.high == piece.high {
                last.highClosed = last.highClosed || piece.highClosed
            }
            result[result.count - 1] = last
        }
        return IntervalSet(pieces: result)
    }

    /// The set minus another: each piece of the other cut out in turn.
    func subtracting(_ other: IntervalSet) -> IntervalSet? {
        var current = normalized().pieces
        for cut in other.normalized().pieces {
            var next: [Piece] = []
            for piece in current {
                // What lies below the cut, and what lies above it.
                var below = piece
                if cut.low < below.high || (cut.low == below.high && cut.lowClosed && below.highClosed) {
                    below.high = cut.low
                    below.highClosed = !cut.lowClosed
                }
                var above = piece
                if above.low < cut.high || (above.low == cut.high && cut.highClosed && above.lowClosed) {
                    above.low = cut.high
                    above.lowClosed = !cut.highClosed
                }
                let cutTouches = !(cut.high < piece.low || piece.high < cut.low)
                if !cutTouches {
                    next.append(piece)
                    continue
                }
                if !below.isEmpty, below.high < cut.low || below.high == cut.low { next.append(below) }
                if !above.isEmpty, cut.high < above.low || above.low == cut.high { next.append(above) }
            }
            guard next.count <= Self.maxPieces else { return nil }
            current = next
        }
        return IntervalSet(pieces: current)
    }

    /// One interval, a point set, or a union of them.
    var expression: MathExpr {
        func bound(_ end: End) -> MathExpr {
            switch end {
            case .minusInfinity: return .negate(.constant(.infinity))
            case .plusInfinity: return .constant(.infinity)
            case .value(let x): return .number(x, decimal: false)
            }
        }
        let parts: [MathExpr] = pieces.map { piece in
            if piece.low == piece.high { return .set([bound(piece.low)]) }
            return .bracketed(
                open: piece.lowClosed ? "[" : "(", close: piece.highClosed ? "]" : ")", [bound(piece.low), bound(piece.high)])
        }
        if parts.isEmpty { return .set([]) }
        return parts.count == 1 ? parts[0] : .union(parts)
    }
}
