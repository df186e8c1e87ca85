package schema

import (
	"errors"
	"fmt"
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

// TestRefusalInWords: a refusal says what is wrong in words, where in the
// data, and stays short however many causes there are.
func TestRefusalInWords(t *testing.T) {
	const temps = `{"type":"object","required":["temp"],"additionalProperties":false,
		"properties":{"temp":{"type":"number"},"sensor":{"type":"integer"},"name":{"type":"string","maxLength":3},
		"tags":{"type":"array","items":{"enum":["a","b"]}}}}`
	many := `{"type":"object","properties":{`
	for i := range 300 {
		if i > 0 {
			many += ","
		}
		many += fmt.Sprintf(`"property_with_a_long_name_%03d":{"type":"integer"}`, i)
	}
	many += `}}`
	manyData := "{"
	for i := range 300 {
		if i > 0 {
			manyData += ","
		}
		manyData += fmt.Sprintf(`"property_with_a_long_name_%03d":"x"`, i)
	}
	manyData += "}"
	for _, tc := range []struct {
		name, schema, data, want string
	}{
		{"wrong type", temps, `{"temp":1,"sensor":"s7"}`, "/sensor: want integer, got string"},
		{"missing property", temps, `{"sensor":7}`, "missing property temp"},
		{"missing properties", `{"required":["a","b"]}`, `{}`, "missing properties a, b"},
		{"extra property", temps, `{"temp":1,"extra":true}`, "property extra is not allowed"},
		{"extra properties", temps, `{"temp":1,"x":1,"y":2}`, "properties x, y are not allowed"},
		{"not an object", temps, `[1]`, "want object, got array"},
		{"two causes", temps, `{"temp":"warm","sensor":1.5}`, "/sensor: want integer, got number; /temp: want number, got string"},
		{"other kinds in the library's words", temps, `{"temp":1,"name":"long"}`, "/name: maxLength: got 4, want 3"},
		{"deep location", temps, `{"temp":1,"tags":["a","z"]}`, "/tags/1: value must be one of 'a', 'b'"},
		{"false schema", `false`, `1`, "no value is allowed here"},
		{"many causes", many, manyData, "and 295 more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile([]byte(tc.schema))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Validate([]byte(tc.data))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			msg := strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
			if !strings.Contains(msg, tc.want) {
				t.Errorf("refusal %q does not say %q", msg, tc.want)
			}
			if strings.Contains(msg, "&{") || len(msg) > maxMessage {
				t.Errorf("refusal of %d bytes shows Go values or is too long: %q", len(msg), msg)
			}
		})
	}
}
