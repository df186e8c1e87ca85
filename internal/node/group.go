package node

import (
	"context"
	"sync"
)

// maxTasks bounds the background tasks (peer introductions, hellos) a
// running node has under way at once; more are dropped with a log line.
const maxTasks = 64

// group owns the goroutines of a running node: each runs under the run's
// context, the first error cancels it, and wait returns once every one has
// stopped. Unlike a bare errgroup, it refuses new goroutines once the run
// is ending, so nothing starts after wait began waiting.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	tasks  chan struct{} // one token per background task under way

	mu struct {
		sync.Mutex
		stopping bool
		err      error
	}
	wg sync.WaitGroup
}

func newGroup(ctx context.Context) *group {
	ctx, cancel := context.WithCancel(ctx)
	return &group{ctx: ctx, cancel: cancel, tasks: make(chan struct{}, maxTasks)}
}

// do runs f on a goroutine of the group, unless the run is ending; it
// reports whether f was started. An error from f ends the run.
func (g *group) do(f func(ctx context.Context) error) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.stopping {
		return false
	}
	g.wg.Go(func() {
		if err := f(g.ctx); err != nil {
			g.mu.Lock()
			if g.mu.err == nil {
				g.mu.err = err
			}
			g.mu.Unlock()
			g.cancel()
		}
	})
	return true
}

// task runs f as a background task of the group: at most maxTasks at
// once, never after the run began ending. It reports whether f was
// started.
func (g *group) task(f func(ctx context.Context)) bool {
	select {
	case g.tasks <- struct{}{}:
	default:
		return false
	}
	started := g.do(func(ctx context.Context) error {
		defer func() { <-g.tasks }()
		f(ctx)
		return nil
	})
	if !started {
		<-g.tasks
	}
	return started
}

// wait returns, once the run's context has ended and every goroutine of
// the group has returned, the first error one returned.
func (g *group) wait() error {
	<-g.ctx.Done()
	g.mu.Lock()
	g.mu.stopping = true
	g.mu.Unlock()
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.err
}
