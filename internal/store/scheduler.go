package store

import (
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// regrantInterval is how often the scheduler looks again for compactions
// it may grant while some run: Pebble's own scheduler's period.
const regrantInterval = 100 * time.Millisecond

// scheduler is the DB's Pebble CompactionScheduler. It grants what Pebble's
// default (ConcurrencyLimitScheduler) grants: a compaction whenever fewer
// run than the DB allows without permission (GetAllowedWithoutPermission).
// It differs in one way: Pebble's samples that allowance every 100 ms for
// as long as the DB is open, about half of the CPU of an idle node (0.36 %
// of a core against 0.13 to 0.20 % without, docs/performance.md); this one
// samples it every 100 ms only while compactions run, which is when the
// allowance can rise (a backlog builds) without the DB asking again.
// With none running, the DB asks itself (TrySchedule) after every flush
// and compaction, and any ask is granted while the allowance is above zero.
type scheduler struct {
	db   pebble.DBForCompaction
	poke chan struct{} // wakes the regrant loop: a compaction began, or the allowance rose
	stop chan struct{}
	done chan struct{}

	mu struct {
		sync.Mutex
		running      int
		unregistered bool
		// granting serializes grants (Done and the loop); Unregister
		// waits until none is under way.
		granting    bool
		grantedCond *sync.Cond
		lastAllowed int
	}
}

var _ pebble.CompactionScheduler = (*scheduler)(nil)

func newScheduler() *scheduler {
	s := &scheduler{poke: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	s.mu.grantedCond = sync.NewCond(&s.mu.Mutex)
	return s
}

// Register implements pebble.CompactionScheduler.
func (s *scheduler) Register(_ int, db pebble.DBForCompaction) {
	s.db = db
	go s.loop()
}

// Unregister implements pebble.CompactionScheduler: it stops the loop and
// waits for a grant under way.
func (s *scheduler) Unregister() {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.unregistered = true
	for s.mu.granting {
		s.mu.grantedCond.Wait()
	}
}

// TrySchedule implements pebble.CompactionScheduler.
func (s *scheduler) TrySchedule() (bool, pebble.CompactionGrantHandle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.unregistered {
		return false, nil
	}
	s.mu.lastAllowed = s.db.GetAllowedWithoutPermission()
	if s.mu.lastAllowed <= s.mu.running {
		return false, nil
	}
	s.mu.running++
	if s.mu.running == 1 {
		s.wake() // the loop starts its clock
	}
	return true, s
}

// UpdateGetAllowedWithoutPermission implements pebble.CompactionScheduler.
func (s *scheduler) UpdateGetAllowedWithoutPermission() {
	s.mu.Lock()
	allowed := s.db.GetAllowedWithoutPermission()
	rose := allowed > s.mu.lastAllowed
	s.mu.lastAllowed = allowed
	s.mu.Unlock()
	if rose {
		s.wake()
	}
}

func (s *scheduler) wake() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// Started, MeasureCPU and CumulativeStats implement
// pebble.CompactionGrantHandle; this scheduler does not measure.
func (s *scheduler) Started()                                          {}
func (s *scheduler) MeasureCPU(pebble.CompactionGoroutineKind)         {}
func (s *scheduler) CumulativeStats(pebble.CompactionGrantHandleStats) {}

// Done implements pebble.CompactionGrantHandle: a compaction ended, which
// may let a waiting one run.
func (s *scheduler) Done() {
	s.mu.Lock()
	s.mu.running--
	s.grantLocked()
}

// loop grants what the allowance permits when poked, and every
// regrantInterval while compactions run; with none running it sleeps.
func (s *scheduler) loop() {
	defer close(s.done)
	t := time.NewTimer(regrantInterval)
	t.Stop()
	for {
		s.mu.Lock()
		running := s.mu.running
		s.mu.Unlock()
		var tick <-chan time.Time
		if running > 0 {
			t.Reset(regrantInterval)
			tick = t.C
		}
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-s.poke:
			t.Stop()
		case <-tick:
		}
		s.mu.Lock()
		s.grantLocked()
	}
}

// grantLocked grants waiting compactions up to the allowance. It is called
// with s.mu held and returns with it released; it asks the DB for work
// (GetWaitingCompaction, Schedule) without the lock, as Pebble's
// scheduler does (the DB's locks come before the scheduler's).
func (s *scheduler) grantLocked() {
	defer s.mu.Unlock()
	for s.mu.granting {
		s.mu.grantedCond.Wait()
	}
	if s.mu.unregistered {
		return
	}
	s.mu.lastAllowed = s.db.GetAllowedWithoutPermission()
	toGrant := s.mu.lastAllowed - s.mu.running
	if toGrant <= 0 {
		return
	}
	s.mu.granting = true
	s.mu.Unlock()
	for ; toGrant > 0; toGrant-- {
		if waiting, _ := s.db.GetWaitingCompaction(); !waiting {
			break
		}
		if !s.db.Schedule(s) {
			break
		}
		s.mu.Lock()
		s.mu.running++
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.mu.granting = false
	s.mu.grantedCond.Broadcast()
}
