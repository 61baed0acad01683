//go:debug x509negativeserial=1

// Command vaultserver is HashiCorp Vault v1.13.0 (MPL-2.0), built from the
// Go module proxy for Custos's tests and local use: `vaultserver server -dev`.
// It lives in its own module so that Custos never depends on Vault's server.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() { os.Exit(command.Run(os.Args[1:])) }
