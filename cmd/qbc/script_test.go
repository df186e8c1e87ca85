package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
// help, flags, keys, offline signing, configuration precedence, and, with
// startnode, commands against a running node. After a
// deliberate change of output, refresh the files a script compares with:
//
//	go test ./cmd/qbc -run TestScripts -update
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Condition: func(cond string) (bool, error) {
			if cond == "race" {
				return raceEnabled, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			// Scripts set the QBC_* variables they test; none leak in.
			for _, kv := range os.Environ() {
				if name, _, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, "QBC_") {
					env.Setenv(name, "")
				}
			}
			// $EXAMPLES is the repository's examples/, which scripts create.
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			env.Setenv("EXAMPLES", filepath.Join(wd, "..", "..", "examples"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"startnode": scriptStartNode,
			"jsonenv":   setFromJSON,
			"hexflip":   hexFlip,
		},
	})
}

// scriptStartNode is the script command "startnode [NODE FLAGS...]": it runs
// 'qbc node' in the test process on 127.0.0.1:0 with its data in
// $WORK/node, waits until it listens, and sets QBC_NODE to its address for
// the commands after it. The node stops when the script ends.
func scriptStartNode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("startnode does not fail")
	}
	n, err := startTestNode(ts.Getenv, filepath.Join(ts.Getenv("WORK"), "node"), args...)
	if err != nil {
		ts.Fatalf("%v", err)
	}
	ts.Defer(func() {
		if err := n.stop(); err != nil {
			ts.Logf("node: %v\n%s", err, n.logs.String())
		}
	})
	ts.Setenv("QBC_NODE", "http://"+n.addr)
}

// testNode is a 'qbc node' run in the test process.
type testNode struct {
	addr string      // where it listens
	logs *syncBuffer // what it wrote to stderr: its logs
	// stop stops the node and returns what its run returned.
	stop func() error
}

// startTestNode runs 'qbc node' in the test process on 127.0.0.1:0 with
// its data in dataDir, its logs at level warn unless args say otherwise,
// and waits until it listens. getenv is the node's environment.
func startTestNode(getenv func(string) string, dataDir string, args ...string) (*testNode, error) {
	ctx, cancel := context.WithCancel(context.Background())
	out, outW := io.Pipe()
	logs := &syncBuffer{}
	e := &env{
		stdin:  strings.NewReader(""),
		stdout: outW,
		stderr: logs,
		getenv: func(name string) string {
			if name == "GOMEMLIMIT" {
				return "off" // leave the test process's memory limit alone
			}
			return getenv(name)
		},
	}
	nodeArgs := append([]string{"node", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"}, args...)
	done := make(chan error, 1)
	go func() {
		err := runEnv(ctx, e, nodeArgs)
		outW.Close()
		done <- err
	}()
	listening := make(chan string, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				listening <- addr
			}
		}
		io.Copy(io.Discard, out)
	}()
	stop := func() error {
		cancel()
		err := <-done
		wg.Wait()
		return err
	}
	select {
	case addr := <-listening:
		return &testNode{addr: addr, logs: logs, stop: stop}, nil
	case err := <-done:
		done <- err
		stop()
		return nil, fmt.Errorf("node did not start: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		stop()
		return nil, fmt.Errorf("node did not listen within 30s\n%s", logs.String())
	}
}

// setFromJSON is the script command "jsonenv VAR FIELD": it sets VAR to
// the string or number at FIELD ("id", "stats.height") of the JSON the
// last command printed, so a script can pass a chain's or a
// transaction's id on.
func setFromJSON(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: jsonenv VAR FIELD")
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(ts.ReadFile("stdout")))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		ts.Fatalf("jsonenv: stdout is not JSON: %v", err)
	}
	for _, f := range strings.Split(args[1], ".") {
		m, ok := v.(map[string]any)
		if !ok {
			ts.Fatalf("jsonenv: %s: not an object at %q", args[1], f)
		}
		v = m[f]
	}
	switch x := v.(type) {
	case string:
		ts.Setenv(args[0], x)
	case json.Number:
		ts.Setenv(args[0], x.String())
	default:
		ts.Fatalf("jsonenv: %s is %v, not a string or number", args[1], v)
	}
}

// hexFlip is the script command "hexflip FILE FIELD POS": in the JSON file
// FILE it changes the hex digit at POS of the string at FIELD
// ("proof_full.tx", "proof_full.headers.1"), flipping one bit of one
// byte, so a script can tamper with a saved proof.
func hexFlip(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: hexflip FILE FIELD POS")
	}
	pos, err := strconv.Atoi(args[2])
	if err != nil {
		ts.Fatalf("hexflip: POS: %v", err)
	}
	file := ts.MkAbs(args[0])
	var doc any
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &doc); err != nil {
		ts.Fatalf("hexflip: %s is not JSON: %v", args[0], err)
	}
	parts := strings.Split(args[1], ".")
	v := doc
	for i, f := range parts {
		last := i == len(parts)-1
		switch x := v.(type) {
		case map[string]any:
			if last {
				x[f] = flipDigit(ts, x[f], pos)
			}
			v = x[f]
		case []any:
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 || n >= len(x) {
				ts.Fatalf("hexflip: %s: no element %q", args[1], f)
			}
			if last {
				x[n] = flipDigit(ts, x[n], pos)
			}
			v = x[n]
		default:
			ts.Fatalf("hexflip: %s: nothing at %q", args[1], f)
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		ts.Fatalf("hexflip: %v", err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		ts.Fatalf("hexflip: %v", err)
	}
}

// flipDigit flips the lowest bit of the hex digit at pos of v, a string.
func flipDigit(ts *testscript.TestScript, v any, pos int) string {
	s, ok := v.(string)
	if !ok || pos < 0 || pos >= len(s) {
		ts.Fatalf("hexflip: %v has no hex digit %d", v, pos)
	}
	d, err := strconv.ParseUint(s[pos:pos+1], 16, 8)
	if err != nil {
		ts.Fatalf("hexflip: %q at %d is not a hex digit", s[pos:pos+1], pos)
	}
	return s[:pos] + strconv.FormatUint(d^1, 16) + s[pos+1:]
}
