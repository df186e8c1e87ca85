// Package events is a node's in-process publish/subscribe bus: new quants
// and new transactions go out to every subscriber (server-sent events, and
// later gossip and projections). A slow subscriber never slows the
// publisher: when its buffer is full it misses events and is told how many.
package events

import "sync"

// Kind names what happened.
type Kind string

// Event kinds.
const (
	KindQuant Kind = "quant" // a quant was committed
	KindTx    Kind = "tx"    // a transaction entered the pool
)

// Event is one thing that happened on a chain. Data is what subscribers
// send on (JSON-ready); it must not be changed after Publish.
type Event struct {
	Kind  Kind
	Chain string
	Data  any
}

// Filter selects the events a subscription receives: those of the listed
// kinds (all kinds if none) on the named chain (every chain if empty).
type Filter struct {
	Kinds []Kind
	Chain string
}

// match reports whether f selects an event of kind k on chain.
func (f *Filter) match(k Kind, chain string) bool {
	if f.Chain != "" && f.Chain != chain {
		return false
	}
	if len(f.Kinds) == 0 {
		return true
	}
	for _, x := range f.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Subscription receives events until Close.
type Subscription struct {
	C      <-chan Event
	c      chan Event
	bus    *Bus
	filter Filter
	mu     sync.Mutex
	missed uint64
}

// Missed reports how many events were dropped because the subscriber was
// behind, and resets the count.
func (s *Subscription) Missed() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.missed
	s.missed = 0
	return n
}

// Close ends the subscription; C is closed.
func (s *Subscription) Close() { s.bus.remove(s) }

// Bus fans events out to subscribers. The zero value is not usable; use New.
type Bus struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// New makes a bus.
func New() *Bus { return &Bus{subs: make(map[*Subscription]struct{})} }

// Subscribe returns a subscription to every event, whose channel buffers
// buf events.
func (b *Bus) Subscribe(buf int) *Subscription { return b.SubscribeTo(buf, Filter{}) }

// SubscribeTo returns a subscription to the events f selects, whose channel
// buffers buf events. Events it does not select never reach its buffer, so
// a flood of one kind does not make it miss another.
func (b *Bus) SubscribeTo(buf int, f Filter) *Subscription {
	c := make(chan Event, buf)
	f.Kinds = append([]Kind(nil), f.Kinds...)
	s := &Subscription{C: c, c: c, bus: b, filter: f}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

func (b *Bus) remove(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.c)
	}
}

// Publish sends e to every subscriber that selects it and has room,
// without blocking.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if !s.filter.match(e.Kind, e.Chain) {
			continue
		}
		select {
		case s.c <- e:
		default:
			s.mu.Lock()
			s.missed++
			s.mu.Unlock()
		}
	}
}

// Wants reports whether any subscriber selects events of kind k on chain,
// so that a publisher can skip making events nobody receives.
func (b *Bus) Wants(k Kind, chain string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.filter.match(k, chain) {
			return true
		}
	}
	return false
}

// Len is the number of subscribers.
func (b *Bus) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
