// Command custos is the Custos compliance gateway's command line: it serves
// the gateway, mints app keys, and gives officers and auditors their tools
// (policy test/check/eval, audit verify/export, redact). It only wires
// packages together: flags become options, and the packages do the work.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		if err != errFailed { // a failed check has printed its own report
			fmt.Fprintln(os.Stderr, "custos:", err)
		}
		os.Exit(1)
	}
}
