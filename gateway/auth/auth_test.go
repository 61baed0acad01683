package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/custos-gateway/custos/gateway/auth"
)

func TestKeyring(t *testing.T) {
	active, _, activeID, err := auth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	revoked, _, _, _ := auth.NewKey()
	if !strings.HasPrefix(active, auth.Prefix) || len(active) < 50 {
		t.Fatalf("key %q lacks the prefix or entropy", active)
	}
	mk := func(key string, c auth.Caller, rev bool) auth.Key {
		h, _ := auth.HashKey(key)
		b, err := auth.ParseHash(h)
		if err != nil {
			t.Fatal(err)
		}
		return auth.Key{Caller: c, Hash: b, Revoked: rev}
	}
	caller := auth.Caller{Tenant: "t", App: "a", Purpose: "treatment", KeyID: activeID}
	kr, err := auth.NewKeyring([]auth.Key{mk(active, caller, false), mk(revoked, auth.Caller{KeyID: "k_rev"}, true)})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, key string
		want      error
	}{
		{"active", active, nil},
		{"empty", "", auth.ErrMissingKey},
		{"unknown", "cst_nope", auth.ErrUnknownKey},
		{"revoked", revoked, auth.ErrRevokedKey},
		{"prefix of a key", active[:len(active)-1], auth.ErrUnknownKey},
	}
	for _, tc := range cases {
		got, err := kr.Authenticate(tc.key)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
		if err != nil && tc.key != "" && strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: error %q contains the key", tc.name, err)
		}
		if tc.want == nil && got != caller {
			t.Errorf("%s: caller = %+v, want %+v", tc.name, got, caller)
		}
	}
	if _, err := auth.NewKeyring([]auth.Key{mk(active, caller, false), mk(active, caller, false)}); err == nil {
		t.Error("duplicate key accepted")
	}
}

func TestNewKeysAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k, h, id, err := auth.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if seen[k] {
			t.Fatal("duplicate key minted")
		}
		seen[k] = true
		if h2, id2 := auth.HashKey(k); h2 != h || id2 != id {
			t.Fatal("HashKey disagrees with NewKey")
		}
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	key, hashHex, _, _ := auth.NewKey()
	h, _ := auth.ParseHash(hashHex)
	kr, _ := auth.NewKeyring([]auth.Key{{Caller: auth.Caller{Tenant: "t"}, Hash: h}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Authenticate(key); err != nil {
			b.Fatal(err)
		}
	}
}
