package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/custos-gateway/custos/policies"
	"github.com/custos-gateway/custos/policy"
)

// Set at build time: -ldflags "-X main.version=v1.2.3 -X main.commit=abc123".
var version, commit string

// buildInfo describes this binary: its module version, commit, Go version,
// and the revision of the policies embedded in it.
func buildInfo() string {
	v, c, dirty := version, commit, false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value
			case s.Key == "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if c == "" {
		c = "unknown"
	} else if dirty {
		c += " (modified)"
	}
	rev := "unavailable"
	if e, err := policy.New(context.Background(), policy.FromFS(policies.FS, "embedded policies"), policy.Options{}); err == nil {
		rev = e.Revision().String()
	}
	return fmt.Sprintf("custos %s\ncommit %s\n%s %s/%s\nembedded policies %s\n", orDevel(v), c, runtime.Version(), runtime.GOOS, runtime.GOARCH, rev)
}

func orDevel(v string) string {
	if v == "" || v == "(devel)" {
		return "(devel)"
	}
	return v
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, Go version and embedded policy revision",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), buildInfo())
			return err
		},
	}
}
