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
