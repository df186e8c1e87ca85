package main

import (
	"context"
	"fmt"

	"github.com/qbc-chain/qbc/internal/client"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/zk"
)

// zkPutFlags are record put's zero-knowledge flags.
type zkPutFlags struct {
	identity, scope, keys, lock, secret, blinding *string
	value, min, max                               *uint64
}

// apply sets tx's secret lock and attaches the proof the flags ask for
// (at most one). It runs after every other field is set and before the
// writer signs: the proof binds the rest, the signature the proof.
func (f zkPutFlags) apply(ctx context.Context, c *client.Client, set map[string]bool, tx *quant.Tx) error {
	if *f.lock != "" {
		s, err := blindingFile(*f.lock)
		if err != nil {
			return fmt.Errorf("--secret-lock: %w", err)
		}
		cm := quant.Hash(zk.Commitment(s))
		if tx.Lock == nil {
			tx.Lock = &quant.Lock{}
		}
		tx.Lock.Commitment = &cm
	}
	n := 0
	for _, on := range []bool{*f.identity != "", *f.secret != "", set["range-value"]} {
		if on {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if n > 1 {
		return usagef("record put: one proof per write: --zk-identity, --zk-secret or --range-value")
	}
	rules, err := c.ZKRules(ctx)
	if err != nil {
		return err
	}
	switch {
	case *f.identity != "":
		s, err := loadIdentity(*f.identity)
		if err != nil {
			return fmt.Errorf("--zk-identity: %w", err)
		}
		g := rules.GroupFor(tx.Key)
		if g == nil {
			return fmt.Errorf("key %q is under no group's prefix", tx.Key)
		}
		scope := quant.ScopeOfKey(tx.Key)
		if *f.scope != "" && *f.scope != scope {
			return usagef("record put: --zk-scope: a write's scope is its key's directory, %q", scope)
		}
		k, err := chainKeys(ctx, c, rules, zk.Membership, *f.keys)
		if err != nil {
			return err
		}
		ms, _, err := c.ZKGroup(ctx, g.Name)
		if err != nil {
			return err
		}
		return zk.AttachMembership(tx, k, s, ms, scope)
	case *f.secret != "":
		s, err := loadIdentity(*f.secret)
		if err != nil {
			return fmt.Errorf("--zk-secret: %w", err)
		}
		rec, err := c.Record(ctx, tx.Key)
		if err != nil {
			return err
		}
		if rec.Tx.ID == nil {
			return fmt.Errorf("record %q: no transaction id", tx.Key)
		}
		k, err := chainKeys(ctx, c, rules, zk.Preimage, *f.keys)
		if err != nil {
			return err
		}
		return zk.AttachPreimage(tx, k, s, *rec.Tx.ID)
	default:
		b, err := blindingFile(*f.blinding)
		if err != nil {
			return fmt.Errorf("--blinding: %w", err)
		}
		k, err := chainKeys(ctx, c, rules, zk.Range, *f.keys)
		if err != nil {
			return err
		}
		return zk.AttachRange(tx, k, *f.value, b, *f.min, *f.max)
	}
}
