package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/custos-gateway/custos/audit"
)

// faultRounds is how many random faults a fault test tries: short by
// default, CUSTOS_FAULT_ROUNDS for the long run (e.g. 1000).
func faultRounds(t *testing.T, short int) int {
	if v := os.Getenv("CUSTOS_FAULT_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("CUSTOS_FAULT_ROUNDS=%q", v)
		}
		return n
	}
	return short
}

// edit changes a copy of src through bbolt without fsyncs (an attacker's
// writes need not be durable).
func edit(t *testing.T, src []byte, dir string, i int, f func(tx *bolt.Tx)) string {
	t.Helper()
	dst := filepath.Join(dir, "t"+strconv.Itoa(i)+".db")
	if err := os.WriteFile(dst, src, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(dst, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { f(tx); return nil }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	return dst
}

func chainHash(seq uint64, prev, body []byte) []byte {
	h := sha256.New()
	h.Write(key(seq))
	h.Write(prev)
	h.Write(body)
	return h.Sum(nil)
}

// tamperings: what an attacker holding the file (and not the signing key)
// can do. Each takes the records' count and a random source.
var tamperings = map[string]func(tx *bolt.Tx, n uint64, rnd *rand.Rand){
	"flip": func(tx *bolt.Tx, n uint64, rnd *rand.Rand) {
		r := tx.Bucket([]byte("records"))
		k := key(1 + rnd.Uint64N(n))
		v := bytes.Clone(r.Get(k))
		v[rnd.IntN(len(v))] ^= byte(1 + rnd.IntN(255))
		r.Put(k, v)
	},
	"delete": func(tx *bolt.Tx, n uint64, rnd *rand.Rand) {
		tx.Bucket([]byte("records")).Delete(key(1 + rnd.Uint64N(n)))
	},
	"swap": func(tx *bolt.Tx, n uint64, rnd *rand.Rand) {
		r := tx.Bucket([]byte("records"))
		a := 1 + rnd.Uint64N(n)
		b := 1 + (a+rnd.Uint64N(n-1))%n
		va, vb := bytes.Clone(r.Get(key(a))), bytes.Clone(r.Get(key(b)))
		r.Put(key(a), vb)
		r.Put(key(b), va)
	},
	"truncate": func(tx *bolt.Tx, n uint64, rnd *rand.Rand) {
		keep := 1 + rnd.Uint64N(n-1)
		cutAfter(tx, keep)
	},
	"re-sign": func(tx *bolt.Tx, n uint64, rnd *rand.Rand) {
		cps := tx.Bucket([]byte("checkpoints"))
		k := key(10 * (1 + rnd.Uint64N(n/10)))
		var cp audit.Checkpoint
		json.Unmarshal(cps.Get(k), &cp)
		sig, _ := wrongSigner.Sign(cp.Message())
		cp.Sig, cp.KeyID = base64Std(sig), wrongSigner.KeyID()
		b, _ := json.Marshal(cp)
		cps.Put(k, b)
	},
	// Change one record, rebuild the chain after it, and re-sign every
	// checkpoint it invalidated with another key.
	"rewrite and re-sign": func(tx *bolt.Tx, n uint64, rnd *rand.Rand) {
		r, cps, m := tx.Bucket([]byte("records")), tx.Bucket([]byte("checkpoints")), tx.Bucket([]byte("meta"))
		from := 1 + rnd.Uint64N(n)
		prev := bytes.Clone(r.Get(key(from))[:32])
		for s := from; s <= n; s++ {
			body := bytes.Clone(r.Get(key(s))[64:])
			if s == from {
				body = bytes.Replace(body, []byte(`"status":200`), []byte(`"status":403`), 1)
			}
			sum := chainHash(s, prev, body)
			r.Put(key(s), append(append(bytes.Clone(prev), sum...), body...))
			prev = sum
			if raw := cps.Get(key(s)); raw != nil {
				var cp audit.Checkpoint
				json.Unmarshal(raw, &cp)
				cp.Head = hexString(sum)
				sig, _ := wrongSigner.Sign(cp.Message())
				cp.Sig = base64Std(sig)
				b, _ := json.Marshal(cp)
				cps.Put(key(s), b)
			}
		}
		var h [40]byte
		binary.BigEndian.PutUint64(h[:], n)
		copy(h[8:], prev)
		m.Put([]byte("head"), h[:])
	},
}

var wrongSigner *audit.KeyFileSigner

func cutAfter(tx *bolt.Tx, keep uint64) {
	r, cps, m := tx.Bucket([]byte("records")), tx.Bucket([]byte("checkpoints")), tx.Bucket([]byte("meta"))
	for _, b := range []*bolt.Bucket{r, cps} {
		c := b.Cursor()
		for k, _ := c.Seek(key(keep + 1)); k != nil; k, _ = c.Seek(key(keep + 1)) {
			b.Delete(k)
		}
	}
	var h [40]byte
	binary.BigEndian.PutUint64(h[:], keep)
	copy(h[8:], r.Get(key(keep))[32:64])
	m.Put([]byte("head"), h[:])
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// Every random tampering is detected, given the public key and the anchor.
func TestRandomTamperingsAreAllDetected(t *testing.T) {
	const n = 60
	path, anchorFile, _, pub := anchoredLog(t, n)
	wrongSigner, _ = newSigner(t)
	src, _ := os.ReadFile(path)
	data, _ := os.ReadFile(anchorFile)
	anchored, err := audit.ReadCheckpointFile(data, "audit.db")
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{"flip", "delete", "swap", "truncate", "re-sign", "rewrite and re-sign"}
	rounds := faultRounds(t, 1000)
	rnd := rand.New(rand.NewPCG(1, uint64(rounds)))
	dir := t.TempDir()
	detected := map[string]int{}
	for i := range rounds {
		kind := kinds[i%len(kinds)]
		file := edit(t, src, dir, i, func(tx *bolt.Tx) { tamperings[kind](tx, n, rnd) })
		rep, err := audit.Verify(file, audit.VerifyOptions{PublicKey: pub, Checkpoints: anchored})
		if err == nil && rep.Intact() {
			t.Fatalf("round %d: %s not detected: %+v", i, kind, rep)
		}
		detected[kind]++
		os.Remove(file)
	}
	t.Logf("%d tamperings, all detected: %v", rounds, detected)
}

// A file cut at any offset (power lost while the file system had not
// written it all) cannot be opened, or fails verification, or still holds
// every record: it never verifies with records missing, and never crashes
// the verifier.
func TestTruncatedFileIsDetected(t *testing.T) {
	const n = 200
	path, anchorFile, _, pub := anchoredLog(t, n)
	src, _ := os.ReadFile(path)
	data, _ := os.ReadFile(anchorFile)
	anchored, _ := audit.ReadCheckpointFile(data, "audit.db")
	rounds := faultRounds(t, 300)
	rnd := rand.New(rand.NewPCG(2, uint64(rounds)))
	dir := t.TempDir()
	outcomes := map[string]int{}
	for range rounds {
		cut := rnd.IntN(len(src))
		file := filepath.Join(dir, "cut.db")
		os.WriteFile(file, src[:cut], 0o600)
		rep, err := audit.Verify(file, audit.VerifyOptions{PublicKey: pub, Checkpoints: anchored})
		switch {
		case err != nil:
			outcomes["cannot open or read"]++
		case !rep.Intact():
			outcomes["verify fails"]++
		case rep.Verified == n:
			outcomes["complete"]++
		default:
			t.Fatalf("cut at %d of %d bytes: verified intact with %d of %d records", cut, len(src), rep.Verified, n)
		}
	}
	if outcomes["complete"] == rounds {
		t.Fatal("no cut removed anything: the test proves nothing")
	}
	t.Logf("%d cuts of a %d-byte file: %v", rounds, len(src), outcomes)
}
