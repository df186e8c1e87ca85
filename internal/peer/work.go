package peer

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
)

// workQueue carries work asked for outside Run (by the HTTP handler, by
// the node) to a fixed number of goroutines that Run owns, so that every
// goroutine of the peer layer stops with Run's context and is waited for.
// A job that finds the queue full is dropped, counted and logged: what it
// would have done (an announcement, a fetch) is also done another way
// (sync, the next hello).
type workQueue struct {
	name    string
	workers int
	jobs    chan func(context.Context)
	dropped prometheus.Counter
	log     *slog.Logger
}

func newWorkQueue(name string, workers, size int, m *metrics, log *slog.Logger) *workQueue {
	return &workQueue{name: name, workers: workers, jobs: make(chan func(context.Context), size),
		dropped: m.dropped.WithLabelValues(name), log: log}
}

// add queues job, to be run with Run's context; it never blocks, and
// reports whether the job was queued.
func (q *workQueue) add(job func(ctx context.Context)) bool {
	select {
	case q.jobs <- job:
		return true
	default:
		q.dropped.Inc()
		q.log.Debug("peer work queue full; job dropped", "queue", q.name)
		return false
	}
}

// start runs the queue's workers in g until ctx ends. Jobs still queued
// then are not run.
func (q *workQueue) start(ctx context.Context, g *errgroup.Group) {
	for range q.workers {
		g.Go(func() error {
			for {
				select {
				case <-ctx.Done():
					return nil
				case job := <-q.jobs:
					job(ctx)
				}
			}
		})
	}
}
