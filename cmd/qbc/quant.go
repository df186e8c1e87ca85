package main

import (
	"context"
	"time"
)

const quantHelp = `Usage: qbc quant [flags] HEIGHT|HASH

Print one quant of the node's chain, by height or hash, with its header and
transactions (or, for the bang, the chain's rules), from GET
/v1/quants/{height|hash}. --chain (or QBC_CHAIN) picks another chain the
node follows (GET /v1/chains/{id}/quants/{height|hash}); on a fork, a height
up to the fork point is the parent's quant there.
`

const quantExample = `qbc quant --node 127.0.0.1:5000 0
qbc quant "$(qbc stats | jq -r .tip)"
QBC_CHAIN="$TEMPS" qbc quant 1`

func runQuant(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "quant", quantHelp, quantExample)
	nf := fs.addChainFlags(time.Minute)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("quant", pos, 1, 1); err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	q, err := c.Quant(ctx, pos[0])
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, q)
}
