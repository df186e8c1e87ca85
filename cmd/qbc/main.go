// Command qbc is QBC's one binary: it runs a node (qbc node), talks to one
// (qbc inject, leap, chain, stats, tx, quant, peers), makes and uses keys
// (qbc keys, qbc tx sign), and checks a stopped node's data directory
// (qbc verify). Run "qbc help" for the list and "qbc COMMAND --help" for
// each command.
//
// This package only parses flags and wires the internal packages together;
// everything it does goes through run, which the tests call directly.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(mainExit()) }

// mainExit runs the process's command line until it is done or interrupted
// (SIGINT, SIGTERM) and returns its exit status.
func mainExit() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return exitCode(run(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr)
}

// run runs the qbc command line args (without the program name), reading
// standard input and the environment of the process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runEnv(ctx, &env{stdin: os.Stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}, args)
}

// exitCode reports err on stderr and returns the process's exit status: 0
// for success, 2 for a usage error (bad flags or arguments), 1 otherwise.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "qbc: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
