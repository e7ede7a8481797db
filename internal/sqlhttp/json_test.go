package sqlhttp

import (
	"encoding/json"
	"testing"
)

func TestAppendValue(t *testing.T) {
	cases := []struct {
		v    string
		oid  uint32
		want string
	}{
		{"t", oidBool, `true`},
		{"f", oidBool, `false`},
		{"42", oidInt4, `42`},
		{"-7", oidInt2, `-7`},
		{"9007199254740993", 20, `"9007199254740993"`}, // int8 keeps its digits
		{"42.42", oidFloat8, `42.42`},
		{"NaN", oidFloat4, `"NaN"`},
		{"-Infinity", oidFloat8, `"-Infinity"`},
		{"1e+30", oidFloat8, `1e+30`},
		{`{"a": [1, "x"]}`, oidJSONB, `{"a": [1, "x"]}`},
		{"line\n\"q\"\\\x01", 25, `"line\n\"q\"\\\u0001"`},
		{"\xff", 25, `"\ufffd"`},
		{"{1,NULL,3}", 1007, `[1,null,3]`},
		{"{{1,2},{3,4}}", 1007, `[[1,2],[3,4]]`},
		{"[0:1]={5,6}", 1007, `[5,6]`},
		{"{}", 1009, `[]`},
		{`{"a b","c\"d",NULL,"NULL",plain}`, 1009, `["a b","c\"d",null,"NULL","plain"]`},
		{`{t,f}`, 1000, `[true,false]`},
		{`{"{\"k\": 1}",null}`, 3807, `[{"k": 1},null]`},
		{`{(1,1),(0,0);(2,2),(1,1)}`, 1020, `["(1,1),(0,0)","(2,2),(1,1)"]`},
	}
	for _, c := range cases {
		got, err := appendValue(nil, []byte(c.v), c.oid)
		if err != nil {
			t.Errorf("%q (oid %d): %v", c.v, c.oid, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%q (oid %d) = %s, want %s", c.v, c.oid, got, c.want)
		}
		if !json.Valid(got) {
			t.Errorf("%q (oid %d): invalid JSON %s", c.v, c.oid, got)
		}
	}
	for _, bad := range []string{"{1,2", "1,2}", `{"a}`, "[1:2]{1}", "{1}x"} {
		if got, err := appendValue(nil, []byte(bad), 1007); err == nil {
			t.Errorf("%q: accepted as %s", bad, got)
		}
	}
}

func TestParamsText(t *testing.T) {
	in := `[null, true, 42, 1.5e3, "x\"y", {"b":1, "a":[true]}, [1, null, "NULL", "q\"\\", {"k":1}, [2]]]`
	var params []json.RawMessage
	if err := json.Unmarshal([]byte(in), &params); err != nil {
		t.Fatal(err)
	}
	got, err := paramsText(params)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{nil, "true", "42", "1.5e3", `x"y`, `{"b":1,"a":[true]}`, `{1,NULL,"NULL","q\"\\","{\"k\":1}",{2}}`}
	for i, w := range want {
		switch {
		case w == nil && got[i] != nil:
			t.Errorf("param %d = %q, want NULL", i, got[i])
		case w != nil && string(got[i]) != w:
			t.Errorf("param %d = %q, want %q", i, got[i], w)
		}
	}
}

func TestParseCommandTag(t *testing.T) {
	cases := []struct {
		tag  string
		cmd  string
		rows int64
	}{
		{"SELECT 3", "SELECT", 3},
		{"INSERT 0 5", "INSERT", 5},
		{"UPDATE 0", "UPDATE", 0},
		{"CREATE TABLE", "CREATE", -1},
		{"BEGIN", "BEGIN", -1},
		{"COPY 7", "COPY", 7},
	}
	for _, c := range cases {
		if cmd, n := parseCommandTag(c.tag); cmd != c.cmd || n != c.rows {
			t.Errorf("%q = %q %d, want %q %d", c.tag, cmd, n, c.cmd, c.rows)
		}
	}
}

func TestParseConnString(t *testing.T) {
	cases := []struct {
		s, domain string
		want      connInfo
		err       string
	}{
		{s: "postgresql://u:p%40ss@ep-a-1.us-east-2.grove.test/neondb?sslmode=require", domain: "grove.test",
			want: connInfo{endpoint: "ep-a-1", database: "neondb", role: "u", password: "p@ss"}},
		{s: "postgres://u:p@ep-a-1-pooler.r.grove.test/db", domain: "grove.test",
			want: connInfo{endpoint: "ep-a-1", database: "db", role: "u", password: "p"}},
		{s: "postgres://u:p@127.0.0.1:5432/db?options=endpoint%3Dep-b%20-c%20search_path%3Dx",
			want: connInfo{endpoint: "ep-b", database: "db", role: "u", password: "p", options: "-c search_path=x"}},
		{s: "postgres://u:p@ep-c.localhost/d%20b", want: connInfo{endpoint: "ep-c", database: "d b", role: "u", password: "p"}},
		{s: "postgres://u:p@10.1.1.1/db", err: "missing hostname"},
		{s: "postgres://u:p@[::1]/db", err: "missing hostname"},
		{s: "postgres://u:p@ep-a.other.test/db", domain: "grove.test", err: "invalid hostname: Common name inferred from SNI ('other.test') is not known"},
		{s: "postgres://u:p@ep-a.localhost/db?options=endpoint%3Dep-b", err: "invalid hostname: Inconsistent project name inferred from SNI ('ep-a') and project option ('ep-b')."},
		{s: "http://u:p@ep-a.localhost/db", err: "incorrect scheme"},
		{s: "postgres://u:p@ep-a.localhost/", err: "invalid database name"},
		{s: "postgres://:p@ep-a.localhost/db", err: "missing username"},
		{s: "postgres://u@ep-a.localhost/db", err: "missing authentication credentials: required password"},
		{s: "", err: "invalid header: neon-connection-string"},
		{s: "postgres://u:p@ep-a.localhost:bad/db", err: `invalid connection string: parse "postgres://u:p@ep-a.localhost:bad/db": invalid port ":bad" after host`},
	}
	for _, c := range cases {
		got, err := parseConnString(c.s, c.domain)
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%q: err %v, want %q", c.s, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.s, err)
		case c.err == "" && got != c.want:
			t.Errorf("%q = %+v, want %+v", c.s, got, c.want)
		}
	}
}
