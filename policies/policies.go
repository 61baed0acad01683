// Package policies holds the Rego policies Custos ships, with their unit tests
// and officer-editable data, embedded so that the binary needs no files.
//
// It holds policy text and data only; it must never hold logic that decides.
package policies

import "embed"

// FS is the shipped policy set: *.rego (tests included), data.json files and
// the bundle .manifest.
//
//go:embed .manifest *.rego */data.json
var FS embed.FS
