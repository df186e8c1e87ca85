package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

const txSignHelp = `Usage: qbc tx sign --key FILE --chain ID [flags] JSON|-

Sign a record offline and print the transaction as JSON, without sending
it ('qbc tx send' does). The argument is any JSON value ("-" reads it from
standard input; --string takes it as a JSON string). The signature covers
the chain id, so it is valid on that chain only; the time (Unix ms) and a
random nonce make each signing a distinct transaction unless --time and
--nonce fix them.

--encrypt-to and --encrypt-fields encrypt the value to its readers before
it is signed, as for 'qbc inject' (the signature covers the ciphertext).
`

const txSignExample = `qbc tx sign --key writer.key --chain "$(qbc stats | jq -r .chain)" '{"a":1}' > tx.json
qbc tx sign --key writer.key --chain "$CHAIN" --encrypt-to "$(qbc keys public reader.key)" '{"a":1}' > tx.json`

func runTxSign(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "tx sign", txSignHelp, txSignExample)
	keyFile := fs.String("key", "", "the Ed25519 key `file` to sign with (required)")
	chainID := fs.String("chain", "", "the chain `id` (required; 'qbc stats' shows it)")
	timeMs := fs.Int64("time", 0, "the transaction's time in Unix `ms` (default now)")
	nonce := fs.Uint64("nonce", 0, "the transaction's `nonce` (default random)")
	asString := fs.Bool("string", false, "take the argument as a JSON string")
	ef := fs.addEncryptFlags()
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("tx sign", pos, 1, 1); err != nil {
		return err
	}
	if *keyFile == "" {
		return usagef("tx sign: --key is required\nRun 'qbc tx sign --help' for usage.")
	}
	if *chainID == "" {
		return usagef("tx sign: --chain is required\nRun 'qbc tx sign --help' for usage.")
	}
	chain, err := quant.ParseHash(*chainID)
	if err != nil {
		return usagef("tx sign: --chain: %v", err)
	}
	enc, err := ef.encrypter("tx sign")
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["time"] {
		*timeMs = time.Now().UnixMilli()
	}
	if !set["nonce"] {
		if *nonce, err = randomNonce(); err != nil {
			return err
		}
	}
	key, err := loadKey(*keyFile)
	if err != nil {
		return err
	}
	data, err := payload(e, "tx sign", pos[0], *asString, quant.MaxDataSize)
	if err != nil {
		return err
	}
	kind, data, err := enc.apply(data)
	if err != nil {
		return fmt.Errorf("tx sign: %w", err)
	}
	return writeJSON(e.stdout, api.FromTx(newTx(chain, kind, data, key, *timeMs, *nonce)))
}
