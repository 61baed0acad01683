package ledger

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
)

// journalLog writes a file with a top-up and n settled requests under an
// app's day budget, checkpoints signed.
func journalLog(t *testing.T, n int) (string, ed25519.PublicKey) {
	t.Helper()
	dir := t.TempDir()
	signer, err := audit.GenerateKeyFiles(filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "audit.db")
	budget := Budget{Scope: ScopeApp("t1", "a"), Period: Day, MaxMicros: 1 << 40, Currency: "USD"}
	led, log, err := OpenBolt(path, audit.Options{Signer: signer}, Options{Budgets: []Budget{budget}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := led.Credit(ctx, audit.Credit{Op: audit.CreditTopUp, Account: "t1", Micros: 1_000_000, Currency: "USD"}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		h, err := led.Reserve(ctx, Request{RequestID: fmt.Sprint("r", i), Tenant: "t1", App: "a", Currency: "USD", MaxMicros: 1000})
		if err != nil {
			t.Fatal(err)
		}
		led.Settle(ctx, h, Charge{Micros: int64(100 + i), Currency: "USD"}, audit.Record{Kind: audit.KindOutcome, Tokens: &audit.Tokens{Prompt: 5, Completion: 5}})
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	return path, signer.Public()
}

func rkey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// rewriteRecords lets edit change record bodies (nil: unchanged) and
// rebuilds the hash chain and the head after them, as a forger without
// the signing key can.
func rewriteRecords(tx *bolt.Tx, edit func(seq uint64, body []byte) []byte) {
	recs, meta := tx.Bucket([]byte("records")), tx.Bucket([]byte("meta"))
	var prev []byte
	var last uint64
	c := recs.Cursor()
	type kv struct {
		seq uint64
		val []byte
	}
	var all []kv
	for k, v := c.First(); k != nil; k, v = c.Next() {
		all = append(all, kv{binary.BigEndian.Uint64(k), bytes.Clone(v)})
	}
	for _, r := range all {
		if prev == nil {
			prev = r.val[:32]
		}
		body := r.val[64:]
		if nb := edit(r.seq, body); nb != nil {
			body = nb
		}
		h := sha256.New()
		h.Write(rkey(r.seq))
		h.Write(prev)
		h.Write(body)
		sum := h.Sum(nil)
		recs.Put(rkey(r.seq), append(append(bytes.Clone(prev), sum...), body...))
		prev, last = sum, r.seq
	}
	meta.Put([]byte("head"), append(rkey(last), prev...))
}

func TestVerifyFindsLedgerTampering(t *testing.T) {
	src, pub := journalLog(t, 10)
	const victim = 8 // record 1 is the top-up, records 2 to 11 the charges
	cases := []struct {
		name      string
		edit      func(tx *bolt.Tx)
		problem   string // what the ledger verification finds ("" none)
		auditFail bool   // the audit chain (signatures) also finds it
	}{
		{"intact", func(tx *bolt.Tx) {}, "", false},
		{"a stored balance raised", func(tx *bolt.Tx) {
			tx.Bucket(bucketAccounts).Put([]byte("t1"), encodeAccount("USD", 999_999_999, 11))
		}, ProblemBalance, false},
		{"a stored budget spend lowered", func(tx *bolt.Tx) {
			sb := tx.Bucket(bucketSpend)
			k, _ := sb.Cursor().First()
			sb.Put(bytes.Clone(k), encodeSpend(spent{1, 1}))
		}, ProblemSpend, false},
		{"a charge lowered, chain rebuilt", func(tx *bolt.Tx) {
			rewriteRecords(tx, func(seq uint64, b []byte) []byte {
				if seq != victim {
					return nil
				}
				return regexp.MustCompile(`"cost":\{"micros":\d+`).ReplaceAll(b, []byte(`"cost":{"micros":1`))
			})
		}, ProblemBalance, true},
		{"a charge lowered and every balance after it restated", func(tx *bolt.Tx) {
			lowered := int64(0)
			rewriteRecords(tx, func(seq uint64, b []byte) []byte {
				var r audit.Record
				json.Unmarshal(b, &r)
				if seq == victim {
					lowered = r.Cost.Micros - 1
					r.Cost.Micros = 1
				}
				if seq < victim || r.BalanceAfter == nil {
					return nil
				}
				nb := *r.BalanceAfter + lowered
				r.BalanceAfter = &nb
				out, _ := json.Marshal(r)
				return out
			})
			a := tx.Bucket(bucketAccounts)
			cur, bal, last, _ := decodeAccount(a.Get([]byte("t1")))
			a.Put([]byte("t1"), encodeAccount(cur, bal+lowered, last))
			sb := tx.Bucket(bucketSpend)
			k, v := sb.Cursor().First()
			s, _ := decodeSpend(v)
			sb.Put(bytes.Clone(k), encodeSpend(spent{s.micros - lowered, s.tokens}))
		}, "", true}, // consistent in itself: only the signed chain proves the forgery
		{"a charge's stated balance removed", func(tx *bolt.Tx) {
			rewriteRecords(tx, func(seq uint64, b []byte) []byte {
				if seq != victim {
					return nil
				}
				return regexp.MustCompile(`,"balance_after":-?\d+`).ReplaceAll(b, nil)
			})
		}, ProblemRecord, true},
		{"a charge entered twice", func(tx *bolt.Tx) {
			recs := tx.Bucket([]byte("records"))
			k, v := recs.Cursor().Last()
			last := binary.BigEndian.Uint64(k)
			var r audit.Record
			json.Unmarshal(v[64:], &r)
			nb := *r.BalanceAfter - r.Cost.Micros
			r.BalanceAfter, r.Seq = &nb, last+1
			body, _ := json.Marshal(r)
			recs.Put(rkey(last+1), append(make([]byte, 64), body...))
			rewriteRecords(tx, func(uint64, []byte) []byte { return nil })
			tx.Bucket(bucketAccounts).Put([]byte("t1"), encodeAccount("USD", nb, last+1))
		}, ProblemDuplicate, false}, // after the last checkpoint: only an anchor or the ledger finds it
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := os.ReadFile(src)
			path := filepath.Join(t.TempDir(), "copy.db")
			os.WriteFile(path, b, 0o600)
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Update(func(tx *bolt.Tx) error { tc.edit(tx); return nil })
			db.Close()
			rep, err := VerifyFiles([]string{path})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if rep.Problem != nil {
				got = rep.Problem.Kind
			}
			if got != tc.problem {
				t.Errorf("ledger problem %+v, want %q", rep.Problem, tc.problem)
			}
			arep, err := audit.Verify(path, audit.VerifyOptions{PublicKey: pub})
			if err != nil || arep.Intact() == tc.auditFail {
				t.Errorf("audit verify: %+v %v; want failing=%v", arep.Problem, err, tc.auditFail)
			}
		})
	}
}

// FuzzScanRecord: the scanner reads what encoding/json reads, whatever the
// string fields hold, and never panics on damaged input.
func FuzzScanRecord(f *testing.F) {
	f.Add("req_1", "t1", "a/b", "USD", "p\"1", int64(731), int64(-5), uint8(1), []byte(`{"kind":`))
	f.Add("", "", "", "", "", int64(0), int64(0), uint8(0), []byte(`{"cost":{"micros":1}}`))
	f.Fuzz(func(t *testing.T, id, tenant, account, cur, pv string, micros, bal int64, shape uint8, junk []byte) {
		var l line
		var in interner
		scanRecord(junk, &l, &in) // must not panic
		r := audit.Record{Seq: 3, Kind: audit.KindOutcome, RequestID: id, Tenant: tenant, App: pv, KeyID: cur,
			PII: map[string]audit.PIIAction{`"cost":{"micros":9`: {Count: 1}}, Tokens: &audit.Tokens{Prompt: micros & 0xffff, Completion: 3}}
		switch shape % 3 {
		case 1:
			r.Cost = &audit.Cost{Micros: micros, Currency: cur, PriceVersion: pv, Estimated: micros%2 == 0, Account: account}
			r.BalanceAfter = &bal
		case 2:
			r.Kind, r.Credit, r.BalanceAfter = audit.KindCredit, &audit.Credit{Op: pv, Account: account, Micros: micros, Currency: cur, Reference: id}, &bal
		}
		body, _ := json.Marshal(r)
		var back audit.Record
		json.Unmarshal(body, &back)
		if !scanRecord(body, &l, &in) {
			t.Fatalf("cannot read %s", body)
		}
		same := (l.cost == nil) == (back.Cost == nil) && (l.cost == nil || *l.cost == *back.Cost) &&
			(l.credit == nil) == (back.Credit == nil) && (l.credit == nil || *l.credit == *back.Credit) &&
			string(l.requestID) == back.RequestID && string(l.tenant) == back.Tenant && string(l.app) == back.App &&
			string(l.keyID) == back.KeyID && l.tokens == back.Tokens.Prompt+back.Tokens.Completion &&
			l.hasBalance == (back.BalanceAfter != nil) && (!l.hasBalance || l.balance == *back.BalanceAfter)
		if when, err := l.when(); !same || err != nil || !when.Equal(back.Time) {
			t.Fatalf("read %+v from %s", l, body)
		}
	})
}
