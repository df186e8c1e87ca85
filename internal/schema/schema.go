// Package schema checks transaction payloads against a chain's JSON Schema
// (draft 2020-12, by github.com/santhosh-tekuri/jsonschema), so that each
// chain accepts its own kind of data.
//
// Schemas come from a chain's bang, so every node must reach the same
// verdict: references to anything outside the schema itself ($ref to a file
// or URL) are refused, formats are annotations (not asserted), and patterns
// are RE2 (linear time).
package schema

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is a compiled JSON Schema.
type Schema struct {
	s *jsonschema.Schema
}

// errNoLoad refuses every external reference.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external reference %s is not allowed: a chain's schema must be self-contained", url)
}

const location = "qbc:chain-schema.json"

// Compile compiles a schema document. It does not keep raw.
func Compile(raw []byte) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema: not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	if err := c.AddResource(location, doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	s, err := c.Compile(location)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return &Schema{s: s}, nil
}

// ErrInvalid is wrapped by Validate's errors for data the schema refuses.
var ErrInvalid = errors.New("data does not match the chain's schema")

// Validate checks a JSON document against the schema. It does not keep
// data.
func (s *Schema) Validate(data []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: not JSON: %v", ErrInvalid, err)
	}
	if err := s.s.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("%w: %s", ErrInvalid, strings.TrimSpace(oneLine(ve)))
		}
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// oneLine gives the deepest causes of a validation error on one line.
func oneLine(ve *jsonschema.ValidationError) string {
	var leaves []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := "/" + strings.Join(e.InstanceLocation, "/")
			leaves = append(leaves, fmt.Sprintf("at %s: %v", loc, e.ErrorKind))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	if len(leaves) > 5 {
		leaves = append(leaves[:5], fmt.Sprintf("and %d more", len(leaves)-5))
	}
	return strings.Join(leaves, "; ")
}
