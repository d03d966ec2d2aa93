package load

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
)

// WriteHTML writes the report as one self-contained page (inline CSS and
// SVG, no script, nothing fetched): throughput and latency percentiles over
// time, the summary figures and the fault check.
func WriteHTML(w io.Writer, r *Report) error {
	var charts []template.HTML
	var tput []series
	for _, x := range []struct {
		name  string
		res   *Result
		color string
	}{{"acquirer", r.Acquirer, "#1f6feb"}, {"baseline", r.Baseline, "#8b949e"}} {
		if x.res == nil {
			continue
		}
		s := series{name: x.name, color: x.color}
		for _, sec := range x.res.Series {
			s.points = append(s.points, float64(sec.Responses))
		}
		tput = append(tput, s)
	}
	if len(tput) > 0 {
		charts = append(charts, chart("Throughput", "responses/s", tput))
	}
	for _, x := range []struct {
		name string
		res  *Result
	}{{"acquirer", r.Acquirer}, {"baseline", r.Baseline}} {
		if x.res == nil {
			continue
		}
		var p50, p90, p99 []float64
		for _, sec := range x.res.Series {
			p50, p90, p99 = append(p50, sec.P50), append(p90, sec.P90), append(p99, sec.P99)
		}
		charts = append(charts, chart("Latency, "+x.name, "ms", []series{
			{name: "p50", color: "#2da44e", points: p50}, {name: "p90", color: "#bf8700", points: p90}, {name: "p99", color: "#cf222e", points: p99},
		}))
	}
	return page.Execute(w, struct {
		*Report
		Charts []template.HTML
		Rows   []row
	}{r, charts, rows(r)})
}

type row struct {
	Name       string
	R          *Result
	Code, Errs string
}

func rows(r *Report) []row {
	var out []row
	for _, x := range []struct {
		name string
		res  *Result
	}{{"acquirer", r.Acquirer}, {"baseline", r.Baseline}} {
		if x.res != nil {
			out = append(out, row{Name: x.name, R: x.res, Code: counts(x.res.Codes), Errs: counts(x.res.Errors)})
		}
	}
	return out
}

// FormatCounts formats a count map as "00: 120, 51: 4", largest first;
// an empty map is "none".
func FormatCounts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	return counts(m)
}

// counts formats a count map as "00: 120, 51: 4", largest first.
func counts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

type series struct {
	name   string
	color  string
	points []float64
}

// chart draws line series over seconds as an inline SVG with axes, a
// legend and the value of every point in its tooltip.
func chart(title, unit string, ss []series) template.HTML {
	const w, h, left, right, top, bottom = 720.0, 240.0, 64.0, 16.0, 28.0, 32.0
	n, top1 := 0, 0.0
	for _, s := range ss {
		n = max(n, len(s.points))
		for _, v := range s.points {
			top1 = math.Max(top1, v)
		}
	}
	yMax := niceCeil(top1)
	x := func(i int) float64 {
		if n <= 1 {
			return left
		}
		return left + float64(i)*(w-left-right)/float64(n-1)
	}
	y := func(v float64) float64 { return h - bottom - v/yMax*(h-top-bottom) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="18" class="title">%s (%s)</text>`, left, template.HTMLEscapeString(title), unit)
	for i := 0; i <= 4; i++ {
		v := yMax * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" class="grid"/><text x="%.0f" y="%.1f" class="tick" text-anchor="end">%s</text>`,
			left, w-right, y(v), y(v), left-6, y(v)+4, short(v))
	}
	for i := 0; i < n; i += max(1, n/10) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="tick" text-anchor="middle">%ds</text>`, x(i), h-bottom+16, i)
	}
	for k, s := range ss {
		var pts []string
		for i, v := range s.points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, s.color, strings.Join(pts, " "))
		for i, v := range s.points {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s %ds: %s %s</title></circle>`, x(i), y(v), s.color,
				template.HTMLEscapeString(s.name), i, short(v), unit)
		}
		lx := w - right - float64(len(ss)-k)*110
		fmt.Fprintf(&b, `<rect x="%.0f" y="8" width="12" height="4" fill="%s"/><text x="%.0f" y="14" class="legend">%s</text>`,
			lx, s.color, lx+16, template.HTMLEscapeString(s.name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from numbers and escaped names
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func short(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

var page = template.Must(template.New("load").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>posim load report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:780px;color:#1f2328}
h1{font-size:20px;margin:0 0 4px}.cmd{font-family:ui-monospace,monospace;background:#f6f8fa;padding:6px 8px;border-radius:6px;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;margin:12px 0;width:100%}th,td{text-align:right;padding:4px 8px;border-bottom:1px solid #d0d7de}th:first-child,td:first-child{text-align:left}
.chart{width:100%;height:auto;margin:8px 0 16px}.grid{stroke:#eaeef2}.tick{font-size:11px;fill:#57606a}.title{font-size:13px;font-weight:600}.legend{font-size:12px}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
</style></head><body>
<h1>posim load report</h1>
<p>{{.Started.UTC.Format "2006-01-02 15:04:05 UTC"}}</p>
<div class="cmd">{{.Command}}</div>
{{if .Rows}}<table id="summary"><tr><th>target</th><th>throughput/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>responses</th></tr>
{{range .Rows}}<tr><td>{{.Name}}</td><td>{{printf "%.0f" .R.Throughput}}</td><td>{{.R.Latency.P50}}</td><td>{{.R.Latency.P90}}</td><td>{{.R.Latency.P99}}</td><td>{{.R.Latency.P999}}</td><td>{{.R.Latency.Max}}</td><td>{{.R.Responses}}</td></tr>
{{end}}</table>
{{range .Rows}}<p><b>{{.Name}}</b>: {{.R.Terminals}} terminals, mix {{.R.Mix}}, response codes {{.Code}}{{if .R.Errors}}, errors {{.Errs}}{{end}}{{if or .R.Reversals.Timeouts .R.Reversals.Lost}}; {{.R.Reversals.Timeouts}} timeouts, {{.R.Reversals.Lost}} connections lost, {{.R.Reversals.Acknowledged}} reversals acknowledged, {{.R.Reversals.Failed}} failed{{end}}</p>{{end}}{{end}}
{{if .Ratio}}<p id="ratio">Ratio acquirer/baseline: <b>{{printf "%.2f" .Ratio}}</b></p>{{end}}
{{range .Charts}}{{.}}{{end}}
{{with .Faults}}<h2>Faults: scenario {{.Scenario}}</h2>
<p id="faults" class="{{if .OK}}ok{{else}}bad{{end}}">{{if .OK}}OK{{else}}FAILED{{end}}: {{.Summary}}</p>
<table><tr><th>rule</th><th>actions</th><th>matched</th><th>fired</th><th>expected</th><th>bounds</th></tr>
{{range .Rules}}<tr><td>{{.ID}}</td><td>{{range $i, $a := .Actions}}{{if $i}}, {{end}}{{$a}}{{end}}</td><td>{{.Matched}}</td><td>{{.Fired}}</td><td>{{if .Probability}}{{printf "%.1f" .Expected}}{{end}}</td><td>{{if .Probability}}{{printf "%.0f..%.0f" .Low .High}}{{end}}</td></tr>
{{end}}</table>{{end}}
{{with .Idle}}<p id="idle">Held {{.Connected}} idle connections for {{printf "%.1f" .HeldFor}} s.</p>{{end}}
{{with .Host}}<p id="host">Acquirer process: {{printf "%.0f" .RSSMiB}} MiB resident, {{printf "%.0f" .Connections}} connections, {{printf "%.0f" .Goroutines}} goroutines.</p>{{end}}
</body></html>
`))
