package main

import (
	"context"
	"time"
)

const statsHelp = `Usage: qbc stats [flags]

Print the node's chain stats (GET /stats): the chain's id, name and engine,
its length and tip, accumulated work, committed transactions, the pool, the
recent quant rate and the number of peers. --chain (or QBC_CHAIN) picks
another chain the node follows (GET /v1/chains/{id}/stats).
`

const statsExample = `qbc stats --node 127.0.0.1:5000
qbc stats --chain "$(qbc chain list | jq -r '.[1].id')"`

func runStats(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "stats", statsHelp, statsExample)
	nf := fs.addChainFlags(time.Minute)
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
