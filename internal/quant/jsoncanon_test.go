package quant

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestCanonicalJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{ "a" : 1 }`, `{"a":1}`},
		{`"\u003cb\u003e \u0026"`, `"<b> &"`},
		{`"\u003C"`, `"<"`},
		{`"\\u003c"`, `"\\u003c"`}, // an escaped backslash, then text
		{`"\\\u003c"`, `"\\<"`},
		{`{"\u003ckey":"\u2028"}`, "{\"<key\":\"\u2028\"}"},
		{`"\u0041\n\""`, `"\u0041\n\""`}, // other escapes are kept
	} {
		got, err := CompactJSON([]byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("CompactJSON(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	tx := &Tx{Kind: DataJSON, Data: []byte(`"\u003c"`)}
	if err := CheckPayload(tx); CodeOf(err) != CodeBadData {
		t.Errorf("escaped form accepted as canonical: %v", err)
	}
	// What Go's encoder makes of a canonical payload comes back to it.
	canon := []byte(`{"html":"<a href='x'>&</a>","ls":"` + "\u2028" + `"}`)
	marshalled, _ := json.Marshal(json.RawMessage(canon))
	if got, err := CompactJSON(marshalled); err != nil || string(got) != string(canon) {
		t.Errorf("json.Marshal round trip: %s -> %s -> %s (%v)", canon, marshalled, got, err)
	}
}

// FuzzCanonicalJSON: the canonical form is valid JSON with the same value,
// and canonical already.
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,"\u003c",{"b":null}]}`, `"\\\\u003c"`, `1e5`, `"\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := canonicalJSON(b)
		if fast, want := isCanonical(b), err == nil && bytes.Equal(c, b); fast != want {
			t.Fatalf("isCanonical(%q) = %v, canonicalJSON gives %q, %v", b, fast, c, err)
		}
		if err != nil {
			return
		}
		// Numbers as written (json.Number): a valid number past float64's
		// range is still JSON.
		decode := func(b []byte, v *any) error {
			d := json.NewDecoder(bytes.NewReader(b))
			d.UseNumber()
			return d.Decode(v)
		}
		var v1, v2 any
		if err := decode(b, &v1); err != nil {
			t.Fatalf("input accepted but not JSON: %v", err)
		}
		if err := decode(c, &v2); err != nil {
			t.Fatalf("canonical form %q is not JSON: %v", c, err)
		}
		if !reflect.DeepEqual(v1, v2) {
			t.Fatalf("canonical form changed the value: %q -> %q", b, c)
		}
		if again, err := canonicalJSON(c); err != nil || string(again) != string(c) {
			t.Fatalf("not idempotent: %q -> %q", c, again)
		}
	})
}

func TestJSONDepth(t *testing.T) {
	deep := func(n int) []byte {
		return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
	}
	if _, err := CompactJSON(deep(MaxJSONDepth)); err != nil {
		t.Fatalf("depth %d refused: %v", MaxJSONDepth, err)
	}
	if _, err := CompactJSON(deep(MaxJSONDepth + 1)); CodeOf(err) != CodeBadData {
		t.Fatalf("depth %d: %v, want bad_data", MaxJSONDepth+1, err)
	}
	if _, err := CompactJSON(deep(100_000)); CodeOf(err) != CodeBadData {
		t.Fatalf("depth 100,000: %v", err)
	}
	// Brackets and escaped quotes inside strings do not nest.
	s := `{"a":"` + strings.Repeat(`[{\"`, 200) + `"}`
	if _, err := CompactJSON([]byte(s)); err != nil {
		t.Fatalf("brackets in a string: %v", err)
	}
}
