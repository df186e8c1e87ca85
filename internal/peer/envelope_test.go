package peer

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
)

func testKey(b byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, 32)) }

func sample(to ID, at int64) *Envelope {
	e := &Envelope{To: to, Time: at, Nonce: 42, Kind: KindStatus, Body: []byte("body")}
	e.Sign(testKey(1))
	return e
}

func TestEnvelopeRoundTrip(t *testing.T) {
	e := sample(ID{9}, 1000)
	d, err := DecodeEnvelope(e.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Encode(), e.Encode()) || d.Verify() != nil {
		t.Fatal("decoded envelope differs or does not verify")
	}
	// Any flipped byte is refused by decoding or by the signature.
	b := e.Encode()
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		d, err := DecodeEnvelope(c)
		if err == nil && d.Verify() == nil && bytes.Equal(d.Encode(), b) {
			t.Fatalf("byte %d flipped: still a valid, equal envelope", i)
		}
		if err == nil && d.Verify() == nil {
			t.Fatalf("byte %d flipped: signature still verifies", i)
		}
	}
	for _, bad := range [][]byte{nil, b[:10], append(bytes.Clone(b), 0)} {
		if _, err := DecodeEnvelope(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%d bytes: %v", len(bad), err)
		}
	}
	if _, err := DecodeEnvelope(make([]byte, MaxEnvelope+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: %v", err)
	}
}

func TestGuard(t *testing.T) {
	self := ID{9}
	g := newGuard(self, 30_000, nil)
	now := int64(1_000_000)
	ok := sample(self, now)
	if err := g.check(ok, now); err != nil {
		t.Fatalf("good envelope: %v", err)
	}
	for _, tc := range []struct {
		name string
		e    *Envelope
		want error
	}{
		{"replay", ok, ErrReplay},
		{"other addressee", sample(ID{8}, now), ErrNotForMe},
		{"too old", sample(self, now-31_000), ErrStale},
		{"from the future", sample(self, now+31_000), ErrStale},
	} {
		if err := g.check(tc.e, now); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	forged := sample(self, now+1)
	forged.Body = []byte("changed")
	if err := g.check(forged, now); !errors.Is(err, ErrSignature) {
		t.Errorf("forged: %v", err)
	}
	// A hello may be addressed to no one; other kinds may not.
	hello := &Envelope{Time: now, Nonce: 7, Kind: KindHello}
	hello.Sign(testKey(1))
	if err := g.check(hello, now); err != nil {
		t.Errorf("hello to no one: %v", err)
	}
	// A closed network refuses other keys.
	closed := newGuard(self, 30_000, []ed25519.PublicKey{testKey(2).Public().(ed25519.PublicKey)})
	if err := closed.check(sample(self, now), now); !errors.Is(err, ErrNotMember) {
		t.Errorf("non-member: %v", err)
	}
}

func TestFrames(t *testing.T) {
	items := [][]byte{[]byte("a"), {}, []byte("ccc")}
	got, err := decodeFrames(encodeFrames(items), 10, 10)
	if err != nil || len(got) != 3 || string(got[2]) != "ccc" {
		t.Fatalf("frames: %q %v", got, err)
	}
	if _, err := decodeFrames(encodeFrames(items), 2, 10); err == nil {
		t.Error("frame over max accepted")
	}
	if _, err := decodeFrames(encodeFrames(items), 10, 2); err == nil {
		t.Error("more frames than count accepted")
	}
}

// TestTxBatches: gossip is split by count and by bytes, in order, so that
// many large transactions never make a message a peer refuses as too
// large.
func TestTxBatches(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int
		size  int
		sizes []int
	}{
		{"none", 0, 2, nil},
		{"by count", maxTxBatch + 904, 2, []int{maxTxBatch, 904}},
		{"by bytes", 100, 1 << 20, []int{63, 37}}, // 63 framed MiB fit in MaxBody (64 MiB)
	} {
		// Item i starts at byte i of one buffer: distinct, and cheap.
		buf := make([]byte, tc.size+tc.n)
		items := make([][]byte, tc.n)
		for i := range items {
			items[i] = buf[i : i+tc.size]
		}
		var sizes []int
		next := 0
		for _, b := range txBatches(items) {
			sizes = append(sizes, len(b))
			framed := 0
			for _, it := range b {
				if &it[0] != &buf[next] {
					t.Fatalf("%s: item %d out of order", tc.name, next)
				}
				framed += 4 + len(it)
				next++
			}
			if framed > MaxBody {
				t.Errorf("%s: a batch of %d framed bytes, over MaxBody", tc.name, framed)
			}
		}
		if next != tc.n || fmt.Sprint(sizes) != fmt.Sprint(tc.sizes) {
			t.Errorf("%s: batches of %v (%d items), want %v (%d)", tc.name, sizes, next, tc.sizes, tc.n)
		}
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(sample(ID{1}, 5).Encode())
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEnvelope(b)
		if err != nil {
			return
		}
		if !bytes.Equal(e.Encode(), b) {
			t.Fatal("envelope does not re-encode to its input")
		}
		_ = e.Verify()
	})
}

func FuzzDecodeFrames(f *testing.F) {
	f.Add(encodeFrames([][]byte{[]byte("x")}))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := decodeFrames(b, 1<<20, 100)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeFrames(items), b) {
			t.Fatal("frames do not re-encode to their input")
		}
	})
}

func FuzzSplitHashes(f *testing.F) {
	f.Add(make([]byte, 64))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		hashes, err := splitHashes(b, 8)
		if err != nil {
			if len(b)%32 == 0 && len(b) <= 8*32 {
				t.Fatalf("refused %d bytes: %v", len(b), err)
			}
			return
		}
		var out []byte
		for _, h := range hashes {
			out = append(out, h[:]...)
		}
		if !bytes.Equal(out, b) {
			t.Fatal("hashes do not re-encode to their input")
		}
	})
}

func BenchmarkEnvelopeSignVerify(b *testing.B) {
	key := testKey(1)
	for b.Loop() {
		e := &Envelope{To: ID{1}, Time: 1, Nonce: 2, Kind: KindTx, Body: make([]byte, 256)}
		e.Sign(key)
		if err := e.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}
