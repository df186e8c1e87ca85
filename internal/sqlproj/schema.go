package sqlproj

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/qbc-chain/qbc/internal/quant"
)

// Type is the SQL type of a typed column, from the JSON Schema type of its
// property.
type Type string

// Column types.
const (
	TypeText    Type = "text"    // "string"
	TypeInteger Type = "integer" // "integer"
	TypeReal    Type = "real"    // "number"
	TypeBool    Type = "boolean" // "boolean"
	TypeJSON    Type = "json"    // "object", "array", several types, or none
)

// Column is one typed column of a chain's view: a top-level property of
// its JSON Schema.
type Column struct {
	Name     string // the column's name
	Property string // the property it reads
	Type     Type
}

// MaxColumns bounds the typed columns of one view; properties past it (in
// name order) are left out.
const MaxColumns = 200

// identifier is what a property's name must look like to become a
// column: a plain SQL identifier, usable unquoted in a JSON path.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// fixedColumns are the view's columns that come from the transaction
// itself; a property of the same name becomes data_<name>.
var fixedColumns = []string{"chain", "height", "position", "id", "time", "signer", "kind", "data"}

// Columns decodes the typed columns of a chain's view from its rules' JSON
// Schema: one column per top-level property (its "properties" keyword), in
// name order, typed by the property's "type" (one type besides "null";
// anything else is JSON). Properties whose names are not plain
// identifiers are left out, since a column must be named safely. An empty
// schema has no columns. It keeps nothing of schema.
func Columns(schema []byte) ([]Column, error) {
	if len(schema) == 0 {
		return nil, nil
	}
	if len(schema) > quant.MaxDataSize {
		return nil, fmt.Errorf("sqlproj: schema of %d bytes is over %d", len(schema), quant.MaxDataSize)
	}
	var doc struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(schema, &doc); err != nil {
		return nil, fmt.Errorf("sqlproj: schema: %w", err)
	}
	names := make([]string, 0, len(doc.Properties))
	for name := range doc.Properties {
		if identifier.MatchString(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	taken := make(map[string]bool)
	for _, f := range fixedColumns {
		taken[f] = true
	}
	for _, name := range names {
		taken[strings.ToLower(name)] = true
	}
	var cols []Column
	for _, name := range names {
		if len(cols) == MaxColumns {
			break
		}
		col := name
		if slices.Contains(fixedColumns, strings.ToLower(name)) {
			col = "data_" + name
			if taken[strings.ToLower(col)] || len(col) > 63 {
				continue
			}
		}
		cols = append(cols, Column{Name: col, Property: name, Type: typeOf(doc.Properties[name])})
	}
	return cols, nil
}

// typeOf is the column type of a property's schema.
func typeOf(prop json.RawMessage) Type {
	var p struct {
		Type json.RawMessage `json:"type"`
	}
	if json.Unmarshal(prop, &p) != nil || len(p.Type) == 0 {
		return TypeJSON
	}
	var one string
	if json.Unmarshal(p.Type, &one) != nil {
		var many []string
		if json.Unmarshal(p.Type, &many) != nil {
			return TypeJSON
		}
		many = slices.DeleteFunc(many, func(s string) bool { return s == "null" })
		if len(many) != 1 {
			return TypeJSON
		}
		one = many[0]
	}
	switch one {
	case "string":
		return TypeText
	case "integer":
		return TypeInteger
	case "number":
		return TypeReal
	case "boolean":
		return TypeBool
	}
	return TypeJSON
}

// ViewName is the name of a chain's typed view: tx_<name>_<first 8 hex
// digits of its id>, the name lowercased with every run of other
// characters than a-z and 0-9 made one underscore and cut to 40.
func ViewName(name string, id quant.Hash) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	s := strings.TrimSuffix(b.String(), "_")
	if s == "" {
		s = "chain"
	}
	return "tx_" + s + "_" + id.String()[:8]
}
