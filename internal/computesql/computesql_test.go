package computesql

import (
	"regexp"
	"strings"
	"testing"
)

func TestStatements(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"ident", Ident(`we"ird`), `"we""ird"`},
		{"literal", Literal(`it's`), `'it''s'`},
		{"create login role 16", CreateRole("app", "SCRAM$x", 16), `CREATE ROLE "app" WITH LOGIN CREATEDB CREATEROLE PASSWORD 'SCRAM$x'`},
		{"create login role 15", CreateRole("app", "v", 15), `CREATE ROLE "app" WITH LOGIN CREATEDB NOCREATEROLE PASSWORD 'v'`},
		{"create nologin role", CreateRole("ro", "", 17), `CREATE ROLE "ro" WITH NOLOGIN CREATEDB CREATEROLE`},
		{"set password", SetPassword("app", "v'2"), `ALTER ROLE "app" WITH LOGIN PASSWORD 'v''2'`},
		{"create database", CreateDatabase("db", "app"), `CREATE DATABASE "db" OWNER "app"`},
		{"rename database", RenameDatabase("a", "b"), `ALTER DATABASE "a" RENAME TO "b"`},
		{"database owner", SetDatabaseOwner("db", "bob"), `ALTER DATABASE "db" OWNER TO "bob"`},
		{"drop database", DropDatabase("db"), `DROP DATABASE IF EXISTS "db" WITH (FORCE)`},
		{"disown role", DisownRole("bob", "app"), `REASSIGN OWNED BY "bob" TO "app"; DROP OWNED BY "bob"`},
		{"drop role", DropRole("bob"), `DROP ROLE IF EXISTS "bob"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got  %s\nwant %s", tt.got, tt.want)
			}
		})
	}
}

// TestSetup: the set-up block quotes every name and value, and its random
// dollar-quote tag opens and closes it and differs between calls.
func TestSetup(t *testing.T) {
	sql := Setup("o'wner", "SCRAM-SHA-256$v", "my db", 16)
	tag := regexp.MustCompile(`^DO (\$g[a-z0-9]{16}\$) BEGIN\n`).FindStringSubmatch(sql)
	if tag == nil || !strings.HasSuffix(sql, "END "+tag[1]) {
		t.Fatalf("not one tagged block:\n%s", sql)
	}
	for _, want := range []string{
		`WHERE rolname = 'o''wner'`,
		`CREATE ROLE %I WITH LOGIN CREATEDB CREATEROLE PASSWORD %L', 'o''wner', 'SCRAM-SHA-256$v'`,
		`ALTER DATABASE grove_spare RENAME TO %I', 'my db'`,
		`OWNER TO %I', 'my db', 'o''wner'`,
	} {
		if !strings.Contains(sql, want) {
			t.Errorf("missing %q in:\n%s", want, sql)
		}
	}
	if first, second := Setup("a", "v", "d", 16), Setup("a", "v", "d", 16); first == second {
		t.Error("the dollar-quote tag does not change between calls")
	}
}
