import Foundation

/// Inline SVG charts for the HTML reports: time series with shaded fault windows, grouped
/// and horizontal bar charts, and a heat matrix.
///
/// Every chart is a self-contained `<svg>` element (no scripts, no external references),
/// well-formed XML (text is escaped; tests parse it with `XMLParser`), and deterministic:
/// coordinates print with one decimal through ``Format/fixed(_:_:)``. Long series are
/// reduced to a min/max envelope per pixel column, so spikes and dips survive and a day of
/// one-second samples stays a few hundred kilobytes.
enum SVG {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                          "#7f7f7f", "#bcbd22", "#17becf"]

    struct Series {
        var name: String
        var color: String
        var points: [(x: Double, y: Double)]
        var dashed = false
    }

    /// A shaded stretch of the x axis (a fault window, the warm-up).
    struct Band {
        var label: String
        var x0: Double
        var x1: Double
        var fill: String
    }

    struct Bar {
        var name: String
        var value: Double
        var color: String
        /// Drawn with a ★ and a dark outline (the best value of a comparison).
        var marked = false
    }

    static func c(_ x: Double) -> String { Format.fixed(x, 1) }
    static func x(_ s: String) -> String { Format.xml(s) }

    static func open(width: Int, height: Int, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(x(title))\">\n"
            + "<title>\(x(title))</title>\n"
            + "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
            + "<text x=\"8\" y=\"16\" class=\"ct\">\(x(title))</text>\n"
    }

    // MARK: Axes

    /// Evenly spaced round tick values covering `lo…hi` (about `count` of them).
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard hi > lo, hi.isFinite, lo.isFinite else { return [lo] }
        let rough = (hi - lo) / Double(max(1, count))
        let magnitude = pow(10, floor(log10(rough)))
        let n = rough / magnitude
        let multiple: Double = n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10
        let step = multiple * magnitude
        // Ticks as integer multiples, divided by a power of ten when below one, so they come
        // out as 0.6 rather than 0.6000000000000001.
        let inverse = magnitude < 1 ? (1 / magnitude).rounded() : 0
        func tick(_ k: Double) -> Double { inverse > 0 ? k * multiple / inverse : k * multiple * magnitude }
        var out: [Double] = []
        var k = (lo / step).rounded(.up)
        while tick(k) <= hi + step * 1e-9 && out.count < 50 {
            out.append(k == 0 ? 0 : tick(k))
            k += 1
        }
        return out
    }

    /// The axis maximum: a little above the data, on a round value, at least `floor`.
    static func niceMax(_ v: Double, floor: Double = 1) -> Double {
        let m = max(v, floor)
        let step = ticks(0, m * 1.05).dropFirst().first ?? m
        return (m * 1.05 / step).rounded(.up) * step
    }

    /// A time axis in seconds, minutes or hours, whichever keeps tick labels short.
    static func timeUnit(maxSeconds: Double) -> (divisor: Double, name: String) {
        maxSeconds <= 600 ? (1, "s") : maxSeconds <= 36_000 ? (60, "min") : (3600, "h")
    }

    // MARK: Line chart

    /// A time series chart: x in seconds (`0…xMax`), one polyline per series, shaded bands
    /// behind, a legend on the right.
    static func lineChart(title: String, yLabel: String, series: [Series], bands: [Band], xMax: Double,
                          yMax fixedMax: Double? = nil, xLabel: String = "simulated time",
                          width: Int = 820, height: Int = 230) -> String {
        let left = 62.0, right = 170.0, top = 28.0, bottom = 36.0
        let pw = Double(width) - left - right, ph = Double(height) - top - bottom
        let values = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        let dataMax = values.max() ?? 0, dataMin = values.min() ?? 0
        // The y axis starts at 0 unless a value is negative (a margin below zero).
        let yMin = dataMin < 0 ? -niceMax(-dataMin, floor: 1) : 0
        let yMax = fixedMax ?? (dataMax <= 0 && yMin < 0 ? 1 : niceMax(dataMax, floor: dataMax > 0 && dataMax < 1 ? dataMax : 1))
        let xm = max(xMax, 1e-9)
        func px(_ v: Double) -> Double { left + pw * min(max(v / xm, 0), 1) }
        func py(_ v: Double) -> Double { top + ph * (1 - min(max((v - yMin) / (yMax - yMin), 0), 1)) }
        var out = open(width: width, height: height, title: title)
        // Bands first, so lines draw over them.
        // A band outside the plotted time (a fault after the end of a shortened run) is left out.
        for b in bands where b.x0 < xm && b.x1 > 0 {
            let x0 = px(b.x0), x1 = px(b.x1)
            out += "<rect x=\"\(c(x0))\" y=\"\(c(top))\" width=\"\(c(max(x1 - x0, 1)))\" height=\"\(c(ph))\" fill=\"\(b.fill)\" fill-opacity=\"0.18\"><title>\(x(b.label))</title></rect>\n"
            out += "<text x=\"\(c(x0 + 3))\" y=\"\(c(top + 11))\" class=\"band\">\(x(b.label))</text>\n"
        }
        // Grid and axes.
        for t in ticks(yMin, yMax, count: 4) {
            out += "<line x1=\"\(c(left))\" y1=\"\(c(py(t)))\" x2=\"\(c(left + pw))\" y2=\"\(c(py(t)))\" class=\"\(t == 0 && yMin < 0 ? "axis" : "grid")\"/>\n"
            out += "<text x=\"\(c(left - 6))\" y=\"\(c(py(t) + 4))\" class=\"yl\">\(x(Format.num(t)))</text>\n"
        }
        let unit = timeUnit(maxSeconds: xm)
        for t in ticks(0, xm / unit.divisor, count: 8) {
            let xv = px(t * unit.divisor)
            out += "<line x1=\"\(c(xv))\" y1=\"\(c(top + ph))\" x2=\"\(c(xv))\" y2=\"\(c(top + ph + 4))\" class=\"axis\"/>\n"
            out += "<text x=\"\(c(xv))\" y=\"\(c(top + ph + 16))\" class=\"xl\">\(x(Format.num(t)))</text>\n"
        }
        out += "<line x1=\"\(c(left))\" y1=\"\(c(top + ph))\" x2=\"\(c(left + pw))\" y2=\"\(c(top + ph))\" class=\"axis\"/>\n"
        out += "<line x1=\"\(c(left))\" y1=\"\(c(top))\" x2=\"\(c(left))\" y2=\"\(c(top + ph))\" class=\"axis\"/>\n"
        out += "<text x=\"\(c(left + pw / 2))\" y=\"\(c(Double(height) - 4))\" class=\"xl\">\(x(xLabel)) (\(unit.name))</text>\n"
        out += "<text x=\"12\" y=\"\(c(top + ph / 2))\" class=\"al\" transform=\"rotate(-90 12 \(c(top + ph / 2)))\">\(x(yLabel))</text>\n"
        // Series.
        for (i, s) in series.enumerated() {
            let pts = envelope(s.points, columns: Int(pw))
            if pts.count == 1 {
                out += "<circle cx=\"\(c(px(pts[0].x)))\" cy=\"\(c(py(pts[0].y)))\" r=\"2\" fill=\"\(s.color)\"/>\n"
            } else if !pts.isEmpty {
                out += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.5\"\(s.dashed ? " stroke-dasharray=\"5 3\"" : "") points=\""
                out += pts.map { "\(c(px($0.x))),\(c(py($0.y)))" }.joined(separator: " ")
                out += "\"><title>\(x(s.name))</title></polyline>\n"
            }
            let ly = top + 10 + Double(i) * 16
            out += "<line x1=\"\(c(left + pw + 12))\" y1=\"\(c(ly - 4))\" x2=\"\(c(left + pw + 30))\" y2=\"\(c(ly - 4))\" stroke=\"\(s.color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"5 3\"" : "")/>\n"
            out += "<text x=\"\(c(left + pw + 35))\" y=\"\(c(ly))\" class=\"lg\">\(x(s.name))</text>\n"
        }
        out += "</svg>\n"
        return out
    }

    /// At most two points (the minimum and the maximum, in x order) per pixel column, with
    /// non-finite values dropped.
    static func envelope(_ points: [(x: Double, y: Double)], columns: Int) -> [(x: Double, y: Double)] {
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        guard finite.count > 2 * max(columns, 1), let first = finite.first, let last = finite.last, last.x > first.x else {
            return finite
        }
        let width = (last.x - first.x) / Double(columns)
        var out: [(x: Double, y: Double)] = []
        var bucket: [(x: Double, y: Double)] = []
        var index = 0
        func flush() {
            guard !bucket.isEmpty else { return }
            var lo = bucket[0], hi = bucket[0]
            for p in bucket {
                if p.y < lo.y { lo = p }
                if p.y > hi.y { hi = p }
            }
            if lo.x == hi.x { out.append(lo) } else if lo.x < hi.x { out.append(lo); out.append(hi) } else { out.append(hi); out.append(lo) }
            bucket.removeAll(keepingCapacity: true)
        }
        for p in finite {
            let b = min(Int((p.x - first.x) / width), columns - 1)
            if b != index { flush(); index = b }
            bucket.append(p)
        }
        flush()
        return out
    }

    // MARK: Bar charts

    /// Vertical grouped bars: one group per label (an operation, a strategy), one bar per
    /// series (p50, p99…), value labels above the bars.
    static func groupedBars(title: String, unit: String, groups: [(label: String, bars: [Bar])],
                            format: (Double) -> String = Format.num, width: Int = 820, height: Int = 260) -> String {
        let left = 62.0, right = 170.0, top = 28.0, bottom = 40.0
        let pw = Double(width) - left - right, ph = Double(height) - top - bottom
        let dataMax = groups.flatMap { $0.bars.map(\.value) }.filter(\.isFinite).max() ?? 0
        let yMax = niceMax(dataMax, floor: dataMax > 0 && dataMax < 1 ? dataMax : 1)
        func py(_ v: Double) -> Double { top + ph * (1 - min(max(v / yMax, 0), 1)) }
        var out = open(width: width, height: height, title: title)
        for t in ticks(0, yMax, count: 4) {
            out += "<line x1=\"\(c(left))\" y1=\"\(c(py(t)))\" x2=\"\(c(left + pw))\" y2=\"\(c(py(t)))\" class=\"grid\"/>\n"
            out += "<text x=\"\(c(left - 6))\" y=\"\(c(py(t) + 4))\" class=\"yl\">\(x(Format.num(t)))</text>\n"
        }
        out += "<text x=\"12\" y=\"\(c(top + ph / 2))\" class=\"al\" transform=\"rotate(-90 12 \(c(top + ph / 2)))\">\(x(unit))</text>\n"
        let groupWidth = pw / Double(max(groups.count, 1))
        for (g, group) in groups.enumerated() {
            let n = Double(max(group.bars.count, 1))
            let barWidth = min(48, groupWidth * 0.8 / n)
            let start = left + groupWidth * Double(g) + (groupWidth - barWidth * n) / 2
            for (b, bar) in group.bars.enumerated() {
                let v = bar.value.isFinite ? bar.value : 0
                let x0 = start + Double(b) * barWidth
                let y0 = py(v)
                out += "<rect x=\"\(c(x0))\" y=\"\(c(y0))\" width=\"\(c(barWidth * 0.9))\" height=\"\(c(top + ph - y0))\" fill=\"\(bar.color)\"\(bar.marked ? " stroke=\"#111111\" stroke-width=\"2\"" : "")><title>\(x("\(group.label) · \(bar.name): \(format(bar.value))"))</title></rect>\n"
                out += "<text x=\"\(c(x0 + barWidth * 0.45))\" y=\"\(c(y0 - 3))\" class=\"bv\">\(x((bar.marked ? "★ " : "") + format(bar.value)))</text>\n"
            }
            out += "<text x=\"\(c(left + groupWidth * (Double(g) + 0.5)))\" y=\"\(c(top + ph + 16))\" class=\"xl\">\(x(group.label))</text>\n"
        }
        out += "<line x1=\"\(c(left))\" y1=\"\(c(top + ph))\" x2=\"\(c(left + pw))\" y2=\"\(c(top + ph))\" class=\"axis\"/>\n"
        // Legend: the bar names of the first group (every group has the same series); none
        // for a single series (the title names it).
        let legend = (groups.first?.bars.count ?? 0) > 1 ? groups.first?.bars ?? [] : []
        for (i, bar) in legend.enumerated() {
            let ly = top + 10 + Double(i) * 16
            out += "<rect x=\"\(c(left + pw + 12))\" y=\"\(c(ly - 9))\" width=\"12\" height=\"10\" fill=\"\(bar.color)\"/>\n"
            out += "<text x=\"\(c(left + pw + 30))\" y=\"\(c(ly))\" class=\"lg\">\(x(bar.name))</text>\n"
        }
        out += "</svg>\n"
        return out
    }

    /// Horizontal bars, one per row (a strategy), for a side-by-side comparison of one figure.
    static func horizontalBars(title: String, rows: [Bar], format: (Double) -> String, width: Int = 400) -> String {
        let left = 130.0, right = 90.0, top = 26.0, rowHeight = 20.0
        let height = Int(top + rowHeight * Double(rows.count) + 8)
        let pw = Double(width) - left - right
        let dataMax = rows.map(\.value).filter(\.isFinite).max() ?? 0
        let xMax = dataMax > 0 ? dataMax : 1
        var out = open(width: width, height: height, title: title)
        for (i, row) in rows.enumerated() {
            let y = top + rowHeight * Double(i)
            let v = row.value.isFinite ? max(row.value, 0) : 0
            out += "<text x=\"\(c(left - 6))\" y=\"\(c(y + 13))\" class=\"yl\">\(x(row.name))</text>\n"
            out += "<rect x=\"\(c(left))\" y=\"\(c(y + 3))\" width=\"\(c(max(pw * v / xMax, 1)))\" height=\"14\" fill=\"\(row.color)\"\(row.marked ? " stroke=\"#111111\" stroke-width=\"2\"" : "")><title>\(x("\(row.name): \(format(row.value))"))</title></rect>\n"
            out += "<text x=\"\(c(left + max(pw * v / xMax, 1) + 4))\" y=\"\(c(y + 13))\" class=\"lg\">\(x((row.marked ? "★ " : "") + format(row.value)))</text>\n"
        }
        out += "</svg>\n"
        return out
    }

    // MARK: Heat matrix

    /// A row × column matrix (link traffic): cell shade on a log scale of the value, the
    /// formatted value inside, empty cells for `nil`.
    static func matrix(title: String, rows: [String], columns: [String], values: [[Double?]],
                       format: (Double) -> String) -> String {
        let cell = 74.0, rowHeight = 24.0, left = 90.0, top = 44.0
        let width = Int(left + cell * Double(columns.count) + 10)
        let height = Int(top + rowHeight * Double(rows.count) + 10)
        let positive = values.flatMap { $0.compactMap { $0 } }.filter { $0 > 0 }
        let lo = log10(positive.min() ?? 1), hi = log10(positive.max() ?? 1)
        var out = open(width: width, height: height, title: title)
        for (j, name) in columns.enumerated() {
            out += "<text x=\"\(c(left + cell * (Double(j) + 0.5)))\" y=\"\(c(top - 6))\" class=\"xl\">\(x("→ " + name))</text>\n"
        }
        for (i, name) in rows.enumerated() {
            let y = top + rowHeight * Double(i)
            out += "<text x=\"\(c(left - 6))\" y=\"\(c(y + 16))\" class=\"yl\">\(x(name))</text>\n"
            for j in columns.indices {
                let xv = left + cell * Double(j)
                guard i < values.count, j < values[i].count, let v = values[i][j] else {
                    out += "<rect x=\"\(c(xv))\" y=\"\(c(y))\" width=\"\(c(cell - 2))\" height=\"\(c(rowHeight - 2))\" fill=\"#f4f4f4\"/>\n"
                    continue
                }
                let t = v > 0 && hi > lo ? (log10(v) - lo) / (hi - lo) : (v > 0 ? 1 : 0)
                let shade = Int(235 - 175 * t)
                let fill = "rgb(\(shade),\(Int(235 - 120 * t)),255)"
                let ink = t > 0.6 ? " style=\"fill:#ffffff\"" : ""
                out += "<rect x=\"\(c(xv))\" y=\"\(c(y))\" width=\"\(c(cell - 2))\" height=\"\(c(rowHeight - 2))\" fill=\"\(fill)\"><title>\(x("\(name) → \(columns[j]): \(format(v))"))</title></rect>\n"
                out += "<text x=\"\(c(xv + (cell - 2) / 2))\" y=\"\(c(y + 16))\" class=\"mv\"\(ink)>\(x(format(v)))</text>\n"
            }
        }
        out += "</svg>\n"
        return out
    }
}
