package main

import (
	"context"
	"fmt"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

const injectHelp = `Usage: qbc inject [flags] JSON|-

Add a record to the node's transaction pool, as the seed's POST /inject. The
argument is any JSON value ("-" reads it from standard input); --string
sends the argument as a JSON string instead. The record waits in the pool
until a leap puts it in a quant. Prints the transaction's id.

--chain ID (or QBC_CHAIN) sends it to another chain the node follows;
without either it goes to the node's default chain.

Without --key the record is unsigned and goes to POST /inject (POST
/v1/chains/{id}/inject with --chain); the node stamps the chain, its time
and a random nonce. With --key it is signed: qbc reads the chain id from
the node (GET /v1/chain) unless --chain gives it, stamps the time and a
random nonce, signs, and sends the transaction to POST /v1/txs (POST
/v1/chains/{id}/txs with --chain).
`

const injectExample = `qbc inject --node 127.0.0.1:5000 '{"test":"test2"}'
echo '{"sensor":7,"temp":21.5}' | qbc inject --key writer.key -
qbc inject --chain "$TEMPS" '{"sensor":7,"temp":21.5}'`

func runInject(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "inject", injectHelp, injectExample)
	nf := fs.addChainFlags(time.Minute)
	keyFile := fs.String("key", "", "sign with the Ed25519 key in `file` (see 'qbc keys new')")
	asString := fs.Bool("string", false, "send the argument as a JSON string")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("inject", pos, 1, 1); err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	data, err := payload(e, "inject", pos[0], *asString, quant.MaxDataSize)
	if err != nil {
		return err
	}
	if *keyFile == "" {
		sub, err := c.Inject(ctx, data)
		if err != nil {
			return err
		}
		return writeJSON(e.stdout, sub)
	}
	key, err := loadKey(*keyFile)
	if err != nil {
		return err
	}
	id := c.ChainID()
	if id.IsZero() {
		ch, err := c.Chain(ctx)
		if err != nil {
			return fmt.Errorf("inject: reading the chain id: %w", err)
		}
		id = ch.ID
	}
	nonce, err := randomNonce()
	if err != nil {
		return err
	}
	sub, err := c.SubmitTx(ctx, newSignedTx(id, data, key, time.Now().UnixMilli(), nonce))
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, sub)
}
