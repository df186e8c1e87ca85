package main

import (
	"bufio"
	"context"
	"encoding/json"

	"github.com/qbc-chain/qbc/internal/api"
)

const chainHelp = `Usage: qbc chain [flags]
       qbc chain new [RULES.json] [flags]
       qbc chain list [flags]
       qbc chain fork --height H RULES.json [flags]
       qbc chain leave ID [flags]

Print the node's chain as a JSON array of quants in the seed's shape (GET
/json-chain): index, timestamp, data, previous_hash, proof, hash,
transactions. It streams: a long chain is printed as it arrives, never held
whole in memory. --chain (or QBC_CHAIN) prints another chain the node
follows (GET /v1/chains/{id}/json-chain).

'qbc chain new' creates a chain on the node from a rules file or flags
(only a name is needed; examples/ has rules files); 'qbc chain
list' lists the chains the node follows; 'qbc chain fork' forks a chain at
a height with new rules; 'qbc chain leave' has the node stop following a
chain and delete it. See 'qbc chain new --help', 'qbc chain fork --help',
'qbc chain leave --help'.
`

const chainExample = `qbc chain --node 127.0.0.1:5000
qbc chain --from 100 --limit 10
qbc chain --chain "$TEMPS"`

func runChain(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "new":
			return runChainNew(ctx, e, args[1:])
		case "list":
			return runChainList(ctx, e, args[1:])
		case "fork":
			return runChainFork(ctx, e, args[1:])
		case "leave":
			return runChainLeave(ctx, e, args[1:])
		}
	}
	fs := newFlags(e, "chain", chainHelp, chainExample)
	nf := fs.addChainFlags(0)
	from := fs.Uint64("from", 0, "first `height`")
	limit := fs.Int("limit", 0, "at most `n` quants (0: to the tip)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("chain", pos, 0, 0); err != nil {
		return err
	}
	if *limit < 0 {
		return usagef("chain: --limit must not be negative")
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	w := bufio.NewWriter(e.stdout)
	n := 0
	err = c.JSONChain(ctx, *from, *limit, func(q api.SeedQuant) error {
		b, err := json.MarshalIndent(q, "  ", "  ")
		if err != nil {
			return err
		}
		sep := ",\n  "
		if n == 0 {
			sep = "[\n  "
		}
		n++
		w.WriteString(sep)
		w.Write(b)
		return nil
	})
	if n == 0 {
		w.WriteString("[")
	} else {
		w.WriteString("\n")
	}
	w.WriteString("]\n")
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}
