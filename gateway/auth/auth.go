package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every Custos-issued app key.
const Prefix = "cst_"

// Errors a caller of Authenticate can tell apart. None carries the key.
var (
	ErrMissingKey = errors.New("auth: no app key presented")
	ErrUnknownKey = errors.New("auth: app key not recognised")
	ErrRevokedKey = errors.New("auth: app key revoked")
)

// Roles a key can carry. An app key calls models; an auditor key exports the
// audit log; neither can do the other's work.
const (
	RoleApp     = "app"
	RoleAuditor = "auditor"
	RoleFinance = "finance" // tops up and reads credit; calls no model
)

// Caller is who a request comes from.
type Caller struct {
	Role    string
	Tenant  string // apps only
	App     string // the app id, or the auditor id
	Purpose string // apps only
	KeyID   string // public id of the key used; safe to log
}

// Key is one registered app key, known by its hash.
type Key struct {
	Caller
	Hash    [sha256.Size]byte
	Revoked bool
}

// Keyring resolves presented keys. It is immutable after NewKeyring and safe
// for concurrent use.
type Keyring struct {
	byHash map[[sha256.Size]byte]Key
}

// NewKeyring builds a keyring; duplicate hashes are an error.
func NewKeyring(keys []Key) (*Keyring, error) {
	kr := &Keyring{byHash: make(map[[sha256.Size]byte]Key, len(keys))}
	for _, k := range keys {
		if _, dup := kr.byHash[k.Hash]; dup {
			return nil, fmt.Errorf("auth: key %s registered twice", k.KeyID)
		}
		kr.byHash[k.Hash] = k
	}
	return kr, nil
}

// Authenticate resolves a presented key.
func (kr *Keyring) Authenticate(presented string) (Caller, error) {
	if presented == "" {
		return Caller{}, ErrMissingKey
	}
	k, ok := kr.byHash[sha256.Sum256([]byte(presented))]
	if !ok {
		return Caller{}, ErrUnknownKey
	}
	if k.Revoked {
		return Caller{}, fmt.Errorf("key %s: %w", k.KeyID, ErrRevokedKey)
	}
	return k.Caller, nil
}

// Len reports how many keys are registered, revoked ones included.
func (kr *Keyring) Len() int { return len(kr.byHash) }

var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewKey mints a random app key (256 bits) and returns it with its hex
// SHA-256 hash and a short public id derived from that hash.
func NewKey() (key, hashHex, id string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", "", fmt.Errorf("auth: reading randomness: %w", err)
	}
	key = Prefix + strings.ToLower(keyEncoding.EncodeToString(b[:]))
	hashHex, id = HashKey(key)
	return key, hashHex, id, nil
}

// HashKey returns a key's hex SHA-256 hash and its public id.
func HashKey(key string) (hashHex, id string) {
	sum := sha256.Sum256([]byte(key))
	hashHex = hex.EncodeToString(sum[:])
	return hashHex, "k_" + hashHex[:12]
}

// ParseHash decodes a hex SHA-256 hash.
func ParseHash(hashHex string) ([sha256.Size]byte, error) {
	var h [sha256.Size]byte
	b, err := hex.DecodeString(strings.ToLower(hashHex))
	if err != nil || len(b) != sha256.Size {
		return h, errors.New("auth: key hash must be 64 hex digits")
	}
	copy(h[:], b)
	return h, nil
}
