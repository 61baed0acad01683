package audit

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// appendRecord appends r as encoding/json would marshal it, byte for byte
// (TestRecordEncoding holds it to that for every field), without
// reflection: every request writes two records, and the marshal was most
// of the writer's own CPU. The kinds written once in a while (exports,
// failed authentications, credits, openings) go through encoding/json.
func appendRecord(b []byte, r *Record) ([]byte, error) {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	var err error
	if b, err = appendTime(append(b, `,"time":`...), r.Time); err != nil {
		return nil, err
	}
	b = appendString(append(b, `,"kind":`...), r.Kind)
	b = appendString(append(b, `,"instance":`...), r.Instance)
	b = appendOptString(b, `,"request_id":`, r.RequestID)
	b = appendOptString(b, `,"correlation_id":`, r.CorrelationID)
	if r.IntentSeq != 0 {
		b = strconv.AppendUint(append(b, `,"intent_seq":`...), r.IntentSeq, 10)
	}
	b = appendOptString(b, `,"tenant":`, r.Tenant)
	b = appendOptString(b, `,"app":`, r.App)
	b = appendOptString(b, `,"purpose":`, r.Purpose)
	b = appendOptString(b, `,"key_id":`, r.KeyID)
	b = appendOptString(b, `,"route":`, r.Route)
	if r.Stream {
		b = append(b, `,"stream":true`...)
	}
	b = appendOptString(b, `,"client_ip":`, r.ClientIP)
	b = appendOptString(b, `,"model_requested":`, r.ModelRequested)
	b = appendOptString(b, `,"model_served":`, r.ModelServed)
	b = appendOptString(b, `,"endpoint":`, r.Endpoint)
	b = appendOptString(b, `,"provider":`, r.Provider)
	b = appendOptString(b, `,"region":`, r.Region)
	b = appendOptString(b, `,"policy_revision":`, r.PolicyRevision)
	b = appendDecision(b, r.Decision)
	b = appendPII(b, r.PII)
	b = appendTokens(b, r.Tokens)
	b = appendCost(b, r.Cost)
	if r.BalanceAfter != nil {
		b = strconv.AppendInt(append(b, `,"balance_after":`...), *r.BalanceAfter, 10)
	}
	b = appendOptInt(b, `,"latency_ms":`, r.LatencyMS)
	b = appendOptInt(b, `,"status":`, int64(r.Status))
	b = appendOptString(b, `,"error_code":`, r.ErrorCode)
	b = appendAttempts(b, r.Attempts)
	return appendRare(b, r)
}

// appendRare appends the members of the kinds written once in a while.
func appendRare(b []byte, r *Record) ([]byte, error) {
	for _, m := range []struct {
		key string
		v   any
		set bool
	}{{`,"export":`, r.Export, r.Export != nil},
		{`,"unauthenticated":`, r.Unauthenticated, r.Unauthenticated != nil},
		{`,"credit":`, r.Credit, r.Credit != nil},
		{`,"opening":`, r.Opening, r.Opening != nil}} {
		if !m.set {
			continue
		}
		v, err := json.Marshal(m.v)
		if err != nil {
			return nil, err
		}
		b = append(append(b, m.key...), v...)
	}
	return append(b, '}'), nil
}

func appendDecision(b []byte, d *Decision) []byte {
	if d == nil {
		return b
	}
	b = strconv.AppendBool(append(b, `,"decision":{"allow":`...), d.Allow)
	if len(d.Codes) > 0 {
		b = append(b, `,"codes":[`...)
		for i, c := range d.Codes {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, c)
		}
		b = append(b, ']')
	}
	if d.DryRun {
		b = append(b, `,"dry_run":true`...)
	}
	return append(b, '}')
}

// appendPII appends the map in key order, as encoding/json sorts it.
func appendPII(b []byte, m map[string]PIIAction) []byte {
	if len(m) == 0 {
		return b
	}
	var keys [16]string
	classes := keys[:0]
	for k := range m {
		classes = append(classes, k)
	}
	slices.Sort(classes)
	b = append(b, `,"pii":{`...)
	for i, k := range classes {
		if i > 0 {
			b = append(b, ',')
		}
		a := m[k]
		b = strconv.AppendInt(append(appendString(b, k), `:{"count":`...), int64(a.Count), 10)
		b = append(appendString(append(b, `,"action":`...), a.Action), '}')
	}
	return append(b, '}')
}

func appendTokens(b []byte, t *Tokens) []byte {
	if t == nil {
		return b
	}
	b = strconv.AppendInt(append(b, `,"tokens":{"prompt":`...), t.Prompt, 10)
	b = strconv.AppendInt(append(b, `,"completion":`...), t.Completion, 10)
	b = appendOptInt(b, `,"cached":`, t.Cached)
	if t.Estimated {
		b = append(b, `,"estimated":true`...)
	}
	return append(b, '}')
}

func appendCost(b []byte, c *Cost) []byte {
	if c == nil {
		return b
	}
	b = strconv.AppendInt(append(b, `,"cost":{"micros":`...), c.Micros, 10)
	b = appendString(append(b, `,"currency":`...), c.Currency)
	b = appendOptString(b, `,"price_version":`, c.PriceVersion)
	if c.Estimated {
		b = append(b, `,"estimated":true`...)
	}
	b = appendOptString(b, `,"account":`, c.Account)
	return append(b, '}')
}

func appendAttempts(b []byte, as []Attempt) []byte {
	if len(as) == 0 {
		return b
	}
	b = append(b, `,"attempts":[`...)
	for i, a := range as {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(append(b, `{"endpoint":`...), a.Endpoint)
		b = appendOptInt(b, `,"status":`, int64(a.Status))
		b = appendOptString(b, `,"error_code":`, a.ErrorCode)
		b = append(strconv.AppendInt(append(b, `,"latency_ms":`...), a.LatencyMS, 10), '}')
	}
	return append(b, ']')
}

func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

func appendOptInt(b []byte, key string, n int64) []byte {
	if n == 0 {
		return b
	}
	return strconv.AppendInt(append(b, key...), n, 10)
}

// appendString appends s as a JSON string. Record strings are identifiers
// and codes, printable ASCII: those are copied; anything else (an escape,
// HTML's <, > and &, which encoding/json escapes, or a byte above ASCII)
// is left to encoding/json, so the bytes are always its own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendTime appends t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds); what it refuses (a year outside 0 to 9999, a zone 24 hours
// or more away) is left to it.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if _, off := t.Zone(); t.Year() < 0 || t.Year() > 9999 || off <= -24*3600 || off >= 24*3600 {
		q, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		return append(b, q...), nil
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}
