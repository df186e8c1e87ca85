package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
)

const recordGetHelp = `Usage: qbc record get [flags] KEY

Print the latest version of the record KEY as JSON: the key, the lock in
force, and the transaction holding the value with where it is committed
(quant, height, confirmations) and its Merkle inclusion proof. --value
prints the value alone. --proof adds the proof a client checks offline
("proof_full", to the tip or to --to HASH): save the answer and check it
with 'qbc record verify'. --identity KEYFILE decrypts what it can of a
value encrypted to its readers (as 'qbc tx get --identity' does).

A record under a read-gated group's prefix (docs/zk.md) is served only to
a member: --zk IDENTITY proves membership, anonymously, bound to a fresh
challenge from the node (the proving key from the node, or --zk-keys DIR,
checked against the chain's rules).
`

const recordGetExample = `qbc record get orders/42
qbc record get --value orders/42 | jq .total
qbc record get --proof orders/42 > order42.json
qbc record get --zk me.id hr/salaries`

func runRecordGet(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "record get", recordGetHelp, recordGetExample)
	nf := fs.addChainFlags(time.Minute)
	valueOnly := fs.Bool("value", false, "print the value alone")
	withProof := fs.Bool("proof", false, "add the proof a client checks offline (proof_full)")
	toFlag := fs.String("to", "", "with --proof: the `HASH` of the quant the proof leads to (default the tip)")
	identity := fs.String("identity", "", "decrypt what the key `files` (comma-separated) can read")
	zkID := fs.String("zk", "", "read as a group member: the identity `file` ('qbc zk identity new')")
	zkKeys := fs.String("zk-keys", "", "proving keys from `directory` (default: from the node)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("record get", pos, 1, 1); err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	to, err := proofTo("record get", *withProof, *toFlag)
	if err != nil {
		return err
	}
	ids, err := loadIdentities("record get", *identity)
	if err != nil {
		return err
	}
	var rec api.Record
	if *zkID != "" {
		rec, err = zkRead(ctx, c, pos[0], *zkID, *zkKeys)
	} else if *withProof {
		rec, err = c.RecordProof(ctx, pos[0], to)
	} else {
		rec, err = c.Record(ctx, pos[0])
	}
	if err != nil {
		return err
	}
	if ids != nil {
		if _, err := decryptShown(e, "record get", &rec.Tx, ids); err != nil {
			return err
		}
	}
	if *valueOnly {
		_, err := e.stdout.Write(append(rec.Tx.Data, '\n'))
		return err
	}
	return writeJSON(e.stdout, rec)
}

const recordHistoryHelp = `Usage: qbc record history [flags] KEY

Print the versions of the record KEY, oldest first: each one's height,
index, transaction id, time, signer and the lock in force after it. Pages
of --limit versions (at most 1,000); --after takes a page's "next" to go on.
`

const recordHistoryExample = `qbc record history orders/42
qbc record history --limit 10 --after 17.0 orders/42`

func runRecordHistory(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "record history", recordHistoryHelp, recordHistoryExample)
	nf := fs.addChainFlags(time.Minute)
	after := fs.String("after", "", "start after this `cursor` (a page's next)")
	limit := fs.Int("limit", 0, "at most this many `versions` (default 100)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("record history", pos, 1, 1); err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	h, err := c.History(ctx, pos[0], *after, *limit)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, h)
}

const recordListHelp = `Usage: qbc record list [flags]

Print the record keys on a chain in byte order, those starting with
--prefix if given. Pages of --limit keys (at most 1,000); --after takes a
page's "next" to go on.
`

const recordListExample = `qbc record list --prefix orders/`

func runRecordList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "record list", recordListHelp, recordListExample)
	nf := fs.addChainFlags(time.Minute)
	prefix := fs.String("prefix", "", "only keys starting with this `prefix`")
	after := fs.String("after", "", "start after this `key` (a page's next)")
	limit := fs.Int("limit", 0, "at most this many `keys` (default 100)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("record list", pos, 0, 0); err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	ks, err := c.Keys(ctx, *prefix, *after, *limit)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, ks)
}

// zkRead reads a read-gated record as a member of its group.
func zkRead(ctx context.Context, c *client.Client, key, identity, keyDir string) (api.Record, error) {
	s, err := loadIdentity(identity)
	if err != nil {
		return api.Record{}, fmt.Errorf("record get: --zk: %w", err)
	}
	id, err := chainOf(ctx, c)
	if err != nil {
		return api.Record{}, err
	}
	c = c.OnChain(id)
	rules, err := c.ZKRules(ctx)
	if err != nil {
		return api.Record{}, err
	}
	k, err := chainKeys(ctx, c, rules, zk.Membership, keyDir)
	if err != nil {
		return api.Record{}, err
	}
	return c.ZKReadAnonymous(ctx, k, rules, key, s)
}

// chainKeys returns circuit's keys for the chain: the proving key from
// keyDir if set, else from the node; either way checked against the rules.
func chainKeys(ctx context.Context, c *client.Client, rules *quant.Rules, circuit zk.Circuit, keyDir string) (*zk.Keys, error) {
	var pk []byte
	if keyDir != "" {
		b, err := os.ReadFile(filepath.Join(keyDir, circuit.String()+".pk"))
		if err != nil {
			return nil, err
		}
		pk = b
	}
	return c.ZKKeys(ctx, rules, circuit, pk)
}
