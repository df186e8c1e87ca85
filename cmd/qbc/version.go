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

// version and commit are set at link time for releases and images:
//
//	go build -ldflags "-X main.version=$(git describe --tags --always --dirty) -X main.commit=$(git rev-parse HEAD)" ./cmd/qbc
//
// Without them, qbc reports what the Go toolchain stamped: the module's
// version and the git revision and time of the checkout it was built in
// (go build and go install in a git clone; not in a git worktree, and not
// with -buildvcs=false).
var version, commit = "", ""

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", versionHelp, versionExample)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("version", pos, 0, 0); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "qbc %s %s %s/%s\n", qbcVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// qbcVersion is this binary's versionString, which nodes also tell in GET
// /v1/node.
func qbcVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return versionString(version, commit, bi)
}

// versionString says which qbc this is: the version and commit given at
// link time, else the module version and the revision, its time and
// whether the tree was modified, from the build information (bi may be
// nil). With nothing known it is "(devel)".
func versionString(version, commit string, bi *debug.BuildInfo) string {
	rev, at, modified := commit, "", false
	if bi != nil {
		if version == "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if rev == "" {
					rev = s.Value
				}
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if version == "" {
		version = "(devel)"
	}
	if rev == "" {
		return version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += "+modified"
	}
	if at != "" {
		rev += " " + at
	}
	return version + " (commit " + rev + ")"
}
