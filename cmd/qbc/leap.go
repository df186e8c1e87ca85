package main

import (
	"context"
	"time"
)

const leapHelp = `Usage: qbc leap [flags]

Ask the node to make a quant now from the transactions in its pool (the
seed's GET /leap: mine, seal or order it, by the chain's engine) and print
it, once committed, in the seed's JSON shape: index, timestamp, data,
previous_hash, proof, plus its hash and transaction ids.

With --chain (or QBC_CHAIN) it leaps on another chain the node follows
(POST /v1/chains/{id}/leap) and prints the quant as that route answers it:
its header (chain, height, prev, time, ...) and its transactions.
`

const leapExample = `qbc leap --node 127.0.0.1:5000
qbc leap --chain "$TEMPS"`

func runLeap(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "leap", leapHelp, leapExample)
	nf := fs.addChainFlags(5 * time.Minute)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("leap", pos, 0, 0); err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	if !c.ChainID().IsZero() {
		q, err := c.LeapQuant(ctx)
		if err != nil {
			return err
		}
		return writeJSON(e.stdout, q)
	}
	q, err := c.Leap(ctx)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, q)
}
