package events

import "testing"

func TestPublishSubscribe(t *testing.T) {
	b := New()
	s1, s2 := b.Subscribe(4), b.Subscribe(1)
	b.Publish(Event{Kind: KindTx, Data: 1})
	b.Publish(Event{Kind: KindQuant, Data: 2})
	if e := <-s1.C; e.Kind != KindTx || e.Data != 1 {
		t.Fatalf("first event %+v", e)
	}
	if e := <-s1.C; e.Kind != KindQuant {
		t.Fatalf("second event %+v", e)
	}
	if e := <-s2.C; e.Data != 1 {
		t.Fatalf("slow subscriber's event %+v", e)
	}
	if m := s2.Missed(); m != 1 {
		t.Fatalf("slow subscriber missed %d, want 1", m)
	}
	s1.Close()
	if _, ok := <-s1.C; ok {
		t.Fatal("channel open after Close")
	}
	s1.Close() // idempotent
	if b.Len() != 1 {
		t.Fatalf("Len = %d after one Close", b.Len())
	}
	b.Publish(Event{Kind: KindTx}) // must not panic on the closed subscriber
}

// TestFilter: a subscription gets only the kinds and chain it selects, and
// a flood of other events does not make it miss its own.
func TestFilter(t *testing.T) {
	b := New()
	quants := b.SubscribeTo(2, Filter{Kinds: []Kind{KindQuant}, Chain: "a"})
	all := b.Subscribe(1)
	if !b.Wants(KindTx, "a") {
		t.Fatal("Wants(tx, a) = false with an unfiltered subscriber")
	}
	all.Close()
	if b.Wants(KindTx, "a") || b.Wants(KindQuant, "b") || !b.Wants(KindQuant, "a") {
		t.Fatal("Wants does not follow the remaining subscription's filter")
	}
	for i := 0; i < 100; i++ {
		b.Publish(Event{Kind: KindTx, Chain: "a", Data: i})
		b.Publish(Event{Kind: KindQuant, Chain: "b", Data: i})
	}
	b.Publish(Event{Kind: KindQuant, Chain: "a", Data: "mine"})
	if e := <-quants.C; e.Data != "mine" {
		t.Fatalf("filtered subscriber got %+v", e)
	}
	if m := quants.Missed(); m != 0 {
		t.Fatalf("filtered subscriber missed %d events it does not select", m)
	}
}
