package keysource

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"time"
)

// TransitSigner signs audit checkpoints with an Ed25519 key held in Vault's
// Transit engine: the private key never leaves Vault. It satisfies the
// audit package's Signer.
type TransitSigner struct {
	src   *Source
	mount string
	key   string
	pub   ed25519.PublicKey
	id    string
}

// TransitSigner returns a signer for the named Transit key (type ed25519),
// reading its public key now so that auditors can be given it.
func (s *Source) TransitSigner(ctx context.Context, mount, key string) (*TransitSigner, error) {
	if mount == "" {
		mount = "transit"
	}
	sec, err := s.client.Logical().ReadWithContext(ctx, mount+"/keys/"+key)
	if err != nil || sec == nil {
		cause := "not found"
		if err != nil {
			cause = vaultCause(err)
		}
		return nil, fmt.Errorf("keysource: transit key %s/%s: %s", mount, key, cause)
	}
	if typ, _ := sec.Data["type"].(string); typ != "ed25519" {
		return nil, fmt.Errorf("keysource: transit key %s/%s is %q, not ed25519", mount, key, typ)
	}
	latest := fmt.Sprint(sec.Data["latest_version"])
	keys, _ := sec.Data["keys"].(map[string]any)
	entry, _ := keys[latest].(map[string]any)
	pubB64, _ := entry["public_key"].(string)
	pub, err := base64.StdEncoding.DecodeString(pubB64)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("keysource: transit key %s/%s: no Ed25519 public key", mount, key)
	}
	sum := sha256.Sum256(pub)
	return &TransitSigner{src: s, mount: mount, key: key, pub: pub, id: hex.EncodeToString(sum[:8])}, nil
}

// KeyID is the first 16 hex digits of the SHA-256 of the public key, as for
// a key file.
func (t *TransitSigner) KeyID() string { return t.id }

// Sign asks Vault to sign msg.
func (t *TransitSigner) Sign(msg []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sec, err := t.src.client.Logical().WriteWithContext(ctx, t.mount+"/sign/"+t.key, map[string]any{
		"input": base64.StdEncoding.EncodeToString(msg),
	})
	if err != nil && isPermissionDenied(err) && t.src.login(ctx) == nil {
		sec, err = t.src.client.Logical().WriteWithContext(ctx, t.mount+"/sign/"+t.key, map[string]any{
			"input": base64.StdEncoding.EncodeToString(msg),
		})
	}
	if err != nil || sec == nil {
		cause := "no answer"
		if err != nil {
			cause = vaultCause(err)
		}
		return nil, fmt.Errorf("keysource: transit sign with %s/%s: %s", t.mount, t.key, cause)
	}
	s, _ := sec.Data["signature"].(string)
	parts := strings.Split(s, ":")
	if len(parts) != 3 || parts[0] != "vault" {
		return nil, fmt.Errorf("keysource: transit sign: unexpected signature format")
	}
	sig, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || !ed25519.Verify(t.pub, msg, sig) {
		return nil, fmt.Errorf("keysource: transit sign: signature does not verify with the key's public key (rotated?)")
	}
	return sig, nil
}

// PublicKeyPEM is the verification key, for auditors (custos audit verify --pubkey).
func (t *TransitSigner) PublicKeyPEM() []byte {
	der, _ := x509.MarshalPKIXPublicKey(t.pub)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
