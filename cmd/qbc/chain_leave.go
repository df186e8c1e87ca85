package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/qbc-chain/qbc/internal/quant"
)

const chainLeaveHelp = `Usage: qbc chain leave ID [flags]

Have a node leave a chain (DELETE /v1/chains/{id}): it stops following the
chain (its peers, mining and pool stop), deletes the chain's data from its
data directory, and does not follow it again when a peer offers it, until
the chain is created on it again ('qbc chain new' with the same rules, or
the same 'qbc chain fork'). Other nodes keep the chain.

A node cannot leave its default chain, a raft chain it is a member of
(remove it from the members first), or the parent of a fork it follows
(leave the fork first). A node with an admin token (admin_token) needs it:
--admin-token or QBC_ADMIN_TOKEN. Prints "left ID".
`

const chainLeaveExample = `qbc chain leave "$TEMPS" --node 127.0.0.1:5000
QBC_ADMIN_TOKEN=s3cret qbc chain leave "$(jq -r .id temps.json)"`

func runChainLeave(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "chain leave", chainLeaveHelp, chainLeaveExample)
	nf := fs.addNodeFlags(0)
	fs.addAdminToken(&nf)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs("chain leave", pos, 1, 1); err != nil {
		return err
	}
	id, err := quant.ParseHash(strings.TrimSpace(pos[0]))
	if err != nil || id.IsZero() {
		return usagef("chain leave: ID %q is not a chain id (64 hex characters)", pos[0])
	}
	c, err := nf.client()
	if err != nil {
		return err
	}
	if err := c.LeaveChain(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "left %s\n", id)
	return nil
}
