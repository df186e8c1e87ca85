package main

import (
	"context"
	"fmt"

	"github.com/qbc-chain/qbc/internal/zk"
)

const zkIdentityHelp = `Usage: qbc zk identity new --out FILE
       qbc zk identity commitment FILE

A member identity is a random secret (a BN254 field element) kept in FILE
(mode 0600, never overwritten). Its commitment, MiMC(secret), is what a
group lists: 'new' and 'commitment' print it; give it to a group's admin
('qbc zk join'). The secret never leaves the file: proofs show that it is
behind one of a group's commitments without saying which.
`

const zkIdentityExample = `qbc zk identity new --out me.id
qbc zk identity commitment me.id`

func runZKIdentity(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "commitment" {
		fs := newFlags(e, "zk identity commitment", zkIdentityHelp, zkIdentityExample)
		pos, err := fs.parse(args[1:])
		if err != nil {
			return err
		}
		if err := wantArgs("zk identity commitment", pos, 1, 1); err != nil {
			return err
		}
		s, err := loadIdentity(pos[0])
		if err != nil {
			return fmt.Errorf("zk identity: %w", err)
		}
		fmt.Fprintln(e.stdout, zk.Commitment(s))
		return nil
	}
	if len(args) > 0 && args[0] == "new" {
		args = args[1:]
	}
	fs := newFlags(e, "zk identity new", zkIdentityHelp, zkIdentityExample)
	out := fs.String("out", "", "write the identity to `file`")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("zk identity new", pos, 0, 0); err != nil {
		return err
	}
	if *out == "" {
		return usagef("zk identity new: give --out FILE")
	}
	s, err := zk.NewSecret()
	if err != nil {
		return err
	}
	if err := saveIdentity(*out, s); err != nil {
		return fmt.Errorf("zk identity new: %w", err)
	}
	fmt.Fprintln(e.stdout, zk.Commitment(s))
	return nil
}
