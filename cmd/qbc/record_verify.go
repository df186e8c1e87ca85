package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/proof"
	"github.com/qbc-chain/qbc/internal/quant"
)

const recordVerifyHelp = `Usage: qbc record verify [flags] --trust HASH FILE|-

Check a saved record offline, with no node: read an answer of 'qbc record
get --proof KEY' and check that its value is the value of a transaction
that writes KEY and is on the chain up to the quant --trust names (the
same checks as 'qbc tx verify --proof'), and that the answer's key and
transaction are the proven ones. Any changed byte of the value, the key,
the path or the headers fails it. Prints "ok" with the key, the height and
the value; exits 1 naming what failed.

What it proves: this version of KEY was written at that height, under the
trusted hash. Not that it is still the latest: a later version would be
at a greater height (ask for a proof again to see it). --key KEY checks
the key; --chain (or QBC_CHAIN) the chain.
`

const recordVerifyExample = `qbc record get --proof orders/42 > order42.json
qbc record verify --trust "$(qbc stats --node other:5000 | jq -r .tip)" order42.json`

func runRecordVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "record verify", recordVerifyHelp, recordVerifyExample)
	trustFlag := fs.String("trust", "", "the `HASH` of a quant you trust (required)")
	keyFlag := fs.String("key", "", "the record `key` the answer must be of")
	chainFlag := fs.String("chain", e.getenv("QBC_CHAIN"), "the `ID` of the chain the record must be on (default from QBC_CHAIN; none: any)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("record verify", pos, 1, 1); err != nil {
		return err
	}
	if *trustFlag == "" {
		return usagef("record verify: --trust HASH is required: the hash of a quant you trust\nRun 'qbc record verify --help' for usage.")
	}
	trusted, err := quant.ParseHash(*trustFlag)
	if err != nil {
		return usagef("record verify: --trust: %v", err)
	}
	chain, err := nodeFlags{chain: chainFlag}.chainID()
	if err != nil {
		return err
	}
	b, err := readInput(e, pos[0], proof.MaxJSONSize+4*quant.MaxTxSize)
	if err != nil {
		return fmt.Errorf("record verify: %w", err)
	}
	var rec api.Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return fmt.Errorf("record verify: %s: %w", pos[0], err)
	}
	if rec.Full == nil {
		return fmt.Errorf("record verify: %s has no proof_full: save the answer of 'qbc record get --proof KEY'", pos[0])
	}
	v, err := proof.Verify(rec.Full, trusted)
	if err != nil {
		return fmt.Errorf("record verify: %s: %w", pos[0], err)
	}
	if err := wantChain(v.Tx, chain); err != nil {
		return err
	}
	switch {
	case v.Tx.Key == "":
		return fmt.Errorf("record verify: transaction %s writes no key", v.ID)
	case v.Tx.Key != rec.Key:
		return fmt.Errorf("record verify: the answer says key %q, the proven transaction writes %q", rec.Key, v.Tx.Key)
	case *keyFlag != "" && v.Tx.Key != *keyFlag:
		return fmt.Errorf("record verify: the record is of key %q, not %q (--key)", v.Tx.Key, *keyFlag)
	}
	// The answer's value must be the proven transaction's, byte for byte.
	shown, err := rec.Tx.ToTx()
	if err != nil || !bytes.Equal(shown.Encode(), v.Tx.Encode()) {
		return fmt.Errorf("record verify: the answer's transaction is not the proven one (%s)", v.ID)
	}
	if v.Tx.Signed() {
		if err := quant.CheckTxSignature(v.Tx); err != nil {
			return fmt.Errorf("record verify: transaction %s: %w", v.ID, err)
		}
	}
	fmt.Fprintf(e.stdout, "ok: record %q at height %d (transaction %s), %d confirmations up to trusted quant %s: %s\n",
		v.Tx.Key, v.Height, v.ID, v.Confirmations(), trusted, api.FromTx(v.Tx).Data)
	return nil
}
