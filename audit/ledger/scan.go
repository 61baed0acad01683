package ledger

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/custos-gateway/custos/audit"
)

// line is what the ledger reads of an audit record: enough to replay the
// journal, read straight from the record's JSON without decoding the rest
// (verification reads every record; decoding each in full would be several
// times slower).
type line struct {
	// Raw strings: they point into the record (or a decoded copy when the
	// JSON had escapes) and are valid while the transaction is.
	requestID, tenant, app, keyID []byte
	time                          []byte // RFC 3339, UTC
	cost                          *audit.Cost
	credit                        *audit.Credit
	tokens                        int64 // prompt + completion
	balance                       int64
	hasBalance                    bool
	costBuf                       audit.Cost
	creditBuf                     audit.Credit
}

// when is the line's time.
func (l *line) when() (time.Time, error) { return time.Parse(time.RFC3339Nano, string(l.time)) }

// periods are the UTC day and month of the line, read from its time.
func (l *line) periods() (day, month []byte, ok bool) {
	if len(l.time) < 11 || l.time[len(l.time)-1] != 'Z' || l.time[10] != 'T' {
		return nil, nil, false
	}
	return l.time[:10], l.time[:7], true
}

// scanRecord reads a record's ledger fields; false means the JSON is not
// an object the scanner can read.
func scanRecord(body []byte, l *line, in *interner) bool {
	*l = line{}
	ok := true
	good := members(body, func(key, v []byte) {
		switch string(key) {
		case "request_id":
			l.requestID, ok = raw(v, ok)
		case "tenant":
			l.tenant, ok = raw(v, ok)
		case "app":
			l.app, ok = raw(v, ok)
		case "key_id":
			l.keyID, ok = raw(v, ok)
		case "time":
			l.time, ok = raw(v, ok)
		case "cost":
			l.cost = &l.costBuf
			ok = ok && scanCost(v, l.cost, in)
		case "credit":
			l.credit = &l.creditBuf
			ok = ok && scanCredit(v, l.credit, in)
		case "tokens":
			ok = ok && scanTokens(v, &l.tokens)
		case "balance_after":
			l.balance, ok = integer(v, ok)
			l.hasBalance = true
		}
	})
	return good && ok
}

func scanCost(obj []byte, c *audit.Cost, in *interner) bool {
	ok := true
	return members(obj, func(key, v []byte) {
		switch string(key) {
		case "micros":
			c.Micros, ok = integer(v, ok)
		case "currency":
			c.Currency, ok = in.str(v, ok)
		case "price_version":
			c.PriceVersion, ok = in.str(v, ok)
		case "estimated":
			c.Estimated, ok = string(v) == "true", ok && (string(v) == "true" || string(v) == "false")
		case "account":
			c.Account, ok = in.str(v, ok)
		}
	}) && ok
}

func scanCredit(obj []byte, c *audit.Credit, in *interner) bool {
	ok := true
	return members(obj, func(key, v []byte) {
		switch string(key) {
		case "op":
			c.Op, ok = str(v, ok)
		case "account":
			c.Account, ok = str(v, ok)
		case "micros":
			c.Micros, ok = integer(v, ok)
		case "currency":
			c.Currency, ok = str(v, ok)
		case "reference":
			c.Reference, ok = str(v, ok)
		case "actor":
			c.Actor, ok = str(v, ok)
		}
	}) && ok
}

func scanTokens(obj []byte, total *int64) bool {
	ok := true
	return members(obj, func(key, v []byte) {
		var n int64
		switch string(key) {
		case "prompt", "completion":
			n, ok = integer(v, ok)
			*total += n
		}
	}) && ok
}

// members calls fn with each member of the JSON object b: its key (raw,
// unquoted; the record's keys need no escapes) and its raw value.
func members(b []byte, fn func(key, val []byte)) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return true
	}
	for i < len(b) && b[i] == '"' {
		kEnd := stringEnd(b, i)
		if kEnd < 0 {
			return false
		}
		key := b[i+1 : kEnd-1]
		if i = skipSpace(b, kEnd); i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		vEnd := valueEnd(b, i)
		if vEnd < 0 {
			return false
		}
		fn(key, b[i:vEnd])
		switch i = skipSpace(b, vEnd); {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// stringEnd is the index after the string starting at b[i] ('"'), or -1.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// valueEnd is the index after the JSON value starting at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := stringEnd(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && !isSpace(b[j]) {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// interner keeps one copy of the strings that recur from record to record
// (accounts, currencies, price versions), bounded.
type interner map[string]string

func (in *interner) str(v []byte, ok bool) (string, bool) {
	b, ok := raw(v, ok)
	if *in == nil {
		*in = interner{}
	}
	if s, hit := (*in)[string(b)]; hit {
		return s, ok
	}
	s := string(b)
	if len(*in) < 4096 {
		(*in)[s] = s
	}
	return s, ok
}

// str decodes a JSON string value (ok carries earlier failures).
func str(v []byte, ok bool) (string, bool) {
	b, ok := raw(v, ok)
	return string(b), ok
}

// raw decodes a JSON string value without copying it when it has no
// escapes.
func raw(v []byte, ok bool) ([]byte, bool) {
	if !ok || len(v) < 2 || v[0] != '"' {
		return nil, false
	}
	if inner := v[1 : len(v)-1]; bytes.IndexByte(inner, '\\') < 0 {
		return inner, true
	}
	var s string
	err := json.Unmarshal(v, &s)
	return []byte(s), err == nil
}

// integer decodes a JSON integer that fits an int64.
func integer(v []byte, ok bool) (int64, bool) {
	if !ok || len(v) == 0 {
		return 0, false
	}
	neg := v[0] == '-'
	if neg {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<63-1 && !(neg && n == 1<<63) {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}
