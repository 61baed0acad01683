package bench

import "slices"

// summaryTable lays out every load as the gateway's published comparison
// does: a row per load and figure, a column per target, and each target's
// ratio to the bare proxy.
func summaryTable(r *Report) [][]string {
	var names []string
	for _, lr := range r.Loads {
		for _, res := range lr.Results {
			if !slices.Contains(names, res.Target) {
				names = append(names, res.Target)
			}
		}
	}
	var compared []string
	header := append([]string{"load"}, names...)
	for _, n := range names {
		if n != DirectName && n != BareProxyName && slices.Contains(names, BareProxyName) {
			compared = append(compared, n)
			header = append(header, n+" ÷ bare")
		}
	}
	rows := [][]string{header}
	for _, lr := range r.Loads {
		for _, f := range summaryFigures {
			row := []string{lr.Name + ": " + f.name}
			for _, n := range names {
				row = append(row, f.cell(find(lr, n)))
			}
			for _, n := range compared {
				row = append(row, f.ratio(find(lr, n)))
			}
			rows = append(rows, row)
		}
	}
	if len(r.Loads) > 0 {
		last := r.Loads[len(r.Loads)-1]
		row := []string{"peak RSS"}
		for _, n := range names {
			row = append(row, serverCell(find(last, n), func(u *Usage) string { return fmtMB(u.PeakRSSBytes) }))
		}
		for _, n := range compared {
			row = append(row, ratioCell(find(last, n), func(v *Ratios) *float64 { return v.PeakRSS }))
		}
		rows = append(rows, row)
		row = []string{"peak RSS above idle"}
		for _, n := range names {
			row = append(row, serverCell(find(last, n), func(u *Usage) string {
				if u.IdleRSSBytes == 0 {
					return ""
				}
				return fmtMB(u.PeakRSSBytes - u.IdleRSSBytes)
			}))
		}
		for _, n := range compared {
			row = append(row, ratioCell(find(last, n), func(v *Ratios) *float64 { return v.PeakAboveIdle }))
		}
		rows = append(rows, row)
	}
	return rows
}

func find(lr LoadResult, name string) *Result {
	for i := range lr.Results {
		if lr.Results[i].Target == name {
			return &lr.Results[i]
		}
	}
	return nil
}

type summaryFigure struct {
	name  string
	cell  func(*Result) string
	ratio func(*Result) string
}

var summaryFigures = []summaryFigure{
	{"added p50", func(r *Result) string {
		switch {
		case r == nil || r.Latency == nil:
			return ""
		case r.Target == DirectName:
			return "(" + fmtMS(r.Latency.P50) + ")"
		case r.AddedP50MS != nil:
			return fmtSignedMS(*r.AddedP50MS)
		}
		return fmtMS(r.Latency.P50)
	}, func(r *Result) string { return ratioCell(r, func(v *Ratios) *float64 { return v.AddedP50 }) }},
	{"requests/s", func(r *Result) string {
		if r == nil {
			return ""
		}
		return fmtRPS(r.RPS)
	}, func(r *Result) string { return ratioCell(r, func(v *Ratios) *float64 { return v.RPS }) }},
	{"server CPU/request", func(r *Result) string {
		if r == nil || r.Target == DirectName {
			return ""
		}
		return serverCell(r, func(u *Usage) string { return fmtUS(u.CPUPerRequestUS) })
	}, func(r *Result) string { return ratioCell(r, func(v *Ratios) *float64 { return v.CPU }) }},
	{"errors", func(r *Result) string {
		if r == nil {
			return ""
		}
		return groupThousands(r.Requests - r.OK)
	}, func(*Result) string { return "" }},
}

func serverCell(r *Result, f func(*Usage) string) string {
	if r == nil || r.Server == nil || r.Server.PID == 0 {
		return ""
	}
	return f(r.Server)
}

func ratioCell(r *Result, f func(*Ratios) *float64) string {
	if r == nil || r.VsBare == nil {
		return ""
	}
	return fmtRatio(f(r.VsBare))
}
