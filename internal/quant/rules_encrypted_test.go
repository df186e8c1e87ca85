package quant

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestEncryptedFieldsValidated: encrypted_fields must be at most
// MaxEncryptedFields JSON pointers to fields, checked at creation
// (NewBang) and on every decode of a bang's rules.
func TestEncryptedFieldsValidated(t *testing.T) {
	many := make([]string, MaxEncryptedFields+1)
	for i := range many {
		many[i] = fmt.Sprintf("/f%d", i)
	}
	for _, tc := range []struct {
		fields []string
		ok     bool
	}{
		{nil, true},
		{[]string{"/patient/name", "/patient/dob", "/notes/0", "/a~1b"}, true},
		{many[:MaxEncryptedFields], true},
		{many, false},
		{[]string{""}, false},           // the whole document is not a field
		{[]string{"patient"}, false},    // not a pointer
		{[]string{"/a~2"}, false},       // bad escape
		{[]string{"/a", "/a/b"}, false}, // one inside another
		{[]string{"/a", "/a"}, false},
		{[]string{"/" + strings.Repeat("x/", 40)}, false}, // too deep
	} {
		r := testRules()
		r.EncryptedFields = tc.fields
		_, err := NewBang(r)
		if tc.ok != (err == nil) {
			t.Errorf("%.60q: %v, want ok %v", tc.fields, err, tc.ok)
		}
		if err != nil && (CodeOf(err) != CodeBadRules || !strings.Contains(err.Error(), "encrypted_fields:")) {
			t.Errorf("%.60q: %v does not name encrypted_fields with bad_rules", tc.fields, err)
		}
	}
	// The field travels in the canonical rules, and only when set.
	r := testRules()
	if b := rulesJSON(t, r); strings.Contains(string(b), "encrypted_fields") {
		t.Errorf("unset encrypted_fields encoded: %s", b)
	}
	r.EncryptedFields = []string{"/p"}
	b := rulesJSON(t, r)
	got, err := DecodeRules(b)
	if err != nil || len(got.EncryptedFields) != 1 {
		t.Fatalf("DecodeRules: %v, %v", got, err)
	}
}

// TestFillRulesDropsEncryptedFields: a new chain does not inherit the
// default chain's encrypted fields (they describe its data, as its schema
// does), and keeps its own.
func TestFillRulesDropsEncryptedFields(t *testing.T) {
	def := testRules()
	def.EncryptedFields = []string{"/secret"}
	none := func(string) json.RawMessage { return nil }
	r, err := FillRules([]byte(`{"name":"x"}`), &def, none, MinCreated)
	if err != nil || r.EncryptedFields != nil {
		t.Fatalf("inherited: %v, %v", r.EncryptedFields, err)
	}
	r, err = FillRules([]byte(`{"name":"x","encrypted_fields":["/a/b"]}`), &def, none, MinCreated)
	if err != nil || len(r.EncryptedFields) != 1 || r.EncryptedFields[0] != "/a/b" {
		t.Fatalf("given: %v, %v", r.EncryptedFields, err)
	}
}
