package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/qbc-chain/qbc/internal/quant"
)

const txHelp = `Usage: qbc tx SUBCOMMAND [flags] [arguments]

Work with transactions: the records a chain holds.

Subcommands:
  get      print a transaction's status: pending, or committed with its
           quant, height, confirmations and Merkle inclusion proof
           (--proof: also the proof 'verify --proof' checks offline)
  sign     sign a record offline and print the transaction as JSON
  send     send signed transactions (from 'qbc tx sign') to a node
  verify   check a transaction's signature offline, or (--proof FILE
           --trust HASH) that a saved transaction is under a trusted quant
`

const txExample = `qbc tx sign --key writer.key --chain "$(qbc stats | jq -r .chain)" '{"a":1}' > tx.json
qbc tx verify tx.json
qbc tx send tx.json
qbc tx get "$(jq -r .id tx.json)"
qbc tx get --proof "$(jq -r .id tx.json)" > saved.json
qbc tx verify --proof saved.json --trust "$(qbc stats | jq -r .tip)"`

func runTx(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, args, "tx", txHelp, txExample, txCommands())
}

func txCommands() []command {
	return []command{
		{"get", "print a transaction's status", runTxGet},
		{"sign", "sign a record offline", runTxSign},
		{"send", "send signed transactions", runTxSend},
		{"verify", "check a transaction's signature, or its proof", runTxVerify},
	}
}

// newSignedTx makes a JSON transaction for chain, with data (compact
// JSON), stamped timeMs and nonce, signed with key.
func newSignedTx(chain quant.Hash, data []byte, key ed25519.PrivateKey, timeMs int64, nonce uint64) *quant.Tx {
	tx := &quant.Tx{ChainID: chain, Time: timeMs, Nonce: nonce, Kind: quant.DataJSON, Data: data}
	tx.Sign(key)
	return tx
}

// randomNonce returns a random nonce, so that two equal records signed in
// the same millisecond are still two transactions.
func randomNonce() (uint64, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("nonce: %w", err)
	}
	return binary.BigEndian.Uint64(b[:]), nil
}
