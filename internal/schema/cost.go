package schema

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// patternUnit is how many (text byte × program instruction) steps of a
// pattern match count as one unit of cost, about the time the library
// takes to apply one subschema to one value.
const patternUnit = 64

// compiled checks what Compile can only see once the library has compiled
// the schema: every subschema reachable from root is draft 2020-12, has no
// dynamic reference, asserts no format or content, and has numeric
// keywords within float64's range. It returns each subschema's fixed cost
// per application (1, plus what its enum and const compare against) and
// whether any subschema has unevaluatedProperties or unevaluatedItems.
func compiled(root *jsonschema.Schema) (weights map[*jsonschema.Schema]int, uneval bool, err error) {
	weights = make(map[*jsonschema.Schema]int)
	var visit func(s *jsonschema.Schema) error
	visit = func(s *jsonschema.Schema) error {
		if s == nil {
			return nil
		}
		if _, ok := weights[s]; ok {
			return nil
		}
		w := 1 + len(s.Required)
		if s.Enum != nil {
			for _, e := range s.Enum.Values {
				w += nodes(e)
			}
		}
		if s.Const != nil {
			w += nodes(*s.Const)
		}
		for _, r := range s.DependentRequired {
			w += len(r)
		}
		weights[s] = w
		uneval = uneval || s.UnevaluatedProperties != nil || s.UnevaluatedItems != nil
		switch {
		case s.Bool != nil:
			return nil
		case s.DraftVersion != 2020:
			return fmt.Errorf("schema: %s: only draft 2020-12 is allowed", where(fragment(s.Location)))
		case s.DynamicRef != nil || s.RecursiveRef != nil:
			return fmt.Errorf("schema: %s: dynamic references are not allowed", where(fragment(s.Location)))
		case s.Format != nil || s.ContentSchema != nil || s.ContentEncoding != nil || s.ContentMediaType != nil || len(s.Extensions) > 0:
			return fmt.Errorf("schema: %s: asserted formats and contents are not allowed", where(fragment(s.Location)))
		}
		if err := checkNumbers(s); err != nil {
			return err
		}
		subs := []*jsonschema.Schema{s.Ref, s.Not, s.If, s.Then, s.Else, s.PropertyNames,
			s.UnevaluatedProperties, s.Contains, s.Items2020, s.UnevaluatedItems}
		subs = append(subs, s.AllOf...)
		subs = append(subs, s.AnyOf...)
		subs = append(subs, s.OneOf...)
		subs = append(subs, s.PrefixItems...)
		for _, p := range s.Properties {
			subs = append(subs, p)
		}
		for _, p := range s.PatternProperties {
			subs = append(subs, p)
		}
		for _, p := range s.DependentSchemas {
			subs = append(subs, p)
		}
		if a, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
			subs = append(subs, a)
		}
		for _, sub := range subs {
			if err := visit(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(root); err != nil {
		return nil, false, err
	}
	return weights, uneval, nil
}

// nodes counts the values in a JSON value, and the bytes of its strings by
// the 64: what comparing or hashing it costs.
func nodes(v any) int {
	switch v := v.(type) {
	case map[string]any:
		n := 1
		for k, e := range v {
			n += 1 + len(k)/64 + nodes(e)
		}
		return n
	case []any:
		n := 1
		for _, e := range v {
			n += nodes(e)
		}
		return n
	case string:
		return 1 + len(v)/64
	}
	return 1
}

// coster counts ahead an upper bound of the library's work to validate
// one value: every subschema it could apply to every value it could reach
// (each branch of anyOf, oneOf, if/then/else counted, whether or not the
// library would take it), each at its fixed weight, plus the pattern
// matches, the hashing of uniqueItems and, when the schema has
// unevaluatedProperties or unevaluatedItems, the library's copy of an
// object's or array's members at each application. It stops counting at
// max.
type coster struct {
	weights map[*jsonschema.Schema]int
	uneval  bool // the library copies each object's or array's members at each application
	n, max  int
}

// add counts k units and reports whether the count is still within max.
func (c *coster) add(k int) bool {
	c.n += k
	return c.n <= c.max
}

// eval counts applying s to v. here is the chain of subschemas applied to
// v itself (through $ref, allOf, ...) that led to s: as the library does,
// a subschema already on it ends the chain (a reference cycle, an error),
// and looking costs the chain's length. It returns false once the count is
// over.
func (c *coster) eval(s *jsonschema.Schema, v any, here []*jsonschema.Schema) bool {
	if s == nil {
		return true
	}
	if !c.add(c.weights[s] + len(here)/16) {
		return false
	}
	if s.Bool != nil || slices.Contains(here, s) {
		return true
	}
	here = append(here, s)
	if c.uneval {
		switch v := v.(type) {
		case map[string]any:
			if !c.add(len(v)) {
				return false
			}
		case []any:
			if !c.add(len(v)) {
				return false
			}
		}
	}
	for _, sub := range []*jsonschema.Schema{s.Ref, s.Not, s.If, s.Then, s.Else} {
		if !c.eval(sub, v, here) {
			return false
		}
	}
	for _, list := range [][]*jsonschema.Schema{s.AllOf, s.AnyOf, s.OneOf} {
		for _, sub := range list {
			if !c.eval(sub, v, here) {
				return false
			}
		}
	}
	switch v := v.(type) {
	case map[string]any:
		return c.object(s, v, here)
	case []any:
		return c.array(s, v)
	case string:
		if !c.add(len(v) / 64) { // counting runes for min/maxLength
			return false
		}
		if s.Pattern != nil && !c.match(s.Pattern, v) {
			return false
		}
	}
	return true
}

func (c *coster) object(s *jsonschema.Schema, obj map[string]any, here []*jsonschema.Schema) bool {
	for k, e := range obj {
		if !c.add(1) {
			return false
		}
		matched := false
		if p, ok := s.Properties[k]; ok {
			matched = true
			if !c.eval(p, e, nil) {
				return false
			}
		}
		for re, p := range s.PatternProperties {
			if !c.match(re, k) {
				return false
			}
			if re.MatchString(k) {
				matched = true
				if !c.eval(p, e, nil) {
					return false
				}
			}
		}
		if a, ok := s.AdditionalProperties.(*jsonschema.Schema); ok && !matched {
			if !c.eval(a, e, nil) {
				return false
			}
		}
		if !c.eval(s.UnevaluatedProperties, e, nil) || !c.eval(s.PropertyNames, k, nil) || !c.eval(s.DependentSchemas[k], obj, here) {
			return false
		}
	}
	return true
}

func (c *coster) array(s *jsonschema.Schema, arr []any) bool {
	if s.UniqueItems && len(arr) > 1 {
		// The library hashes the items, or compares each pair of up
		// to 20 of them.
		k := nodes(arr)
		if len(arr) <= 20 {
			k *= len(arr)
		}
		if !c.add(k) {
			return false
		}
	}
	for i, e := range arr {
		if !c.add(1) {
			return false
		}
		item := s.Items2020
		if i < len(s.PrefixItems) {
			item = s.PrefixItems[i]
		}
		if !c.eval(item, e, nil) || !c.eval(s.Contains, e, nil) || !c.eval(s.UnevaluatedItems, e, nil) {
			return false
		}
	}
	return true
}

// match counts matching re against text.
func (c *coster) match(re jsonschema.Regexp, text string) bool {
	insts := MaxPatternInsts
	if p, ok := re.(*pattern); ok {
		insts = p.insts
	}
	return c.add(1 + (len(text)+1)*insts/patternUnit)
}

// checkData refuses data the library would parse at a cost out of
// proportion to its size: numbers beyond checkNumber's bound, nesting
// deeper than MaxDataDepth (arrays and objects within each other, as
// quant.MaxJSONDepth counts them). depth is how many enclose v.
func checkData(v any, depth int) error {
	switch v := v.(type) {
	case map[string]any:
		if depth >= MaxDataDepth {
			return fmt.Errorf("data nests deeper than %d levels", MaxDataDepth)
		}
		for _, e := range v {
			if err := checkData(e, depth+1); err != nil {
				return err
			}
		}
	case []any:
		if depth >= MaxDataDepth {
			return fmt.Errorf("data nests deeper than %d levels", MaxDataDepth)
		}
		for _, e := range v {
			if err := checkData(e, depth+1); err != nil {
				return err
			}
		}
	case json.Number:
		return checkNumber(string(v))
	}
	return nil
}
