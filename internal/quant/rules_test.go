package quant

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

func testRules() Rules {
	r := DefaultRules("test", 1700000000000)
	r.Engine = "pow"
	return r
}

func rulesJSON(t testing.TB, r Rules) []byte {
	t.Helper()
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDefaultRulesValid(t *testing.T) {
	r := DefaultRules("x", 1700000000000)
	if err := r.Validate(); CodeOf(err) != CodeBadRules {
		t.Errorf("DefaultRules without an engine: %v, want bad_rules", err)
	}
	r.Engine = "poa"
	if err := r.Validate(); err != nil {
		t.Errorf("DefaultRules with an engine: %v", err)
	}
	if r.WritePolicy != PolicyOpen {
		t.Errorf("default write policy %q", r.WritePolicy)
	}
}

func TestBangRoundTrip(t *testing.T) {
	allow := testRules()
	allow.WritePolicy = PolicyAllowlist
	allow.Writers = []string{hex.EncodeToString(testKey(1).Public().(ed25519.PublicKey)), hex.EncodeToString(testKey(2).Public().(ed25519.PublicKey))}
	allow.EngineParams = json.RawMessage(`{"authorities":["x"]}`)
	html := testRules()
	html.Name = `<chain> & "co"`
	for _, r := range []Rules{goldenRules(), testRules(), allow, html} {
		bang, err := NewBang(r)
		if err != nil {
			t.Fatalf("NewBang(%s): %v", r.Name, err)
		}
		if !bang.IsBang() || bang.Header.TxRoot != Sum(DomainRules, bang.Rules) || bang.Header.Time != r.Created {
			t.Errorf("%s: bang header %+v", r.Name, bang.Header)
		}
		q, err := DecodeQuant(bang.Encode())
		if err != nil {
			t.Fatalf("%s: DecodeQuant: %v", r.Name, err)
		}
		got, err := CheckBang(q)
		if err != nil {
			t.Fatalf("%s: CheckBang: %v", r.Name, err)
		}
		if !reflect.DeepEqual(*got, r) {
			t.Errorf("rules came back as %+v, want %+v", *got, r)
		}
		if q.Hash() != bang.Hash() {
			t.Errorf("%s: chain id changed", r.Name)
		}
	}
	// Rules that differ only in Created give different chains.
	a, b := testRules(), testRules()
	b.Created++
	ba, _ := NewBang(a)
	bb, _ := NewBang(b)
	if ba.Hash() == bb.Hash() {
		t.Error("two creation times, one chain id")
	}
}

func TestNewBangRefusesInvalid(t *testing.T) {
	r := testRules()
	r.Engine = ""
	_, err := NewBang(r)
	wantCode(t, "no engine", err, CodeBadRules)
	r = testRules()
	r.EngineParams = json.RawMessage(`{not json`)
	_, err = NewBang(r)
	wantCode(t, "engine params not JSON", err, CodeBadRules)
}

func TestCheckBangRefuses(t *testing.T) {
	// rehash makes the header commit to the (changed) rules again, so the
	// check under test is the one that fails.
	rehash := func(q *Quant) { q.Header.TxRoot = Sum(DomainRules, q.Rules) }
	tests := []struct {
		name   string
		mutate func(q *Quant)
	}{
		{"height 1", func(q *Quant) { q.Header.Height = 1 }},
		{"chain id set", func(q *Quant) { q.Header.ChainID[0] = 1 }},
		{"prev set", func(q *Quant) { q.Header.Prev[0] = 1 }},
		{"tx count", func(q *Quant) { q.Header.TxCount = 1 }},
		{"txs", func(q *Quant) { q.Txs = []*Tx{{Kind: DataBytes}} }},
		{"seal", func(q *Quant) { q.Header.Seal = []byte{0} }},
		{"rules changed, root not", func(q *Quant) { q.Rules = bytes.Replace(q.Rules, []byte("golden"), []byte("GOLDEN"), 1) }},
		{"root changed", func(q *Quant) { q.Header.TxRoot[0] ^= 1 }},
		{"root of the rules without domain", func(q *Quant) { q.Header.TxRoot = Sum("", q.Rules) }},
		{"time is not created", func(q *Quant) { q.Header.Time++ }},
		{"rules not canonical", func(q *Quant) { q.Rules = append(q.Rules, ' '); rehash(q) }},
		{"rules invalid", func(q *Quant) {
			q.Rules = bytes.Replace(q.Rules, []byte(`"write_policy":"open"`), []byte(`"write_policy":"closed"`), 1)
			rehash(q)
		}},
		{"rules empty", func(q *Quant) { q.Rules = nil; rehash(q) }},
	}
	for _, tc := range tests {
		q := goldenBang(t)
		tc.mutate(q)
		r, err := CheckBang(q)
		wantCode(t, tc.name, err, CodeBadRules)
		if r != nil {
			t.Errorf("%s: rules returned", tc.name)
		}
	}
	// A fork's bang sits at its fork point's height (checkBangHeight).
	for _, height := range []uint64{0, 2} {
		q := goldenForkBang(t)
		q.Header.Height = height
		_, err := CheckBang(q)
		wantCode(t, fmt.Sprintf("fork bang at %d, not 1", height), err, CodeBadRules)
	}
	if _, err := CheckBang(goldenForkBang(t)); err != nil {
		t.Errorf("fork bang at its fork point's height: %v", err)
	}
}

func TestDecodeRulesRefuses(t *testing.T) {
	canon := string(rulesJSON(t, goldenRules()))
	var indented bytes.Buffer
	if err := json.Indent(&indented, []byte(canon), "", "  "); err != nil {
		t.Fatal(err)
	}
	reordered := strings.Replace(canon, `{"name":"golden","created":1700000000000,`, `{"created":1700000000000,"name":"golden",`, 1)
	noParams := string(rulesJSON(t, testRules()))
	tests := []struct {
		name string
		in   string
		code Code
	}{
		{"canonical (control)", canon, ""},
		{"canonical, no engine params (control)", noParams, ""},
		{"unknown field", strings.Replace(canon, `{"name"`, `{"extra":1,"name"`, 1), CodeBadRules},
		{"unknown field at the end", strings.TrimSuffix(canon, "}") + `,"x":null}`, CodeBadRules},
		{"indented", indented.String(), CodeBadRules},
		{"space after colon", strings.Replace(canon, `"name":`, `"name": `, 1), CodeBadRules},
		{"leading space", " " + canon, CodeBadRules},
		{"trailing space", canon + " ", CodeBadRules},
		{"trailing newline", canon + "\n", CodeBadRules},
		{"trailing object", canon + "{}", CodeBadRules},
		{"trailing garbage", canon + "x", CodeBadRules},
		{"two copies", canon + canon, CodeBadRules},
		{"reordered keys", reordered, CodeBadRules},
		{"duplicated key", strings.Replace(canon, `{"name":"golden"`, `{"name":"golden","name":"golden"`, 1), CodeBadRules},
		{"upper-case key", strings.Replace(canon, `"name"`, `"Name"`, 1), CodeBadRules},
		{"escaped character", strings.Replace(canon, `"golden"`, `"\u0067olden"`, 1), CodeBadRules},
		{"unescaped <", strings.Replace(string(rulesJSON(t, func() Rules { r := testRules(); r.Name = "<"; return r }())), `\u003c`, `<`, 1), CodeBadRules},
		{"number with exponent", strings.Replace(canon, `1700000000000`, `1.7e12`, 1), CodeBadRules},
		{"number with leading zero", strings.Replace(canon, `"max_quant_txs":50000`, `"max_quant_txs":050000`, 1), CodeBadRules},
		{"number as string", strings.Replace(canon, `"max_quant_txs":50000`, `"max_quant_txs":"50000"`, 1), CodeBadRules},
		{"engine params with space", strings.Replace(canon, `{"target_ms":10000}`, `{"target_ms": 10000}`, 1), CodeBadRules},
		{"empty writers", strings.Replace(noParams, `"write_policy":"open",`, `"write_policy":"open","writers":[],`, 1), CodeBadRules},
		{"field missing", strings.Replace(canon, `,"max_time_drift_ms":120000`, ``, 1), CodeBadRules},
		{"canonical but invalid", strings.Replace(canon, `"write_policy":"open"`, `"write_policy":"closed"`, 1), CodeBadRules},
		{"empty", ``, CodeBadRules},
		{"null", `null`, CodeBadRules},
		{"empty object", `{}`, CodeBadRules},
		{"array", `[]`, CodeBadRules},
		{"truncated", canon[:len(canon)-1], CodeBadRules},
		{"over MaxRulesSize", canon + strings.Repeat(" ", MaxRulesSize), CodeTooLarge},
	}
	for _, tc := range tests {
		r, err := DecodeRules([]byte(tc.in))
		wantCode(t, tc.name, err, tc.code)
		if (r == nil) == (tc.code == "") {
			t.Errorf("%s: rules %v, error %v", tc.name, r != nil, err)
		}
	}
}

// TestRulesEncoding pins the canonical JSON: the fields in struct order,
// compact, HTML characters escaped as encoding/json does, empty optional
// fields left out.
func TestRulesEncoding(t *testing.T) {
	r := testRules()
	r.Name = "a<b>&c"
	want := `{"name":"a\u003cb\u003e\u0026c","created":1700000000000,"engine":"pow","write_policy":"open",` +
		`"max_data_bytes":65536,"max_quant_txs":50000,"max_quant_bytes":33554432,"max_time_drift_ms":120000}`
	if got := string(rulesJSON(t, r)); got != want {
		t.Errorf("rules JSON\n got %s\nwant %s", got, want)
	}
	r.EngineParams = json.RawMessage(" {\"a\" : \"<\"} ")
	r.WritePolicy = PolicyAllowlist
	r.Writers = []string{strings.Repeat("ab", 32)}
	want = `{"name":"a\u003cb\u003e\u0026c","created":1700000000000,"engine":"pow","engine_params":{"a":"\u003c"},` +
		`"write_policy":"allowlist","writers":["` + strings.Repeat("ab", 32) + `"],` +
		`"max_data_bytes":65536,"max_quant_txs":50000,"max_quant_bytes":33554432,"max_time_drift_ms":120000}`
	if got := string(rulesJSON(t, r)); got != want {
		t.Errorf("rules JSON\n got %s\nwant %s", got, want)
	}
	if _, err := DecodeRules([]byte(want)); err != nil {
		t.Errorf("DecodeRules(Encode()): %v", err)
	}
}

func TestValidate(t *testing.T) {
	key := hex.EncodeToString(testKey(1).Public().(ed25519.PublicKey))
	tests := []struct {
		field  string // "" for valid rules
		mutate func(r *Rules)
	}{
		{"", func(r *Rules) {}},
		{"", func(r *Rules) { r.Name = strings.Repeat("n", maxNameLen) }},
		{"", func(r *Rules) { r.MaxDataBytes, r.MaxQuantTxs = 1, 1 }},
		{"", func(r *Rules) {
			r.MaxDataBytes, r.MaxQuantTxs, r.MaxQuantBytes = MaxDataSize, MaxQuantTxs, MaxQuantSize
		}},
		{"", func(r *Rules) { r.MaxQuantBytes = MaxHeaderSize + MaxTxSize }},
		{"", func(r *Rules) { r.MaxTimeDriftMs = 1000 }},
		{"", func(r *Rules) { r.WritePolicy = PolicySigned }},
		{"", func(r *Rules) { r.WritePolicy, r.Writers = PolicyAllowlist, []string{key} }},
		{"name", func(r *Rules) { r.Name = "" }},
		{"name", func(r *Rules) { r.Name = strings.Repeat("n", maxNameLen+1) }},
		{"name", func(r *Rules) { r.Name = "\xff" }},
		{"engine", func(r *Rules) { r.Engine = "" }},
		{"max_data_bytes", func(r *Rules) { r.MaxDataBytes = 0 }},
		{"max_data_bytes", func(r *Rules) { r.MaxDataBytes = -1 }},
		{"max_data_bytes", func(r *Rules) { r.MaxDataBytes = MaxDataSize + 1 }},
		{"max_quant_txs", func(r *Rules) { r.MaxQuantTxs = 0 }},
		{"max_quant_txs", func(r *Rules) { r.MaxQuantTxs = MaxQuantTxs + 1 }},
		{"max_quant_bytes", func(r *Rules) { r.MaxQuantBytes = minQuantBytes - 1 }},
		{"max_quant_bytes", func(r *Rules) { r.MaxQuantBytes = MaxQuantSize + 1 }},
		{"max_time_drift_ms", func(r *Rules) { r.MaxTimeDriftMs = 999 }},
		{"max_time_drift_ms", func(r *Rules) { r.MaxTimeDriftMs = -1 }},
		{"", func(r *Rules) { r.Created = MinCreated }},
		{"", func(r *Rules) { r.Created = MaxCreated }},
		{"", func(r *Rules) { r.MaxTimeDriftMs = MaxTimeDrift }},
		{"", func(r *Rules) { r.Parent = &ForkPoint{Chain: Hash{1}, Height: MaxForkHeight, Hash: Hash{2}} }},
		{"created", func(r *Rules) { r.Created = 0 }},
		{"created", func(r *Rules) { r.Created = -1 }},
		{"created", func(r *Rules) { r.Created = MinCreated - 1 }},
		{"created", func(r *Rules) { r.Created = MaxCreated + 1 }},
		{"created", func(r *Rules) { r.Created = math.MaxInt64 }},
		{"created", func(r *Rules) { r.Created = math.MaxInt64 - 1000 }},
		{"created", func(r *Rules) { r.Created = math.MinInt64 }},
		{"max_time_drift_ms", func(r *Rules) { r.MaxTimeDriftMs = MaxTimeDrift + 1 }},
		{"max_time_drift_ms", func(r *Rules) { r.MaxTimeDriftMs = math.MaxInt64 }},
		{"max_time_drift_ms", func(r *Rules) { r.MaxTimeDriftMs = math.MaxInt64 - r.Created }},
		{"max_time_drift_ms", func(r *Rules) { r.MaxTimeDriftMs = math.MinInt64 }},
		{"parent.height", func(r *Rules) { r.Parent = &ForkPoint{Chain: Hash{1}, Height: MaxForkHeight + 1, Hash: Hash{2}} }},
		{"parent.height", func(r *Rules) { r.Parent = &ForkPoint{Chain: Hash{1}, Height: math.MaxUint64, Hash: Hash{2}} }},
		{"write_policy", func(r *Rules) { r.WritePolicy = "" }},
		{"write_policy", func(r *Rules) { r.WritePolicy = "Open" }},
		{"writers", func(r *Rules) { r.Writers = []string{key} }},
		{"writers", func(r *Rules) { r.WritePolicy, r.Writers = PolicySigned, []string{key} }},
		{"writers", func(r *Rules) { r.WritePolicy = PolicyAllowlist }},
		{"writers", func(r *Rules) { r.WritePolicy, r.Writers = PolicyAllowlist, make([]string, maxWriters+1) }},
		{"writers[0]", func(r *Rules) { r.WritePolicy, r.Writers = PolicyAllowlist, []string{strings.ToUpper(key)} }},
		{"writers[1]", func(r *Rules) { r.WritePolicy, r.Writers = PolicyAllowlist, []string{key, key[:62]} }},
		{"writers[0]", func(r *Rules) { r.WritePolicy, r.Writers = PolicyAllowlist, []string{key + "00"} }},
		{"writers[0]", func(r *Rules) { r.WritePolicy, r.Writers = PolicyAllowlist, []string{"zz" + key[2:]} }},
	}
	for i, tc := range tests {
		r := testRules()
		tc.mutate(&r)
		err := r.Validate()
		if tc.field == "" {
			if err != nil {
				t.Errorf("case %d: valid rules refused: %v", i, err)
			}
			continue
		}
		wantCode(t, "bad "+tc.field, err, CodeBadRules)
		// Validate's contract is to name the bad field first.
		var re *RuleError
		if err != nil && (!errors.As(err, &re) || !strings.HasPrefix(re.Description, tc.field+":")) {
			t.Errorf("case %d: %v does not name %s", i, err, tc.field)
		}
	}
}

func TestAllows(t *testing.T) {
	listed := signedTx(`{}`) // testKey(1)
	unlisted := &Tx{Kind: DataJSON, Data: []byte(`{}`)}
	unlisted.Sign(testKey(2))
	unsigned := &Tx{Kind: DataJSON, Data: []byte(`{}`)}
	key1 := hex.EncodeToString(listed.PubKey)
	tests := []struct {
		policy  string
		writers []string
		tx      *Tx
		code    Code
	}{
		{PolicyOpen, nil, unsigned, ""},
		{PolicyOpen, nil, listed, ""},
		{PolicySigned, nil, unsigned, CodeNotAllowed},
		{PolicySigned, nil, listed, ""},
		{PolicySigned, nil, unlisted, ""},
		{PolicyAllowlist, []string{key1}, unsigned, CodeNotAllowed},
		{PolicyAllowlist, []string{key1}, listed, ""},
		{PolicyAllowlist, []string{key1}, unlisted, CodeNotAllowed},
		{PolicyAllowlist, []string{strings.Repeat("00", 32), key1}, listed, ""},
		{PolicyAllowlist, []string{strings.ToUpper(key1)}, listed, CodeNotAllowed},
	}
	for _, tc := range tests {
		r := testRules()
		r.WritePolicy, r.Writers = tc.policy, tc.writers
		wantCode(t, tc.policy+" policy", r.Allows(tc.tx), tc.code)
	}
}

// FuzzDecodeRules: DecodeRules never panics, and whatever it accepts is
// valid and re-encodes to exactly the input.
func FuzzDecodeRules(f *testing.F) {
	f.Add([]byte(loadVectors(f).Bang.RulesJSON))
	f.Add(rulesJSON(f, testRules()))
	allow := testRules()
	allow.WritePolicy, allow.Writers = PolicyAllowlist, []string{strings.Repeat("ab", 32)}
	allow.Name = "<&>"
	f.Add(rulesJSON(f, allow))
	null := testRules()
	null.EngineParams = json.RawMessage(`null`)
	f.Add(rulesJSON(f, null))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := DecodeRules(in)
		if err != nil {
			if r != nil || CodeOf(err) == "" {
				t.Fatalf("rules %v, error %v", r != nil, err)
			}
			return
		}
		out, err := r.Encode()
		if err != nil {
			t.Fatalf("accepted rules do not encode: %v", err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("re-encoding differs:\n in %q\nout %q", in, out)
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted invalid rules: %v", err)
		}
		bang, err := NewBang(*r)
		if err != nil {
			t.Fatalf("NewBang: %v", err)
		}
		if !bytes.Equal(bang.Rules, in) {
			t.Fatal("NewBang re-encoded the rules differently")
		}
	})
}

func BenchmarkDecodeRules(b *testing.B) {
	in := rulesJSON(b, goldenRules())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRules(in); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseRules: ParseRules (rules as users write them) never panics,
// refuses with a code, and what it accepts and Validate passes makes a bang
// whose rules decode strictly to the same rules.
func FuzzParseRules(f *testing.F) {
	f.Add([]byte(loadVectors(f).Bang.RulesJSON))
	f.Add([]byte(`{"name":"x","created":1,"engine":"pow","engine_params":{ "b":1, "a":[2] },"write_policy":"open",
		"max_data_bytes":10,"max_quant_txs":1,"max_quant_bytes":2000000,"max_time_drift_ms":1000,
		"parent":{"chain":"` + strings.Repeat("ab", 32) + `","height":3,"hash":"` + strings.Repeat("cd", 32) + `"}}`))
	f.Add([]byte(`{"name":"x"} trailing`))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := ParseRules(in)
		if err != nil {
			if CodeOf(err) == "" {
				t.Fatalf("refusal without a code: %v", err)
			}
			return
		}
		if r.Validate() != nil {
			return
		}
		bang, err := NewBang(r)
		if err != nil {
			if CodeOf(err) == "" {
				t.Fatalf("NewBang refusal without a code: %v", err)
			}
			return
		}
		back, err := DecodeRules(bang.Rules)
		if err != nil {
			t.Fatalf("a bang's rules do not decode: %v", err)
		}
		again, _ := back.Encode()
		if !bytes.Equal(again, bang.Rules) {
			t.Fatal("a bang's rules do not re-encode")
		}
	})
}
