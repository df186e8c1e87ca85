package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

const txVerifyHelp = `Usage: qbc tx verify FILE|-

Check a transaction's signature offline: read one transaction as JSON
('qbc tx sign' output, or the "tx" of 'qbc tx get'), rebuild its canonical
encoding, and verify its Ed25519 signature and, if the JSON names one, its
id. Prints "ok", the id and the signer's public key; fails on an unsigned,
tampered or malformed transaction.
`

const txVerifyExample = `qbc tx verify tx.json`

func runTxVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "tx verify", txVerifyHelp, txVerifyExample)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("tx verify", pos, 1, 1); err != nil {
		return err
	}
	b, err := readInput(e, pos[0], 4*quant.MaxTxSize)
	if err != nil {
		return fmt.Errorf("tx verify: %w", err)
	}
	var item api.Tx
	if err := json.Unmarshal(b, &item); err != nil {
		return fmt.Errorf("tx verify: %s: %w", pos[0], err)
	}
	tx, err := item.ToTx() // checks a given id against the transaction
	if err != nil {
		return fmt.Errorf("tx verify: %w", err)
	}
	if !tx.Signed() {
		return fmt.Errorf("tx verify: transaction %s is not signed", tx.ID())
	}
	if err := quant.CheckTxSanity(tx, quant.MaxDataSize); err != nil {
		return fmt.Errorf("tx verify: transaction %s: %w", tx.ID(), err)
	}
	fmt.Fprintf(e.stdout, "ok: transaction %s signed by %s\n", tx.ID(), hex.EncodeToString(tx.PubKey))
	return nil
}
