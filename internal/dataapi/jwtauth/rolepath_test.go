package jwtauth

import (
	"testing"
)

func TestRoleClaimKey(t *testing.T) {
	author := "postgrest_test_author"
	// Cases 1498, 1499 and 11800-11808 are the conformance suite's
	// (milmazz/postgrest-conformance), ported from PostgREST's
	// test/io/fixtures/fixtures.yaml role claim cases; the dotted ones are
	// the same shapes in the older syntax (test/io/test_io.py).
	for _, tc := range []struct {
		name, key, claims string
		role              string // "" = selects nothing (anonymous)
	}{
		{"default", "", `{"role":"authenticated"}`, "authenticated"},
		{"1498 nested member", "$.postgrest.a_role", `{"postgrest":{"a_role":"postgrest_test_author"}}`, author},
		{"1499 array index", "$.customObject.manyRoles[1]", `{"customObject":{"manyRoles":["other","postgrest_test_author"]}}`, author},
		{"11800 quoted key", `$["https://www.example.com/roles"][0].value`, `{"https://www.example.com/roles":[{"value":"postgrest_test_author"}],"other":666}`, author},
		{"11801 index out of range", "$.myDomain[3]", `{"myDomain":["other","postgrest_test_author"]}`, ""},
		{"11802 missing key", "$.myRole", `{"role":"postgrest_test_author"}`, ""},
		{"11803 filter ==", `$.realm_access.roles[?(@ == "postgrest_test_author")]`, `{"realm_access":{"roles":["other","postgrest_test_author"]}}`, author},
		{"11804 filter !=", `$.realm_access.roles[?(@ != "other")]`, `{"realm_access":{"roles":["other","postgrest_test_author"]}}`, author},
		{"11805 aud string", "$.aud", `{"aud":"postgrest_test_author"}`, author},
		{"11807 aud[0]", "$.aud[0]", `{"aud":["postgrest_test_author","nonexistent"]}`, author},
		{"11808 aud[1]", "$.aud[1]", `{"aud":["postgrest_test_author","nonexistent"]}`, "nonexistent"},
		// RFC 9535 beyond the fixtures.
		{"single quotes", `$['realm_access']['roles'][0]`, `{"realm_access":{"roles":["a"]}}`, "a"},
		{"escapes", `$["a\"b\u00e9"]`, `{"a\"bé":"x"}`, "x"},
		{"negative index", "$.roles[-1]", `{"roles":["a","b"]}`, "b"},
		{"filter without parentheses", `$.roles[?@ == 'b']`, `{"roles":["a","b"]}`, "b"},
		{"filter != skips equal, keeps other types", `$.roles[?(@ != "a")]`, `{"roles":["a",7]}`, "7"},
		{"filter on object values", `$.roles[?(@ == "b")]`, `{"roles":{"y":"b","x":"a"}}`, "b"},
		{"filter no match", `$.roles[?(@ == "z")]`, `{"roles":["a","b"]}`, ""},
		{"filter number literal", `$.ids[?(@ == 2)]`, `{"ids":[1,2.0]}`, "2.0"},
		{"wildcard", "$.roles[*]", `{"roles":["a","b"]}`, "a"},
		{"wildcard member", "$.r.*", `{"r":{"k":"v"}}`, "v"},
		{"spaces", " $ .role ", `{"role":"r"}`, "r"},
		{"key on array", "$.roles.x", `{"roles":["a"]}`, ""},
		{"non-string role", "$.n", `{"n":{"a":[1,true]}}`, `{"a":[1,true]}`},
		// Deprecated dotted syntax (PostgREST v16.2+, cases 11819-11821).
		{"dotted .role", ".role", `{"role":"r"}`, "r"},
		{"dotted nested", ".postgrest.a_role", `{"postgrest":{"a_role":"postgrest_test_author"}}`, author},
		{"dotted index", ".customObject.manyRoles[1]", `{"customObject":{"manyRoles":["other","postgrest_test_author"]}}`, author},
		{"dotted quoted", `."https://www.example.com/roles"[0].value`, `{"https://www.example.com/roles":[{"value":"postgrest_test_author"}]}`, author},
		{"dotted out of range", ".myDomain[3]", `{"myDomain":["other","postgrest_test_author"]}`, ""},
		{"dotted key chars", ".a$b@c_1", `{"a$b@c_1":"r"}`, "r"},
		{"dotted ==", `.roles[?(@ == "b")]`, `{"roles":["a","b"]}`, "b"},
		{"dotted !=", `.roles[?(@ != "a")]`, `{"roles":[1,"a","c"]}`, "c"},
		{"dotted ^== (11820)", `.roles[?(@ ^== "postgrest_test_")]`, `{"roles":["other","postgrest_test_author"]}`, author},
		{"dotted ==^", `.roles[?(@ ==^ "_author")]`, `{"roles":["other","postgrest_test_author"]}`, author},
		{"dotted *==", `.roles[?(@*=="test")]`, `{"roles":["other","postgrest_test_author"]}`, author},
		{".role.other (11819)", ".role.other", `{"role":{"other":"r"}}`, "r"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseRoleClaimKey(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			claims, ok := decodeObject([]byte(tc.claims))
			if !ok {
				t.Fatalf("bad claims %s", tc.claims)
			}
			role := ""
			if v, ok := p.eval(claims); ok {
				role = roleText(v)
			}
			if role != tc.role {
				t.Fatalf("role %q, want %q", role, tc.role)
			}
		})
	}
}

func TestRoleClaimKeyInvalid(t *testing.T) {
	// PostgREST's invalidroleclaimkeys (test/io/fixtures/fixtures.yaml) and
	// conformance 1711 ("@@.role.other", neither syntax).
	for _, key := range []string{
		"role.other", ".role##", ".my_role;;domain", ".#$%&$%/", "1234", "@@.role.other",
		"$.my_role;;domain", "$.", "$..role", "$[", "$[01]", "$[-0]", "$['a]", `$["a\x"]`,
		`$.r[?(@ ^== "a")]`, `$.r[?(@ == a)]`, `$.r[?(@ == "a"]`, ".", ".a[", ".a[x]",
		`.r[?(@ == "a")].b`, `.r[?(@ = "a")]`, `."unterminated`,
	} {
		t.Run(key, func(t *testing.T) {
			err := CheckRoleClaimKey(key)
			if err == nil {
				t.Fatalf("%q accepted", key)
			}
			if want := "failed to parse role-claim-key value (" + key + ")"; err.Error() != want {
				t.Fatalf("error %q, want %q", err, want)
			}
		})
	}
}
