// Package keysource holds provider API keys, read from HashiCorp Vault and
// nowhere else: each endpoint names a KV v2 mount, path and field; the
// client logs in with a token, AppRole or Kubernetes auth, renews its token
// with Vault's LifetimeWatcher and logs in again when renewal ends. Keys are
// cached in memory, refreshed in the background before they expire, served
// from cache for a bounded stale window while Vault is unreachable, and
// refused after it (ErrUnavailable), until Vault returns.
//
// It must never log, return in an error, or otherwise expose a key value;
// errors name the endpoint and the Vault path only.
package keysource
