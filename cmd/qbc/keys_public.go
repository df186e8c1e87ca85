package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
)

const keysPublicHelp = `Usage: qbc keys public FILE

Print the public key of a key file in hex: what a chain's allowlist
(its rules' "writers") names and a signed transaction's "pubkey" carries.
FILE may also be a node's own key, DATA_DIR/node.key: its public key is
what a poa chain's "authorities" and a raft chain's "members" name.

It is also what --encrypt-to takes (qbc inject, qbc tx sign, qbc tx send),
as the value itself or in a file: a value encrypted to it is read with the
key file as --identity (qbc tx get). The Ed25519 key converts to an X25519
reader key as age's ssh-ed25519 recipients do.
`

const keysPublicExample = `qbc keys public writer.key
qbc keys public alice.key > alice.pub && qbc inject --encrypt-to alice.pub '{"a":1}'`

func runKeysPublic(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "keys public", keysPublicHelp, keysPublicExample)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("keys public", pos, 1, 1); err != nil {
		return err
	}
	key, err := loadKey(pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, hex.EncodeToString(key.Public().(ed25519.PublicKey)))
	return nil
}
