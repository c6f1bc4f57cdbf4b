import SimCore

/// What a distribution's values measure: decides the units its scalars are written in and
/// the base unit of the resulting ``Distribution``.
public enum ConfigQuantity: String, Sendable, CaseIterable {
    /// Written with time units (`5ms`); base unit nanoseconds.
    case duration
    /// Written with size units (`120B`, `4KiB`); base unit bytes.
    case size
    /// A plain number (devices per user, group size); no unit.
    case count

    var help: String {
        switch self {
        case .duration: return Units.durationHelp
        case .size: return Units.sizeHelp
        case .count: return "a number"
        }
    }

    var noun: String {
        switch self {
        case .duration: return "duration"
        case .size: return "size"
        case .count: return "count"
        }
    }
}

/// Distribution syntax in files.
///
/// A plain scalar is a constant (`latency: 2ms`). A mapping names its shape with `dist:`
/// and gives that shape's parameters in the field's units; every mapping form also takes
/// optional `offset` (added to every sample), `min` and `max` (clamps):
///
/// ```yaml
/// {dist: constant, value: 2ms}
/// {dist: uniform, low: 1ms, high: 3ms}
/// {dist: exponential, mean: 5ms}
/// {dist: normal, mean: 10ms, stddev: 2ms, min: 0}      # min is required for durations/sizes
/// {dist: lognormal, median: 120B, sigma: 0.9}           # or mu: (ln of the base unit)
/// {dist: pareto, scale: 1KB, shape: 1.5}
/// {dist: mixture, of: [{weight: 0.9, dist: exponential, mean: 1ms}, {weight: 0.1, dist: constant, value: 50ms}]}
/// {dist: empirical, percentiles: {p0: 1ms, p50: 3ms, p99: 20ms, p100: 50ms}}
/// ```
///
/// Values of durations, sizes and counts can never be negative, so a shape that can go
/// below zero (a normal) must be floored with `min:`; the loader does not add a hidden clamp.
enum DistributionSyntax {
    static let kinds = ["constant", "uniform", "exponential", "normal", "lognormal", "pareto", "mixture", "empirical"]

    static func parameters(of kind: String) -> [String] {
        switch kind {
        case "constant": return ["value"]
        case "uniform": return ["low", "high"]
        case "exponential": return ["mean"]
        case "normal": return ["mean", "stddev"]
        case "lognormal": return ["median", "mu", "sigma"]
        case "pareto": return ["scale", "shape"]
        case "mixture": return ["of"]
        case "empirical": return ["percentiles"]
        default: return []
        }
    }

    static let common = ["dist", "offset", "min", "max"]
}

extension YNode {
    /// A scalar in the quantity's units, in its base unit.
    func quantityValue(_ q: ConfigQuantity) -> Double? {
        switch q {
        case .duration: return durationNanoseconds()
        case .size: return sizeBytes()
        case .count: return number(what: "a number")
        }
    }

    /// Reads a distribution (see ``DistributionSyntax``) whose values are `quantity`s, and
    /// checks that no sample can be negative.
    func distribution(_ quantity: ConfigQuantity) -> Distribution? {
        guard let d = distributionShape(quantity, inMixture: false) else { return nil }
        return checkedNonNegative(d, quantity)
    }

    private func checkedNonNegative(_ d: Distribution, _ q: ConfigQuantity) -> Distribution? {
        let lb = d.lowerBound
        guard lb >= 0 else {
            if lb == -.infinity {
                return fail("a normal distribution can go below zero, and a \(q.noun) cannot; add 'min: 0' (or a larger floor) to clamp it")
            }
            return fail("this \(q.noun) distribution can go negative (its lowest value is \(display(lb, q))); a \(q.noun) must be ≥ 0")
        }
        return d
    }

    private func distributionShape(_ q: ConfigQuantity, inMixture: Bool) -> Distribution? {
        switch node {
        case .scalar:
            if inMixture {
                return fail("expected a mixture component such as {weight: 0.9, dist: exponential, mean: 5ms}, found \(found)")
            }
            guard let v = quantityValue(q) else { return nil }
            return .constant(v)
        case .mapping:
            break
        default:
            return fail("expected \(q.help), or a distribution such as {dist: exponential, mean: 5ms}, found \(found)")
        }
        guard var m = mapping(allowed: nil) else { return nil }
        let extra = inMixture ? ["weight"] : []
        guard let distNode = m.required("dist", expected: "the distribution's shape: \(quotedList(DistributionSyntax.kinds))") else {
            return nil
        }
        guard let kind = distNode.choice(DistributionSyntax.kinds, what: "distribution") else { return nil }
        let specific = DistributionSyntax.parameters(of: kind)
        m.allowed = DistributionSyntax.common + specific + extra
        m.rejectUnknown(allowed: DistributionSyntax.common + specific + extra)

        func value(_ key: String) -> Double? {
            m.required(key, expected: "\(q.help)")?.quantityValue(q)
        }
        func positive(_ key: String, _ node: YNode?) -> Double? {
            guard let node else { return nil }
            guard let x = node.quantityValue(q) else { return nil }
            guard x > 0 else { return node.fail("'\(key)' must be greater than 0, found '\(node.scalarText)'") }
            return x
        }
        func plain(_ key: String) -> Double? {
            guard let node = m.required(key, expected: "a number greater than 0") else { return nil }
            return node.number(0...Double.greatestFiniteMagnitude, exclusiveLower: true, what: "a number")
        }

        var shape: Distribution.Shape?
        switch kind {
        case "constant":
            shape = value("value").map { .constant($0) }
        case "uniform":
            let lo = value("low"), hi = value("high")
            if let lo, let hi {
                if lo > hi {
                    m.owner.error("uniform 'low' (\(display(lo, q))) is greater than 'high' (\(display(hi, q))); need low ≤ high")
                } else {
                    shape = .uniform(low: lo, high: hi)
                }
            }
        case "exponential":
            shape = positive("mean", m.required("mean", expected: q.help)).map { .exponential(mean: $0) }
        case "normal":
            let mean = value("mean")
            let sd = positive("stddev", m.required("stddev", expected: q.help))
            if let mean, let sd { shape = .normal(mean: mean, stddev: sd) }
        case "lognormal":
            let sigma = plain("sigma")
            var mu: Double?
            switch (m["median"], m["mu"]) {
            case let (median?, nil):
                mu = positive("median", median).map { log($0) }
            case let (nil, muNode?):
                mu = muNode.number(what: "a number (the mean of ln(x), with x in \(q == .duration ? "ns" : q == .size ? "bytes" : "units"))")
            case (_?, _?):
                m.owner.error("give either 'median' or 'mu' for a lognormal, not both")
            case (nil, nil):
                m.owner.error("missing required key 'median' (\(q.help)) or 'mu' (ln of the median in base units)")
            }
            if let mu, let sigma { shape = .logNormal(mu: mu, sigma: sigma) }
        case "pareto":
            let scale = positive("scale", m.required("scale", expected: q.help))
            let alpha = plain("shape")
            if let scale, let alpha { shape = .pareto(scale: scale, shape: alpha) }
        case "mixture":
            shape = mixture(m, q)
        case "empirical":
            shape = empirical(m, q)
        default:
            break
        }

        // Common keys: offset and clamps, in the field's units.
        var commonOK = true
        func optionalValue(_ key: String) -> Double? {
            guard let node = m[key] else { return nil }
            let v = node.quantityValue(q)
            if v == nil { commonOK = false }
            return v
        }
        let offset = optionalValue("offset") ?? 0
        let minValue = optionalValue("min")
        let maxValue = optionalValue("max")
        guard let shape, commonOK else { return nil }
        if let minValue, let maxValue, minValue > maxValue {
            return m["min"]?.fail("'min' (\(display(minValue, q))) is greater than 'max' (\(display(maxValue, q)))")
        }
        return Distribution(shape, offset: offset, min: minValue, max: maxValue)
    }

    private func mixture(_ m: YMap, _ q: ConfigQuantity) -> Distribution.Shape? {
        guard let ofNode = m.required("of", expected: "a list of weighted components") else { return nil }
        guard let items = ofNode.list(what: "a list of components such as [{weight: 0.9, dist: exponential, mean: 5ms}, …]") else {
            return nil
        }
        guard !items.isEmpty else { return ofNode.fail("a mixture needs at least one component") }
        var components: [Distribution.Component] = []
        var ok = true
        for item in items {
            guard case .mapping = item.node else {
                item.error("expected a mixture component such as {weight: 0.9, dist: exponential, mean: 5ms}, found \(item.found)")
                ok = false
                continue
            }
            let weight = item.mapping(allowed: nil).flatMap { cm in
                cm.required("weight", expected: "a number greater than 0")?.weight(positive: true)
            }
            let d = item.distributionShape(q, inMixture: true)
            if let weight, let d {
                components.append(Distribution.Component(weight: weight, distribution: d))
            } else {
                ok = false
            }
        }
        return ok ? .mixture(components) : nil
    }

    private func empirical(_ m: YMap, _ q: ConfigQuantity) -> Distribution.Shape? {
        guard let pNode = m.required("percentiles", expected: "a mapping such as {p0: 1ms, p50: 3ms, p100: 50ms}") else {
            return nil
        }
        guard let table = pNode.mapping(allowed: nil, what: "a mapping of percentiles such as {p0: 1ms, p50: 3ms, p100: 50ms}") else {
            return nil
        }
        var points: [Distribution.Point] = []
        var ok = true
        for e in table.entries {
            let text = e.key
            guard text.hasPrefix("p"), let p = Units.number(String(text.dropFirst())), p >= 0, p <= 100 else {
                e.keyNode.error("percentile keys are 'p' and a number from 0 to 100 (p0, p50, p99.9, p100), found '\(text)'")
                ok = false
                continue
            }
            guard let v = e.value.quantityValue(q) else { ok = false; continue }
            if let last = points.last {
                if p <= last.percentile {
                    e.keyNode.error("percentiles must be listed in strictly increasing order: '\(text)' comes after 'p\(fmtNumber(last.percentile))'")
                    ok = false
                    continue
                }
                if v < last.value {
                    e.value.error("values must not decrease with the percentile: \(text) = \(display(v, q)) is below p\(fmtNumber(last.percentile)) = \(display(last.value, q))")
                    ok = false
                }
            }
            points.append(Distribution.Point(percentile: p, value: v))
        }
        guard ok else { return nil }
        if points.first?.percentile != 0 || points.last?.percentile != 100 {
            let missing = [points.first?.percentile == 0 ? nil : "p0", points.last?.percentile == 100 ? nil : "p100"]
                .compactMap { $0 }
            return pNode.fail("an empirical table needs both p0 and p100 (the smallest and largest values); missing \(quotedList(missing, conjunction: "and"))")
        }
        return .empirical(points)
    }

    /// The scalar's text, for messages ("" for non-scalars).
    var scalarText: String {
        if case let .scalar(s) = node { return s.string }
        return ""
    }
}

/// A value in the quantity's natural units, for messages (`3ms`, `4000B`, `2.5`).
func display(_ x: Double, _ q: ConfigQuantity) -> String {
    switch q {
    case .duration:
        return abs(x) < 9e18 ? SimDuration.format(Int64(x.rounded())) : fmtNumber(x) + "ns"
    case .size:
        return fmtNumber(x) + "B"
    case .count:
        return fmtNumber(x)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
