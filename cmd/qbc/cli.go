package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/quant"
)

// env is what a command reads and writes besides its arguments: the
// process's standard streams and environment, or a test's.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// errHelp is returned by a command that printed its --help; runEnv turns it
// into success.
var errHelp = errors.New("help requested")

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// flags is a command's flag set with its help text.
type flags struct {
	*flag.FlagSet
	e       *env
	name    string // "node", "tx sign"
	help    string // usage line and description
	example string
}

// newFlags makes a flag set for the command name. help starts with a
// "Usage:" line; example is one or more command lines.
func newFlags(e *env, name, help, example string) *flags {
	fs := flag.NewFlagSet("qbc "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors itself, once
	fs.Usage = func() {}
	return &flags{FlagSet: fs, e: e, name: name, help: help, example: example}
}

// printHelp writes the command's help: usage and description, flags, and
// example.
func (f *flags) printHelp(w io.Writer) {
	var b strings.Builder
	b.WriteString(strings.TrimRight(f.help, "\n"))
	b.WriteString("\n")
	hasFlags := false
	f.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		b.WriteString("\nFlags:\n")
		f.SetOutput(&b)
		f.PrintDefaults()
		f.SetOutput(io.Discard)
	}
	b.WriteString("\nExample:\n")
	for _, line := range strings.Split(strings.TrimSpace(f.example), "\n") {
		b.WriteString("  " + line + "\n")
	}
	fmt.Fprint(w, b.String())
}

// parse parses args, flags and positional arguments in any order ("--"
// ends the flags), and returns the positional ones. On --help it prints the
// help to stdout and returns errHelp.
func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		err := f.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			f.printHelp(f.e.stdout)
			return nil, errHelp
		}
		if err != nil {
			return nil, usagef("%s: %v\nRun 'qbc %s --help' for usage.", f.name, err, f.name)
		}
		rest := f.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// wantArgs checks the number of positional arguments.
func wantArgs(name string, pos []string, min, max int) error {
	switch {
	case len(pos) < min:
		return usagef("%s: missing argument\nRun 'qbc %s --help' for usage.", name, name)
	case len(pos) > max:
		return usagef("%s: unexpected argument %q\nRun 'qbc %s --help' for usage.", name, pos[max], name)
	}
	return nil
}

// defaultNode is the node client commands talk to without --node or
// QBC_NODE: the seed's address.
const defaultNode = "http://127.0.0.1:5000"

// nodeFlags are the flags of every command that talks to a node.
type nodeFlags struct {
	node    *string
	timeout *time.Duration
	chain   *string // nil for commands that are not about one chain
	admin   *string // the admin token; nil for commands that need none
}

// addAdminToken adds --admin-token (default QBC_ADMIN_TOKEN) to n: the
// flag of the commands that create, fork or leave chains.
func (f *flags) addAdminToken(n *nodeFlags) {
	n.admin = f.String("admin-token", f.e.getenv("QBC_ADMIN_TOKEN"), "the node's admin `token`, sent as a bearer token (default from QBC_ADMIN_TOKEN)")
}

// addNodeFlags adds --node and --timeout. timeout is the default request
// time limit (0: none).
func (f *flags) addNodeFlags(timeout time.Duration) nodeFlags {
	def := defaultNode
	if v := f.e.getenv("QBC_NODE"); v != "" {
		def = v
	}
	return nodeFlags{
		node:    f.String("node", def, "the node's `URL` or HOST:PORT (default from QBC_NODE)"),
		timeout: f.Duration("timeout", timeout, "give up on the node after this long (0: never)"),
	}
}

// addChainFlags adds --node, --timeout and --chain: the flags of a
// command about one chain. Without --chain or QBC_CHAIN it is the node's
// default chain.
func (f *flags) addChainFlags(timeout time.Duration) nodeFlags {
	n := f.addNodeFlags(timeout)
	n.chain = f.String("chain", f.e.getenv("QBC_CHAIN"), "the chain's `ID` (default from QBC_CHAIN, else the node's default chain)")
	return n
}

// chainID returns the chain --chain names; zero for the node's default.
func (n nodeFlags) chainID() (quant.Hash, error) {
	if n.chain == nil || *n.chain == "" {
		return quant.Hash{}, nil
	}
	id, err := quant.ParseHash(strings.TrimSpace(*n.chain))
	if err != nil {
		return quant.Hash{}, usagef("--chain: %v", err)
	}
	if id.IsZero() {
		return quant.Hash{}, usagef("--chain: the zero hash names no chain")
	}
	return id, nil
}

// client returns a client for the node the flags name, addressing the
// chain --chain names.
func (n nodeFlags) client() (*client.Client, error) {
	if _, err := client.BaseURL(*n.node); err != nil {
		return nil, usagef("--node: %v", err)
	}
	id, err := n.chainID()
	if err != nil {
		return nil, err
	}
	c := client.New(*n.node, &http.Client{Timeout: *n.timeout}).OnChain(id)
	if n.admin != nil {
		c = c.WithToken(*n.admin)
	}
	return c, nil
}

// writeJSON prints v as indented JSON, leaving <, > and & as they are.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// readInput reads the argument "-" from standard input and anything else
// from the file it names, at most limit bytes.
func readInput(e *env, name string, limit int64) ([]byte, error) {
	var r io.Reader = e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	} else {
		name = "standard input"
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is over %d bytes", name, limit)
	}
	return b, nil
}

// payload turns a command-line data argument into a JSON value: the
// argument itself if it is JSON ("-" reads it from standard input), or, with
// asString, the argument as a JSON string. The result is compact, the form
// in which the node stores (and a signature covers) JSON.
func payload(e *env, name, arg string, asString bool, limit int64) ([]byte, error) {
	data := []byte(arg)
	if arg == "-" {
		var err error
		if data, err = readInput(e, "-", limit); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if !asString {
			data = bytes.TrimSpace(data)
		}
	}
	if asString {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(string(data)); err != nil {
			return nil, err
		}
		return bytes.TrimSpace(b.Bytes()), nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		return nil, usagef("%s: data is not valid JSON (%v); use --string to send it as a JSON string", name, err)
	}
	return b.Bytes(), nil
}
