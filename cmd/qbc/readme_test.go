package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadmeListsNodeEnv keeps README.md's configuration section, 'qbc
// node --help' and the variables the node reads (nodeEnvs, and
// QBC_CONFIG) naming the same QBC_* variables.
func TestReadmeListsNodeEnv(t *testing.T) {
	names := regexp.MustCompile(`QBC_[A-Z_]*[A-Z]`)
	set := func(s string) []string {
		out := names.FindAllString(s, -1)
		slices.Sort(out)
		return slices.Compact(out)
	}
	code := []string{"QBC_CONFIG"}
	for _, v := range nodeEnvs() {
		code = append(code, v.name)
	}
	slices.Sort(code)

	help, _, err := runT(t, nil, "node", "--help")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no Configuration section")
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	for _, tc := range []struct {
		where string
		got   []string
	}{
		{"qbc node --help", set(help)},
		{"README.md's Configuration section", set(section)},
	} {
		for _, n := range code {
			if !slices.Contains(tc.got, n) {
				t.Errorf("%s does not list %s, which the node reads", tc.where, n)
			}
		}
		for _, n := range tc.got {
			if !slices.Contains(code, n) {
				t.Errorf("%s lists %s, which the node does not read", tc.where, n)
			}
		}
	}
}
