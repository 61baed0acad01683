package bench

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

// WriteHTML writes a self-contained report: tables and an inline SVG chart
// of each load's latency distribution. No scripts, no external assets.
func WriteHTML(w io.Writer, r *Report) error {
	var loads []htmlLoad
	for _, lr := range r.Loads {
		rows := [][]string{{""}}
		for _, res := range lr.Results {
			rows[0] = append(rows[0], res.Target)
		}
		for _, m := range loadMetrics {
			row := []string{m.name}
			seen := false
			for _, res := range lr.Results {
				v := m.value(res)
				seen = seen || v != ""
				row = append(row, v)
			}
			if seen {
				rows = append(rows, row)
			}
		}
		loads = append(loads, htmlLoad{Heading: loadHeading(lr), Rows: rows, Chart: chartOf(lr)})
	}
	var summary [][]string
	if len(r.Loads) > 1 {
		summary = summaryTable(r)
	}
	return reportPage.Execute(w, map[string]any{"R": r, "Loads": loads, "Summary": summary})
}

type htmlLoad struct {
	Heading string
	Rows    [][]string
	Chart   *chart
}

// chart is an SVG plot of latency (log scale) against the share of
// requests (in nines: 50%, 90%, 99%, 99.9%, 99.99%).
type chart struct {
	W, H   int
	Lines  []chartLine
	XTicks []chartTick
	YTicks []chartTick
	Left   int
	Bottom int
}

type chartLine struct {
	Name, Color, Points string
	LegendY             int
}

type chartTick struct {
	Pos   float64
	Label string
}

var chartColors = []string{"#1b6ca8", "#7a7a7a", "#c0392b", "#27ae60", "#8e44ad", "#d35400"}

const (
	chartW, chartH        = 720, 320
	chartLeft, chartRight = 70, 130
	chartTop, chartBottom = 16, 40
	chartNines            = 4.0 // 99.99%
	chartMaxX             = chartNines + 0.7
)

func nines(q float64) float64 {
	if q >= 1 {
		return chartMaxX
	}
	return math.Min(-math.Log10(1-q), chartNines)
}

func chartOf(lr LoadResult) *chart {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, res := range lr.Results {
		for _, p := range res.Curve {
			if p.MS > 0 {
				lo, hi = math.Min(lo, p.MS), math.Max(hi, p.MS)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return nil
	}
	ylo, yhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if yhi <= ylo {
		yhi = ylo + 1
	}
	pw, ph := float64(chartW-chartLeft-chartRight), float64(chartH-chartTop-chartBottom)
	x := func(q float64) float64 { return chartLeft + nines(q)/chartMaxX*pw }
	y := func(v float64) float64 {
		return chartTop + ph - (math.Log10(math.Max(v, math.Pow(10, ylo)))-ylo)/(yhi-ylo)*ph
	}
	c := &chart{W: chartW, H: chartH, Left: chartLeft, Bottom: chartH - chartBottom}
	for i, res := range lr.Results {
		var pts []string
		for _, p := range res.Curve {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.Q), y(p.MS)))
		}
		c.Lines = append(c.Lines, chartLine{Name: res.Target, Color: chartColors[i%len(chartColors)],
			Points: strings.Join(pts, " "), LegendY: chartTop + 14 + 18*i})
	}
	for _, t := range []struct {
		q float64
		l string
	}{{0, "0%"}, {0.5, "50%"}, {0.9, "90%"}, {0.99, "99%"}, {0.999, "99.9%"}, {0.9999, "99.99%"}, {1, "max"}} {
		c.XTicks = append(c.XTicks, chartTick{Pos: x(t.q), Label: t.l})
	}
	for e := ylo; e <= yhi; e++ {
		c.YTicks = append(c.YTicks, chartTick{Pos: y(math.Pow(10, e)), Label: fmtMS(math.Pow(10, e))})
	}
	return c
}

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"legendX": func(c *chart) int { return c.W - chartRight + 12 },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.R.Title}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{padding:.2em .7em;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}h2{font-size:1.1em;margin-top:2em}
svg text{font:11px system-ui,sans-serif;fill:#444}
</style></head><body>
<h1>{{.R.Title}}</h1>
<p>Workload: {{.R.Source}} — {{.R.Workload.Requests}} distinct requests, mean body {{.R.Workload.MeanBytes}} B.<br>
Host: {{.R.Host.CPUs}} CPUs, load average {{printf "%.2f" .R.Host.LoadAvg1}} at start, {{.R.Host.GoVersion}}. Started {{.R.Started.Format "2006-01-02 15:04:05 UTC"}}.</p>
{{range .Loads}}<h2>{{.Heading}}</h2>
{{with .Chart}}{{$c := .}}<svg xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="latency by percentile">
{{range .YTicks}}<line stroke="#e4e4e4" x1="{{$c.Left}}" x2="{{legendX $c}}" y1="{{.Pos}}" y2="{{.Pos}}"/><text x="{{$c.Left}}" dx="-6" y="{{.Pos}}" dy="4" text-anchor="end">{{.Label}}</text>
{{end}}{{range .XTicks}}<line stroke="#e4e4e4" x1="{{.Pos}}" x2="{{.Pos}}" y1="16" y2="{{$c.Bottom}}"/><text x="{{.Pos}}" y="{{$c.Bottom}}" dy="16" text-anchor="middle">{{.Label}}</text>
{{end}}<line stroke="#888" x1="{{.Left}}" x2="{{.Left}}" y1="16" y2="{{.Bottom}}"/><line stroke="#888" x1="{{.Left}}" x2="{{legendX .}}" y1="{{.Bottom}}" y2="{{.Bottom}}"/>
{{range .Lines}}<polyline fill="none" stroke="{{.Color}}" stroke-width="2" points="{{.Points}}"/><rect x="{{legendX $c}}" y="{{.LegendY}}" width="14" height="3" fill="{{.Color}}" transform="translate(6,-4)"/><text x="{{legendX $c}}" dx="26" y="{{.LegendY}}">{{.Name}}</text>
{{end}}</svg>{{end}}
<table>{{range $i, $row := .Rows}}<tr>{{range $row}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td>{{.}}</td>{{end}}{{end}}</tr>
{{end}}</table>
{{end}}{{with .Summary}}<h2>Summary</h2><table>{{range $i, $row := .}}<tr>{{range $row}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td>{{.}}</td>{{end}}{{end}}</tr>
{{end}}</table>{{end}}
{{with .R.Notes}}<h2>Notes</h2><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body></html>
`))
