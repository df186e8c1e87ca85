package schema

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// lattice is a schema whose subschemas reference each other k levels deep,
// two references a level: it applies 2^k subschemas to every value.
func lattice(k int) string {
	defs := `"a0":{"type":"integer"}`
	for i := 1; i <= k; i++ {
		defs += fmt.Sprintf(`,"a%d":{"allOf":[{"$ref":"#/$defs/a%d"},{"$ref":"#/$defs/a%d"}]}`, i, i-1, i-1)
	}
	return fmt.Sprintf(`{"$defs":{%s},"$ref":"#/$defs/a%d"}`, defs, k)
}

// nested is leaf inside n opens and closes.
func nested(open, leaf, close string, n int) string {
	return strings.Repeat(open, n) + leaf + strings.Repeat(close, n)
}

// TestCompileBounds: a schema beyond a bound is refused, and the refusal
// names the bound in words.
func TestCompileBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"properties":{"p":true`)
	for i := range MaxSchemaKeywords {
		fmt.Fprintf(&b, `,"p%d":true`, i)
	}
	b.WriteString(`}}`)
	manyKeywords := b.String()
	b.Reset()
	b.WriteString(`{"properties":{"p":true`)
	for i := range 11 {
		fmt.Fprintf(&b, `,"p%d":{"pattern":"a{999}b{%d}"}`, i, 900+i) // distinct, each under the bound
	}
	b.WriteString(`}}`)
	manyPatterns := b.String()
	for _, tc := range []struct{ name, schema, want string }{
		{"100 KB pattern", `{"pattern":"` + strings.Repeat("a", 100<<10) + `"}`, "bytes (at most 65536)"},
		{"long pattern", `{"pattern":"` + strings.Repeat("a", MaxPatternBytes+1) + `"}`, "pattern of 1025 bytes (at most 1024)"},
		{"long patternProperties", `{"patternProperties":{"` + strings.Repeat("b", MaxPatternBytes+1) + `":true}}`, "pattern of 1025 bytes"},
		{"costly pattern", `{"pattern":"a{1000}b{1000}c{1000}"}`, "instructions (at most 2000)"},
		{"deep", nested(`{"not":`, `{}`, `}`, MaxSchemaDepth), "nests deeper than 32 levels"},
		{"many keywords", manyKeywords, "more than 4096 keywords"},
		{"long number", `{"minimum":` + strings.Repeat("9", 200) + `}`, "a number of 200 characters (at most 100)"},
		{"huge exponent", `{"const":1e999999}`, "exponent beyond 400"},
		{"maximum beyond float64", `{"maximum":1e309}`, "maximum is beyond float64's range"},
		{"multipleOf below float64", `{"multipleOf":1e-400}`, "multipleOf is beyond float64's range"},
		{"older draft", `{"$schema":"http://json-schema.org/draft-07/schema#","format":"email"}`, "only draft 2020-12"},
		{"dynamic reference", `{"$dynamicAnchor":"meta","items":{"$dynamicRef":"#meta"}}`, "/items: dynamic references are not allowed"},
		{"the metaschema's dynamic references", `{"$ref":"https://json-schema.org/draft/2020-12/schema"}`, "dynamic references are not allowed"},
		{"many costly patterns", manyPatterns, "more than 20000 instructions in all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile([]byte(tc.schema))
			if err == nil {
				t.Fatal("compiled")
			}
			if !strings.Contains(err.Error(), tc.want) || len(err.Error()) > maxMessage+100 || strings.Contains(err.Error(), "\n") {
				t.Errorf("refusal %q does not say %q on one short line", err, tc.want)
			}
		})
	}
	for _, ok := range []string{
		`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"integer"}`,
		`{"pattern":"` + strings.Repeat("a", MaxPatternBytes) + `"}`,
		`{"pattern":"a{1000}"}`,
		nested(`{"not":`, `{}`, `}`, MaxSchemaDepth-1),
		`{"maximum":1.7976931348623157e308,"multipleOf":5e-324}`,
		lattice(30), // costly only when used: bounded at validation
		`{"const":{"$schema":"draft-07","$dynamicRef":"#"}}`,
	} {
		if _, err := Compile([]byte(ok)); err != nil {
			t.Errorf("%.60s: %v", ok, err)
		}
	}
}

// TestValidateBounds: data whose check would cost more than the bounds is
// refused, without running the library on it; data within them is checked.
func TestValidateBounds(t *testing.T) {
	distinct := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprint(i)
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	recursive := `{"type":"object","allOf":[{"properties":{"a":{"$ref":"#"}}},{"properties":{"a":{"$ref":"#"}}}]}`
	for _, tc := range []struct {
		name, schema, data string
		ok                 bool
		want               string
	}{
		{"100,000 digits", `{"minimum":0}`, strings.Repeat("7", 100000), false, "a number of 100000 characters"},
		{"100,000 decimals", `{"multipleOf":0.3}`, "0." + strings.Repeat("7", 100000), false, "a number of 100002 characters"},
		{"large exponent", `{"minimum":0}`, `[1e999999]`, false, "exponent beyond 400"},
		{"exponent beyond the library", `{"uniqueItems":true}`, "[" + strings.Repeat("1e10000000,", 25) + "1]", false, "exponent beyond 400"},
		{"exponent under a decimal", `{"multipleOf":0.3}`, "0.7e-999999", false, "exponent beyond 400"},
		{"numbers within the bound", `{"type":"array","items":{"minimum":0,"multipleOf":0.5}}`, `[1e400,1.5e-300,` + strings.Repeat("9", 100) + `]`, false, "/1: multipleOf"},
		{"uniqueItems over 10,000 items", `{"uniqueItems":true}`, distinct(10000), true, ""},
		{"uniqueItems over 10,000 items, a duplicate", `{"uniqueItems":true}`, strings.TrimSuffix(distinct(10000), "]") + ",9999]", false, "items at 9,999 and 10,000 are equal"},
		{"uniqueItems over 100,000 items", `{"uniqueItems":true}`, distinct(100000), false, "would take more than"},
		{"deep data", `{"type":"array"}`, nested("[", "", "]", MaxDataDepth+1), false, "nests deeper than 64"},
		{"data at the depth bound", `{"type":"array"}`, nested("[", "", "]", MaxDataDepth), true, ""},
		{"lattice", lattice(20), `1`, false, "would take more than"},
		{"small lattice", lattice(10), `"x"`, false, "want integer"},
		{"long text, costly pattern", `{"pattern":"(a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|v|w|x|y|z){1,70}0"}`, `"` + strings.Repeat("ab", 32<<10) + `"`, false, "would take more than"},
		{"long text, simple pattern", `{"pattern":"^[ab]+$"}`, `"` + strings.Repeat("ab", 32<<10) + `"`, true, ""},
		{"recursion through every branch", recursive, nested(`{"a":`, `{}`, `}`, 20), false, "would take more than"},
		{"shallow recursion", recursive, `{"a":{"a":{"a":{}}}}`, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile([]byte(tc.schema))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Validate([]byte(tc.data))
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInvalid saying %q", err, tc.want)
			}
		})
	}
}

// bound is what one input may cost a fuzz test: generous for a loaded CI
// machine, far below what a blow-up takes (seconds to hours).
const (
	timeBound  = slowdown * time.Second
	allocBound = 256 << 20
)

// withinBound runs f and fails if it takes more than timeBound or
// allocates more than allocBound bytes.
func withinBound(t *testing.T, what string, f func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if took > timeBound {
		t.Errorf("%s took %v (bound %v)", what, took, timeBound)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > allocBound {
		t.Errorf("%s allocated %d bytes (bound %d)", what, n, allocBound)
	}
}

// FuzzCompile: any document either is refused or compiles, and any small
// data then validates, each within the bound.
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		orders,
		`{"$defs":{"n":{"type":"integer"}},"type":"array","items":{"$ref":"#/$defs/n"}}`,
		`{"type":"array","uniqueItems":true,"items":{"enum":[1,"a",{"b":[null]}]}}`,
		`{"patternProperties":{"^x-[a-z]{1,8}$":{"type":"string","pattern":"^(a|b)*c$"}},"unevaluatedProperties":false}`,
		`{"if":{"const":1},"then":{"multipleOf":0.5},"else":{"maximum":1e300},"propertyNames":{"maxLength":3}}`,
		`{"anyOf":[{"$ref":"#"},{"not":{"$ref":"#"}}]}`,
		`{"pattern":"a{1000}b{1000}c{1000}"}`,
		`{"$dynamicRef":"#meta"}`,
		`{"minimum":1e999999}`,
		lattice(10),
		`true`,
	} {
		f.Add([]byte(seed))
	}
	data := [][]byte{[]byte(`1`), []byte(`"abc"`), []byte(`{"a":[1,2,2],"x-y":"ab"}`), []byte(`[[],[{}],1e400]`)}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var s *Schema
		withinBound(t, "compile", func() { s, _ = Compile(doc) })
		if s == nil {
			return
		}
		for _, d := range data {
			withinBound(t, "validate "+string(d), func() { _ = s.Validate(d) })
		}
	})
}

// FuzzValidate: any data of up to 64 KiB validates against each of a set of
// schemas (patterns, uniqueItems, numbers, references) within the bound.
func FuzzValidate(f *testing.F) {
	var schemas []*Schema
	for _, doc := range []string{
		orders,
		`{"type":"array","uniqueItems":true,"items":{"type":["number","array","object"],"minimum":-1e300,"multipleOf":0.001}}`,
		`{"type":"object","patternProperties":{"^[a-z]+[0-9]*$":{"type":"string","pattern":"^([a-z]+[0-9]+)*z$"}},"propertyNames":{"pattern":"^.{1,16}$"},"unevaluatedProperties":{"enum":[1,2,3,[1,2,3],{"a":"b"}]}}`,
		`{"type":"object","allOf":[{"properties":{"a":{"$ref":"#"}}},{"properties":{"a":{"$ref":"#"}}}],"items":{"$ref":"#"}}`,
		lattice(12),
		`{"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","uniqueItems":true,"items":{"$ref":"#/$defs/node"}}}}},"$ref":"#/$defs/node"}`,
	} {
		s, err := Compile([]byte(doc))
		if err != nil {
			f.Fatalf("%.40s: %v", doc, err)
		}
		schemas = append(schemas, s)
	}
	for _, seed := range []string{
		`{"id":"o-1","amount":5}`,
		`[1,2,3,1e400,[1],[1.0],{"a":1}]`,
		`{"abc1":"a1b2z","x":[1,2,3],"y":{"a":"b"}}`,
		nested(`{"a":`, `{}`, `}`, 12),
		`{"value":1,"children":[{"value":2,"children":[]},{"value":2,"children":[]}]}`,
		`"` + strings.Repeat("a1", 1000) + `"`,
		`[` + strings.Repeat(`0.001,`, 1000) + `1e-300]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		for i, s := range schemas {
			withinBound(t, fmt.Sprintf("schema %d", i), func() { _ = s.Validate(data) })
		}
	})
}
