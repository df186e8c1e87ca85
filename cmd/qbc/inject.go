package main

import (
	"context"
	"crypto/ed25519"
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

--encrypt-to READERS encrypts the record here, before it leaves, to each
reader (comma-separated: the hex public key 'qbc keys public' prints, an
ssh-ed25519 key, an age1... recipient, or a file holding them), with age:
the node stores only ciphertext, and 'qbc tx get --identity KEY' reads it.
The whole value becomes a bytes payload (the transaction goes to POST
/v1/txs, signed or not); with --encrypt-fields /a,/b only the JSON fields
at those pointers are encrypted, each replaced by a string "age:..." and the
rest left readable (what a chain with "encrypted_fields" in its rules
needs, its schema checking the rest).
`

const injectExample = `qbc inject --node 127.0.0.1:5000 '{"test":"test2"}'
echo '{"sensor":7,"temp":21.5}' | qbc inject --key writer.key -
qbc inject --chain "$TEMPS" '{"sensor":7,"temp":21.5}'
qbc inject --encrypt-to "$(qbc keys public alice.key),bob.pub" '{"diagnosis":"..."}'
qbc inject --chain "$WARD" --encrypt-to alice.pub --encrypt-fields /patient/name '{"patient":{"name":"Ada"},"ward":7}'`

func runInject(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "inject", injectHelp, injectExample)
	nf := fs.addChainFlags(time.Minute)
	keyFile := fs.String("key", "", "sign with the Ed25519 key in `file` (see 'qbc keys new')")
	asString := fs.Bool("string", false, "send the argument as a JSON string")
	ef := fs.addEncryptFlags()
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("inject", pos, 1, 1); err != nil {
		return err
	}
	enc, err := ef.encrypter("inject")
	if err != nil {
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
	kind, data, err := enc.apply(data)
	if err != nil {
		return fmt.Errorf("inject: %w", err)
	}
	if *keyFile == "" && kind == quant.DataJSON {
		sub, err := c.Inject(ctx, data)
		if err != nil {
			return err
		}
		return writeJSON(e.stdout, sub)
	}
	var key ed25519.PrivateKey // nil: unsigned
	if *keyFile != "" {
		if key, err = loadKey(*keyFile); err != nil {
			return err
		}
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
	sub, err := c.SubmitTx(ctx, newTx(id, kind, data, key, time.Now().UnixMilli(), nonce))
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, sub)
}
