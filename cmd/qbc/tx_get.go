package main

import (
	"context"
	"fmt"
	"time"

	"filippo.io/age"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/quant"
)

// decryptedTxStatus is a transaction's status with what --identity
// decrypted: the JSON pointers of the decrypted values ("" the whole
// value); always present, empty when nothing was encrypted.
type decryptedTxStatus struct {
	api.TxStatus
	Decrypted []string `json:"decrypted"`
}

const txGetHelp = `Usage: qbc tx get [flags] ID

Print a transaction's status (GET /v1/txs/{id}): "pending" while it waits
in the pool, or "committed" with the quant, height and index it sits at, its
confirmations, and the Merkle proof that its id is under the quant's
tx_root. An id the node does not know is an error (not_found). --chain
(or QBC_CHAIN) asks about another chain the node follows (GET
/v1/chains/{id}/txs/{id}).

--proof adds "proof_full" (?proof=full): the proof that 'qbc tx verify
--proof' checks offline, with no node, against a quant hash you trust. It
leads to the node's tip, or to the quant --to names (which must descend
from the transaction's); a node serves at most 10,000 headers above the
transaction's quant. A pending transaction has no proof yet: an error.

--identity KEYFILE decrypts what it can of a value encrypted to its
readers ('qbc inject --encrypt-to'): a qbc key file (its public key is the
reader's, as 'qbc keys public' prints it), a node's key file or an age
identity file; several, comma-separated. A whole value encrypted shows as
its JSON value, each encrypted field as its value, and "decrypted" lists
the JSON pointers of what was decrypted ("" for the whole value). If the
keys open nothing that is encrypted, it fails (not a reader); if they open
some fields and not others, it prints what it decrypted and names the rest
on standard error.
`

const txGetExample = `qbc tx get --node 127.0.0.1:5000 "$(qbc inject '{"a":1}' | jq -r .id)"
qbc tx get --chain "$TEMPS" "$(qbc inject --chain "$TEMPS" '{"temp":21}' | jq -r .id)"
qbc tx get --proof "$ID" > saved.json
qbc tx verify --proof saved.json --trust "$(qbc stats --node other:5000 | jq -r .tip)"
qbc tx get --identity alice.key "$ID"`

func runTxGet(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "tx get", txGetHelp, txGetExample)
	nf := fs.addChainFlags(time.Minute)
	withProof := fs.Bool("proof", false, "add the proof a client checks offline (proof_full)")
	toFlag := fs.String("to", "", "with --proof: the `HASH` of the quant the proof leads to (default the tip)")
	identity := fs.String("identity", "", "decrypt what the key `files` (comma-separated) can read")
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
	to, err := proofTo("tx get", *withProof, *toFlag)
	if err != nil {
		return err
	}
	ids, err := loadIdentities("tx get", *identity)
	if err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	var st api.TxStatus
	if *withProof {
		st, err = c.TxProof(ctx, id, to)
	} else {
		st, err = c.Tx(ctx, id)
	}
	if err != nil {
		return err
	}
	if *withProof && st.Full == nil {
		return fmt.Errorf("tx get: transaction %s is %s: it has no proof until it is committed", id, st.Status)
	}
	if ids == nil {
		return writeJSON(e.stdout, st)
	}
	done, err := decryptShown(e, "tx get", &st.Tx, ids)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, decryptedTxStatus{TxStatus: st, Decrypted: done})
}

// proofTo reads --to, the quant an offline proof leads to (zero: the
// tip), which only --proof takes.
func proofTo(cmd string, withProof bool, toFlag string) (quant.Hash, error) {
	if toFlag == "" {
		return quant.Hash{}, nil
	}
	if !withProof {
		return quant.Hash{}, usagef("%s: --to needs --proof", cmd)
	}
	to, err := quant.ParseHash(toFlag)
	if err != nil {
		return quant.Hash{}, usagef("%s: --to: %v", cmd, err)
	}
	return to, nil
}

// decryptShown decrypts what ids can of a transaction as a command shows
// it (decryptTx) and returns the JSON pointers decrypted (never nil). It
// fails when nothing encrypted opened; when only some did, it names the
// rest on standard error.
func decryptShown(e *env, cmd string, t *api.Tx, ids []age.Identity) ([]string, error) {
	done, err := decryptTx(t, ids)
	if err != nil && len(done) == 0 {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: not decrypted: %v\n", cmd, err)
	}
	if done == nil {
		done = []string{}
	}
	return done, nil
}
