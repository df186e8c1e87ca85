package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/engines"
	"github.com/qbc-chain/qbc/internal/node"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/store"
)

const verifyHelp = `Usage: qbc verify [flags]

Re-check a node's stored chains from their bangs: every quant against its
parent with the same rules the node applies when it adds one (links, time,
Merkle root, seal, transactions, write policy), the height and transaction
indexes, and the stored accumulated work. It opens the data directory
read-only; stop the node first (or verify a copy). Progress goes to
standard error; a summary per chain to standard output. On a fault it
exits non-zero, naming the first bad height.

The data directory is --data-dir, else QBC_DATA_DIR, else the default one of
QBC_ADDR (or 127.0.0.1:5000).
`

const verifyExample = `qbc verify --data-dir ~/.qbc/127.0.0.1_5000`

func runVerify(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlags(e, "verify", verifyHelp, verifyExample)
	dataDir := fs.String("data-dir", "", "the node's data `directory`")
	only := fs.String("chain", "", "verify only the chain with this `id` (default: every chain)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("verify", pos, 0, 0); err != nil {
		return err
	}
	dir := *dataDir
	if dir == "" {
		dir = e.getenv("QBC_DATA_DIR")
	}
	if dir == "" {
		addr := e.getenv("QBC_ADDR")
		if addr == "" {
			addr = node.DefaultAddr
		}
		dir = node.DefaultDataDir(addr)
	}
	var want quant.Hash
	if *only != "" {
		if want, err = quant.ParseHash(*only); err != nil {
			return usagef("verify: --chain: %v", err)
		}
	}
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("verify: data directory: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("verify: data directory %s is not a directory", dir)
	}
	// Pebble treats a damaged file as fatal and the store panics with its
	// report (and logs it first): here that is the finding, told in one
	// line, without the log line or the stack.
	defer func() {
		if p := recover(); p != nil {
			err = damaged(dir, p)
		}
	}()
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	logger = slog.New(dropFatal{logger.Handler()})
	db, err := store.Open(store.Options{Dir: dir, ReadOnly: true, Logger: logger})
	switch {
	case errors.Is(err, store.ErrReadOnly): // an older format: the error says what to do
		return fmt.Errorf("verify: %w", err)
	case err != nil:
		return fmt.Errorf("verify: %w (a running node holds its data directory: stop it first, or verify a copy)", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = damaged(dir, p) // db is not closed: Pebble stopped mid-read
			return
		}
		db.Close()
	}()
	// Commits the store lost (a chain's committed-tip record says more than
	// the store holds: a damaged write-ahead log) are found at open, and
	// are a finding of their own: what is left may verify.
	check := db.CheckCommitted
	if *only != "" {
		check = db.Chain(want).CheckCommitted
	}
	if err := check(); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	// Every block of every table, checked against its checksum: damage in
	// blocks the chains' checks would not read (filters, side branches) is
	// found too, and named with its file.
	if err := db.CheckTables(ctx); err != nil {
		return fmt.Errorf("verify: data directory %s is damaged: %w", dir, err)
	}
	ids, err := db.Chains()
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if *only != "" {
		found := false
		for _, id := range ids {
			found = found || id == want
		}
		if !found {
			return fmt.Errorf("verify: %s holds no chain %s", dir, want)
		}
		ids = []quant.Hash{want}
	}
	if len(ids) == 0 {
		return fmt.Errorf("verify: %s holds no chain", dir)
	}
	for _, id := range ids {
		if err := verifyChain(ctx, e, db.Chain(id)); err != nil {
			return err
		}
	}
	return nil
}

// damaged turns the store's panic on a damaged file into verify's finding:
// one line naming the directory and the damage.
func damaged(dir string, p any) error {
	msg := strings.TrimPrefix(fmt.Sprint(p), "store: pebble: ")
	msg, _, _ = strings.Cut(msg, "\n")
	if i := strings.Index(msg, "; bounds: "); i >= 0 {
		// The key bounds are binary; the details after them name the block.
		rest := msg[i+len("; bounds: "):]
		msg = msg[:i]
		if _, details, ok := strings.Cut(rest, "; details: "); ok {
			msg += ": " + details
		}
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return fmt.Errorf("verify: data directory %s is damaged: %s", dir, strings.ToValidUTF8(msg, "?"))
}

// dropFatal drops the store's log records of a fatal Pebble error and of
// what its commit check found (check=committed): verify reports them as its
// finding instead.
type dropFatal struct{ slog.Handler }

func (h dropFatal) Handle(ctx context.Context, r slog.Record) error {
	fatal := false
	r.Attrs(func(a slog.Attr) bool {
		fatal = fatal || a.Key == "fatal" || a.Key == "check" && a.Value.String() == "committed"
		return !fatal
	})
	if fatal {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h dropFatal) WithAttrs(as []slog.Attr) slog.Handler { return dropFatal{h.Handler.WithAttrs(as)} }
func (h dropFatal) WithGroup(name string) slog.Handler    { return dropFatal{h.Handler.WithGroup(name)} }

// verifyChain verifies one stored chain, printing progress to stderr at
// most about once a second or every tenth of the way, and a summary line
// to stdout.
func verifyChain(ctx context.Context, e *env, st *store.Chain) error {
	name := "?"
	base := uint64(0) // the bang's height: a fork's starts at its fork point's
	if bang, err := st.Bang(); err == nil {
		if r, err := quant.CheckBang(bang); err == nil {
			name, base = printable(r.Name), bang.Header.Height
		}
	}
	start := time.Now()
	p := &progress{w: e.stderr, what: "verify: chain " + name, last: start}
	err := chain.VerifyStored(ctx, st, engines.Consensus(nil), p.report)
	if err != nil {
		return fmt.Errorf("chain %s %s is damaged: %w", name, st.ID(), err)
	}
	tip, meta, err := st.Tip()
	if err != nil {
		return fmt.Errorf("chain %s %s: tip: %w", name, st.ID(), err)
	}
	p.done()
	fmt.Fprintf(e.stdout, "ok: chain %s %s: %d quants (heights %d to %d), tip %s, verified in %s\n",
		name, st.ID(), meta.Height-base+1, base, meta.Height, tip, time.Since(start).Round(time.Millisecond))
	return nil
}

// printable is a chain's name as verify prints it: as it is when every
// rune is printable, else quoted with Go's escapes (strconv.Quote), so that
// a name that holds control characters (an ANSI escape, a carriage return)
// cannot rewrite the operator's terminal or forge a line of the report.
func printable(name string) string {
	if strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 && utf8.ValidString(name) {
		return name
	}
	return strconv.Quote(name)
}

// progress prints "what: height H of T (P%)" lines for a long task.
type progress struct {
	w           io.Writer
	what        string
	last        time.Time
	lastTenth   uint64
	printed     bool
	height, tip uint64
}

func (p *progress) report(height, tip uint64) {
	p.height, p.tip = height, tip
	tenth := uint64(0)
	if tip > 0 {
		tenth = height * 10 / tip
	}
	if now := time.Now(); now.Sub(p.last) >= time.Second || tenth > p.lastTenth {
		p.last, p.lastTenth, p.printed = now, tenth, true
		fmt.Fprintf(p.w, "%s: height %d of %d (%d%%)\n", p.what, height, tip, percent(height, tip))
	}
}

// done prints the final line if any progress was printed.
func (p *progress) done() {
	if p.printed && p.height != p.tip {
		fmt.Fprintf(p.w, "%s: height %d of %d (%d%%)\n", p.what, p.height, p.tip, percent(p.height, p.tip))
	}
}

func percent(n, of uint64) uint64 {
	if of == 0 {
		return 100
	}
	return n * 100 / of
}
