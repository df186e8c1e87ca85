package main

import (
	"context"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

const txGetHelp = `Usage: qbc tx get [flags] ID

Print a transaction's status (GET /v1/txs/{id}): "pending" while it waits
in the pool, or "committed" with the quant, height and index it sits at, its
confirmations, and the Merkle proof that its id is under the quant's
tx_root. An id the node does not know is an error (not_found). --chain
(or QBC_CHAIN) asks about another chain the node follows (GET
/v1/chains/{id}/txs/{id}).
`

const txGetExample = `qbc tx get --node 127.0.0.1:5000 "$(qbc inject '{"a":1}' | jq -r .id)"
qbc tx get --chain "$TEMPS" "$(qbc inject --chain "$TEMPS" '{"temp":21}' | jq -r .id)"`

func runTxGet(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "tx get", txGetHelp, txGetExample)
	nf := fs.addChainFlags(time.Minute)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("tx get", pos, 1, 1); err != nil {
		return err
	}
	id, err := quant.ParseHash(pos[0])
	if err != nil {
		return usagef("tx get: ID: %v", err)
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	st, err := c.Tx(ctx, id)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, st)
}
