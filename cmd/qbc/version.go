package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

const versionHelp = `Usage: qbc version

Print qbc's version, the source revision it was built from when known, and
the Go version and platform.
`

const versionExample = `qbc version`

// version is set at link time for releases:
// go build -ldflags "-X main.version=v0.1.0" ./cmd/qbc
var version = ""

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", versionHelp, versionExample)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("version", pos, 0, 0); err != nil {
		return err
	}
	v, rev := version, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					rev += "+modified"
				}
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	if rev != "" {
		v += " " + rev
	}
	fmt.Fprintf(e.stdout, "qbc %s %s %s/%s\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
