package keysource

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/custos-gateway/custos/audit"
)

// KVAnchor writes every signed audit checkpoint to one Vault KV v2 path,
// each as a new version: the log file's owner cannot rewrite what Vault
// holds (versions are kept; grant Custos create/update, not delete or
// destroy, on the path). It satisfies audit.Anchor.
type KVAnchor struct {
	src   *Source
	mount string
	path  string
}

// KVAnchor returns the anchor at mount/path.
func (s *Source) KVAnchor(mount, path string) *KVAnchor {
	return &KVAnchor{src: s, mount: mount, path: path}
}

// Anchor writes cp as the path's newest version.
func (a *KVAnchor) Anchor(ctx context.Context, cp audit.Checkpoint) error {
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	var data map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		return err
	}
	if _, err := a.src.client.KVv2(a.mount).Put(ctx, a.path, data); err != nil {
		return fmt.Errorf("keysource: audit anchor %s/%s: %s", a.mount, a.path, vaultCause(err))
	}
	return nil
}

// Latest reads the newest anchored checkpoint (for an auditor's export of
// the anchor: `vault kv get -format=json` gives the same).
func (a *KVAnchor) Latest(ctx context.Context) (audit.Checkpoint, error) {
	var cp audit.Checkpoint
	sec, err := a.src.client.KVv2(a.mount).Get(ctx, a.path)
	if err != nil {
		return cp, fmt.Errorf("keysource: audit anchor %s/%s: %s", a.mount, a.path, vaultCause(err))
	}
	b, err := json.Marshal(sec.Data)
	if err != nil {
		return cp, err
	}
	return cp, json.Unmarshal(b, &cp)
}
