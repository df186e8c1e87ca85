package quant

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestRuleErrorIs(t *testing.T) {
	err := Errorf(CodeDuplicate, "tx %s is known", "abcd")
	wrapped := fmt.Errorf("mempool: %w", err)
	twice := fmt.Errorf("node: %w", wrapped)
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same code", err, &RuleError{Code: CodeDuplicate}, true},
		{"wrapped, same code", wrapped, &RuleError{Code: CodeDuplicate}, true},
		{"wrapped twice", twice, &RuleError{Code: CodeDuplicate}, true},
		{"same code and description", wrapped, &RuleError{Code: CodeDuplicate, Description: "tx abcd is known"}, true},
		{"same code, other description", wrapped, &RuleError{Code: CodeDuplicate, Description: "other"}, false},
		{"other code", wrapped, &RuleError{Code: CodeMalformed}, false},
		{"empty code", wrapped, &RuleError{}, false},
		{"target wrapped", err, fmt.Errorf("x: %w", &RuleError{Code: CodeDuplicate}), true},
		{"not a rule error", wrapped, io.EOF, false},
		{"nil error", nil, &RuleError{Code: CodeDuplicate}, false},
	}
	for _, tc := range tests {
		if got := errors.Is(tc.err, tc.target); got != tc.want {
			t.Errorf("%s: errors.Is = %v, want %v", tc.name, got, tc.want)
		}
	}
	var re *RuleError
	if !errors.As(twice, &re) || re != err {
		t.Errorf("errors.As did not find the RuleError")
	}
}

func TestCodeOf(t *testing.T) {
	tests := []struct {
		err  error
		want Code
	}{
		{nil, ""},
		{io.EOF, ""},
		{Errorf(CodeBadSeal, "x"), CodeBadSeal},
		{fmt.Errorf("quant 7: %w", Errorf(CodeBadLink, "x")), CodeBadLink},
		{errors.Join(io.EOF, Errorf(CodeTooLarge, "x")), CodeTooLarge},
	}
	for _, tc := range tests {
		if got := CodeOf(tc.err); got != tc.want {
			t.Errorf("CodeOf(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestRuleErrorString(t *testing.T) {
	if got := Errorf(CodeTooLarge, "payload is %d bytes", 9).Error(); got != "too_large: payload is 9 bytes" {
		t.Errorf("Error() = %q", got)
	}
}

// TestCodesStable pins the code strings: they are part of the API.
func TestCodesStable(t *testing.T) {
	want := map[Code]string{
		CodeMalformed: "malformed", CodeTooLarge: "too_large", CodeBadVersion: "bad_version",
		CodeWrongChain: "wrong_chain", CodeBadSignature: "bad_signature", CodeNotAllowed: "not_allowed",
		CodeBadData: "bad_data", CodeTimeTooOld: "time_too_old", CodeTimeTooNew: "time_too_new",
		CodeDuplicate: "duplicate", CodeBadLink: "bad_link", CodeBadAncestor: "bad_ancestor",
		CodeUnknownParent: "unknown_parent", CodeBadMerkleRoot: "bad_merkle_root", CodeBadSeal: "bad_seal",
		CodeBadRules: "bad_rules", CodeLimitExceeded: "limit_exceeded", CodeNotEncrypted: "not_encrypted",
	}
	for c, s := range want {
		if string(c) != s {
			t.Errorf("code %q, want %q", c, s)
		}
	}
}

func TestSum(t *testing.T) {
	got := Sum("qbc/x/v1", []byte("ab"), nil, []byte("c"))
	if want := Hash(sha256.Sum256([]byte("qbc/x/v1\x00abc"))); got != want {
		t.Errorf("Sum = %s, want SHA-256(domain || 0x00 || parts) = %s", got, want)
	}
	// Each domain gives another hash of the same bytes.
	seen := map[Hash]string{}
	for _, d := range []string{DomainTx, DomainTxSig, DomainHeader, DomainRules, ""} {
		h := Sum(d, []byte("same"))
		if o, ok := seen[h]; ok {
			t.Errorf("domains %q and %q collide", d, o)
		}
		seen[h] = d
	}
	want := map[string]string{
		DomainTx: "qbc/tx/v1", DomainTxSig: "qbc/tx-sig/v1", DomainHeader: "qbc/header/v1", DomainRules: "qbc/rules/v1",
	}
	for got, w := range want {
		if got != w {
			t.Errorf("domain %q, want %q", got, w)
		}
	}
}

func TestHashText(t *testing.T) {
	h := Sum("x")
	s := h.String()
	if len(s) != 64 {
		t.Fatalf("String() = %q", s)
	}
	p, err := ParseHash(s)
	if err != nil || p != h {
		t.Errorf("ParseHash(String()) = %s, %v", p, err)
	}
	b, err := json.Marshal(struct{ H Hash }{h})
	if err != nil || string(b) != `{"H":"`+s+`"}` {
		t.Errorf("JSON = %s, %v", b, err)
	}
	var back struct{ H Hash }
	if err := json.Unmarshal(b, &back); err != nil || back.H != h {
		t.Errorf("JSON round trip = %s, %v", back.H, err)
	}
	if !(Hash{}).IsZero() || h.IsZero() {
		t.Error("IsZero")
	}
	for _, bad := range []string{"", s[:63], s + "0", "zz" + s[2:]} {
		if _, err := ParseHash(bad); CodeOf(err) != CodeMalformed {
			t.Errorf("ParseHash(%q) = %v, want malformed", bad, err)
		}
	}
	if err := json.Unmarshal([]byte(`{"H":"00"}`), &back); err == nil {
		t.Error("short hex hash unmarshalled")
	}
}
