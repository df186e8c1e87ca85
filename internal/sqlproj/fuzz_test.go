package sqlproj

import (
	"errors"
	"strings"
	"testing"
)

// FuzzColumns: any schema bytes give columns or an error, never a panic,
// and every column is a plain identifier read from a plain property.
func FuzzColumns(f *testing.F) {
	for _, s := range []string{
		`{"properties":{"a":{"type":"string"},"id":{"type":["integer","null"]},"b c":{}}}`,
		`{"properties":{"x":{"type":["string","number"]},"y":true}}`,
		`{"properties":[]}`, `[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, schema []byte) {
		cols, err := Columns(schema)
		if err != nil {
			return
		}
		if len(cols) > MaxColumns {
			t.Fatalf("%d columns", len(cols))
		}
		seen := map[string]bool{}
		for _, c := range cols {
			if !identifier.MatchString(c.Name) || !identifier.MatchString(c.Property) {
				t.Fatalf("column %+v is not a plain identifier", c)
			}
			if seen[strings.ToLower(c.Name)] {
				t.Fatalf("column %q twice", c.Name)
			}
			seen[strings.ToLower(c.Name)] = true
			switch c.Type {
			case TypeText, TypeInteger, TypeReal, TypeBool, TypeJSON:
			default:
				t.Fatalf("type %q", c.Type)
			}
		}
	})
}

// FuzzOneStatement: any text is refused or gives one statement that is
// part of it, starts with a read's verb and holds no statement after a
// semicolon outside quotes.
func FuzzOneStatement(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "select ';' ; ", "SELECT 1; DELETE FROM x", "/* ; */ SELECT $a$;$a$", "WITH x AS (SELECT 1) SELECT * FROM x;",
		"-- c\nSELECT \"a;b\" FROM [t;]", "DELETE FROM x", "SELECT $1", "(SELECT 1)", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		stmt, err := oneStatement(q)
		if err != nil {
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("error %v is not ErrRefused", err)
			}
			return
		}
		if !strings.Contains(q, stmt) {
			t.Fatalf("statement %q is not in %q", stmt, q)
		}
		verb := firstWord(stmt)
		ok := false
		for _, v := range readOnlyVerbs {
			ok = ok || strings.EqualFold(v, verb)
		}
		if !ok {
			t.Fatalf("%q starts with %q", stmt, verb)
		}
		// Once more: what was accepted is accepted the same.
		again, err := oneStatement(stmt)
		if err != nil || again != stmt {
			t.Fatalf("%q: again %q %v", stmt, again, err)
		}
	})
}

func TestOneStatement(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		refused  bool
	}{
		{in: "SELECT 1", want: "SELECT 1"},
		{in: "  select 1 ;  ;", want: "select 1"},
		{in: "SELECT ';' AS x", want: "SELECT ';' AS x"},
		{in: `SELECT "a;b"`, want: `SELECT "a;b"`},
		{in: "SELECT $q$ ; $q$", want: "SELECT $q$ ; $q$"},
		{in: "SELECT 1 -- ; DROP\n", want: "SELECT 1 -- ; DROP"},
		{in: "/* x */ (SELECT 1)", want: "/* x */ (SELECT 1)"},
		{in: "WITH a AS (SELECT 1) SELECT * FROM a", want: "WITH a AS (SELECT 1) SELECT * FROM a"},
		{in: "SELECT 1; SELECT 2", refused: true},
		{in: "SELECT 1; -- x\nDELETE", refused: true},
		{in: "SELECT 'x", refused: true},
		{in: "INSERT INTO t VALUES (1)", refused: true},
		{in: "-- SELECT\nDELETE FROM t", refused: true},
		{in: "VACUUM", refused: true},
		{in: ";", refused: true},
	} {
		got, err := oneStatement(tc.in)
		if tc.refused {
			if !errors.Is(err, ErrRefused) {
				t.Errorf("%q: %q %v, want refused", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestColumnsAndViewName(t *testing.T) {
	cols, err := Columns([]byte(`{"properties":{"b":{"type":"integer"},"a":{"type":["string","null"]},"id":{"type":"boolean"},"data_id":{"type":"number"},"x y":{"type":"string"},"o":{"type":"object"},"m":{"type":["string","integer"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cols {
		got = append(got, c.Name+":"+string(c.Type))
	}
	// "id" would clash with the transaction's id and data_id is taken:
	// left out. "x y" is not an identifier.
	want := "a:text b:integer data_id:real m:json o:json"
	if strings.Join(got, " ") != want {
		t.Fatalf("columns %v, want %s", got, want)
	}
	for name, want := range map[string]string{"Orders v2": "tx_orders_v2_", "": "tx_chain_", "ÄÖ--x": "tx_x_", "a__b": "tx_a_b_"} {
		var id [32]byte
		if got := ViewName(name, id); !strings.HasPrefix(got, want) || len(got) != len(want)+8 {
			t.Errorf("ViewName(%q) = %q, want %s + 8 hex", name, got, want)
		}
	}
}
