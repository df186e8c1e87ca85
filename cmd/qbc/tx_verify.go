package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/proof"
	"github.com/qbc-chain/qbc/internal/quant"
)

const txVerifyHelp = `Usage: qbc tx verify FILE|-
       qbc tx verify --proof FILE|- --trust HASH

Check a transaction offline, with no node.

With FILE: check its signature. Read one transaction as JSON ('qbc tx
sign' output, or the "tx" of 'qbc tx get'), rebuild its canonical
encoding, and verify its Ed25519 signature and, if the JSON names one, its
id. Prints "ok", the id and the signer's public key; fails on an unsigned,
tampered or malformed transaction.

With --proof: check that the transaction is on the chain, up to a quant
you trust. Read a saved answer of 'qbc tx get --proof' (or its
"proof_full" alone) and check: the transaction's id is the hash of its
bytes; its Merkle path leads to the tx_root of its quant's header; each
later header names the one before it; and the hash of its quant or of a
later one is --trust. Prints "ok" with the id, the height and the
confirmations up to the trusted quant; exits 1 naming the check that
failed. --trust must come from somewhere you trust (your own node, the
tip another node's 'qbc stats' reports, a published checkpoint): the
proof shows only that the transaction is under that hash. --chain (or
QBC_CHAIN), when set, is the chain the transaction must be on.
`

const txVerifyExample = `qbc tx verify tx.json
qbc tx get --proof "$ID" > saved.json
qbc tx verify --proof saved.json --trust "$(qbc stats --node other:5000 | jq -r .tip)"`

func runTxVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "tx verify", txVerifyHelp, txVerifyExample)
	proofFile := fs.String("proof", "", "check the inclusion proof in `FILE` (a saved 'qbc tx get --proof'; - for standard input)")
	trustFlag := fs.String("trust", "", "with --proof: the `HASH` of a quant you trust")
	chainFlag := fs.String("chain", e.getenv("QBC_CHAIN"), "the `ID` of the chain the transaction must be on (default from QBC_CHAIN; none: any)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	chain, err := nodeFlags{chain: chainFlag}.chainID()
	if err != nil {
		return err
	}
	if *proofFile != "" {
		if err := wantArgs("tx verify", pos, 0, 0); err != nil {
			return err
		}
		return verifyProof(e, *proofFile, *trustFlag, chain)
	}
	if *trustFlag != "" {
		return usagef("tx verify: --trust needs --proof")
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
	if err := wantChain(tx, chain); err != nil {
		return err
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

// verifyProof is 'qbc tx verify --proof FILE --trust HASH': it checks the
// proof in a saved answer against the trusted hash, and the transaction's
// chain against chain unless it is zero.
func verifyProof(e *env, file, trustArg string, chain quant.Hash) error {
	if trustArg == "" {
		return usagef("tx verify: --proof needs --trust HASH, the hash of a quant you trust\nRun 'qbc tx verify --help' for usage.")
	}
	trusted, err := quant.ParseHash(trustArg)
	if err != nil {
		return usagef("tx verify: --trust: %v", err)
	}
	b, err := readInput(e, file, proof.MaxJSONSize+4*quant.MaxTxSize)
	if err != nil {
		return fmt.Errorf("tx verify: %w", err)
	}
	p, err := savedProof(b)
	if err != nil {
		return fmt.Errorf("tx verify: %s: %w", file, err)
	}
	v, err := proof.Verify(p, trusted)
	if err != nil {
		return fmt.Errorf("tx verify: %s: %w", file, err)
	}
	if err := wantChain(v.Tx, chain); err != nil {
		return err
	}
	// The chain checked the signature when it took the transaction; it
	// is checked again here, so the writer is known from the proof too.
	signer := "unsigned"
	if v.Tx.Signed() {
		if err := quant.CheckTxSignature(v.Tx); err != nil {
			return fmt.Errorf("tx verify: transaction %s: %w", v.ID, err)
		}
		signer = "signed by " + hex.EncodeToString(v.Tx.PubKey)
	}
	confirmations := fmt.Sprintf("%d confirmations", v.Confirmations())
	if v.Confirmations() == 1 {
		confirmations = "1 confirmation"
	}
	fmt.Fprintf(e.stdout, "ok: transaction %s at height %d (quant %s, index %d) on chain %s, %s up to trusted quant %s at height %d, %s\n",
		v.ID, v.Height, v.Quant, v.Index, v.Chain, confirmations, trusted, v.TrustedHeight, signer)
	return nil
}

// savedProof finds the proof in a saved answer of 'qbc tx get --proof'
// (its "proof_full"), or takes b as a proof on its own.
func savedProof(b []byte) (*proof.Proof, error) {
	var saved struct {
		Status string          `json:"status"`
		Full   json.RawMessage `json:"proof_full"`
	}
	if err := json.Unmarshal(b, &saved); err != nil {
		return nil, err
	}
	switch {
	case saved.Full != nil:
		return proof.Decode(saved.Full)
	case saved.Status != "":
		return nil, fmt.Errorf("the answer (status %s) has no proof_full: save the answer of 'qbc tx get --proof ID' once the transaction is committed", saved.Status)
	}
	return proof.Decode(b)
}

// wantChain refuses a transaction that names another chain than chain,
// unless chain is zero (any).
func wantChain(tx *quant.Tx, chain quant.Hash) error {
	if !chain.IsZero() && tx.ChainID != chain {
		return fmt.Errorf("tx verify: transaction %s is on chain %s, not %s (--chain)", tx.ID(), tx.ChainID, chain)
	}
	return nil
}
