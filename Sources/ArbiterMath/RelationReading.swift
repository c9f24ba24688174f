// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import BigInt

/// What a relation states, read before it is compared: the value of an equation (`x = 3`), its label, and the
/// interval or union of intervals an inequality describes (`2x - 1 > 3`, `1 \le |x| \le 2`).
extension Equivalence {
    /// The value an equation states: `x = 3`, `(p, q) = (3, 2)` and `f(x) = 1` state 3, (3, 2) and 1; in a chain
    /// `x = 5 + 5 + 1 = 11` the last side counts.
    static func assignedValue(_ operands: [MathExpr], _ ops: [String]) -> MathExpr? {
        guard !ops.isEmpty, ops.allSatisfy({ $0 == "=" }), operands.count >= 2 else { return nil }
        if operands[0].isLabel, let last = operands.last {
            if operands.count == 2 {
                // `x = 2x` is an equation to solve, not a value.
                return last.variables.isDisjoint(with: operands[0].variables) ? last : nil
            }
            // In a chain the last side is the stated value (`x = 5 + 5 + 1 = 11`), as graders conventionally read it.
            return last.hasVariables ? nil : last
        }
        if operands.count == 2, operands[1].isLabel, !operands[0].hasVariables { return operands[0] }
        return nil
    }

    /// The label of `x = 3` or `(p, q) = (3, 2)`, when there is one.
    static func label(of expression: MathExpr) -> MathExpr? {
        guard case .relation(let operands, let ops) = expression, ops.allSatisfy({ $0 == "=" }), operands[0].isLabel
        else { return nil }
        return operands[0]
    }

    /// `x > 2` (or `2 < x`) is `(2, ∞)`; `1 \le x < 3` is `[1, 3)`.
    static func interval(_ operands: [MathExpr], _ ops: [String]) -> MathExpr? {
        let infinity = MathExpr.constant(.infinity)
        let flipped = ["<": ">", ">": "<", "<=": ">=", ">=": "<="]
        // `2x - 1 > 3` is `x > 2`: a side linear in one variable with exact coefficients is solved first (the
        // reading below takes a side for the bare variable, which `2x`, `x - 5` or `x^2` are not).
        if let solved = solvedLinear(operands, ops, flipped: flipped) { return interval(solved.operands, solved.ops) }
        // `-x > -1` is `x < 1`.
        if operands.count == 2, case .negate(let inner) = operands[0], case .variable = inner, !operands[1].hasVariables,
            let op = flipped[ops[0]]
        {
            return interval([inner, .negate(operands[1])], [op])
        }
        if operands.count == 2, operands[1].hasVariables, !operands[0].hasVariables, let op = flipped[ops[0]] {
            return interval([operands[1], operands[0]], [op])
        }
        if operands.count == 3, operands[1].hasVariables, ops.allSatisfy({ $0 == ">" || $0 == ">=" }) {
            return interval([operands[2], operands[1], operands[0]], ops.reversed().map { flipped[$0] ?? $0 })
        }
        if let solved = absoluteValueBounds(operands, ops) { return solved }
        if operands.count == 2, operands[0].isUnknown, !operands[1].hasVariables {
            switch ops[0] {
            case ">": return .bracketed(open: "(", close: ")", [operands[1], infinity])
            case ">=": return .bracketed(open: "[", close: ")", [operands[1], infinity])
            case "<": return .bracketed(open: "(", close: ")", [.negate(infinity), operands[1]])
            case "<=": return .bracketed(open: "(", close: "]", [.negate(infinity), operands[1]])
            default: return nil
            }
        }
        if operands.count == 3, operands[1].isUnknown, !operands[0].hasVariables, !operands[2].hasVariables,
            ops.allSatisfy({ $0 == "<" || $0 == "<=" })
        {
            return .bracketed(open: ops[0] == "<" ? "(" : "[", close: ops[1] == "<" ? ")" : "]", [operands[0], operands[2]])
        }
        return nil
    }

    /// An absolute value bounded by exact numbers, as the set of its argument's values: `|u| < c` is `-c < u < c`,
    /// `|u| > c` is `u < -c` or `u > c`, and `a \le |u| \le b` with `a ≥ 0` is `-b \le u \le -a` or
    /// `a \le u \le b` (with `a < 0` the lower bound says nothing); `u` must then read as an interval itself (the
    /// unknown, or linear in it). `nil` for anything else, such as a bound below zero on `|u| < c`, where the set
    /// is empty.
    private static func absoluteValueBounds(_ operands: [MathExpr], _ ops: [String]) -> MathExpr? {
        let below = ops.allSatisfy { $0 == "<" || $0 == "<=" }
        var evaluator = Evaluator()
        if operands.count == 2, case .function("abs", let arguments) = operands[0], arguments.count == 1,
            !operands[1].hasVariables, let bound = evaluator.exact(operands[1])
        {
            let u = arguments[0]
            let c = operands[1]
            if below {
                guard !bound.isNegative, !bound.isZero || ops[0] == "<=" else { return nil }
                return interval([.negate(c), u, c], [ops[0], ops[0]])
            }
            guard ops[0] == ">" || ops[0] == ">=", !bound.isNegative else { return nil }
            let flipped = ops[0] == ">" ? "<" : "<="
            guard let left = interval([u, .negate(c)], [flipped]),
                let right = interval([u, c], [ops[0]])
            else { return nil }
            return .union([left, right])
        }
        guard operands.count == 3, below, case .function("abs", let arguments) = operands[1], arguments.count == 1,
            !operands[0].hasVariables, !operands[2].hasVariables, let low = evaluator.exact(operands[0]),
            evaluator.exact(operands[2]) != nil
        else { return nil }
        let u = arguments[0]
        let (a, b) = (operands[0], operands[2])
        if low.isNegative { return absoluteValueBounds([operands[1], b], [ops[1]]) }
        guard let left = interval([.negate(b), u, .negate(a)], [ops[1], ops[0]]), let right = interval([a, u, b], ops)
        else { return nil }
        return .union([left, right])
    }

    /// An inequality whose variable side is `a·x + b` (exact rationals, `a ≠ 0`, checked at seven points) and whose
    /// other sides are exact numbers, rewritten about the bare `x`: `a·x + b > c` is `x > (c − b)/a`, flipped for a
    /// negative `a`.
    private static func solvedLinear(_ operands: [MathExpr], _ ops: [String], flipped: [String: String])
        -> (operands: [MathExpr], ops: [String])?
    {
        guard operands.count == 2 || operands.count == 3, ops.allSatisfy({ flipped[$0] != nil }) else { return nil }
        let sides = operands.enumerated().filter { $0.element.hasVariables }
        guard sides.count == 1, operands.count == 2 || sides[0].offset == 1 else { return nil }
        let (index, side) = sides[0]
        if case .variable = side { return nil }
        let names = side.variables
        guard names.count == 1, let name = names.first else { return nil }
        var evaluator = Evaluator()
        func value(_ x: Rational) -> Rational? { evaluator.exact(side.substituting([name: x])) }
        guard let b = value(.zero), let one = value(.one) else { return nil }
        let a = one - b
        guard !a.isZero else { return nil }
        for point in [Rational(2), Rational(3), Rational(-1), Rational(1, 2), Rational(-7, 3)] {
            guard let found = value(point), found == a * point + b else { return nil }
        }
        var bounds: [MathExpr] = []
        for (offset, operand) in operands.enumerated() where offset != index {
            guard let c = evaluator.exact(operand), let x = (c - b).divided(by: a) else { return nil }
            bounds.append(.number(x, decimal: false))
        }
        let variable = MathExpr.variable(name)
        let negative = a.isNegative
        let newOps = negative ? ops.map { flipped[$0] ?? $0 } : ops
        if operands.count == 2 {
            return index == 0 ? ([variable, bounds[0]], newOps) : ([bounds[0], variable], newOps)
        }
        return ([bounds[0], variable, bounds[1]], newOps)
    }
}
