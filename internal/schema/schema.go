// Package schema checks transaction payloads against a chain's JSON Schema
// (draft 2020-12, by github.com/santhosh-tekuri/jsonschema), so that each
// chain accepts its own kind of data.
//
// Schemas come from a chain's bang, so every node must reach the same
// verdict: references to anything outside the schema itself ($ref to a file
// or URL) are refused, formats are annotations (not asserted), and patterns
// are RE2 (linear time). What a schema may cost, to compile and to check
// each transaction's data, is bounded by counts, never clocks (limits.go).
package schema

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Schema is a compiled JSON Schema.
type Schema struct {
	s       *jsonschema.Schema
	weights map[*jsonschema.Schema]int // each subschema's fixed cost (coster)
	uneval  bool                       // some subschema has unevaluated*
}

// errNoLoad refuses every external reference.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external reference %s is not allowed: a chain's schema must be self-contained", url)
}

const location = "qbc:chain-schema.json"

// Compile compiles a schema document within the bounds of limits.go,
// naming the bound a refused schema exceeds. It does not keep raw.
func Compile(raw []byte) (*Schema, error) {
	if len(raw) > MaxSchemaBytes {
		return nil, fmt.Errorf("schema: %d bytes (at most %d)", len(raw), MaxSchemaBytes)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema: not JSON: %w", err)
	}
	if err := checkDocument(doc); err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	ps := &patterns{seen: make(map[string]*pattern)}
	c.UseRegexpEngine(ps.compile)
	if err := c.AddResource(location, doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	s, err := c.Compile(location)
	if err != nil {
		return nil, compileError(err)
	}
	weights, uneval, err := compiled(s)
	if err != nil {
		return nil, err
	}
	return &Schema{s: s, weights: weights, uneval: uneval}, nil
}

// ErrInvalid is wrapped by Validate's errors for data the schema refuses.
var ErrInvalid = errors.New("data does not match the chain's schema")

// Validate checks a JSON document against the schema, within the bounds
// of limits.go: data whose numbers or nesting exceed them, or whose check
// would cost more than MaxValidateCost, is refused (ErrInvalid). It does
// not keep data.
func (s *Schema) Validate(data []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: not JSON: %v", ErrInvalid, err)
	}
	if err := checkData(v, 0); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if c := (coster{weights: s.weights, uneval: s.uneval, max: MaxValidateCost}); !c.eval(s.s, v, nil) {
		return fmt.Errorf("%w: checking this data against the schema would take more than %d steps", ErrInvalid, MaxValidateCost)
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

// Limits on how a refusal is told: the first maxCauses causes, then "and
// N more", in at most maxMessage bytes, so that a schema with many
// properties cannot make a refusal (and the API's error answer) large.
const (
	maxCauses  = 5
	maxMessage = 1 << 10
)

// oneLine gives the deepest causes of a validation error on one line, each
// in words: "/sensor: want integer, got string; missing property temp".
func oneLine(ve *jsonschema.ValidationError) string {
	var leaves []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, describe(e.InstanceLocation, e.ErrorKind))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.Sort(leaves) // the library's order follows Go maps
	if len(leaves) > maxCauses {
		leaves = append(leaves[:maxCauses], fmt.Sprintf("and %d more", len(leaves)-maxCauses))
	}
	return capped(strings.Join(leaves, "; "))
}

// capped cuts msg to at most maxMessage bytes, on a rune boundary.
func capped(msg string) string {
	if len(msg) > maxMessage {
		cut := maxMessage - len("...")
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "..."
	}
	return msg
}

// compileError says on one line, in at most about maxMessage bytes, why
// the library refused a schema: where the document breaks the draft's
// metaschema, or the library's own words.
func compileError(err error) error {
	var sve *jsonschema.SchemaValidationError
	if errors.As(err, &sve) {
		var ve *jsonschema.ValidationError
		if errors.As(sve.Err, &ve) {
			return fmt.Errorf("schema: not a valid draft 2020-12 schema: %s", oneLine(ve))
		}
	}
	return fmt.Errorf("schema: %s", capped(strings.Join(strings.Fields(err.Error()), " ")))
}

// sorted is a sorted copy of names: the library lists properties in map
// order, and a refusal should read the same every time.
func sorted(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return out
}

// describe says what one cause is, in words, prefixed with where it is in
// the data unless that is the whole document.
func describe(location []string, k jsonschema.ErrorKind) string {
	var what string
	switch k := k.(type) {
	case *kind.Type:
		what = fmt.Sprintf("want %s, got %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Required:
		what = "missing propert" + plural(k.Missing, "y ", "ies ") + strings.Join(sorted(k.Missing), ", ")
	case *kind.AdditionalProperties:
		what = "propert" + plural(k.Properties, "y ", "ies ") + strings.Join(sorted(k.Properties), ", ") + plural(k.Properties, " is", " are") + " not allowed"
	case *kind.FalseSchema:
		what = "no value is allowed here"
	case *kind.Format:
		// Without the value, which may be long: a schema's refused pattern.
		what = fmt.Sprintf("not a valid %s: %v", k.Want, k.Err)
	default:
		what = k.LocalizedString(message.NewPrinter(language.English))
	}
	if len(location) == 0 {
		return what
	}
	return "/" + strings.Join(location, "/") + ": " + what
}

func plural(list []string, one, many string) string {
	if len(list) == 1 {
		return one
	}
	return many
}
