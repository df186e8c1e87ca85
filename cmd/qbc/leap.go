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
`

const leapExample = `qbc leap --node 127.0.0.1:5000`

func runLeap(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "leap", leapHelp, leapExample)
	nf := fs.addNodeFlags(5 * time.Minute)
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
	q, err := c.Leap(ctx)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, q)
}
