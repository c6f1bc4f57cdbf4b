import SimCore

/// Quantities with units, as written in topology and scenario files.
///
/// Every parser takes the scalar's text and returns the value in the field's base unit, or
/// a message that quotes the text and shows what is allowed. Base units: nanoseconds for
/// durations, bytes for sizes, bits per second for bandwidth, events per second for rates,
/// a fraction in `0…1` for probabilities.
///
/// Decimal numbers are converted exactly where the result is an integer (`0.4ms` is exactly
/// 400 000 ns, not 399 999.99…): the digits are read as an integer mantissa and a count of
/// fraction digits, multiplied by the unit, and divided by a power of ten once.
enum Units {
    /// A unit parse failure: the message is a complete sentence fragment for ``ConfigError``.
    struct Failure: Error { var message: String }

    // MARK: Tables

    static let durationUnits: [(String, Int64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000),
        ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
        ("d", 86_400_000_000_000),
    ]
    static let durationHelp = "a duration such as 250ns, 12us, 5ms, 1.5s, 2m, 1h30m or 3d (units ns, us/µs, ms, s, m, h, d)"

    /// Decimal (SI) units are powers of 1000, binary (IEC) units powers of 1024.
    static let sizeUnits: [(String, Int64)] = [
        ("B", 1),
        ("KB", 1_000), ("kB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000),
        ("TB", 1_000_000_000_000), ("PB", 1_000_000_000_000_000),
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("PiB", 1 << 50),
    ]
    static let sizeHelp = "a size such as 120B, 4KB (1000 B), 4KiB (1024 B), 200KB, 8TiB (units B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB)"

    static let bandwidthUnits: [(String, Int64)] = [
        ("bps", 1), ("Kbps", 1_000), ("kbps", 1_000), ("Mbps", 1_000_000), ("Gbps", 1_000_000_000),
        ("Tbps", 1_000_000_000_000),
    ]
    static let bandwidthHelp = "a bandwidth such as 500Mbps or 10Gbps (units bps, Kbps, Mbps, Gbps, Tbps), or 'unlimited'"

    static let rateUnits: [(String, Double)] = [
        ("s", 1), ("sec", 1), ("m", 60), ("min", 60), ("h", 3_600), ("d", 86_400),
    ]
    static let rateHelp = "a rate such as 200/s, 90/m or 12000/h (per s, m, h or d)"

    static let probabilityHelp = "a probability from 0 to 1, such as 0.001, 0.1% or 1000ppm"

    // MARK: Numbers

    /// A plain decimal number (`3`, `-0.5`, `1e-4`, `10_000`); rejects `inf`, `nan` and hex.
    static func number(_ text: String) -> Double? {
        let t = text.replacingUnderscores()
        guard !t.isEmpty,
              t.unicodeScalars.allSatisfy({ "0123456789.eE+-".unicodeScalars.contains($0) }),
              t.unicodeScalars.contains(where: { ("0"..."9").contains($0) }),
              let x = Double(t), x.isFinite else { return nil }
        return x
    }

    /// A number written with a `%` (`scale` = 2) or `ppm` (`scale` = 6) suffix, as a fraction.
    /// The decimal point is shifted in the text, so `99.9%` is the double nearest 0.999
    /// (dividing by 100 would give 0.9990000000000001).
    static func scaledNumber(_ text: String, scale: Int) -> Double? {
        guard let x = number(text) else { return nil }
        let t = text.replacingUnderscores()
        if !t.contains("e") && !t.contains("E"), let exact = Double(t + "e-\(scale)") { return exact }
        return x / Double(powersOfTen[scale])
    }

    /// A whole number (`8`, `10_000`, `-3`), without a fraction or exponent.
    static func integer(_ text: String) -> Int64? {
        let t = text.replacingUnderscores()
        return Int64(t)
    }

    /// A decimal number split as `mantissa / 10^fractionDigits`, from the start of `text`.
    /// Returns the number and the rest of the text. Only digits and one point.
    static func decimalPrefix(_ text: Substring) -> (mantissa: Int64, fractionDigits: Int, rest: Substring)? {
        var mantissa: Int64 = 0
        var fraction = -1
        var digits = 0
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if let d = c.wholeNumberValue, c.isASCII {
                let (m1, o1) = mantissa.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(Int64(d))
                if o1 || o2 { return nil }
                mantissa = m2
                digits += 1
                if fraction >= 0 { fraction += 1 }
            } else if c == "." && fraction < 0 {
                fraction = 0
            } else if c == "_" && digits > 0 {
                // digit separator
            } else {
                break
            }
            i = text.index(after: i)
        }
        guard digits > 0 else { return nil }
        return (mantissa, Swift.max(fraction, 0), text[i...])
    }

    static let powersOfTen: [Int64] = (0...18).map { p in (0..<p).reduce(Int64(1)) { a, _ in a * 10 } }

    /// `mantissa × unit / 10^digits` rounded half-up to an integer, or `nil` on overflow.
    static func scaledInteger(_ mantissa: Int64, _ digits: Int, _ unit: Int64) -> Int64? {
        guard digits < powersOfTen.count else { return nil }
        let (product, overflow) = mantissa.multipliedReportingOverflow(by: unit)
        if !overflow {
            let p = powersOfTen[digits]
            return product / p + (product % p * 2 >= p ? 1 : 0)
        }
        let x = Double(mantissa) * Double(unit) / Double(powersOfTen[digits])
        return x < 9.2e18 ? Int64(x.rounded()) : nil
    }

    /// `mantissa × unit / 10^digits` as a `Double`, exact whenever the result is an integer
    /// below 2^53.
    static func scaledDouble(_ mantissa: Int64, _ digits: Int, _ unit: Double) -> Double {
        Double(mantissa) * unit / Double(powersOfTen[Swift.min(digits, 18)])
    }

    /// Finds the longest unit in `table` that is exactly `text` (after trimming spaces).
    static func unit<T>(_ text: Substring, in table: [(String, T)]) -> T? {
        let t = text.trimmingSpaces()
        return table.first(where: { $0.0 == t })?.1
    }

    // MARK: Durations

    /// A duration in nanoseconds, as an exact-as-possible `Double` (for distribution
    /// parameters) and as a rounded integer (for ``SimDuration`` fields).
    ///
    /// Accepts one or more `NUMBER UNIT` groups with units in decreasing order (`1h30m`,
    /// `1m30.5s`), or a plain `0`. Rejects negatives and unit-less non-zero numbers.
    static func duration(_ text: String) -> Result<(ns: Double, whole: Int64), Failure> {
        let t = text.trimmingSpaces()
        if t.hasPrefix("-") {
            return .failure(Failure(message: "durations cannot be negative, found '\(text)'"))
        }
        if let x = number(String(t)) {
            if x == 0 { return .success((0, 0)) }
            return .failure(Failure(message: "'\(text)' has no unit; expected \(durationHelp)"))
        }
        var rest = Substring(t)
        var totalDouble = 0.0
        var totalWhole: Int64 = 0
        var lastUnit = Int64.max
        var groups = 0
        while !rest.isEmpty {
            guard let (mantissa, digits, afterNumber) = decimalPrefix(rest) else {
                return .failure(Failure(message: "expected \(durationHelp), found '\(text)'"))
            }
            // The unit is the run of letters after the number.
            let afterSpaces = afterNumber.drop(while: { $0 == " " })
            let unitText = afterSpaces.prefix(while: { $0.isLetter })
            guard !unitText.isEmpty else {
                return .failure(Failure(message: "'\(text)' has a number without a unit; expected \(durationHelp)"))
            }
            guard let unit = durationUnits.first(where: { $0.0 == String(unitText) })?.1 else {
                let hint = suggestion(for: String(unitText), among: durationUnits.map(\.0))
                return .failure(Failure(message: "unknown duration unit '\(unitText)' in '\(text)'\(hint); expected \(durationHelp)"))
            }
            guard unit < lastUnit else {
                return .failure(Failure(message: "units in '\(text)' must go from largest to smallest, each once (like 1h30m)"))
            }
            lastUnit = unit
            guard let whole = scaledInteger(mantissa, digits, unit) else {
                return .failure(Failure(message: "'\(text)' is too long (at most about 292 years)"))
            }
            let (sum, overflow) = totalWhole.addingReportingOverflow(whole)
            guard !overflow, sum < Int64.max / 4 else {
                return .failure(Failure(message: "'\(text)' is too long (at most about 73 years)"))
            }
            totalWhole = sum
            totalDouble += scaledDouble(mantissa, digits, Double(unit))
            groups += 1
            rest = afterSpaces.dropFirst(unitText.count).drop(while: { $0 == " " })
        }
        guard groups > 0 else {
            return .failure(Failure(message: "expected \(durationHelp), found '\(text)'"))
        }
        return .success((totalDouble, totalWhole))
    }

    // MARK: Sizes

    /// A size in bytes (`120B`, `4KB` = 4000, `4KiB` = 4096, `8TiB`), or a plain `0`.
    static func size(_ text: String) -> Result<(bytes: Double, whole: Int64), Failure> {
        let t = text.trimmingSpaces()
        if t.hasPrefix("-") {
            return .failure(Failure(message: "sizes cannot be negative, found '\(text)'"))
        }
        if let x = number(String(t)) {
            if x == 0 { return .success((0, 0)) }
            return .failure(Failure(message: "'\(text)' has no unit; expected \(sizeHelp)"))
        }
        guard let (mantissa, digits, rest) = decimalPrefix(Substring(t)) else {
            return .failure(Failure(message: "expected \(sizeHelp), found '\(text)'"))
        }
        let unitText = String(rest.trimmingSpaces())
        guard let unit = unit(rest, in: sizeUnits) else {
            var hint = suggestion(for: unitText, among: sizeUnits.map(\.0))
            if unitText.hasSuffix("b") && unitText.count <= 3 {
                hint = " (a lowercase 'b' means bits; sizes are in bytes, 'B')"
            }
            return .failure(Failure(message: "unknown size unit '\(unitText)' in '\(text)'\(hint); expected \(sizeHelp)"))
        }
        guard let whole = scaledInteger(mantissa, digits, unit) else {
            return .failure(Failure(message: "'\(text)' is too large"))
        }
        return .success((scaledDouble(mantissa, digits, Double(unit)), whole))
    }

    // MARK: Bandwidth

    /// Bits per second (`10Gbps`, `500Mbps`); `unlimited` is 0 (no serialisation delay).
    static func bandwidth(_ text: String) -> Result<Int64, Failure> {
        let t = text.trimmingSpaces()
        if t == "unlimited" { return .success(0) }
        if t.hasPrefix("-") {
            return .failure(Failure(message: "bandwidth cannot be negative, found '\(text)'"))
        }
        if let x = number(String(t)) {
            if x == 0 {
                return .failure(Failure(message: "bandwidth must be greater than 0 (write 'unlimited' for no limit), found '\(text)'"))
            }
            return .failure(Failure(message: "'\(text)' has no unit; expected \(bandwidthHelp)"))
        }
        guard let (mantissa, digits, rest) = decimalPrefix(Substring(t)) else {
            return .failure(Failure(message: "expected \(bandwidthHelp), found '\(text)'"))
        }
        guard let unit = unit(rest, in: bandwidthUnits) else {
            let unitText = String(rest.trimmingSpaces())
            let hint = unitText.hasSuffix("/s") || unitText.hasSuffix("Bps")
                ? " (write bandwidth in bits per second, e.g. 8Gbps for 1 GB/s)"
                : suggestion(for: unitText, among: bandwidthUnits.map(\.0))
            return .failure(Failure(message: "unknown bandwidth unit '\(unitText)' in '\(text)'\(hint); expected \(bandwidthHelp)"))
        }
        guard let bits = scaledInteger(mantissa, digits, unit), bits > 0 else {
            return .failure(Failure(message: "bandwidth must be greater than 0 (write 'unlimited' for no limit), found '\(text)'"))
        }
        return .success(bits)
    }

    // MARK: Rates

    /// Events per second from `200/s`, `90/m`, `12000/h`, `5/d`.
    static func rate(_ text: String) -> Result<Double, Failure> {
        let t = text.trimmingSpaces()
        guard let slash = t.firstIndex(of: "/") else {
            if number(String(t)) != nil {
                return .failure(Failure(message: "'\(text)' has no time unit; expected \(rateHelp)"))
            }
            return .failure(Failure(message: "expected \(rateHelp), found '\(text)'"))
        }
        guard let x = number(String(t[..<slash].trimmingSpaces())) else {
            return .failure(Failure(message: "expected \(rateHelp), found '\(text)'"))
        }
        guard x >= 0 else { return .failure(Failure(message: "rates cannot be negative, found '\(text)'")) }
        guard let per = unit(t[t.index(after: slash)...], in: rateUnits) else {
            let unitText = String(t[t.index(after: slash)...].trimmingSpaces())
            let hint = suggestion(for: unitText, among: rateUnits.map(\.0))
            return .failure(Failure(message: "unknown time unit '/\(unitText)' in '\(text)'\(hint); expected \(rateHelp)"))
        }
        return .success(x / per)
    }

    // MARK: Probabilities

    /// A probability in `0…1` from `0.001`, `0.1%` or `1000ppm`.
    static func probability(_ text: String) -> Result<Double, Failure> {
        let t = text.trimmingSpaces()
        var value: Double?
        if t.hasSuffix("%") {
            value = scaledNumber(String(t.dropLast().trimmingSpaces()), scale: 2)
        } else if t.hasSuffix("ppm") {
            value = scaledNumber(String(t.dropLast(3).trimmingSpaces()), scale: 6)
        } else {
            value = number(String(t))
        }
        guard let p = value else {
            return .failure(Failure(message: "expected \(probabilityHelp), found '\(text)'"))
        }
        guard p >= 0, p <= 1 else {
            return .failure(Failure(message: "'\(text)' is outside 0…1; expected \(probabilityHelp)"))
        }
        return .success(p)
    }

    /// Parts per million, rounded to the nearest integer.
    static func partsPerMillion(_ p: Double) -> UInt32 { UInt32((p * 1_000_000).rounded()) }
}

// MARK: - Public entry points

/// The file syntax for quantities, for command-line flags and plug-ins that hold a bare
/// string (`--duration 90s`). Plug-ins reading a ``StrategyConfig/Parameter`` should prefer
/// its typed readers (`parameter.duration()`), which also locate errors in the file.
public enum ConfigUnits {
    /// Why a quantity did not parse: quotes the text and says what is allowed.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// A duration: `250ns`, `12us`, `5ms`, `1.5s`, `2m`, `1h30m`, `3d` or `0`.
    public static func duration(_ text: String) throws -> SimDuration {
        SimDuration(nanoseconds: try get(Units.duration(text)).whole)
    }

    /// A size in bytes: `120B`, `4KB` (4000), `4KiB` (4096), `8TiB`.
    public static func sizeBytes(_ text: String) throws -> Int64 { try get(Units.size(text)).whole }

    /// Events per second: `200/s`, `12000/h`.
    public static func ratePerSecond(_ text: String) throws -> Double { try get(Units.rate(text)) }

    /// Bits per second: `10Gbps`; `unlimited` is 0.
    public static func bandwidthBitsPerSecond(_ text: String) throws -> Int64 { try get(Units.bandwidth(text)) }

    /// A probability in 0…1: `0.001`, `0.1%`, `1000ppm`.
    public static func probability(_ text: String) throws -> Double { try get(Units.probability(text)) }

    private static func get<T>(_ r: Result<T, Units.Failure>) throws -> T {
        switch r {
        case .success(let v): return v
        case .failure(let f): throw ParseError(description: f.message)
        }
    }
}

// MARK: - Suggestions

/// ` (did you mean 'x'?)` when a candidate is within a small edit distance, else "".
/// Public so plug-ins and the CLI suggest names exactly as the config layer does.
public func didYouMean(_ word: String, among candidates: [String]) -> String {
    suggestion(for: word, among: candidates)
}

/// ` (did you mean 'x'?)` when a candidate is within a small edit distance, else "".
func suggestion(for word: String, among candidates: [String]) -> String {
    guard let best = closest(to: word, among: candidates) else { return "" }
    return " (did you mean '\(best)'?)"
}

/// The candidate closest to `word` by Damerau–Levenshtein distance (case, `-` and `_`
/// ignored), if it is close enough to be a likely typo: at most 1 edit for short words, a
/// third of the length for longer ones. Ties go to the earlier candidate.
func closest(to word: String, among candidates: [String]) -> String? {
    func normal(_ s: String) -> [Character] {
        Array(s.lowercased().map { $0 == "_" ? "-" : $0 })
    }
    let w = normal(word)
    var best: (String, Int)?
    for c in candidates {
        let d = editDistance(w, normal(c))
        let limit = Swift.max(1, Swift.min(w.count, c.count) / 3)
        // A "suggestion" that replaces the whole word is noise (`x` → `a`).
        if d <= limit, d < Swift.min(w.count, c.count), d < (best?.1 ?? .max) { best = (c, d) }
    }
    return best?.0
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev2 = [Int](repeating: 0, count: b.count + 1)
    var prev = Array(0...b.count)
    var cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            var v = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { v = Swift.min(v, prev2[j - 2] + 1) }
            cur[j] = v
        }
        prev2 = prev; prev = cur
    }
    return prev[b.count]
}

/// `'a', 'b' or 'c'` for messages.
func quotedList(_ items: [String], conjunction: String = "or") -> String {
    let q = items.map { "'\($0)'" }
    switch q.count {
    case 0: return "(none)"
    case 1: return q[0]
    default: return q.dropLast().joined(separator: ", ") + " \(conjunction) " + q[q.count - 1]
    }
}

extension StringProtocol {
    func trimmingSpaces() -> SubSequence {
        let start = firstIndex(where: { !$0.isWhitespace }) ?? endIndex
        let end = lastIndex(where: { !$0.isWhitespace }).map { index(after: $0) } ?? start
        return self[start..<end]
    }
    func replacingUnderscores() -> String {
        // Digit separators: `10_000`.
        String(self.filter { $0 != "_" })
    }
}
