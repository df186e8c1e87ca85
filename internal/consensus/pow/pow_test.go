package pow

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/qbc-chain/qbc/internal/consensus/consensustest"
	"github.com/qbc-chain/qbc/internal/quant"
)

func rules(t testing.TB, p Params) *quant.Rules {
	t.Helper()
	r := quant.DefaultRules("pow-test", 1_700_000_000_000)
	r.Engine = Name
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	r.EngineParams = b
	return &r
}

func TestConformance(t *testing.T) {
	for _, p := range []Params{
		{TargetMs: 1000, InitialDifficulty: 1 << 16, MinDifficulty: 1, Window: 0},
		{TargetMs: 1000, InitialDifficulty: 1 << 16, MinDifficulty: 1 << 10, Window: 4},
	} {
		consensustest.Run(t, func(t *testing.T) consensustest.Setup {
			r := rules(t, p)
			e, err := New(r)
			if err != nil {
				t.Fatal(err)
			}
			bang, err := quant.NewBang(*r)
			if err != nil {
				t.Fatal(err)
			}
			return consensustest.Setup{Engine: e, Bang: bang}
		})
	}
}

func TestParamsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Params
		ok   bool
	}{
		{"default", DefaultParams(), true},
		{"zero target", Params{TargetMs: 0, InitialDifficulty: 1, MinDifficulty: 1}, false},
		{"zero difficulty", Params{TargetMs: 1, InitialDifficulty: 0, MinDifficulty: 0}, false},
		{"min above initial", Params{TargetMs: 1, InitialDifficulty: 4, MinDifficulty: 8}, false},
		{"negative window", Params{TargetMs: 1, InitialDifficulty: 4, MinDifficulty: 1, Window: -1}, false},
	} {
		if err := tc.p.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	// The default chain's parameters encode as they always did: its bang,
	// and so its id, does not change.
	if b, _ := json.Marshal(DefaultParams()); string(b) != `{"target_ms":10000,"initial_difficulty":65536,"min_difficulty":1024,"window":16}` {
		t.Errorf("DefaultParams encode as %s", b)
	}
	for _, p := range []Params{
		{TargetMs: 1, InitialDifficulty: 4, MinDifficulty: 1, MaxStep: 1},
		{TargetMs: 1, InitialDifficulty: 4, MinDifficulty: 1, HeartbeatMs: -1},
		{TargetMs: 1, InitialDifficulty: 4, MinDifficulty: 1, Retarget: 3},
	} {
		if p.Validate() == nil {
			t.Errorf("%+v: valid", p)
		}
	}
	r := quant.DefaultRules("x", 1_700_000_000_000)
	r.Engine = "raft"
	if _, err := New(&r); quant.CodeOf(err) != quant.CodeBadRules {
		t.Errorf("New with engine raft: %v", err)
	}
	r.Engine = Name
	r.EngineParams = json.RawMessage(`{"target_ms":-5}`)
	if _, err := New(&r); quant.CodeOf(err) != quant.CodeBadRules {
		t.Errorf("New with bad params: %v", err)
	}
}

type chainMap map[quant.Hash]*quant.Header

func (m chainMap) Header(h quant.Hash) (*quant.Header, error) { return m[h], nil }

// buildChain makes n quants spaced gapMs apart, each with the difficulty
// the rule gives (the seals are not mined: only the difficulty rule is under
// test).
func buildChain(t *testing.T, e *Engine, n int, gapMs int64) (chainMap, *quant.Header) {
	t.Helper()
	parent := &quant.Header{Height: 0, Time: 0}
	m := chainMap{parent.Hash(): parent}
	for i := 0; i < n; i++ {
		d, err := e.NextDifficulty(m, parent)
		if err != nil {
			t.Fatal(err)
		}
		h := &quant.Header{ChainID: quant.Hash{1}, Height: parent.Height + 1, Prev: parent.Hash(), Time: parent.Time + gapMs, Seal: EncodeSeal(d, 0)}
		m[h.Hash()] = h
		parent = h
	}
	return m, parent
}

func TestRetarget(t *testing.T) {
	p := Params{TargetMs: 1000, InitialDifficulty: 1 << 20, MinDifficulty: 1 << 8, Window: 8}
	e := NewWithParams(p)
	d := func(h *quant.Header) uint64 { v, _, _ := DecodeSeal(h.Seal); return v }

	// On target: the difficulty stays where it is.
	m, tip := buildChain(t, e, 40, 1000)
	if got, _ := e.NextDifficulty(m, tip); got != p.InitialDifficulty {
		t.Errorf("on target: next = %d, want %d", got, p.InitialDifficulty)
	}
	// Too fast: it rises, at most 1/8 a quant.
	m, tip = buildChain(t, e, 10, 100)
	if got := d(tip); got <= p.InitialDifficulty {
		t.Errorf("fast quants: difficulty %d did not rise above %d", got, p.InitialDifficulty)
	}
	parent, _ := m.Header(tip.Prev)
	if got, pd := d(tip), d(parent); got > pd+pd/defaultMaxStep {
		t.Errorf("one step rose from %d to %d, more than 1/%d", pd, got, defaultMaxStep)
	}
	// Too slow: it falls, but never under the minimum.
	_, tip = buildChain(t, e, 200, 100_000)
	if got := d(tip); got != p.MinDifficulty {
		t.Errorf("slow quants: difficulty %d, want the floor %d", got, p.MinDifficulty)
	}
}

func TestWrongDifficultyRefused(t *testing.T) {
	e := NewWithParams(Params{TargetMs: 1000, InitialDifficulty: 1 << 12, MinDifficulty: 1, Window: 0})
	parent := &quant.Header{}
	m := chainMap{parent.Hash(): parent}
	h := &quant.Header{ChainID: quant.Hash{1}, Height: 1, Prev: parent.Hash(), Time: 1, Seal: EncodeSeal(1, 0)}
	// Difficulty 1 is met by any hash: only the difficulty rule refuses it.
	if err := e.VerifySeal(m, parent, h); quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("easy difficulty: err = %v", err)
	}
	if err := e.Prepare(m, parent, h); err != nil {
		t.Fatal(err)
	}
	if err := e.Seal(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if err := e.VerifySeal(m, parent, h); err != nil {
		t.Fatalf("mined seal: %v", err)
	}
}

func FuzzDecodeSeal(f *testing.F) {
	f.Add(EncodeSeal(1, 2))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, n, err := DecodeSeal(b)
		if err != nil {
			return
		}
		if got := EncodeSeal(d, n); string(got) != string(b) {
			t.Fatalf("re-encoding %x gives %x", b, got)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	e := NewWithParams(Params{TargetMs: 1000, InitialDifficulty: 1 << 16, MinDifficulty: 1})
	for i := 0; b.Loop(); i++ {
		h := &quant.Header{ChainID: quant.Hash{1}, Height: 1, Time: int64(i), Seal: EncodeSeal(1<<16, 0)}
		if err := e.Seal(context.Background(), h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1<<16)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mhash/s")
}

// TestRetargetConverges: miners whose hash rate is 1000 times the initial
// difficulty's per target interval (a quant every 10 ms for a 10 s
// target) mine quants that take difficulty/rate each (synthetic times, no
// randomness). The interval comes within ±50% of the target, and stays
// there, within a bound number of quants: 54 with the old step (1/8 a
// quant, MaxStep absent), 23 with MaxStep 3 (overshooting by at most a
// third). A bang created long before mining began (the default chain's)
// costs rule 1 another 34 quants, the difficulty falling for the first 16;
// rule 2 (Retarget 2) leaves the bang out.
func TestRetargetConverges(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxStep  uint64
		retarget int
		bangAgo  int64 // how long before the first quant the chain was created (ms)
		within   int
	}{
		{"max_step absent (8)", 0, 0, 0, 64},
		{"max_step 3", 3, 0, 0, 25},
		// The default chain's bang is dated 2026-01-01: under rule 1 the
		// first 16 retargets count the months since as one interval, and
		// the difficulty falls for 16 quants before it climbs.
		{"bang a month old, rule 1", 0, 0, 30 * 24 * 3600 * 1000, 90},
		{"bang a month old, rule 2", 0, 2, 30 * 24 * 3600 * 1000, 64},
		{"bang a month old, rule 2, max_step 3", 3, 2, 30 * 24 * 3600 * 1000, 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultParams()
			p.MaxStep, p.Retarget = tc.maxStep, tc.retarget
			e := NewWithParams(p)
			rate := float64(p.InitialDifficulty) * 1000 / float64(p.TargetMs) // hashes per ms: the start's quants take 10 ms
			parent := &quant.Header{Time: -tc.bangAgo}
			m := chainMap{parent.Hash(): parent}
			reached, now := -1, int64(0)
			var d17 uint64
			for i := 1; i <= 200; i++ {
				d, err := e.NextDifficulty(m, parent)
				if err != nil {
					t.Fatal(err)
				}
				// The template is made when the parent is found; sealing
				// takes d hashes.
				h := &quant.Header{ChainID: quant.Hash{1}, Height: parent.Height + 1, Prev: parent.Hash(), Time: now, Seal: EncodeSeal(d, 0)}
				m[h.Hash()] = h
				parent = h
				interval := int64(float64(d) / rate)
				now += interval
				if i == 17 {
					d17 = d
				}
				within := interval >= p.TargetMs/2 && interval <= p.TargetMs*3/2
				switch {
				case within && reached < 0:
					reached = i
				case !within && reached >= 0:
					t.Fatalf("quant %d: interval %d ms left ±50%% of %d after reaching it at quant %d", i, interval, p.TargetMs, reached)
				}
			}
			if reached < 0 || reached > tc.within {
				t.Fatalf("interval within ±50%% of target from quant %d, want by quant %d", reached, tc.within)
			}
			t.Logf("within ±50%% of target from quant %d; difficulty of quant 17: %d", reached, d17)
		})
	}
}
