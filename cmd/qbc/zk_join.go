package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/qbc-chain/qbc/internal/zk"
)

const zkJoinHelp = `Usage: qbc zk join --key ADMIN.key --group NAME COMMITMENT|FILE

Add a member to a group, as one of its admins: a new version of the group's
record (zk/group/NAME) listing COMMITMENT (hex, as 'qbc zk identity new'
and 'qbc zk identity commitment' print it, or a file holding it) after the
current members, signed with --key. Once a quant
holds it, the member proves against the new root; proofs against the old
root stay valid for the group's window of quants.
`

const zkJoinExample = `qbc zk join --key admin.key --group club $(qbc zk identity commitment me.id)`

func runZKJoin(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "zk join", zkJoinHelp, zkJoinExample)
	nf := fs.addChainFlags(time.Minute)
	keyFile := fs.String("key", "", "the admin's key `file`")
	group := fs.String("group", "", "the group's `name`")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("zk join", pos, 1, 1); err != nil {
		return err
	}
	if *keyFile == "" || *group == "" {
		return usagef("zk join: give --key and --group")
	}
	arg := pos[0]
	if b, err := os.ReadFile(arg); err == nil {
		arg = strings.TrimSpace(string(b))
	}
	member, err := zk.ParseFieldHex(arg)
	if err != nil {
		return usagef("zk join: commitment: %v", err)
	}
	admin, err := loadKey(*keyFile)
	if err != nil {
		return err
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	id, err := chainOf(ctx, c)
	if err != nil {
		return fmt.Errorf("zk join: %w", err)
	}
	sub, err := c.OnChain(id).ZKJoin(ctx, admin, *group, member)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, sub)
}
