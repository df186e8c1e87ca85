package zk

import (
	"testing"
)

// Every decoder of untrusted bytes: no panic, no allocation past the caps,
// and what decodes re-encodes to the same bytes.

func FuzzDecodeProof(f *testing.F) {
	k := testKeys(f, Preimage)
	s, _ := NewSecret()
	p := Publics{Commitment: Commitment(s), Bind: BindOf([]byte("fuzz"))}
	proof, err := ProvePreimage(k, s, p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(proof)
	f.Add(proof[:64])
	f.Add(make([]byte, ProofSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		pr, err := DecodeProof(b)
		if err != nil {
			return
		}
		_ = EncodeProof(pr)
		// Whatever decodes is checked without a panic.
		_ = Verify(Preimage, 0, k.VK, b, p)
	})
}

func FuzzDecodeVerifyingKey(f *testing.F) {
	for _, c := range []Circuit{Preimage, Range} {
		f.Add(EncodeVerifyingKey(testKeys(f, c).VK))
	}
	f.Add([]byte{0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		vk, err := DecodeVerifyingKey(b)
		if err != nil {
			return
		}
		if got := EncodeVerifyingKey(vk); string(got) != string(b) {
			t.Fatal("verifying key does not re-encode to its bytes")
		}
	})
}

func FuzzDecodeProvingKey(f *testing.F) {
	pb := EncodeProvingKey(testKeys(f, Preimage).PK)
	f.Add(pb[:min(len(pb), 4096)])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	want := KeyHash(pb)
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := DecodeProvingKey(b, want); err == nil && string(b) != string(pb) {
			t.Fatal("a proving key other than the named one decoded")
		}
	})
}

func FuzzParseField(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ParseField(b)
		if err != nil {
			return
		}
		if string(x[:]) != string(b) {
			t.Fatal("field element changed by parsing")
		}
	})
}
