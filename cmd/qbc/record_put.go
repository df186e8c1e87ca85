package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/qbc-chain/qbc/internal/quant"
)

const recordPutHelp = `Usage: qbc record put [flags] KEY JSON|-

Write a new version of the record KEY (UTF-8, up to 256 bytes, no control
characters): a transaction naming the key, stamped with the time and a
random nonce, signed with --key (and cosigned with --cosign) or unsigned,
sent to the chain's pool (POST /v1/chains/{id}/txs). The value is any JSON
value ("-" reads standard input; --string takes the argument as a string).
Prints the transaction's id; the version is the key's latest once a quant
holds it ('qbc record get KEY').

A write may set a lock on its key, which every node then checks on every
later write (refused with 403 and the lock's code):
  --owners K1,K2,.. --threshold N   later writes need N of these keys to sign
                                    (the writer's --key and --cosign keys)
  --hash-of SECRET | --hash HEX     the next write must --reveal the secret
  --not-before-height H             no write below height H
  --not-before-time T               no write before T (RFC 3339 or Unix ms)
  --write-once                      no later write at all
  --append-only                     later versions, but the lock stays
  --unlock                          clear the lock (if the lock allows)
A write that sets no lock flag keeps the lock in force. Owner keys are
64-digit hex public keys ('qbc keys public') or key files.

--encrypt-to READERS encrypts the value on this machine to its readers
(public keys as 'qbc keys public' prints them, files holding them, age
recipients), so that nodes hold only ciphertext; with --encrypt-fields
/a,/b only those fields. 'qbc record get --identity KEYFILE' decrypts.
The key, the lock and the signers stay readable: every node checks them.

Zero-knowledge proofs (docs/zk.md; proving keys from the node, or from
--zk-keys DIR, checked against the chain's rules):
  --zk-identity FILE                write as an anonymous member of the group
                                    whose prefix KEY is under, unsigned: once
                                    per member per directory of keys (the
                                    nullifier's scope is KEY up to its last
                                    '/'); a second time is 409 nullifier_used
  --secret-lock FILE                lock: later writes must prove knowledge of
                                    the secret in FILE (made if missing), which
                                    stays secret and opens the lock again and again
  --zk-secret FILE                  prove the secret of the key's secret lock
  --range-value N --range-min A [--range-max B] --blinding FILE
                                    carry a commitment to N (blinding in FILE,
                                    made if missing) and a proof that A <= N <= B
`

const recordPutExample = `qbc record put orders/42 '{"total":42}'
qbc record put --key alice.key --owners alice.key,bob.key,carol.key --threshold 2 orders/42 '{"total":42}'
qbc record put --key alice.key --cosign bob.key orders/42 '{"total":43}'
qbc record put --hash-of s3cret vault/1 '"sealed"' && qbc record put --reveal s3cret vault/1 '"opened"'
qbc record put --encrypt-to alice.pub,bob.pub patients/7 '{"diagnosis":"..."}'
qbc record put --zk-identity me.id club/polls/1/ballot-x '"yes"'
qbc record put --secret-lock vault.secret vault/2 '"sealed"' && qbc record put --zk-secret vault.secret vault/2 '"v2"'
qbc record put --range-value 42 --range-min 18 --blinding age.blind ages/alice '{"adult":true}'`

func runRecordPut(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "record put", recordPutHelp, recordPutExample)
	nf := fs.addChainFlags(time.Minute)
	keyFile := fs.String("key", "", "sign with the Ed25519 key in `file`")
	cosign := fs.String("cosign", "", "also sign with these key `files` (comma-separated)")
	asString := fs.Bool("string", false, "take the value as a JSON string")
	owners := fs.String("owners", "", "lock: owner `keys` (hex or key files, comma-separated)")
	threshold := fs.Uint("threshold", 0, "lock: how many owners must sign a later write (default all)")
	hashOf := fs.String("hash-of", "", "lock: the next write must reveal this `secret`")
	hashHex := fs.String("hash", "", "lock: the next write must reveal a preimage of this SHA-256 `digest`")
	reveal := fs.String("reveal", "", "the `secret` that opens the key's hash lock")
	nbHeight := fs.Uint64("not-before-height", 0, "lock: no write below this `height`")
	nbTime := fs.String("not-before-time", "", "lock: no write before this `time` (RFC 3339 or Unix ms)")
	writeOnce := fs.Bool("write-once", false, "lock: no later write")
	appendOnly := fs.Bool("append-only", false, "lock: later versions allowed, the lock never dropped")
	unlock := fs.Bool("unlock", false, "clear the key's lock")
	ef := fs.addEncryptFlags()
	zf := zkPutFlags{
		identity: fs.String("zk-identity", "", "write as an anonymous group member: identity `file`"),
		scope:    fs.String("zk-scope", "", "check that the nullifier `scope` is this (it is always the key's directory)"),
		keys:     fs.String("zk-keys", "", "proving keys from `directory` (default: from the node)"),
		lock:     fs.String("secret-lock", "", "lock: later writes prove the secret in `file` (made if missing)"),
		secret:   fs.String("zk-secret", "", "prove the secret lock's secret in `file`"),
		value:    fs.Uint64("range-value", 0, "range: the `value` committed"),
		min:      fs.Uint64("range-min", 0, "range: the least value"),
		max:      fs.Uint64("range-max", 1<<64-1, "range: the greatest value"),
		blinding: fs.String("blinding", "", "range: the blinding's `file` (made if missing)"),
	}
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("record put", pos, 2, 2); err != nil {
		return err
	}
	key := pos[0]
	if err := quant.CheckKey(key); err != nil {
		return usagef("record put: %v", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	lock, err := lockFromFlags(set, *owners, *threshold, *hashOf, *hashHex, *nbHeight, *nbTime, *writeOnce, *appendOnly, *unlock)
	if err != nil {
		return err
	}
	if *cosign != "" && *keyFile == "" {
		return usagef("record put: --cosign needs --key (the writer signs first)")
	}
	enc, err := ef.encrypter("record put")
	if err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	data, err := payload(e, "record put", pos[1], *asString, quant.MaxDataSize)
	if err != nil {
		return err
	}
	id, err := chainOf(ctx, c)
	if err != nil {
		return fmt.Errorf("record put: %w", err)
	}
	nonce, err := randomNonce()
	if err != nil {
		return err
	}
	kind, data, err := enc.apply(data)
	if err != nil {
		return fmt.Errorf("record put: %w", err)
	}
	tx := &quant.Tx{ChainID: id, Time: time.Now().UnixMilli(), Nonce: nonce, Kind: kind, Data: data, Key: key, Lock: lock}
	if *reveal != "" {
		tx.Reveal = []byte(*reveal)
	}
	if err := zf.apply(ctx, c.OnChain(id), set, tx); err != nil {
		return fmt.Errorf("record put: %w", err)
	}
	if err := signWrite(tx, *keyFile, *cosign); err != nil {
		return err
	}
	sub, err := c.OnChain(id).SubmitTx(ctx, tx)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, sub)
}

// signWrite signs tx with the key in keyFile (if any), then cosigns it
// with each key file in cosign (comma-separated).
func signWrite(tx *quant.Tx, keyFile, cosign string) error {
	if keyFile == "" {
		return nil
	}
	k, err := loadKey(keyFile)
	if err != nil {
		return err
	}
	tx.Sign(k)
	for _, f := range strings.Split(cosign, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		ck, err := loadKey(f)
		if err != nil {
			return fmt.Errorf("--cosign: %w", err)
		}
		tx.Cosign(ck)
	}
	return nil
}

// lockFromFlags builds the lock the lock flags describe: nil when none is
// set, an empty lock for --unlock.
func lockFromFlags(set map[string]bool, owners string, threshold uint, hashOf, hashHex string, nbHeight uint64, nbTime string, writeOnce, appendOnly, unlock bool) (*quant.Lock, error) {
	any := false
	for _, f := range []string{"owners", "threshold", "hash-of", "hash", "not-before-height", "not-before-time", "write-once", "append-only"} {
		any = any || set[f]
	}
	if unlock {
		if any {
			return nil, usagef("record put: --unlock sets no lock; leave out the other lock flags")
		}
		return &quant.Lock{}, nil
	}
	if !any {
		return nil, nil
	}
	l := &quant.Lock{NotBeforeHeight: nbHeight, WriteOnce: writeOnce, AppendOnly: appendOnly}
	if owners != "" {
		keys, err := publicKeys("--owners", owners)
		if err != nil {
			return nil, err
		}
		l.Owners = keys
		l.Threshold = uint8(len(keys))
		if set["threshold"] {
			if threshold < 1 || threshold > uint(len(keys)) {
				return nil, usagef("record put: --threshold must be 1 to %d (the number of owners)", len(keys))
			}
			l.Threshold = uint8(threshold)
		}
	} else if set["threshold"] {
		return nil, usagef("record put: --threshold needs --owners")
	}
	switch {
	case hashOf != "" && hashHex != "":
		return nil, usagef("record put: give --hash-of or --hash, not both")
	case hashOf != "":
		h := quant.HashLock([]byte(hashOf))
		l.Hash = &h
	case hashHex != "":
		b, err := hex.DecodeString(hashHex)
		if err != nil || len(b) != quant.HashSize {
			return nil, usagef("record put: --hash must be a 64-digit hex SHA-256 digest")
		}
		h := quant.Hash(b)
		l.Hash = &h
	}
	if nbTime != "" {
		ms, err := parseTimeMs(nbTime)
		if err != nil {
			return nil, usagef("record put: --not-before-time: %v", err)
		}
		l.NotBeforeTime = ms
	}
	if err := l.Check(); err != nil {
		return nil, usagef("record put: %v", err)
	}
	return l, nil
}

// parseTimeMs reads a time as RFC 3339 or Unix milliseconds.
func parseTimeMs(s string) (int64, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UnixMilli(), nil
	}
	var ms int64
	if _, err := fmt.Sscanf(s, "%d", &ms); err != nil || fmt.Sprint(ms) != s || ms < 0 {
		return 0, fmt.Errorf("%q is neither RFC 3339 (2026-12-31T23:00:00Z) nor Unix ms", s)
	}
	return ms, nil
}
