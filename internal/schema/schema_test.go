package schema

import (
	"errors"
	"strings"
	"testing"
)

const orders = `{"type":"object","required":["id","amount"],"additionalProperties":false,
	"properties":{"id":{"type":"string","pattern":"^o-[0-9]+$"},"amount":{"type":"number","minimum":0}}}`

func TestValidate(t *testing.T) {
	s, err := Compile([]byte(orders))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		data string
		ok   bool
		want string
	}{
		{`{"id":"o-1","amount":5}`, true, ""},
		{`{"id":"o-1","amount":1e400}`, true, ""}, // big numbers are json.Number, not float overflow
		{`{"id":"x","amount":5}`, false, "/id"},
		{`{"id":"o-1","amount":-1}`, false, "/amount"},
		{`{"id":"o-1"}`, false, "amount"},
		{`{"id":"o-1","amount":1,"extra":true}`, false, "extra"},
		{`[1,2]`, false, "object"},
		{`not json`, false, "not JSON"},
	} {
		err := s.Validate([]byte(tc.data))
		if tc.ok != (err == nil) {
			t.Errorf("%s: %v, want ok=%v", tc.data, err, tc.ok)
			continue
		}
		if err != nil && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want ErrInvalid mentioning %q", tc.data, err, tc.want)
		}
	}
}

func TestCompileRefusals(t *testing.T) {
	for _, tc := range []struct{ name, schema string }{
		{"not JSON", `{`},
		{"bad keyword value", `{"type":12}`},
		{"external file ref", `{"$ref":"file:///etc/passwd"}`},
		{"external http ref", `{"$ref":"https://example.com/s.json"}`},
		{"bad pattern", `{"pattern":"("}`},
	} {
		if _, err := Compile([]byte(tc.schema)); err == nil {
			t.Errorf("%s: compiled", tc.name)
		}
	}
	// Internal references work.
	s, err := Compile([]byte(`{"$defs":{"n":{"type":"integer"}},"type":"array","items":{"$ref":"#/$defs/n"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Validate([]byte(`[1,2]`)) != nil || s.Validate([]byte(`[1,"x"]`)) == nil {
		t.Error("internal $ref not followed")
	}
}

func FuzzValidate(f *testing.F) {
	s, err := Compile([]byte(orders))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"id":"o-1","amount":5}`))
	f.Fuzz(func(t *testing.T, b []byte) { _ = s.Validate(b) })
}
