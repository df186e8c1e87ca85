package main

import (
	"runtime/debug"
	"testing"
)

// TestVersionString: a release's link-time version and commit win; a
// build from a git checkout names its revision and time; only a build
// without either says (devel).
func TestVersionString(t *testing.T) {
	vcs := &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261202120603-7fd5f1bfa1e9"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "7fd5f1bfa1e91406b6c9ed3fa920e844c2250feb"},
		{Key: "vcs.time", Value: "2026-12-02T12:06:03Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	devel := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
	for _, tc := range []struct {
		name, version, commit string
		bi                    *debug.BuildInfo
		want                  string
	}{
		{"release", "v0.3.0", "abcdef0123456789", devel, "v0.3.0 (commit abcdef012345)"},
		{"release over vcs", "v0.3.0", "abcdef0123456789", vcs, "v0.3.0 (commit abcdef012345+modified 2026-12-02T12:06:03Z)"},
		{"git checkout", "", "", vcs, "v0.0.0-20261202120603-7fd5f1bfa1e9 (commit 7fd5f1bfa1e9+modified 2026-12-02T12:06:03Z)"},
		{"version only", "v0.3.0", "", devel, "v0.3.0"},
		{"nothing known", "", "", devel, "(devel)"},
		{"no build info", "", "", nil, "(devel)"},
	} {
		if got := versionString(tc.version, tc.commit, tc.bi); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
