package main

import (
	"context"
	"time"
)

const statsHelp = `Usage: qbc stats [flags]

Print the node's chain stats (GET /stats): the chain's id, name and engine,
its length and tip, accumulated work, committed transactions, the pool, the
recent quant rate and the number of peers.
`

const statsExample = `qbc stats --node 127.0.0.1:5000`

func runStats(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "stats", statsHelp, statsExample)
	nf := fs.addNodeFlags(time.Minute)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("stats", pos, 0, 0); err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	s, err := c.Stats(ctx)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, s)
}
