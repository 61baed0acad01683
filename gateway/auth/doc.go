// Package auth owns Custos-issued app keys: it mints them, hashes them and
// resolves a presented key to the calling tenant, app and purpose.
//
// It must never store, log or return a key in the clear: only the SHA-256 hash
// is kept, and errors name the key's public id at most.
package auth
