package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Signer signs checkpoints. Implementations: a local Ed25519 key file
// (KeyFileSigner); a Vault Transit key can implement the same interface.
type Signer interface {
	KeyID() string
	Sign(msg []byte) ([]byte, error)
}

// Checkpoint is a signed statement of the chain head at Seq.
type Checkpoint struct {
	Seq      uint64    `json:"seq"`
	Head     string    `json:"head"` // hex hash of record Seq
	Time     time.Time `json:"time"`
	Instance string    `json:"instance,omitempty"`
	File     string    `json:"file,omitempty"`
	KeyID    string    `json:"key_id,omitempty"`
	Sig      string    `json:"sig,omitempty"` // base64 Ed25519 signature of Message()

	fromFile     bool        // read from the log file itself (verification only)
	anchored     bool        // given by an anchor (verification only)
	alsoAnchored *Checkpoint // the anchor's copy, when it differs from the file's
}

// Message is the exact byte string a checkpoint's signature covers.
func (c *Checkpoint) Message() []byte {
	return fmt.Appendf(nil, "custos-audit-checkpoint/v1\nseq=%d\nhead=%s\ntime=%s\n",
		c.Seq, c.Head, c.Time.UTC().Format(time.RFC3339Nano))
}

// checkpoint signs the head, stores it and hands it to the anchors. Runs
// under the writer lock.
func (l *Log) checkpoint() error {
	if l.head.Seq == 0 {
		return nil
	}
	cp := Checkpoint{Seq: l.head.Seq, Head: hex.EncodeToString(l.head.Hash[:]), Time: time.Now().UTC(), Instance: l.opts.Instance}
	if l.opts.Signer != nil {
		sig, err := l.opts.Signer.Sign(cp.Message())
		if err != nil {
			l.stats.checkpointErrors.Add(1)
			return fmt.Errorf("audit: signing checkpoint: %w", err)
		}
		cp.KeyID = l.opts.Signer.KeyID()
		cp.Sig = base64.StdEncoding.EncodeToString(sig)
	}
	b, _ := json.Marshal(cp)
	err := l.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCheckpoints).Put(seqKey(cp.Seq), b)
	})
	if err != nil {
		l.stats.checkpointErrors.Add(1)
		return fmt.Errorf("%w: checkpoint: %w", ErrUnavailable, err)
	}
	cp.File = l.path
	l.anchors.enqueue(cp)
	l.sinceCheckpoint = 0
	l.lastCheckpoint = time.Now()
	l.stats.checkpoints.Add(1)
	l.stats.lastCheckpoint.Store(l.lastCheckpoint.UnixNano())
	return nil
}

// KeyFileSigner signs with an Ed25519 private key held in a PEM file.
type KeyFileSigner struct {
	priv ed25519.PrivateKey
	id   string
}

// KeyID is the first 16 hex digits of the SHA-256 of the public key.
func (s *KeyFileSigner) KeyID() string { return s.id }

// Sign signs msg.
func (s *KeyFileSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.priv, msg), nil }

// Public returns the verification key.
func (s *KeyFileSigner) Public() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }

func keyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// LoadSigner reads a PKCS#8 PEM Ed25519 private key.
func LoadSigner(path string) (*KeyFileSigner, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: signing key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("audit: signing key %s: not a PEM PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit: signing key %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("audit: signing key %s: not Ed25519", path)
	}
	return &KeyFileSigner{priv: priv, id: keyID(priv.Public().(ed25519.PublicKey))}, nil
}

// GenerateKeyFiles writes a new Ed25519 key pair: the private key (0600) at
// privPath and the public key at pubPath, both PEM. It never overwrites.
func GenerateKeyFiles(privPath, pubPath string) (*KeyFileSigner, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if err := writeNew(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return nil, err
	}
	return &KeyFileSigner{priv: priv, id: keyID(pub)}, nil
}

func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// LoadPublicKey reads a PKIX PEM Ed25519 public key.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("audit: public key: not a PEM PUBLIC KEY")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit: public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("audit: public key: not Ed25519")
	}
	return pub, nil
}
