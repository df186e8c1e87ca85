package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script to what qbc prints")

// TestMain lets the test binary be the qbc command inside scripts: a
// script's "qbc ..." line runs run(...) in a child process.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"qbc": func() { os.Exit(mainExit()) },
	})
}

// TestScripts runs the command-line scenarios in testdata/script/*.txtar:
// help, flags, keys, offline signing and configuration precedence. After a
// deliberate change of output, refresh the files a script compares with:
//
//	go test ./cmd/qbc -run TestScripts -update
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			// Scripts set the QBC_* variables they test; none leak in.
			for _, kv := range os.Environ() {
				if name, _, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, "QBC_") {
					env.Setenv(name, "")
				}
			}
			return nil
		},
	})
}
