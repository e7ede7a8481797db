package query

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/grovedb/grove/internal/dataapi/apierr"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestParseGolden parses each query string of testdata/parse.txt and
// compares the tree (or the error) with testdata/parse.golden.json.
func TestParseGolden(t *testing.T) {
	cases := []string{
		"",
		"select=id,name",
		"select=*,client(*,nested(*))",
		"select=alias:name->jsonpath::text",
		"select=data->0->>key,data->>-1",
		"select=fullName:full_name,birthDate:birth_date",
		"select=id,...client(name,other:id)",
		"select=id,client!client_fk!inner(id),other!left(id)",
		"select=count(),amount.sum(),total:amount::int.avg()::text",
		"select=\"my col\",\"a,b\"",
		"select=name-with-dashes,x->a-b",
		"id=eq.1",
		"id=not.eq.1",
		"name=like.*smith*",
		"id=in.(1,2,3)",
		"name=in.(\"a,b\",\"c\\\"d\",e)",
		"id=in.()",
		"deleted=is.null",
		"deleted=not.is.NULL",
		"done=is.true",
		"x=is.not_null",
		"tsv=fts(english).cat",
		"tsv=not.wfts.the cat",
		"tsv=phfts(french).le chat",
		"name=like(any).{a*,b*}",
		"id=gt(all).{1,\"2\"}",
		"data->a->>b=eq.x",
		"clients.projects.id=eq.1",
		"or=(id.eq.1,name.eq.x)",
		"not.or=(id.eq.1,and(a.gt.2,b.is.null))",
		"clients.or=(id.eq.1,id.in.(2,3))",
		"or=(name.eq.\"a,b\",arr.cs.{1,2},not.and(a.eq.1,b.eq.2))",
		"order=name.desc.nullslast,id",
		"order=data->key.asc,clients(name).desc",
		"clients.order=id.desc",
		"limit=10&offset=5",
		"clients.limit=2",
		"limit=abc",
		"limit=-1",
		"offset=-4",
		"clients.limit=-1",
		"columns=a,b,\"c d\"",
		"on_conflict=id,name",
		"a=1&b=two",
		"a+b=c+d&e=%20f",
		"select=",
		// Errors: PGRST100 with the parameter and column.
		"id=noop.1",
		"id=eq",
		"select=id,clients(name",
		"select=name::",
		"order=id.ac",
		"order=id.asc.nlsfst",
		"or=()",
		"or=(id.in.1,2)",
		"deleted=is.maybe",
		"name=neq(any).{a}",
		"id=in.(1,2",
		"select=*!hint",
	}
	got := map[string]any{}
	order := []string{}
	for _, q := range cases {
		p, err := Parse(q)
		if err != nil {
			var ae *apierr.Error
			if !errors.As(err, &ae) {
				t.Fatalf("Parse(%q): %v is not an apierr.Error", q, err)
			}
			got[q] = map[string]any{"status": ae.Status, "error": json.RawMessage(ae.Body())}
		} else {
			got[q] = p
		}
		order = append(order, q)
	}
	out := []any{}
	for _, q := range order {
		out = append(out, map[string]any{"query": q, "parsed": got[q]})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "parse.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != string(b)+"\n" {
		t.Errorf("parse trees differ from %s; run go test -run TestParseGolden -update and review the diff", golden)
	}
}

// FuzzParse checks that no query string panics the parser and that every
// error is a 400 PGRST100.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"select=a,b(c,d!inner(*))", "or=(a.eq.1,not.and(b.in.(1,2)))", "x=like(any).{a,b}",
		"order=a->b.desc.nullsfirst", "a.b->>c=fts(en).x", "select=\"", "in.(", "select=a:b::c.sum()::d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		_, err := Parse(q)
		if err == nil {
			return
		}
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "PGRST100" {
			t.Fatalf("Parse(%q): %v", q, err)
		}
	})
}

// TestParsePrefer checks how Prefer headers are read: the first value of
// a preference wins, and an unknown one is an error only when strict.
func TestParsePrefer(t *testing.T) {
	for _, c := range []struct {
		headers []string
		want    Prefer
		err     string
	}{
		{headers: []string{"return=minimal, return=representation"}, want: Prefer{Return: "minimal"}},
		{headers: []string{"count=exact", "count=planned, return=headers-only"}, want: Prefer{Count: "exact", Return: "headers-only"}},
		{headers: []string{"return=bogus"}, want: Prefer{Invalid: []string{"return=bogus"}}},
		{headers: []string{"handling=strict, count=none"}, err: "PGRST122"},
		{headers: []string{"handling=strict, max-affected=5"}, want: Prefer{Handling: "strict", MaxAffected: 5, HasMax: true}},
	} {
		got, err := ParsePrefer(c.headers)
		if c.err != "" {
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Code != c.err {
				t.Errorf("%q: err %v, want %s", c.headers, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.headers, err)
			continue
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(c.want)
		if string(g) != string(w) {
			t.Errorf("%q: %s, want %s", c.headers, g, w)
		}
	}
}
