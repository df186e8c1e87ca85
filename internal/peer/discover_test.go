package peer

import (
	"math/big"
	"strings"
	"testing"

	"github.com/qbc-chain/qbc/internal/quant"
)

func TestParseWork(t *testing.T) {
	for _, tc := range []struct {
		name, work string
		ok         bool
	}{
		{"zero", "0", true},
		{"2^256 (78 digits)", "115792089237316195423570985008687907853269984665640564039457584007913129639936", true},
		{"80 digits", strings.Repeat("9", maxWorkDigits), true},
		{"81 digits", strings.Repeat("9", maxWorkDigits+1), false},
		{"a megabyte of digits", strings.Repeat("1", 1<<20), false},
		{"empty", "", false},
		{"negative", "-1", false},
		{"plus sign", "+1", false},
		{"hex", "0x10", false},
		{"space", " 1", false},
		{"underscore", "1_000", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := parseWork(tc.work)
			if tc.ok {
				if want, _ := new(big.Int).SetString(tc.work, 10); err != nil || w.Cmp(want) != 0 {
					t.Fatalf("parseWork: %v %v", w, err)
				}
				return
			}
			if quant.CodeOf(err) != quant.CodeMalformed || refusalOf(err) != CodeMalformed {
				t.Fatalf("parseWork: %v, want malformed", err)
			}
			if len(err.Error()) > 100 {
				t.Fatalf("the error quotes the claim: %d bytes", len(err.Error()))
			}
		})
	}
	if _, err := fromStatusBody(statusBody{Work: strings.Repeat("7", 1000)}); refusalOf(err) != CodeMalformed {
		t.Fatalf("fromStatusBody with 1000 digits: %v", err)
	}
}

func FuzzParseWork(f *testing.F) {
	for _, s := range []string{"0", "12345", "-1", strings.Repeat("9", 81)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := parseWork(s)
		if err != nil {
			return
		}
		if w.Sign() < 0 || len(s) > maxWorkDigits {
			t.Fatalf("%q: passed as %v", s, w)
		}
	})
}
