package gateway

import (
	"errors"
	"fmt"

	"github.com/custos-gateway/custos/gateway/auth"
	"github.com/custos-gateway/custos/gateway/jsondoc"
	"github.com/custos-gateway/custos/gateway/openai"
	"github.com/custos-gateway/custos/gateway/responses"
	"github.com/custos-gateway/custos/policy"
	"github.com/custos-gateway/custos/redact"
	"github.com/custos-gateway/custos/residency"
)

// inspection is what the inspect stage found in the request's texts: the
// findings per text (offsets, types), and the counts the policy sees.
type inspection struct {
	walk          *jsondoc.Walk
	found         [][]redact.Finding // per walk.Texts
	findings      map[string]int     // data class → count
	uninspectable int
	textBytes     int // every text's size, for the token estimate
}

// inspect finds personal data in every string, number and key of the
// request; the policy sees the data classes and counts, never the values.
// Texts the same app sent before are found in the scanner's cache, kept
// per tenant and app: whether a text is there shows in a request's timing,
// which must say nothing about what another tenant or app sent.
func (s *Server) inspect(who auth.Caller, req *modelRequest) (*inspection, error) {
	rules := req.rules
	if r, ok := s.dataRules[rules]; ok {
		rules = r
	}
	walk, err := jsondoc.InspectData(req.doc, rules, s.jsonLimits)
	if err != nil {
		var fe *jsondoc.FieldError
		if errors.As(err, &fe) {
			return nil, &openai.RequestError{Code: "invalid_request", Param: fe.Path.String(), Cause: err.Error(),
				Msg: fmt.Sprintf("%s differs from a known field only in letter case; spell it exactly", fe.Path)}
		}
		return nil, err
	}
	in := &inspection{walk: walk, uninspectable: walk.Uninspectable + req.uninspectable, textBytes: walk.StructuralBytes}
	if in.found, err = s.scanTexts(who, walk.Texts); err != nil {
		return nil, err
	}
	for i, t := range walk.Texts {
		if t.Context {
			continue // evidence only: its members are counted and set
		}
		in.textBytes += len(t.Text)
		for _, f := range in.found[i] {
			if in.findings == nil {
				in.findings = map[string]int{}
			}
			in.findings[string(f.Type)]++
		}
	}
	return in, nil
}

// catalogRules returns each request dialect's rules with the catalog's
// model names as the known values of the top-level model: the parse stage
// refused any other model, so that string is the deployment's
// configuration, not the caller's data. Scanning it cost every request a
// labelled scan, and a model named like a person ("claude") was found as
// one when the prompt named one (counted in the record, given a pseudonym).
func catalogRules(cat *residency.Catalog) map[*jsondoc.Rules]*jsondoc.Rules {
	model := jsondoc.FieldSet{At: jsondoc.P("model"), Known: cat.Known}
	out := map[*jsondoc.Rules]*jsondoc.Rules{}
	for _, r := range []*jsondoc.Rules{&openai.ChatRules, &openai.EmbeddingsRules, &responses.Rules} {
		out[r] = r.WithEnum(model)
	}
	return out
}

// scanTexts inspects every text that is data (structural names and enum
// values are part of the API) together: adjacent parts of a message are
// scanned joined as well, and a value found with good evidence in one field
// is found wherever else it occurs.
func (s *Server) scanTexts(who auth.Caller, texts []*jsondoc.Text) ([][]redact.Finding, error) {
	out := make([][]redact.Finding, len(texts))
	n := 0
	for _, t := range texts {
		if scanned(t) {
			n++
		}
	}
	fields := make([]redact.Field, 0, n)
	index := make([]int, 0, n)
	for i, t := range texts {
		if !scanned(t) {
			continue
		}
		key := t.Key
		if proseKeys[key] && !t.IsKey {
			key = "" // message text, not a labelled value
		}
		fields = append(fields, redact.Field{Text: t.Text, Key: key, IsKey: t.IsKey, Group: int(t.Group), NoScan: t.Setting})
		index = append(index, i)
	}
	found, err := s.scanner.InspectIn(fields, who.Tenant, who.App)
	if err != nil {
		return nil, err
	}
	for j, fs := range found {
		out[index[j]] = fs
	}
	return out, nil
}

// scanned reports whether a text has anything to scan (structural names
// and enum values, part of the API, InspectData leaves out).
func scanned(t *jsondoc.Text) bool { return t.Text != "" }

// proseKeys hold free text (a message, a description), not a value its key
// would label.
var proseKeys = map[string]bool{"content": true, "text": true, "input": true, "instructions": true,
	"description": true, "system": true, "output": true, "refusal": true, "prompt": true, "arguments": true}

// estimatedTokens is a rough prompt size (about four bytes a token) for
// budgets before the provider's own count is known.
func (in *inspection) estimatedTokens() int64 { return int64((in.textBytes + 3) / 4) }

// redact applies the decision's per-data-class actions to the request's
// tree in place, so that the provider never sees what the policy hides (a
// blocked class never gets here: the policy denied the request). It returns
// the request's pseudonyms (nil when none were issued).
func (s *Server) redact(in *inspection, dec *decision) (*redact.Session, error) {
	actions := make(map[redact.Type]redact.Action, len(dec.Actions))
	for class, a := range dec.Actions {
		actions[redact.Type(class)] = redact.Action(a)
	}
	if dec.DateScope == policy.DatesPerson {
		in.keepPersonalDates()
	}
	var sess *redact.Session
	for i, t := range in.walk.Texts {
		if t.Context || !changes(in.found[i], actions) {
			continue
		}
		if sess == nil {
			sess = redact.NewSession(s.hashKey)
		}
		out, err := sess.Apply(t.Text, in.found[i], actions)
		if err != nil {
			return nil, err
		}
		t.Set(out)
	}
	in.walk.Finish()
	return sess, nil
}

// keepPersonalDates drops the DATE findings no context ties to a person,
// for a tenant whose policy redacts only those.
func (in *inspection) keepPersonalDates() {
	for i, fs := range in.found {
		kept := fs[:0:0]
		for _, f := range fs {
			if f.Type != redact.Date || f.Personal {
				kept = append(kept, f)
			}
		}
		in.found[i] = kept
	}
}

// changes reports whether applying actions to fs rewrites anything.
func changes(fs []redact.Finding, actions map[redact.Type]redact.Action) bool {
	for _, f := range fs {
		if actions[f.Type] != redact.Allow {
			return true
		}
	}
	return false
}

// promptBound is the most tokens the prompt can be, for reservations: a
// token is at least a byte of text, and the chat format frames each text
// with a few more.
func (in *inspection) promptBound() int64 {
	return int64(in.textBytes) + 4*int64(len(in.walk.Texts)+in.walk.Structural) + 16
}
