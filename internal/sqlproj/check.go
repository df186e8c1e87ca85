package sqlproj

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/chain"
	"github.com/qbc-chain/qbc/internal/quant"
)

// Check compares the projection of every source with its chain, up to the
// projection's position: the position's hash on the main chain, the
// counts of quants and transactions, and a digest of each side (SHA-256
// over SHA-256 of the lines "height hash" of the quants, then SHA-256 of
// the lines "height position id" of the transactions, in order). It reads
// each chain in full.
func (p *Projector) Check(ctx context.Context) (api.SQLChecks, error) {
	out := api.SQLChecks{Chains: []api.SQLCheck{}, OK: true}
	for _, src := range p.cfg.Sources() {
		c, err := p.check(ctx, src)
		if err != nil {
			return out, fmt.Errorf("sqlproj: check %s: %w", src.Chain.ID(), err)
		}
		out.Chains = append(out.Chains, c)
		out.OK = out.OK && c.OK
	}
	return out, nil
}

func (p *Projector) check(ctx context.Context, src Source) (api.SQLCheck, error) {
	id := src.Chain.ID()
	res := api.SQLCheck{Chain: id, Tip: src.Chain.Tip().Header.Height}
	pos, _, err := p.loadPosition(ctx, id)
	if err != nil {
		return res, err
	}
	res.Height, res.Hash = pos.height, pos.hash
	// The chain's side, from its bang to the position.
	cq, ct := sha256.New(), sha256.New()
	if pos.set {
		for h := src.Chain.Base(); h <= pos.height; h++ {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			qh, err := src.Store.HashAt(h)
			if errors.Is(err, chain.ErrNotFound) {
				break
			}
			if err != nil {
				return res, err
			}
			if h == pos.height && qh != pos.hash {
				res.Problem = fmt.Sprintf("the projection's quant at %d is not on the main chain (a reorganisation not yet undone)", h)
			}
			q, err := src.Store.Quant(qh)
			if err != nil {
				return res, err
			}
			res.Quants++
			fmt.Fprintf(cq, "%d %s\n", h, qh)
			for i, t := range q.Txs {
				res.Txs++
				fmt.Fprintf(ct, "%d %d %s\n", h, i, t.ID())
			}
		}
	}
	res.Digest = digest(cq, ct)
	// The projection's side.
	sq, st := sha256.New(), sha256.New()
	if err := p.scan(ctx, `SELECT height, hash FROM quants WHERE chain = ? ORDER BY height`, id, func(r *sql.Rows) error {
		var (
			h int64
			s string
		)
		if err := r.Scan(&h, &s); err != nil {
			return err
		}
		res.SQLQuants++
		fmt.Fprintf(sq, "%d %s\n", h, s)
		return nil
	}); err != nil {
		return res, err
	}
	if err := p.scan(ctx, `SELECT height, position, id FROM transactions WHERE chain = ? ORDER BY height, position`, id, func(r *sql.Rows) error {
		var (
			h, i int64
			s    string
		)
		if err := r.Scan(&h, &i, &s); err != nil {
			return err
		}
		res.SQLTxs++
		fmt.Fprintf(st, "%d %d %s\n", h, i, s)
		return nil
	}); err != nil {
		return res, err
	}
	res.SQLDigest = digest(sq, st)
	switch {
	case res.Problem != "":
	case res.Quants != res.SQLQuants:
		res.Problem = fmt.Sprintf("%d quants on the chain, %d projected", res.Quants, res.SQLQuants)
	case res.Txs != res.SQLTxs:
		res.Problem = fmt.Sprintf("%d transactions on the chain, %d projected", res.Txs, res.SQLTxs)
	case res.Digest != res.SQLDigest:
		res.Problem = "the digests differ"
	}
	res.OK = res.Problem == ""
	return res, nil
}

func digest(q, t hash.Hash) string {
	d := sha256.New()
	d.Write(q.Sum(nil))
	d.Write(t.Sum(nil))
	return hex.EncodeToString(d.Sum(nil))
}

// scan runs a query of the writer's connection with the chain id as its
// argument and calls f on each row.
func (p *Projector) scan(ctx context.Context, q string, id quant.Hash, f func(*sql.Rows) error) error {
	rows, err := p.db.w.QueryContext(ctx, p.db.bind(q), id.String())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
