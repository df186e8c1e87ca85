package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// command is one subcommand: its name, a one-line summary for "qbc help",
// and what runs it. Each lives in its own file, with its --help text and an
// example.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands is the subcommand table, in the order "qbc help" lists it.
//
// Each command is one file and one line here.
func commands() []command {
	return []command{
		{"node", "run a node", runNode},
		{"devnet", "run a local network of nodes in one process", runDevnet},
		{"inject", "add data to a node's transaction pool (signed with --key)", runInject},
		{"leap", "make a quant now from a node's pool", runLeap},
		{"chain", "print a node's chain in the seed's JSON shape", runChain},
		{"quant", "print one quant with its transactions", runQuant},
		{"stats", "print a node's chain stats", runStats},
		{"tx", "get, sign, send and verify transactions", runTx},
		{"record", "put, get and list keyed records, with locks", runRecord},
		{"peers", "list or add a node's peers", runPeers},
		{"keys", "make and read Ed25519 key files", runKeys},
		{"zk", "zero-knowledge keys, identities, groups and proofs", runZK},
		{"export", "write a chain's transactions as NDJSON or JSON", runExport},
		{"sql", "query the node's SQL projection; check it against the chains", runSQL},
		{"verify", "re-check a stopped node's stored chain", runVerify},
		{"bench", "load nodes with transactions; report throughput and latency", runBench},
		{"version", "print qbc's version", runVersion},
		{"help", "print help for qbc or a command", runHelp},
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// runEnv dispatches args to a subcommand.
func runEnv(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		printUsage(e.stderr)
		return usagef("no command given")
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		printUsage(e.stdout)
		return nil
	case "-v", "-version", "--version":
		name = "version"
	}
	c, ok := lookup(name)
	if !ok {
		return usagef("unknown command %q; run 'qbc help' for the list", name)
	}
	err := c.run(ctx, e, args[1:])
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func printUsage(w interface{ Write([]byte) (int, error) }) {
	var b strings.Builder
	b.WriteString(`qbc is a QBC blockchain node and its client.

Usage:
  qbc COMMAND [flags] [arguments]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Run 'qbc COMMAND --help' for a command's flags and an example.

Examples:
  qbc node 3000                          run a node on 127.0.0.1:3000
  qbc inject --node :3000 '{"test":"test2"}'
  qbc leap --node :3000
  qbc chain --node :3000
`)
	fmt.Fprint(w, b.String())
}
