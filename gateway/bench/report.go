package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// finish adds the notes a reader needs to trust the figures.
func (r *Report) finish(inProcess bool) {
	var own []string
	idle := false
	for _, lr := range r.Loads {
		for _, res := range lr.Results {
			if res.Target == DirectName && res.Bench != nil && !inProcess {
				own = append(own, fmt.Sprintf("%s %s", lr.Name, fmtUS(res.Bench.CPUPerRequestUS)))
			}
			idle = idle || (res.Server != nil && res.Server.IdleRSSBytes > 0)
			if lr.Load.RPS > 0 && res.RPS < 0.95*lr.Load.RPS {
				r.Notes = append(r.Notes, fmt.Sprintf("%s, %s: reached %.0f of the %.0f requests/s asked for; latency includes the queue",
					lr.Name, res.Target, res.RPS, lr.Load.RPS))
			}
		}
	}
	if len(own) > 0 {
		r.Notes = append(r.Notes, "bench's own CPU per request, measured against the upstream directly: "+strings.Join(own, "; ")+
			" (the load generator's cost: in no server's figure, but on the same CPUs)")
	}
	if inProcess {
		r.Notes = append(r.Notes, "the stub and bare proxy ran inside bench's process: bench's CPU includes theirs and theirs is not reported separately")
	}
	if idle {
		r.Notes = append(r.Notes, "the stub and bare proxy are this binary run as `custos bench stub|proxy`: their idle RSS is mostly its package initialisation; compare peak RSS above idle as well")
	}
	r.Notes = append(r.Notes, stealNotes(r)...)
	r.Notes = append(r.Notes,
		"latency is measured from each request's intended send time to its last byte; time to first token to the first SSE data event",
		"CPU is user + system time from /proc in 10 ms ticks over the measured phase; peak RSS is the process's lifetime peak (VmHWM)")
}

// writeReport writes the report as o asks: JSON or text to o.Out, and HTML.
func writeReport(r *Report, o Options) error {
	if o.Out != nil {
		var err error
		if o.JSON {
			err = WriteJSON(o.Out, r)
		} else {
			err = WriteText(o.Out, r)
		}
		if err != nil {
			return err
		}
	}
	if o.HTMLFile != "" {
		f, err := os.Create(o.HTMLFile)
		if err != nil {
			return err
		}
		if err := WriteHTML(f, r); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes a table per load, then the comparison and the notes.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.Title)
	fmt.Fprintf(&b, "workload: %s\n", r.Source)
	s := r.Workload
	fmt.Fprintf(&b, "          %d distinct requests, mean body %d B (max %d), %.0f%% streamed\n",
		s.Requests, s.MeanBytes, s.MaxBytes, s.Streamed*100)
	fmt.Fprintf(&b, "host: %d CPUs, load average %.2f at start, %s\n", r.Host.CPUs, r.Host.LoadAvg1, r.Host.GoVersion)
	if r.Host.FsyncP50US > 0 {
		fmt.Fprintf(&b, "disk: fsync of a small append p50 %s, bbolt commit of one record p50 %s (measured in this run)\n",
			fmtUS(r.Host.FsyncP50US), fmtUS(r.Host.CommitP50US))
	}
	for _, lr := range r.Loads {
		b.WriteString("\n")
		writeLoadTable(&b, lr)
	}
	if t := summaryTable(r); len(r.Loads) > 1 && len(t) > 1 {
		b.WriteString("\nsummary\n")
		writeTable(&b, t)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nnotes\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func loadHeading(lr LoadResult) string {
	l := lr.Load
	how := fmt.Sprintf("%gs", l.Seconds)
	if l.Requests > 0 {
		how = fmt.Sprintf("%d requests", l.Requests)
	}
	return fmt.Sprintf("%s (%s, %d connections, %s measured after %gs warm-up)", lr.Name, lr.Mode, l.Connections, how, l.WarmupSeconds)
}

func writeLoadTable(b *strings.Builder, lr LoadResult) {
	b.WriteString(loadHeading(lr) + "\n")
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
	writeTable(b, rows)
	for _, res := range lr.Results {
		for _, k := range slices.Sorted(maps.Keys(res.Errors)) {
			fmt.Fprintf(b, "  error at %s: %s × %d\n", res.Target, k, res.Errors[k])
		}
	}
}

// writeTable aligns columns: the first left, the others right.
func writeTable(b *strings.Builder, rows [][]string) {
	width := map[int]int{}
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, row := range rows {
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		b.WriteString("\n")
	}
}
