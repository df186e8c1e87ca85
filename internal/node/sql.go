package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/qbc-chain/qbc/internal/api"
	"github.com/qbc-chain/qbc/internal/httpapi"
	"github.com/qbc-chain/qbc/internal/quant"
	"github.com/qbc-chain/qbc/internal/sqlproj"
)

// openSQL opens the SQL projection of the node's chains, unless the
// configuration turns it off. It runs in Run's group (runSQL).
func (n *Node) openSQL() error {
	if n.cfg.SQL == sqlproj.Off {
		return nil
	}
	p, err := sqlproj.Open(context.Background(), sqlproj.Config{
		DSN:     n.cfg.SQL,
		Dir:     n.cfg.DataDir,
		Sources: n.sqlSources,
		Events:  n.bus,
		Logger:  n.log,
	})
	if err != nil {
		return fmt.Errorf("node: sql projection: %w", err)
	}
	n.sql = p
	n.reg.MustRegister(p.Collector())
	n.log.Info("sql projection open", "sql", p.Where())
	return nil
}

// sqlSources lists every followed chain for the projection.
func (n *Node) sqlSources() []sqlproj.Source {
	ls := n.ledgers()
	out := make([]sqlproj.Source, len(ls))
	for i, l := range ls {
		out[i] = sqlproj.Source{Chain: l.chain, Store: l.st}
	}
	return out
}

// sqlLag is how far the projection is behind on l's chain.
func (l *ledger) sqlLag() (uint64, bool) {
	if l.node.sql == nil {
		return 0, false
	}
	return l.node.sql.Lag(l.chain.ID())
}

// sqlAPI serves the projection to the API, turning the errors of a query
// into the API's.
type sqlAPI struct{ p *sqlproj.Projector }

func (s sqlAPI) Query(ctx context.Context, q api.SQLQuery) (*api.SQLResult, error) {
	res, err := s.p.Query(ctx, q.Query, q.MaxRows)
	if errors.Is(err, sqlproj.ErrRefused) || errors.Is(err, sqlproj.ErrQuery) || errors.Is(err, sqlproj.ErrTimeout) {
		return nil, fmt.Errorf("%w: %v", httpapi.ErrBadRequest, err)
	}
	return res, err
}

func (s sqlAPI) Check(ctx context.Context) (api.SQLChecks, error) { return s.p.Check(ctx) }

func (s sqlAPI) Rebuild(ctx context.Context, id quant.Hash) error { return s.p.Rebuild(ctx, id) }
