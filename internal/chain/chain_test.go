package chain

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qbc-chain/qbc/internal/consensus/pow"
	"github.com/qbc-chain/qbc/internal/quant"
)

// clock is a settable clock for deterministic time rules.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

const t0 = 1_700_000_000_000 // ms

var testEngines = Engines{pow.Name: pow.New}

type fixture struct {
	t     testing.TB
	c     *Chain
	st    *memStore
	clock *clock
	key   ed25519.PrivateKey
}

// newFixture makes a chain on an in-memory store, with a fixed
// pow difficulty and a clock the test moves.
func newFixture(t testing.TB, edit func(r *quant.Rules)) *fixture {
	t.Helper()
	r := quant.DefaultRules("chain-test", t0)
	r.Engine = pow.Name
	r.EngineParams, _ = json.Marshal(pow.Params{TargetMs: 1000, InitialDifficulty: 1 << 8, MinDifficulty: 1, Window: 0})
	if edit != nil {
		edit(&r)
	}
	bang, err := quant.NewBang(r)
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore(bang.Hash())
	if err := Init(st, bang, testEngines); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.UnixMilli(t0 + 10_000)}
	c, err := Open(st, testEngines, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	return &fixture{t: t, c: c, st: st, clock: clk, key: key}
}

var nonce uint64

func (f *fixture) tx(data string, signed bool) *quant.Tx {
	nonce++
	tx := &quant.Tx{ChainID: f.c.ID(), Time: f.clock.t.UnixMilli(), Nonce: nonce, Kind: quant.DataJSON, Data: []byte(data)}
	if signed {
		tx.Sign(f.key)
	}
	return tx
}

// noKeyTx is a transaction "signed" by no key: the identity point as its
// public key and an all-zero signature, which ZIP-215 verification alone
// accepts for any message.
func (f *fixture) noKeyTx() *quant.Tx {
	tx := f.tx(`{"forged":true}`, false)
	tx.PubKey = make([]byte, 32)
	tx.PubKey[0] = 1
	tx.Sig = make([]byte, 64)
	return tx
}

// quant builds a sealed quant on the tip holding txs, after edit changes
// its header (TxRoot and TxCount are set from txs before edit).
func (f *fixture) quant(txs []*quant.Tx, edit func(q *quant.Quant)) *quant.Quant {
	f.t.Helper()
	f.clock.t = f.clock.t.Add(time.Second)
	q, _, err := f.c.Template(nil, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	q.Txs = txs
	q.Header.TxCount = uint32(len(txs))
	q.Header.TxRoot = quant.TxRoot(txs)
	if edit != nil {
		edit(q)
	}
	if err := f.c.Engine().Seal(context.Background(), &q.Header); err != nil {
		f.t.Fatal(err)
	}
	return q
}

func (f *fixture) add(q *quant.Quant) {
	f.t.Helper()
	res, err := f.c.Add(q)
	if err != nil {
		f.t.Fatalf("Add quant %d: %v", q.Header.Height, err)
	}
	if !res.Extended() || res.Connected[len(res.Connected)-1] != q {
		f.t.Fatalf("Add quant %d did not extend the chain: %+v", q.Header.Height, res)
	}
}

func TestAddAndRead(t *testing.T) {
	f := newFixture(t, nil)
	var ids []quant.Hash
	for i := 0; i < 3; i++ {
		txs := []*quant.Tx{f.tx(fmt.Sprintf(`{"n":%d}`, i), i%2 == 0), f.tx(`"x"`, false)}
		ids = append(ids, txs[0].ID(), txs[1].ID())
		f.add(f.quant(txs, nil))
	}
	head := f.c.Tip()
	if head.Header.Height != 3 || head.Meta.Txs != 6 || head.Meta.Work.Int64() != 3*(1<<8) {
		t.Fatalf("head: height %d txs %d work %s", head.Header.Height, head.Meta.Txs, head.Meta.Work)
	}
	for i, id := range ids {
		loc, err := f.st.TxLocation(id)
		if err != nil || loc.Height != uint64(i/2+1) || loc.Index != uint32(i%2) {
			t.Fatalf("tx %d: location %+v, %v", i, loc, err)
		}
	}
	// Reopening gives the same tip.
	c2, err := Open(f.st, testEngines, Options{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if c2.Tip().Hash != head.Hash {
		t.Fatal("reopened chain has another tip")
	}
	if err := VerifyStored(context.Background(), f.st, testEngines, nil); err != nil {
		t.Fatalf("VerifyStored: %v", err)
	}
}

// badWork finds a nonce whose hash misses the target.
func badWork(t *testing.T, f *fixture, q *quant.Quant) {
	head := f.c.Tip()
	d, _, _ := pow.DecodeSeal(q.Header.Seal)
	for n := uint64(0); ; n++ {
		q.Header.Seal = pow.EncodeSeal(d, n)
		if f.c.Engine().VerifySeal(f.st, &head.Header, &q.Header) != nil {
			return
		}
	}
}

func TestRefusedQuants(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules func(r *quant.Rules)
		build func(f *fixture) *quant.Quant
		code  quant.Code
	}{
		{"wrong height", nil, func(f *fixture) *quant.Quant {
			return f.quant(nil, func(q *quant.Quant) { q.Header.Height++ })
		}, quant.CodeBadLink},
		{"a second bang", nil, func(f *fixture) *quant.Quant {
			return f.quant(nil, func(q *quant.Quant) { q.Header.ChainID = quant.Hash{} })
		}, quant.CodeBadLink},
		{"height 0", nil, func(f *fixture) *quant.Quant {
			return f.quant(nil, func(q *quant.Quant) { q.Header.Height = 0 })
		}, quant.CodeBadLink},
		{"fork: first quant at 1, not after the fork point", forkAt(120), func(f *fixture) *quant.Quant {
			return f.quant(nil, func(q *quant.Quant) { q.Header.Height = 1 })
		}, quant.CodeBadLink},
		{"fork: first quant at the fork point's height", forkAt(120), func(f *fixture) *quant.Quant {
			return f.quant(nil, func(q *quant.Quant) { q.Header.Height = 120 })
		}, quant.CodeBadLink},
		{"wrong chain", nil, func(f *fixture) *quant.Quant {
			return f.quant(nil, func(q *quant.Quant) { q.Header.ChainID[0] ^= 1 })
		}, quant.CodeWrongChain},
		{"time not after median past", nil, func(f *fixture) *quant.Quant {
			return f.quant(nil, func(q *quant.Quant) { q.Header.Time = t0 })
		}, quant.CodeTimeTooOld},
		{"time in the future", nil, func(f *fixture) *quant.Quant {
			return f.quant(nil, func(q *quant.Quant) { q.Header.Time = f.clock.t.UnixMilli() + 3*60*1000 })
		}, quant.CodeTimeTooNew},
		{"easier difficulty", nil, func(f *fixture) *quant.Quant {
			q := f.quant(nil, nil)
			_, n, _ := pow.DecodeSeal(q.Header.Seal)
			q.Header.Seal = pow.EncodeSeal(1, n)
			return q
		}, quant.CodeBadSeal},
		{"work not done", nil, func(f *fixture) *quant.Quant {
			q := f.quant(nil, nil)
			badWork(t, f, q)
			return q
		}, quant.CodeBadSeal},
		{"merkle root does not match body", nil, func(f *fixture) *quant.Quant {
			q := f.quant([]*quant.Tx{f.tx(`1`, false)}, nil)
			q.Txs[0] = f.tx(`2`, false) // body swapped after sealing
			return q
		}, quant.CodeBadMerkleRoot},
		{"count does not match body", nil, func(f *fixture) *quant.Quant {
			return f.quant([]*quant.Tx{f.tx(`1`, false)}, func(q *quant.Quant) { q.Header.TxCount = 2 })
		}, quant.CodeMalformed},
		{"tx for another chain", nil, func(f *fixture) *quant.Quant {
			tx := f.tx(`1`, false)
			tx.ChainID[0] ^= 1
			return f.quant([]*quant.Tx{tx}, nil)
		}, quant.CodeWrongChain},
		{"tampered signed tx", nil, func(f *fixture) *quant.Quant {
			tx := f.tx(`{"amount":1}`, true)
			tx.Data = []byte(`{"amount":9}`)
			return f.quant([]*quant.Tx{tx}, nil)
		}, quant.CodeBadSignature},
		{"tx signed by a small-order key", func(r *quant.Rules) { r.WritePolicy = quant.PolicySigned }, func(f *fixture) *quant.Quant {
			return f.quant([]*quant.Tx{f.noKeyTx()}, nil)
		}, quant.CodeBadSignature},
		{"duplicate tx in quant", nil, func(f *fixture) *quant.Quant {
			tx := f.tx(`1`, false)
			return f.quant([]*quant.Tx{tx, tx}, nil)
		}, quant.CodeDuplicate},
		{"tx already committed", nil, func(f *fixture) *quant.Quant {
			tx := f.tx(`1`, false)
			f.add(f.quant([]*quant.Tx{tx}, nil))
			return f.quant([]*quant.Tx{tx}, nil)
		}, quant.CodeDuplicate},
		{"tx dated in the future", nil, func(f *fixture) *quant.Quant {
			tx := f.tx(`1`, false)
			tx.Time += 10 * 60 * 1000
			return f.quant([]*quant.Tx{tx}, nil)
		}, quant.CodeTimeTooNew},
		{"tx dated before the epoch", nil, func(f *fixture) *quant.Quant {
			tx := f.tx(`1`, false)
			tx.Time = -1
			return f.quant([]*quant.Tx{tx}, nil)
		}, quant.CodeTimeTooOld},
		{"non-compact JSON payload", nil, func(f *fixture) *quant.Quant {
			return f.quant([]*quant.Tx{f.tx(`{ "a": 1 }`, false)}, nil)
		}, quant.CodeBadData},
		{"payload over the chain's limit", func(r *quant.Rules) { r.MaxDataBytes = 8 }, func(f *fixture) *quant.Quant {
			return f.quant([]*quant.Tx{f.tx(`"0123456789"`, false)}, nil)
		}, quant.CodeTooLarge},
		{"more txs than the chain allows", func(r *quant.Rules) { r.MaxQuantTxs = 2 }, func(f *fixture) *quant.Quant {
			return f.quant([]*quant.Tx{f.tx(`1`, false), f.tx(`2`, false), f.tx(`3`, false)}, nil)
		}, quant.CodeLimitExceeded},
		{"unsigned tx on a signed chain", func(r *quant.Rules) { r.WritePolicy = quant.PolicySigned }, func(f *fixture) *quant.Quant {
			return f.quant([]*quant.Tx{f.tx(`1`, false)}, nil)
		}, quant.CodeNotAllowed},
		{"unlisted writer", func(r *quant.Rules) {
			r.WritePolicy = quant.PolicyAllowlist
			r.Writers = []string{"00000000000000000000000000000000000000000000000000000000000000ff"}
		}, func(f *fixture) *quant.Quant {
			return f.quant([]*quant.Tx{f.tx(`1`, true)}, nil)
		}, quant.CodeNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.rules)
			q := tc.build(f)
			before := f.c.Tip()
			_, err := f.c.Add(q)
			if got := quant.CodeOf(err); got != tc.code {
				t.Fatalf("Add: %v (code %q), want code %q", err, got, tc.code)
			}
			if f.c.Tip().Hash != before.Hash {
				t.Fatal("a refused quant moved the tip")
			}
			if has, err := f.st.Has(q.Hash()); err != nil || has {
				t.Fatalf("a refused quant was stored (%v)", err)
			}
			if err := VerifyStored(context.Background(), f.st, testEngines, nil); err != nil {
				t.Fatalf("store after refusal: %v", err)
			}
		})
	}
}

// forkAt makes the fixture's chain a fork, at height, of a chain the test
// does not hold (the chain package does not check fork points when it
// stores a bang: the node does, against the parent, before it creates one).
func forkAt(height uint64) func(r *quant.Rules) {
	return func(r *quant.Rules) {
		r.Parent = &quant.ForkPoint{Chain: quant.Hash{0xaa}, Height: height, Hash: quant.Hash{0xbb}}
	}
}

// TestForkHeights checks that a fork's heights continue its parent's: its
// bang at the fork point's height, its first quant one above, the rest
// following, and its locator, sync plan and stored-chain check working
// from the bang's height.
func TestForkHeights(t *testing.T) {
	for _, base := range []uint64{0, 1, 120} {
		var f *fixture
		if base == 0 {
			f = newFixture(t, nil)
		} else {
			f = newFixture(t, forkAt(base))
		}
		if got := f.c.Tip().Header.Height; got != base || f.c.Base() != base {
			t.Fatalf("base %d: bang at %d, Base %d", base, got, f.c.Base())
		}
		if at, err := f.st.HashAt(base); err != nil || at != f.c.ID() {
			t.Fatalf("base %d: HashAt(%d) = %s, %v; want the bang", base, base, at, err)
		}
		var hashes []quant.Hash
		for i := uint64(1); i <= 12; i++ {
			q := f.quant(nil, nil)
			if q.Header.Height != base+i {
				t.Fatalf("base %d: template at %d, want %d", base, q.Header.Height, base+i)
			}
			f.add(q)
			hashes = append(hashes, q.Hash())
		}
		if got := f.c.Tip().Meta.Height; got != base+12 {
			t.Fatalf("base %d: tip meta height %d", base, got)
		}
		loc, err := f.c.Locator()
		if err != nil || loc[len(loc)-1] != f.c.ID() || loc[0] != hashes[11] {
			t.Fatalf("base %d: locator %v, %v; want the tip first and the bang last", base, loc, err)
		}
		plan, err := f.c.HashesAfter([]quant.Hash{{0xcc}}, 100)
		if err != nil || len(plan) != 12 || plan[0] != hashes[0] {
			t.Fatalf("base %d: plan for an unknown locator: %d hashes, %v", base, len(plan), err)
		}
		plan, err = f.c.HashesAfter(loc[2:], 100)
		if err != nil || len(plan) != 2 || plan[1] != hashes[11] {
			t.Fatalf("base %d: plan after tip-2: %v, %v", base, plan, err)
		}
		if err := VerifyStored(context.Background(), f.st, testEngines, nil); err != nil {
			t.Fatalf("base %d: VerifyStored: %v", base, err)
		}
		if r := f.c.QuantsPerMinute(); r <= 0 {
			t.Fatalf("base %d: %v quants per minute", base, r)
		}
	}
}

func TestEqualRivalStaysSide(t *testing.T) {
	f := newFixture(t, nil)
	q1 := f.quant(nil, nil)
	q2 := f.quant(nil, func(q *quant.Quant) { q.Header.Time++ }) // a rival of q1
	f.add(q1)
	// A rival of equal work stays on a side branch: the first seen wins.
	if res, err := f.c.Add(q2); err != nil || res.Extended() || f.c.Tip().Hash != q1.Hash() {
		t.Fatalf("rival of the tip: %+v %v", res, err)
	}
	if _, err := f.c.Add(q1); quant.CodeOf(err) != quant.CodeDuplicate {
		t.Fatalf("same quant twice: %v, want duplicate", err)
	}
}

func TestCheckTx(t *testing.T) {
	f := newFixture(t, func(r *quant.Rules) { r.WritePolicy = quant.PolicySigned })
	good := f.tx(`{"a":1}`, true)
	if err := f.c.CheckTx(good, good.ID()); err != nil {
		t.Fatalf("good tx: %v", err)
	}
	unsigned := f.tx(`1`, false)
	if err := f.c.CheckTx(unsigned, unsigned.ID()); quant.CodeOf(err) != quant.CodeNotAllowed {
		t.Fatalf("unsigned: %v", err)
	}
	forged := f.tx(`1`, true)
	forged.Nonce++
	if err := f.c.CheckTx(forged, forged.ID()); quant.CodeOf(err) != quant.CodeBadSignature {
		t.Fatalf("forged: %v", err)
	}
	noKey := f.noKeyTx()
	if err := f.c.CheckTx(noKey, noKey.ID()); quant.CodeOf(err) != quant.CodeBadSignature {
		t.Fatalf("small-order key, zero signature: %v", err)
	}
	if errs := f.c.CheckTxs([]*quant.Tx{good, noKey}, quant.TxIDs([]*quant.Tx{good, noKey})); errs[0] != nil || quant.CodeOf(errs[1]) != quant.CodeBadSignature {
		t.Fatalf("batch with a small-order key: %v", errs)
	}
	f.add(f.quant([]*quant.Tx{good}, nil))
	if err := f.c.CheckTx(good, good.ID()); quant.CodeOf(err) != quant.CodeDuplicate {
		t.Fatalf("replayed committed tx: %v", err)
	}
}

func TestTemplateDropsAndTrims(t *testing.T) {
	f := newFixture(t, func(r *quant.Rules) { r.MaxQuantTxs = 2 })
	committed := f.tx(`0`, false)
	f.add(f.quant([]*quant.Tx{committed}, nil))
	a, b, c := f.tx(`1`, false), f.tx(`2`, false), f.tx(`3`, false)
	q, dropped, err := f.c.Template([]*quant.Tx{committed, a, b, c}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(dropped) != 1 || dropped[0] != committed.ID() {
		t.Fatalf("dropped %v, want the committed tx", dropped)
	}
	if len(q.Txs) != 2 || q.Txs[0] != a || q.Txs[1] != b {
		t.Fatalf("template holds %d txs, want a and b", len(q.Txs))
	}
	if err := f.c.Engine().Seal(context.Background(), &q.Header); err != nil {
		t.Fatal(err)
	}
	f.add(q)
}

func TestVerifyStoredFindsFault(t *testing.T) {
	f := newFixture(t, nil)
	f.add(f.quant([]*quant.Tx{f.tx(`1`, false)}, nil))
	// Write a quant that skips validation straight into the store.
	bad := f.quant(nil, nil)
	badWork(t, f, bad)
	head := f.c.Tip()
	if err := f.st.Connect(Entry{Quant: bad, Meta: f.c.childMeta(&head.Meta, bad)}); err != nil {
		t.Fatal(err)
	}
	err := VerifyStored(context.Background(), f.st, testEngines, nil)
	if quant.CodeOf(err) != quant.CodeBadSeal {
		t.Fatalf("VerifyStored: %v, want a bad seal at quant 2", err)
	}
}

func TestQuantsPerMinute(t *testing.T) {
	f := newFixture(t, nil)
	if r := f.c.QuantsPerMinute(); r != 0 {
		t.Fatalf("empty chain: %v", r)
	}
	for i := 0; i < 5; i++ {
		f.add(f.quant(nil, nil)) // one a second
	}
	if r := f.c.QuantsPerMinute(); r < 59 || r > 61 {
		t.Fatalf("one quant a second: %v a minute", r)
	}
}

// BenchmarkAdd measures validating and durably committing quants of 1,000
// signed transactions of about 200 bytes (signatures verified in Add).
func BenchmarkAdd(b *testing.B) {
	f := newFixture(b, nil)
	payload := `{"payload":"` + strings.Repeat("x", 180) + `"}`
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		txs := make([]*quant.Tx, 1000)
		for i := range txs {
			txs[i] = f.tx(payload, true)
		}
		q := f.quant(txs, nil)
		b.StartTimer()
		f.add(q)
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "txs/s")
}

func TestCheckTxsBatch(t *testing.T) {
	f := newFixture(t, nil)
	var txs []*quant.Tx
	for i := 0; i < 40; i++ {
		txs = append(txs, f.tx(fmt.Sprintf(`{"i":%d}`, i), true))
	}
	txs[7].ChainID[0] ^= 1       // another chain
	txs[20].Data = []byte(`"x"`) // tampered after signing
	txs[30].Data = []byte(`"y"`) // and another
	ids := quant.TxIDs(txs)
	errs := f.c.CheckTxs(txs, ids)
	for i, err := range errs {
		want := quant.Code("")
		switch i {
		case 7:
			want = quant.CodeWrongChain
		case 20, 30:
			want = quant.CodeBadSignature
		}
		if quant.CodeOf(err) != want {
			t.Errorf("tx %d: %v, want code %q", i, err, want)
		}
	}
}

func TestSchema(t *testing.T) {
	f := newFixture(t, func(r *quant.Rules) {
		r.Schema = json.RawMessage(`{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"}}}`)
	})
	good := f.tx(`{"sku":"a-1"}`, false)
	if err := f.c.CheckTx(good, good.ID()); err != nil {
		t.Fatalf("matching data: %v", err)
	}
	for _, data := range []string{`{"sku":1}`, `{"name":"x"}`, `[1]`} {
		bad := f.tx(data, false)
		if err := f.c.CheckTx(bad, bad.ID()); quant.CodeOf(err) != quant.CodeBadData {
			t.Errorf("%s: %v, want bad_data", data, err)
		}
	}
	bytesTx := f.tx(`1`, false)
	bytesTx.Kind = quant.DataBytes
	if err := f.c.CheckTx(bytesTx, bytesTx.ID()); quant.CodeOf(err) != quant.CodeBadData {
		t.Errorf("bytes on a schema chain: %v", err)
	}
	// A quant carrying refused data is refused too.
	if _, err := f.c.Add(f.quant([]*quant.Tx{f.tx(`{"sku":false}`, false)}, nil)); quant.CodeOf(err) != quant.CodeBadData {
		t.Errorf("quant with refused data: %v", err)
	}
	f.add(f.quant([]*quant.Tx{good}, nil))
}

// TestBadSchemaRefused: a schema that is not self-contained, or whose cost
// is beyond the schema package's bounds, is refused at creation, in words.
func TestBadSchemaRefused(t *testing.T) {
	for _, tc := range []struct{ name, schema, want string }{
		{"external ref", `{"$ref":"https://example.com/x.json"}`, "external reference"},
		{"long pattern", `{"pattern":"` + strings.Repeat("a", 2000) + `"}`, "pattern of 2000 bytes"},
		{"costly pattern", `{"pattern":"a{1000}b{1000}c{1000}"}`, "instructions"},
		{"huge number", `{"minimum":1e999999}`, "exponent beyond"},
		{"older draft", `{"$schema":"http://json-schema.org/draft-07/schema#"}`, "only draft 2020-12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := quant.DefaultRules("bad-schema", t0)
			r.Engine = pow.Name
			r.EngineParams, _ = json.Marshal(pow.Params{TargetMs: 1000, InitialDifficulty: 1 << 8, MinDifficulty: 1, Window: 0})
			r.Schema = json.RawMessage(tc.schema)
			bang, err := quant.NewBang(r)
			if err != nil {
				t.Fatal(err)
			}
			err = Init(newMemStore(bang.Hash()), bang, testEngines)
			if quant.CodeOf(err) != quant.CodeBadRules || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Init: %v, want bad_rules saying %q", err, tc.want)
			}
		})
	}
}

// TestSchemaCost: data whose check against the schema would cost beyond
// the schema package's bounds is refused as bad_data, and quickly.
func TestSchemaCost(t *testing.T) {
	fanout := `{"type":"object","properties":{"a":true},"additionalProperties":{"type":"array","items":{"minimum":0}},
		"allOf":[{"properties":{"a":{"$ref":"#"}}},{"properties":{"a":{"$ref":"#"}}}]}`
	f := newFixture(t, func(r *quant.Rules) { r.Schema = json.RawMessage(fanout) })
	for _, data := range []string{
		`{"a":{"b":[` + strings.Repeat("1e999999,", 1000) + `1]}}`, // each number a tenth of a second
		`{"b":[` + strings.Repeat("7", 60_000) + `]}`,
		strings.Repeat(`{"a":`, 30) + `{}` + strings.Repeat(`}`, 30), // 2^30 applications
	} {
		tx := f.tx(data, false)
		if err := f.c.CheckTx(tx, tx.ID()); quant.CodeOf(err) != quant.CodeBadData {
			t.Errorf("%.40s: %v, want bad_data", data, err)
		}
	}
	ok := f.tx(`{"a":{"a":{"b":[1e300,7]}}}`, false)
	if err := f.c.CheckTx(ok, ok.ID()); err != nil {
		t.Errorf("shallow data: %v", err)
	}
}

// TestAdmissionOrder: the writer and the signature are checked before the
// payload (a refused writer or a forged signature never costs a schema
// run, and is named as such), and a schema's refusal quoting a large
// payload is capped.
func TestAdmissionOrder(t *testing.T) {
	listed := recKey(1)
	f := newFixture(t, func(r *quant.Rules) {
		r.WritePolicy = quant.PolicyAllowlist
		r.Writers = []string{fmt.Sprintf("%x", pubOf(listed))}
		r.Schema = json.RawMessage(`{"type":"object","properties":{"v":{"enum":["a"]}}}`)
	})
	bad := `{"v":"` + strings.Repeat("x", 60_000) + `"}` // fails the schema, and its error would quote it
	unlisted := f.tx(bad, true)
	if err := f.c.CheckTx(unlisted, unlisted.ID()); quant.CodeOf(err) != quant.CodeNotAllowed {
		t.Fatalf("an unlisted writer with bad data: %v, want not_allowed", err)
	}
	forged := f.write("", bad, nil, nil, listed)
	forged.Sig[3] ^= 1
	errs := f.c.CheckTxs([]*quant.Tx{forged}, []quant.Hash{forged.ID()})
	if quant.CodeOf(errs[0]) != quant.CodeBadSignature {
		t.Fatalf("a forged signature with bad data: %v, want bad_signature", errs[0])
	}
	honest := f.write("", bad, nil, nil, listed)
	err := f.c.CheckTx(honest, honest.ID())
	if quant.CodeOf(err) != quant.CodeBadData || len(err.Error()) > 1100 {
		t.Fatalf("schema refusal: %d bytes, %.80v", len(err.Error()), err)
	}
}

// TestCheckedOnce: CheckTx and CheckTxs run the checks that depend only on
// a transaction and the chain's rules once for an id they saw pass (a
// raft leader's node checks each transaction at its API, then its replica
// again as it queues it), and what can change every time: the time, and
// whether it is committed. The id is what is remembered, for two
// generations of checkedGen.
func TestCheckedOnce(t *testing.T) {
	f := newFixture(t, func(r *quant.Rules) { r.WritePolicy = quant.PolicySigned })
	good := f.tx(`{"a":1}`, true)
	id := good.ID()
	if errs := f.c.CheckTxs([]*quant.Tx{good}, []quant.Hash{id}); errs[0] != nil {
		t.Fatalf("good tx: %v", errs[0])
	}
	// A copy whose signature is broken, under the id that passed: its
	// signature is not verified again (a caller passes a transaction's own
	// id, so this copy cannot reach a check in any other way).
	forged := good.Clone()
	forged.Sig[0] ^= 1
	if errs := f.c.CheckTxs([]*quant.Tx{forged}, []quant.Hash{id}); errs[0] != nil {
		t.Fatalf("the id that passed, again: %v", errs[0])
	}
	if err := f.c.CheckTx(forged, id); err != nil {
		t.Fatalf("CheckTx of the id that passed: %v", err)
	}
	// Under its own id it is checked in full.
	if errs := f.c.CheckTxs([]*quant.Tx{forged}, []quant.Hash{forged.ID()}); quant.CodeOf(errs[0]) != quant.CodeBadSignature {
		t.Fatalf("forged under its own id: %v", errs[0])
	}
	if err := f.c.CheckTx(forged, forged.ID()); quant.CodeOf(err) != quant.CodeBadSignature {
		t.Fatalf("CheckTx of forged under its own id: %v", err)
	}
	// The time is checked again.
	saved := f.clock.t
	f.clock.t = f.clock.t.Add(-time.Duration(f.c.Rules().MaxTimeDriftMs+1000) * time.Millisecond)
	if errs := f.c.CheckTxs([]*quant.Tx{good}, []quant.Hash{id}); quant.CodeOf(errs[0]) != quant.CodeTimeTooNew {
		t.Fatalf("a checked transaction dated ahead of the clock: %v", errs[0])
	}
	if err := f.c.CheckTx(good, id); quant.CodeOf(err) != quant.CodeTimeTooNew {
		t.Fatalf("CheckTx of a checked transaction dated ahead of the clock: %v", err)
	}
	f.clock.t = saved
	// So is whether it is committed.
	f.add(f.quant([]*quant.Tx{good}, nil))
	if errs := f.c.CheckTxs([]*quant.Tx{good}, []quant.Hash{id}); quant.CodeOf(errs[0]) != quant.CodeDuplicate {
		t.Fatalf("a checked transaction, committed: %v", errs[0])
	}
	// After two generations of other ids, the id is forgotten.
	for i := range 2 * checkedGen {
		f.c.checked.add(quant.Sum(quant.DomainTx, fmt.Appendf(nil, "other %d", i)), struct{}{})
	}
	if err := f.c.CheckTx(forged, id); quant.CodeOf(err) != quant.CodeBadSignature {
		t.Fatalf("a forgotten id: %v", err)
	}
}

// TestAddTrustsChecked: a quant's transactions that passed CheckTx or
// CheckTxs here lately are not verified again when the quant is added, as a
// raft follower applies those its own API took; the rest are. A copy with
// a broken signature stands for one: its own id is marked checked, as no
// real check would do, and the quant holding it is then taken.
func TestAddTrustsChecked(t *testing.T) {
	f := newFixture(t, func(r *quant.Rules) { r.WritePolicy = quant.PolicySigned })
	forged := f.tx(`{"a":1}`, true)
	forged.Sig[0] ^= 1
	q := f.quant([]*quant.Tx{forged}, nil)
	if _, err := f.c.Add(q); quant.CodeOf(err) != quant.CodeBadSignature {
		t.Fatalf("a quant with a forged transaction not checked here: %v, want bad_signature", err)
	}
	f.c.checked.add(forged.ID(), struct{}{})
	f.add(q)
	if f.c.Tip().Hash != q.Hash() {
		t.Fatal("the quant of a checked transaction did not join the chain")
	}
}

// TestMedianTimePastReads: the median time past of a new quant reads the
// headers of its ancestors from the store once, not for every quant after
// (Chain.ancestor): a quant made and added on the tip of a long chain
// reads about one header, where it read ten for each of Template and Add.
// The median itself is still checked: a quant dated at it is refused.
func TestMedianTimePastReads(t *testing.T) {
	f := newFixture(t, nil)
	for range 2 * medianTimePastSpan {
		f.add(f.quant(nil, nil))
	}
	before := f.st.headerReads.Load()
	f.add(f.quant(nil, nil))
	if reads := f.st.headerReads.Load() - before; reads > 2 {
		t.Fatalf("a quant on the tip read %d headers from the store", reads)
	}
	tip := f.c.Tip()
	mtp, err := f.c.medianTimePast(&tip.Header)
	if err != nil {
		t.Fatal(err)
	}
	early := f.quant(nil, func(q *quant.Quant) { q.Header.Time = mtp })
	if _, err := f.c.Add(early); err == nil {
		t.Fatal("a quant dated at the median time past was added")
	}
}
