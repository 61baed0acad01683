package redact_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/redact"
)

type labeled struct {
	ID           string `json:"id"`
	Lang         string `json:"lang"`
	Domain       string `json:"domain"`
	Text         string `json:"text"`
	HardNegative bool   `json:"hard_negative"`
	Spans        []struct {
		Type  redact.Type `json:"type"`
		Start int         `json:"start"`
		End   int         `json:"end"`
		// Src is where a name, address or place came from: "lexicon" (lists the
		// detectors also hold), "heldout" or "handwritten" (sources they do not use).
		Src string `json:"src"`
	} `json:"spans"`
}

func loadCorpus(t testing.TB) []labeled {
	t.Helper()
	out := append(loadFile(t, "testdata/corpus.jsonl"), loadFile(t, "testdata/heldout.jsonl")...)
	return append(out, loadFile(t, "testdata/organizations.jsonl")...)
}

func loadFile(t testing.TB, path string) []labeled {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labeled
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c labeled
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// Floors set from the measured scores (see the closing note); a change that
// drops a type below its floor fails.
var recallFloor = map[string]float64{
	"checksum": 0.99, // cards, IBAN, SSN, NPI, DEA, NHS, NINO, tax ids, routing, wallets
	"contact":  0.97, // email, phone, IP, URL, secrets
	"names":    0.90, // person, address
	"places":   0.85, // location, organization
	// Names and addresses from sources the detectors do not use.
	"unseen": 0.90,
}

var group = map[redact.Type]string{
	redact.CreditCard: "checksum", redact.IBAN: "checksum", redact.USSSN: "checksum", redact.USITIN: "checksum",
	redact.USNPI: "checksum", redact.USDEA: "checksum", redact.UKNHS: "checksum", redact.UKNINO: "checksum",
	redact.DETaxID: "checksum", redact.FRNIR: "checksum", redact.ESDNI: "checksum", redact.ITFiscalCode: "checksum",
	redact.USBankRouting: "checksum", redact.CryptoWallet: "checksum",
	redact.Email: "contact", redact.Phone: "contact", redact.IPAddress: "contact", redact.URL: "contact", redact.Secret: "contact",
	redact.Person: "names", redact.Address: "names", redact.Location: "places", redact.Organization: "places",
}

type tally struct{ tp, fp, fn int }

// evaluation accumulates the scores of a corpus run.
type evaluation struct {
	per                                  map[redact.Type]*tally
	hardNeg, overRedacted                int
	groupAll, groupHit, srcAll, srcHit   map[string]int
	heldCases, heldSpans, heldFound      int
	orgDevCases, orgDevSpans, orgDevHits int
	misses                               []string
}

func newEvaluation() *evaluation {
	return &evaluation{per: map[redact.Type]*tally{}, groupAll: map[string]int{}, groupHit: map[string]int{},
		srcAll: map[string]int{}, srcHit: map[string]int{}}
}

func (ev *evaluation) get(ty redact.Type) *tally {
	if ev.per[ty] == nil {
		ev.per[ty] = &tally{}
	}
	return ev.per[ty]
}

// add scores one case: each labeled span is found by an overlapping finding
// of its type; findings left over are spurious.
func (ev *evaluation) add(c labeled, fs []redact.Finding) {
	if c.Domain == "heldout" {
		ev.heldCases++
	}
	if c.HardNegative {
		ev.hardNeg++
		if len(fs) > 0 {
			ev.overRedacted++
			ev.misses = append(ev.misses, fmt.Sprintf("over-redacted %s: %s %q", c.ID, fs[0].Type, c.Text[fs[0].Start:fs[0].End]))
		}
	}
	used := make([]bool, len(fs))
	for _, g := range c.Spans {
		found := false
		for i, f := range fs {
			if !used[i] && (f.Type == g.Type || f.Also == g.Type) && f.Start < g.End && g.Start < f.End {
				used[i], found = true, true
				break
			}
		}
		ev.addSpan(c, g.Type, g.Src, found)
		if !found {
			ev.misses = append(ev.misses, fmt.Sprintf("missed %s %s: %q in %q", c.ID, g.Type, c.Text[g.Start:g.End], c.Text))
		}
	}
	for i, f := range fs {
		if !used[i] {
			ev.get(f.Type).fp++
			ev.misses = append(ev.misses, fmt.Sprintf("spurious %s %s: %q", c.ID, f.Type, c.Text[f.Start:f.End]))
		}
	}
}

func (ev *evaluation) addSpan(c labeled, ty redact.Type, src string, found bool) {
	hit := 0
	if found {
		hit = 1
		ev.get(ty).tp++
	} else {
		ev.get(ty).fn++
	}
	switch c.Domain {
	case "heldout":
		ev.heldSpans++
		ev.heldFound += hit
	case "orgdev":
		if ty == redact.Organization {
			ev.orgDevSpans++
			ev.orgDevHits += hit
		}
	}
	if src == "heldout" || src == "handwritten" {
		ev.groupAll["unseen"]++
		ev.groupHit["unseen"] += hit
		ev.srcAll[string(ty)+" "+src]++
		ev.srcHit[string(ty)+" "+src] += hit
	} else if src == "lexicon" {
		ev.srcAll[string(ty)+" lexicon"]++
		ev.srcHit[string(ty)+" lexicon"] += hit
	}
}

// report writes the table and returns the recall of each group.
func (ev *evaluation) report(b *strings.Builder) map[string]float64 {
	var types []string
	for ty := range ev.per {
		types = append(types, string(ty))
	}
	sort.Strings(types)
	fmt.Fprintf(b, "%-24s %6s %6s %6s %5s %5s %5s\n", "type", "prec", "recall", "F1", "tp", "fp", "fn")
	groupTP, groupFN := map[string]int{}, map[string]int{}
	for _, name := range types {
		x := ev.per[redact.Type(name)]
		p, r := ratio(x.tp, x.tp+x.fp), ratio(x.tp, x.tp+x.fn)
		f1 := 0.0
		if p+r > 0 {
			f1 = 2 * p * r / (p + r)
		}
		fmt.Fprintf(b, "%-24s %6.3f %6.3f %6.3f %5d %5d %5d\n", name, p, r, f1, x.tp, x.fp, x.fn)
		if g := group[redact.Type(name)]; g != "" {
			groupTP[g] += x.tp
			groupFN[g] += x.fn
		}
	}
	fmt.Fprintf(b, "hard negatives over-redacted: %d of %d (%.3f)\n", ev.overRedacted, ev.hardNeg, ratio(ev.overRedacted, ev.hardNeg))
	fmt.Fprintf(b, "hand-written held-out cases: %d, %d of their %d spans found\n", ev.heldCases, ev.heldFound, ev.heldSpans)
	fmt.Fprintf(b, "organization development set: %d of %d organizations found\n", ev.orgDevHits, ev.orgDevSpans)
	groupTP["unseen"], groupFN["unseen"] = ev.groupHit["unseen"], ev.groupAll["unseen"]-ev.groupHit["unseen"]
	var srcs []string
	for k := range ev.srcAll {
		srcs = append(srcs, k)
	}
	sort.Strings(srcs)
	for _, k := range srcs {
		fmt.Fprintf(b, "recall by source %-28s %.3f of %d\n", k, ratio(ev.srcHit[k], ev.srcAll[k]), ev.srcAll[k])
	}
	recall := map[string]float64{}
	for _, g := range []string{"checksum", "contact", "names", "places", "unseen"} {
		recall[g] = ratio(groupTP[g], groupTP[g]+groupFN[g])
		fmt.Fprintf(b, "recall %-9s %.3f of %d (floor %.2f)\n", g, recall[g], groupTP[g]+groupFN[g], recallFloor[g])
	}
	return recall
}

func TestDetectionQuality(t *testing.T) {
	corpus := loadCorpus(t)
	if len(corpus) < 600 {
		t.Fatalf("corpus has %d cases, want at least 600", len(corpus))
	}
	sc := redact.NewScanner(redact.Options{})
	ev := newEvaluation()
	for _, c := range corpus {
		ev.add(c, sc.Scan(c.Text))
	}
	var b strings.Builder
	recall := ev.report(&b)
	t.Log("\n" + b.String())
	if testing.Verbose() {
		for _, m := range ev.misses {
			t.Log(m)
		}
	}
	for g, floor := range recallFloor {
		if recall[g] < floor {
			t.Errorf("recall for %s identifiers %.3f is under its floor %.2f", g, recall[g], floor)
		}
	}
	if over := ratio(ev.overRedacted, ev.hardNeg); over > 0.02 {
		t.Errorf("%.3f of hard negatives over-redacted; the ceiling is 0.02", over)
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
