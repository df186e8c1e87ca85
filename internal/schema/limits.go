package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The bounds on what a schema may cost. A chain's schema comes from its
// bang, written by whoever creates the chain, and every node (the creating
// one and every follower) compiles it, then runs it on every transaction
// of the chain, so its cost at both times must be bounded by the node, not
// by the schema's author nor by a transaction's writer.
//
// At creation (Compile):
//   - the document is at most MaxSchemaBytes, nests at most MaxSchemaDepth
//     deep and has at most MaxSchemaKeywords object members (keywords and
//     property names), which bounds the subschemas and the compiler's work;
//   - it is draft 2020-12 throughout ($schema, if given, names it), so
//     formats and content are annotations, never asserted (an older draft
//     would assert "format", whose checks cost what the library makes them
//     cost), and $dynamicRef is refused (its target is chosen while
//     validating, which the cost bound below cannot follow);
//   - each regular expression (pattern, patternProperties) is at most
//     MaxPatternBytes and compiles to at most MaxPatternInsts instructions
//     of Go's RE2 program, MaxPatternInstsTotal for all of them: matching
//     is linear in the text, but the factor is the program's size, and
//     compiling is linear in it;
//   - each number obeys the bound on numbers below, and the numeric
//     keywords (minimum, maximum, exclusiveMinimum, exclusiveMaximum,
//     multipleOf) are within float64's range.
//
// At every validation (Validate), before the library runs:
//   - each number in the data is at most MaxNumberText characters with an
//     exponent of at most MaxNumberExponent in magnitude: the library
//     parses numbers as exact rationals (math/big), where "1e999999" costs
//     a tenth of a second to compare and a longer exponent makes the
//     library dereference nil;
//   - the data nests at most MaxDataDepth deep;
//   - the validation's cost is counted ahead, as an upper bound of the
//     library's work (each subschema applied to each value, every branch
//     of anyOf, oneOf and if counted; each pattern match by the text's
//     length times its program's size; each uniqueItems by the size of the
//     array it hashes), and data whose count exceeds MaxValidateCost is
//     refused without running the library. A schema whose subschemas
//     reference each other in a lattice (allOf: [{$ref: a}, {$ref: a}] at
//     every level) applies exponentially many subschemas to one value: the
//     count stops it at the bound.
//
// Every refusal is deterministic (a count, never a clock), so every node
// gives the same verdict on the same data.
const (
	MaxSchemaBytes       = 64 << 10
	MaxSchemaDepth       = 32
	MaxSchemaKeywords    = 4096
	MaxPatternBytes      = 1 << 10
	MaxPatternInsts      = 2000
	MaxPatternInstsTotal = 20000
	MaxNumberText        = 100
	MaxNumberExponent    = 400
	MaxDataDepth         = 64
	MaxValidateCost      = 1 << 17
)

// checkDocument checks the bounds a schema document must meet before it
// is compiled: depth, keywords, numbers. It stops a rules document from
// costing the compiler (on every node) more than a fixed amount. (The
// draft and dynamic references are checked on the compiled schema, where
// a keyword cannot be mistaken for data in a const.)
func checkDocument(doc any) error {
	keywords := 0
	var walk func(v any, depth int, path string) error
	walk = func(v any, depth int, path string) error {
		switch v.(type) {
		case map[string]any, []any:
			if depth >= MaxSchemaDepth {
				return fmt.Errorf("schema: nests deeper than %d levels at %s", MaxSchemaDepth, where(path))
			}
		}
		switch v := v.(type) {
		case map[string]any:
			if keywords += len(v); keywords > MaxSchemaKeywords {
				return fmt.Errorf("schema: more than %d keywords and property names", MaxSchemaKeywords)
			}
			for k, e := range v {
				p := path + "/" + k
				if err := walk(e, depth+1, p); err != nil {
					return err
				}
			}
		case []any:
			for i, e := range v {
				if err := walk(e, depth+1, fmt.Sprintf("%s/%d", path, i)); err != nil {
					return err
				}
			}
		case json.Number:
			if err := checkNumber(string(v)); err != nil {
				return fmt.Errorf("schema: %s: %w", where(path), err)
			}
		}
		return nil
	}
	return walk(doc, 0, "")
}

func where(path string) string {
	if path == "" {
		return "the top"
	}
	if len(path) > 80 {
		path = "..." + path[len(path)-77:]
	}
	return path
}

// checkNumber refuses a JSON number whose text is longer than
// MaxNumberText or whose exponent exceeds MaxNumberExponent in magnitude.
// It keeps each exact (big.Rat) number the library makes small. s is
// valid JSON number syntax.
func checkNumber(s string) error {
	if len(s) > MaxNumberText {
		return fmt.Errorf("a number of %d characters (at most %d)", len(s), MaxNumberText)
	}
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return nil
	}
	exp := strings.TrimLeft(strings.TrimLeft(s[i+1:], "+-"), "0")
	if len(exp) > 4 || atoi(exp) > MaxNumberExponent {
		return fmt.Errorf("number %s has an exponent beyond %d", s, MaxNumberExponent)
	}
	return nil
}

// atoi reads at most four decimal digits.
func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// pattern is a compiled regular expression with the size of its program,
// which the cost count multiplies by the length of the text it matches.
type pattern struct {
	*regexp.Regexp
	insts int
}

// patterns is the library's regexp engine for one Compile: Go's RE2,
// refusing a pattern longer than MaxPatternBytes or whose program has more
// than MaxPatternInsts instructions, and more than MaxPatternInstsTotal
// instructions in all, so that compiling and matching them stays cheap.
// The library asks for each pattern twice (checking the document against
// the draft's metaschema, then compiling it): each is compiled and counted
// once.
type patterns struct {
	insts int
	seen  map[string]*pattern
}

func (ps *patterns) compile(s string) (jsonschema.Regexp, error) {
	if p, ok := ps.seen[s]; ok {
		return p, nil
	}
	if len(s) > MaxPatternBytes {
		return nil, fmt.Errorf("pattern of %d bytes (at most %d)", len(s), MaxPatternBytes)
	}
	re, err := syntax.Parse(s, syntax.Perl)
	if err != nil {
		return nil, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, err
	}
	if len(prog.Inst) > MaxPatternInsts {
		return nil, fmt.Errorf("pattern compiles to %d instructions (at most %d)", len(prog.Inst), MaxPatternInsts)
	}
	if ps.insts += len(prog.Inst); ps.insts > MaxPatternInstsTotal {
		return nil, fmt.Errorf("patterns compile to more than %d instructions in all", MaxPatternInstsTotal)
	}
	r, err := regexp.Compile(s)
	if err != nil {
		return nil, err
	}
	p := &pattern{Regexp: r, insts: len(prog.Inst)}
	ps.seen[s] = p
	return p, nil
}

// checkNumbers refuses the numeric keywords of a compiled schema that are
// beyond float64's range (or a multipleOf that rounds to zero in it): no
// data a chain means to take needs them, and they make the exact
// arithmetic of every comparison large.
func checkNumbers(s *jsonschema.Schema) error {
	for _, n := range []struct {
		name string
		v    *big.Rat
	}{
		{"minimum", s.Minimum},
		{"maximum", s.Maximum},
		{"exclusiveMinimum", s.ExclusiveMinimum},
		{"exclusiveMaximum", s.ExclusiveMaximum},
		{"multipleOf", s.MultipleOf},
	} {
		if n.v == nil {
			continue
		}
		if f, _ := n.v.Float64(); math.IsInf(f, 0) || (n.name == "multipleOf" && f == 0) {
			return fmt.Errorf("schema: %s: %s is beyond float64's range", where(fragment(s.Location)+"/"+n.name), n.name)
		}
	}
	return nil
}

// fragment is the JSON pointer of a location in the chain's schema.
func fragment(loc string) string {
	_, f, _ := strings.Cut(loc, "#")
	return f
}
