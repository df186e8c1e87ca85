package history

import (
	"math"
	"testing"
)

func TestDiff(t *testing.T) {
	prev := Reading{Time: 0, CPUSeconds: 1, Chains: []ChainReading{
		{ID: "a", Committed: 10, Accepted: 20, Quants: 1, CommitSeconds: 0.5, CommitCount: 1},
		{ID: "gone", Committed: 99},
	}}
	cur := Reading{Time: 10_000, CPUSeconds: 3, RSSBytes: 7, DiskBytes: 9, Chains: []ChainReading{
		{ID: "a", Name: "A", Height: 5, Txs: 110, PoolTxs: 3, Committed: 110, Accepted: 220, Quants: 5, CommitSeconds: 0.9, CommitCount: 5},
		{ID: "new", Committed: 50, Accepted: 50, Quants: 1},
	}}
	s := Diff(prev, cur)
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("committed_tps", s.CommittedTPS, (100+50)/10.0)
	near("accepted_tps", s.AcceptedTPS, (200+50)/10.0)
	near("quants_per_min", s.QuantsPerMin, 5.0/10*60)
	near("quant_interval_ms", s.QuantIntervalMS, 10_000/5.0)
	near("commit_ms", s.CommitMS, 0.4/4*1000)
	near("cpu", s.CPU, 0.2)
	if s.PoolTxs != 3 || s.Txs != 110 || s.RSSBytes != 7 || s.DiskBytes != 9 || len(s.Chains) != 2 {
		t.Errorf("sample %+v", s)
	}
	near("chain a tps", s.Chains[0].CommittedTPS, 10)
	if z := Diff(cur, cur); z.CommittedTPS != 0 || z.QuantIntervalMS != 0 || z.CommitMS != 0 {
		t.Errorf("no change: %+v", z)
	}
}

func TestRing(t *testing.T) {
	r := NewRing(3)
	if _, ok := r.Last(); ok {
		t.Fatal("empty ring has a last sample")
	}
	for i := int64(1); i <= 5; i++ {
		r.Add(Sample{Time: i})
	}
	got := r.Since(0)
	if len(got) != 3 || got[0].Time != 3 || got[2].Time != 5 {
		t.Fatalf("Since(0) = %+v, want 3..5", got)
	}
	if got := r.Since(4); len(got) != 1 || got[0].Time != 5 {
		t.Fatalf("Since(4) = %+v", got)
	}
	if l, _ := r.Last(); l.Time != 5 {
		t.Fatalf("Last = %d", l.Time)
	}
}
