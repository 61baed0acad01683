// Command custos is the Custos compliance gateway's command line: it serves
// the gateway and mints app keys. It only wires packages together.
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
