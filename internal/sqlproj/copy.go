package sqlproj

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/qbc-chain/qbc/internal/quant"
)

// applyCopy is apply on PostgreSQL: the rows go in by COPY (binary), and
// the position moves, in one transaction of the connection's own pgx
// driver.
func (p *Projector) applyCopy(ctx context.Context, id quant.Hash, qs []*quant.Quant, hs []quant.Hash) error {
	conn, err := p.db.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the connection is a %T, not pgx's", dc)
		}
		tx, err := sc.Conn().Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		cid := id.String()
		qrows := make([][]any, len(qs))
		var trows [][]any
		for i, q := range qs {
			h := int64(q.Header.Height)
			qrows[i] = []any{cid, h, hs[i].String(), q.Header.Prev.String(), q.Header.Time, int32(len(q.Txs))}
			for j, t := range q.Txs {
				var signer any
				if t.Signed() {
					signer = hex.EncodeToString(t.PubKey)
				}
				kind, data := dataOf(t)
				trows = append(trows, []any{cid, h, int32(j), t.ID().String(), t.Time, signer, kind, data, keyOf(t)})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"quants"}, []string{"chain", "height", "hash", "prev", "time", "tx_count"}, pgx.CopyFromRows(qrows)); err != nil {
			return fmt.Errorf("copy quants: %w", err)
		}
		if len(trows) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"transactions"}, []string{"chain", "height", "position", "id", "time", "signer", "kind", "data", "key"}, pgx.CopyFromRows(trows)); err != nil {
				return fmt.Errorf("copy transactions: %w", err)
			}
		}
		last := qs[len(qs)-1]
		if _, err := tx.Exec(ctx, `UPDATE chains SET height = $1, hash = $2 WHERE id = $3`, int64(last.Header.Height), hs[len(hs)-1].String(), cid); err != nil {
			return fmt.Errorf("move position: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
}
