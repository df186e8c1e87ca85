package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/quant"
)

const txSendHelp = `Usage: qbc tx send [flags] FILE|-

Send transactions, as 'qbc tx sign' prints them, to the pool of the chain
they were signed for (POST /v1/chains/{id}/txs, the id read from the
first transaction; --chain or QBC_CHAIN names it instead). The file ("-":
standard input) holds one transaction, or a JSON array of them, sent as one
batch. Each goes in its canonical encoding, so
the node sees exactly the bytes that were signed. Prints the id (or, for a
batch, each one's id or error); fails if any transaction was refused.

--encrypt-to (and --encrypt-fields) encrypts the JSON value of unsigned
transactions to their readers before sending, as for 'qbc inject'. A signed
transaction cannot be changed without breaking its signature: encrypt it
when signing ('qbc tx sign --encrypt-to').
`

const txSendExample = `qbc tx send --node 127.0.0.1:5000 tx.json
qbc tx sign --key writer.key --chain "$CHAIN" '{"a":1}' | qbc tx send -
qbc tx send --encrypt-to "$(qbc keys public reader.key)" unsigned-tx.json`

func runTxSend(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "tx send", txSendHelp, txSendExample)
	nf := fs.addChainFlags(time.Minute)
	ef := fs.addEncryptFlags()
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("tx send", pos, 1, 1); err != nil {
		return err
	}
	enc, err := ef.encrypter("tx send")
	if err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	b, err := readInput(e, pos[0], client.MaxLargeResponse)
	if err != nil {
		return fmt.Errorf("tx send: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var items []api.Tx
		if err := json.Unmarshal(b, &items); err != nil {
			return fmt.Errorf("tx send: %s: %w", pos[0], err)
		}
		txs := make([]*quant.Tx, len(items))
		for i := range items {
			if txs[i], err = items[i].ToTx(); err != nil {
				return fmt.Errorf("tx send: transaction %d: %w", i, err)
			}
			if err := enc.applyTx(txs[i]); err != nil {
				return fmt.Errorf("tx send: transaction %d: %w", i, err)
			}
		}
		if len(txs) > 0 {
			c = onTxChain(c, txs[0])
		}
		res, err := c.SubmitBatch(ctx, txs)
		if err != nil {
			return err
		}
		if err := writeJSON(e.stdout, res); err != nil {
			return err
		}
		if res.Rejected > 0 {
			return fmt.Errorf("tx send: %d of %d transactions refused", res.Rejected, len(txs))
		}
		return nil
	}
	var item api.Tx
	if err := json.Unmarshal(b, &item); err != nil {
		return fmt.Errorf("tx send: %s: %w", pos[0], err)
	}
	tx, err := item.ToTx()
	if err != nil {
		return fmt.Errorf("tx send: %w", err)
	}
	if err := enc.applyTx(tx); err != nil {
		return fmt.Errorf("tx send: the transaction: %w", err)
	}
	sub, err := onTxChain(c, tx).SubmitTx(ctx, tx)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, sub)
}

// onTxChain returns c, or, when --chain named no chain, a client for the
// chain tx was made for, so that it goes to that chain's routes.
func onTxChain(c *client.Client, tx *quant.Tx) *client.Client {
	if c.ChainID().IsZero() {
		return c.OnChain(tx.ChainID)
	}
	return c
}
