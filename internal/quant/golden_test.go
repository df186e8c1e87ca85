package quant

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the code")

const vectorsFile = "testdata/vectors.json"

// The golden values below are fixed forever: changing any of them changes
// the vectors in testdata/vectors.json and docs/protocol.md.

// goldenKey is the Ed25519 key whose seed is the bytes 0x01, 0x02, ..., 0x20.
func goldenKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	return ed25519.NewKeyFromSeed(seed)
}

func goldenRules() Rules {
	r := DefaultRules("golden", 1700000000000)
	r.Engine = "pow"
	r.EngineParams = json.RawMessage(`{"target_ms":10000}`)
	return r
}

func goldenBang(tb testing.TB) *Quant {
	tb.Helper()
	q, err := NewBang(goldenRules())
	if err != nil {
		tb.Fatalf("NewBang(goldenRules()): %v", err)
	}
	return q
}

// goldenForkRules are the rules of a fork of the golden chain at height 1
// (the golden quant): a signed-only chain one second younger.
func goldenForkRules(tb testing.TB) Rules {
	tb.Helper()
	r := goldenRules()
	r.Name = "golden-fork"
	r.Created = 1700000020000
	r.WritePolicy = PolicySigned
	r.Parent = &ForkPoint{Chain: goldenBang(tb).Hash(), Height: 1, Hash: goldenQuant(tb).Hash()}
	return r
}

// goldenForkBang is the bang of goldenForkRules: at height 1, its fork
// point's height.
func goldenForkBang(tb testing.TB) *Quant {
	tb.Helper()
	q, err := NewBang(goldenForkRules(tb))
	if err != nil {
		tb.Fatalf("NewBang(goldenForkRules()): %v", err)
	}
	return q
}

// goldenTxs returns the three transactions of the golden quant: an unsigned
// JSON record, a signed JSON record and an unsigned opaque one, all for the
// golden chain.
func goldenTxs(tb testing.TB) []*Tx {
	tb.Helper()
	chain := goldenBang(tb).Hash()
	unsigned := &Tx{ChainID: chain, Time: 1700000001000, Nonce: 1, Kind: DataJSON,
		Data: []byte(`{"greeting":"hello","n":1}`)}
	signed := &Tx{ChainID: chain, Time: 1700000002000, Nonce: 2, Kind: DataJSON,
		Data: []byte(`{"items":["a","b"],"order":42}`)}
	signed.Sign(goldenKey())
	opaque := &Tx{ChainID: chain, Time: 1700000003000, Nonce: 3, Kind: DataBytes,
		Data: []byte{0x00, 0x01, 0x02, 0xfe, 0xff}}
	return []*Tx{unsigned, signed, opaque}
}

// goldenHeader is a header with every field set to a recognizable pattern.
func goldenHeader() *Header {
	h := &Header{Height: 42, Time: 1700000042000, TxCount: 7,
		Seal: []byte{0x00, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef}}
	for i := range HashSize {
		h.ChainID[i] = byte(0x80 + i)
		h.Prev[i] = byte(0xa0 + i)
		h.TxRoot[i] = byte(0xc0 + i)
	}
	return h
}

// goldenQuant is the first quant after the golden bang, holding goldenTxs.
func goldenQuant(tb testing.TB) *Quant {
	tb.Helper()
	bang := goldenBang(tb).Hash()
	txs := goldenTxs(tb)
	return &Quant{
		Header: Header{ChainID: bang, Height: 1, Prev: bang, TxRoot: TxRoot(txs),
			Time: 1700000010000, TxCount: uint32(len(txs)),
			Seal: []byte{0, 0, 0, 0, 0, 0, 0, 7}},
		Txs: txs,
	}
}

type keyVector struct {
	Seed      string `json:"seed"`
	PublicKey string `json:"public_key"`
}

type bangVector struct {
	RulesJSON string `json:"rules_json"`
	RulesHash string `json:"rules_hash"`
	Header    string `json:"header"`
	Encoding  string `json:"encoding"`
	ChainID   string `json:"chain_id"`
}

type txVector struct {
	Description  string `json:"description"`
	ChainID      string `json:"chain_id"`
	Time         int64  `json:"time"`
	Nonce        uint64 `json:"nonce"`
	Kind         uint8  `json:"kind"`
	Data         string `json:"data"`
	PublicKey    string `json:"public_key,omitempty"`
	SigningBytes string `json:"signing_bytes"`
	Signature    string `json:"signature,omitempty"`
	Encoding     string `json:"encoding"`
	ID           string `json:"id"`
}

type headerVector struct {
	ChainID  string `json:"chain_id"`
	Height   uint64 `json:"height"`
	Prev     string `json:"prev"`
	TxRoot   string `json:"tx_root"`
	Time     int64  `json:"time"`
	TxCount  uint32 `json:"tx_count"`
	Seal     string `json:"seal"`
	Encoding string `json:"encoding"`
	Hash     string `json:"hash"`
}

type quantVector struct {
	Description string   `json:"description"`
	TxIDs       []string `json:"tx_ids"`
	TxRoot      string   `json:"tx_root"`
	Header      string   `json:"header"`
	Encoding    string   `json:"encoding"`
	Hash        string   `json:"hash"`
}

// vectors is the layout of testdata/vectors.json. All byte strings are
// lower-case hex.
type vectors struct {
	Comment string     `json:"comment"`
	Key     keyVector  `json:"key"`
	Bang    bangVector `json:"bang"`
	// ForkBang is the bang of a fork of the golden chain at height 1.
	ForkBang bangVector   `json:"fork_bang"`
	Txs      []txVector   `json:"txs"`
	Header   headerVector `json:"header"`
	Quant    quantVector  `json:"quant"`
}

func makeTxVector(desc string, tx *Tx) txVector {
	v := txVector{
		Description:  desc,
		ChainID:      tx.ChainID.String(),
		Time:         tx.Time,
		Nonce:        tx.Nonce,
		Kind:         uint8(tx.Kind),
		Data:         hex.EncodeToString(tx.Data),
		SigningBytes: hex.EncodeToString(tx.SigningBytes()),
		Encoding:     hex.EncodeToString(tx.Encode()),
		ID:           tx.ID().String(),
	}
	if tx.Signed() {
		v.PublicKey = hex.EncodeToString(tx.PubKey)
		v.Signature = hex.EncodeToString(tx.Sig)
	}
	return v
}

func makeBangVector(bang *Quant) bangVector {
	return bangVector{
		RulesJSON: string(bang.Rules),
		RulesHash: bang.Header.TxRoot.String(),
		Header:    hex.EncodeToString(bang.Header.Encode()),
		Encoding:  hex.EncodeToString(bang.Encode()),
		ChainID:   bang.Hash().String(),
	}
}

// makeVectors computes every golden vector from the code.
func makeVectors(tb testing.TB) vectors {
	tb.Helper()
	key := goldenKey()
	bang := goldenBang(tb)
	txs := goldenTxs(tb)
	h := goldenHeader()
	q := goldenQuant(tb)
	v := vectors{
		Comment: "QBC encoding test vectors; see docs/protocol.md. Generated by " +
			"`go test ./internal/quant -run TestGolden -update`; checked by `go test ./internal/quant`.",
		Key: keyVector{
			Seed:      hex.EncodeToString(key.Seed()),
			PublicKey: hex.EncodeToString(key.Public().(ed25519.PublicKey)),
		},
		Bang: bangVector{
			RulesJSON: string(bang.Rules),
			RulesHash: bang.Header.TxRoot.String(),
			Header:    hex.EncodeToString(bang.Header.Encode()),
			Encoding:  hex.EncodeToString(bang.Encode()),
			ChainID:   bang.Hash().String(),
		},
		ForkBang: makeBangVector(goldenForkBang(tb)),
		Txs: []txVector{
			makeTxVector("unsigned JSON", txs[0]),
			makeTxVector("signed JSON, by the golden key", txs[1]),
			makeTxVector("unsigned bytes", txs[2]),
		},
		Header: headerVector{
			ChainID:  h.ChainID.String(),
			Height:   h.Height,
			Prev:     h.Prev.String(),
			TxRoot:   h.TxRoot.String(),
			Time:     h.Time,
			TxCount:  h.TxCount,
			Seal:     hex.EncodeToString(h.Seal),
			Encoding: hex.EncodeToString(h.Encode()),
			Hash:     h.Hash().String(),
		},
		Quant: quantVector{
			Description: "height 1 of the golden chain, holding the three transactions in order",
			TxRoot:      q.Header.TxRoot.String(),
			Header:      hex.EncodeToString(q.Header.Encode()),
			Encoding:    hex.EncodeToString(q.Encode()),
			Hash:        q.Hash().String(),
		},
	}
	for _, id := range TxIDs(txs) {
		v.Quant.TxIDs = append(v.Quant.TxIDs, id.String())
	}
	return v
}

func marshalVectors(tb testing.TB, v vectors) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// loadVectors reads testdata/vectors.json.
func loadVectors(tb testing.TB) vectors {
	tb.Helper()
	b, err := os.ReadFile(vectorsFile)
	if err != nil {
		tb.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	var v vectors
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("%s: %v", vectorsFile, err)
	}
	return v
}

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// TestGolden checks that the code produces exactly the vectors in
// testdata/vectors.json. An intended change to an encoding is made by
// running with -update and reviewing the diff (and docs/protocol.md).
func TestGolden(t *testing.T) {
	got := marshalVectors(t, makeVectors(t))
	if *update {
		if err := os.MkdirAll(filepath.Dir(vectorsFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", vectorsFile)
		return
	}
	want, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("%s:%d:\n  golden: %s\n  code:   %s", vectorsFile, i+1, w, g)
		}
	}
	t.Errorf("the code no longer produces %s; if the change is intended, run with -update and update docs/protocol.md", vectorsFile)
}

// TestGoldenDecode decodes the golden encodings, as another implementation
// would receive them, and checks what comes out.
func TestGoldenDecode(t *testing.T) {
	v := loadVectors(t)

	key := ed25519.NewKeyFromSeed(unhex(t, v.Key.Seed))
	if got := hex.EncodeToString(key.Public().(ed25519.PublicKey)); got != v.Key.PublicKey {
		t.Errorf("public key from seed = %s, golden %s", got, v.Key.PublicKey)
	}

	bang, err := DecodeQuant(unhex(t, v.Bang.Encoding))
	if err != nil {
		t.Fatalf("bang: %v", err)
	}
	rules, err := CheckBang(bang)
	if err != nil {
		t.Fatalf("CheckBang: %v", err)
	}
	if string(bang.Rules) != v.Bang.RulesJSON || rules.Name != "golden" || rules.Engine != "pow" {
		t.Errorf("bang rules = %s", bang.Rules)
	}
	if got := Sum(DomainRules, []byte(v.Bang.RulesJSON)).String(); got != v.Bang.RulesHash {
		t.Errorf("rules hash = %s, golden %s", got, v.Bang.RulesHash)
	}
	if got := bang.Hash().String(); got != v.Bang.ChainID {
		t.Errorf("chain id = %s, golden %s", got, v.Bang.ChainID)
	}

	fork, err := DecodeQuant(unhex(t, v.ForkBang.Encoding))
	if err != nil {
		t.Fatalf("fork bang: %v", err)
	}
	forkRules, err := CheckBang(fork)
	if err != nil {
		t.Fatalf("CheckBang(fork bang): %v", err)
	}
	if p := forkRules.Parent; p == nil || p.Chain.String() != v.Bang.ChainID || p.Height != 1 ||
		p.Hash.String() != v.Quant.Hash || fork.Header.Height != 1 {
		t.Errorf("fork bang: height %d, parent %+v", fork.Header.Height, forkRules.Parent)
	}
	if got := fork.Hash().String(); got != v.ForkBang.ChainID {
		t.Errorf("fork chain id = %s, golden %s", got, v.ForkBang.ChainID)
	}

	var txs []*Tx
	for _, tv := range v.Txs {
		tx, err := DecodeTx(unhex(t, tv.Encoding))
		if err != nil {
			t.Fatalf("%s: %v", tv.Description, err)
		}
		if tx.ChainID.String() != v.Bang.ChainID || tx.ChainID.String() != tv.ChainID ||
			tx.Time != tv.Time || tx.Nonce != tv.Nonce || uint8(tx.Kind) != tv.Kind ||
			hex.EncodeToString(tx.Data) != tv.Data ||
			hex.EncodeToString(tx.PubKey) != tv.PublicKey || hex.EncodeToString(tx.Sig) != tv.Signature {
			t.Errorf("%s: decoded %+v", tv.Description, tx)
		}
		if got := tx.ID().String(); got != tv.ID {
			t.Errorf("%s: id %s, golden %s", tv.Description, got, tv.ID)
		}
		if got := Sum(DomainTx, unhex(t, tv.Encoding)).String(); got != tv.ID {
			t.Errorf("%s: Sum(DomainTx, encoding) = %s, golden id %s", tv.Description, got, tv.ID)
		}
		if got := hex.EncodeToString(tx.SigningBytes()); got != tv.SigningBytes {
			t.Errorf("%s: signing bytes %s, golden %s", tv.Description, got, tv.SigningBytes)
		}
		if err := CheckTxSanity(tx, rules.MaxDataBytes); err != nil {
			t.Errorf("%s: CheckTxSanity: %v", tv.Description, err)
		}
		if tx.Signed() && !ed25519.Verify(key.Public().(ed25519.PublicKey), unhex(t, tv.SigningBytes), tx.Sig) {
			t.Errorf("%s: signature does not verify under the golden key", tv.Description)
		}
		txs = append(txs, tx)
	}

	h, err := DecodeHeader(unhex(t, v.Header.Encoding))
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	if h.ChainID.String() != v.Header.ChainID || h.Height != v.Header.Height ||
		h.Prev.String() != v.Header.Prev || h.TxRoot.String() != v.Header.TxRoot ||
		h.Time != v.Header.Time || h.TxCount != v.Header.TxCount || hex.EncodeToString(h.Seal) != v.Header.Seal {
		t.Errorf("header decoded as %+v", h)
	}
	if got := h.Hash().String(); got != v.Header.Hash {
		t.Errorf("header hash %s, golden %s", got, v.Header.Hash)
	}

	q, err := DecodeQuant(unhex(t, v.Quant.Encoding))
	if err != nil {
		t.Fatalf("quant: %v", err)
	}
	if len(q.Txs) != len(txs) {
		t.Fatalf("quant has %d txs, want %d", len(q.Txs), len(txs))
	}
	for i, tx := range q.Txs {
		if !bytes.Equal(tx.Encode(), txs[i].Encode()) {
			t.Errorf("quant tx %d differs from golden tx %d", i, i)
		}
		if got := tx.ID().String(); got != v.Quant.TxIDs[i] {
			t.Errorf("quant tx %d id %s, golden %s", i, got, v.Quant.TxIDs[i])
		}
	}
	if got := TxRoot(q.Txs).String(); got != v.Quant.TxRoot || q.Header.TxRoot.String() != v.Quant.TxRoot {
		t.Errorf("tx root %s (header %s), golden %s", got, q.Header.TxRoot, v.Quant.TxRoot)
	}
	if q.Header.Prev.String() != v.Bang.ChainID || q.Header.ChainID.String() != v.Bang.ChainID || q.Header.Height != 1 {
		t.Errorf("quant header does not follow the bang: %+v", q.Header)
	}
	if got := hex.EncodeToString(q.Header.Encode()); got != v.Quant.Header {
		t.Errorf("quant header %s, golden %s", got, v.Quant.Header)
	}
	if got := q.Hash().String(); got != v.Quant.Hash {
		t.Errorf("quant hash %s, golden %s", got, v.Quant.Hash)
	}
}

// TestProtocolDocVectors checks that docs/protocol.md quotes the golden
// vectors as they are (hex may be wrapped across lines there).
func TestProtocolDocVectors(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "protocol.md"))
	if err != nil {
		t.Skipf("docs/protocol.md not readable: %v", err)
	}
	flat := strings.Join(strings.Fields(string(doc)), "")
	v := loadVectors(t)
	want := map[string]string{
		"key.seed": v.Key.Seed, "key.public_key": v.Key.PublicKey,
		"bang.rules_json": v.Bang.RulesJSON, "bang.rules_hash": v.Bang.RulesHash,
		"bang.header": v.Bang.Header, "bang.encoding": v.Bang.Encoding, "bang.chain_id": v.Bang.ChainID,
		"fork_bang.rules_json": v.ForkBang.RulesJSON, "fork_bang.header": v.ForkBang.Header,
		"fork_bang.chain_id": v.ForkBang.ChainID,
		"header.encoding":    v.Header.Encoding, "header.hash": v.Header.Hash,
		"quant.tx_root": v.Quant.TxRoot, "quant.header": v.Quant.Header,
		"quant.encoding": v.Quant.Encoding, "quant.hash": v.Quant.Hash,
	}
	for i, tv := range v.Txs {
		p := fmt.Sprintf("txs[%d].", i)
		want[p+"signing_bytes"] = tv.SigningBytes
		want[p+"encoding"] = tv.Encoding
		want[p+"id"] = tv.ID
		if tv.Signature != "" {
			want[p+"signature"] = tv.Signature
		}
	}
	for name, s := range want {
		if !strings.Contains(flat, strings.Join(strings.Fields(s), "")) {
			t.Errorf("docs/protocol.md does not quote %s (%.16s...) from %s", name, s, vectorsFile)
		}
	}
}

// seedFromGolden adds each golden encoding that sel picks to f's corpus.
func seedFromGolden(f *testing.F, sel func(v vectors) []string) {
	f.Helper()
	for _, s := range sel(loadVectors(f)) {
		f.Add(unhex(f, s))
	}
}
