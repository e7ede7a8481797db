package clienttest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// neonctl runs Neon's CLI against the env's grove with JSON output and
// decodes what it prints into out (when not nil).
func (e *env) neonctl(t *testing.T, out any, args ...string) error {
	t.Helper()
	cli := filepath.Join(e.npm, "node_modules", "neonctl", "bin", "cli.js")
	full := append([]string{cli, "--api-host", e.api, "--api-key", e.g.Key, "--no-analytics",
		"--output", "json", "--no-color", "--config-dir", t.TempDir()}, args...)
	stdout, err := e.node(t, nil, full...)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			return fmt.Errorf("neonctl %s printed no JSON: %v\n%s", strings.Join(args, " "), err, stdout)
		}
	}
	return nil
}

// ctlProject is the part of neonctl's project output the tests read.
type ctlProject struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	OrgID string `json:"org_id"`
}

type ctlBranch struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Default bool   `json:"default"`
}

type ctlNamed struct {
	Name      string `json:"name"`
	OwnerName string `json:"owner_name"`
}

// TestNeonctl drives Neon's CLI through the project lifecycle, command by
// command, against a grove whose endpoints have DNS names (as neonctl
// builds connection strings from the endpoint's host).
func TestNeonctl(t *testing.T) {
	e := start(t, "--domain", "grove.test")

	t.Run("me", func(t *testing.T) {
		var me struct {
			Email string `json:"email"`
			ID    string `json:"id"`
		}
		if err := e.neonctl(t, &me, "me"); err != nil {
			t.Fatal(err)
		}
		if me.Email == "" || me.ID == "" {
			t.Fatalf("me: %+v", me)
		}
	})
	t.Run("orgs list", func(t *testing.T) {
		var orgs []struct{ ID, Name string }
		if err := e.neonctl(t, &orgs, "orgs", "list"); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, o := range orgs {
			found = found || o.ID == e.org && o.Name == "sponsored"
		}
		if !found {
			t.Fatalf("orgs list lacks sponsored (%s): %+v", e.org, orgs)
		}
	})

	t.Run("errors", func(t *testing.T) {
		// A wrong key is refused (neonctl does not fall back to a browser login
		// when a key is given), and an unknown project is reported by Neon's message.
		cli := filepath.Join(e.npm, "node_modules", "neonctl", "bin", "cli.js")
		_, err := e.node(t, nil, cli, "--api-host", e.api, "--api-key", "napi_wrong", "--no-analytics",
			"--output", "json", "--config-dir", t.TempDir(), "me")
		if err == nil || !strings.Contains(err.Error(), "rejected the API key") {
			t.Errorf("me with a wrong key: %v", err)
		}
		err = e.neonctl(t, nil, "projects", "get", "nope-nope-12345678")
		if err == nil || !strings.Contains(err.Error(), "ERROR: project not found") {
			t.Errorf("projects get of an unknown project: %v", err)
		}
	})

	var created struct {
		Project        ctlProject `json:"project"`
		ConnectionURIs []struct {
			ConnectionURI string `json:"connection_uri"`
		} `json:"connection_uris"`
	}
	if err := e.neonctl(t, &created, "projects", "create", "--name", "ctl-app", "--org-id", e.org,
		"--database", "app_db", "--role", "app_user", "--pg-version", "17", "--region-id", "aws-us-east-2"); err != nil {
		t.Fatalf("projects create: %v", err)
	}
	p := created.Project.ID
	if p == "" || created.Project.Name != "ctl-app" || len(created.ConnectionURIs) != 1 {
		t.Fatalf("projects create printed %+v", created)
	}
	t.Run("create's connection URI", func(t *testing.T) {
		if user, db, err := connectSNI(t, e, created.ConnectionURIs[0].ConnectionURI); err != nil || user != "app_user" || db != "app_db" {
			t.Fatalf("connect: %s@%s, %v", user, db, err)
		}
	})

	t.Run("projects list", func(t *testing.T) {
		var list []ctlProject
		if err := e.neonctl(t, &list, "projects", "list", "--org-id", e.org); err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].ID != p {
			t.Fatalf("projects list --org-id: %+v, want %s", list, p)
		}
	})
	t.Run("projects list without org", func(t *testing.T) {
		// Without --org-id neonctl lists owned projects, then those shared with the user.
		var list json.RawMessage
		if err := e.neonctl(t, &list, "projects", "list"); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(list), p) {
			t.Fatalf("projects list lacks %s: %s", p, list)
		}
	})
	t.Run("projects get", func(t *testing.T) {
		var got ctlProject
		if err := e.neonctl(t, &got, "projects", "get", p); err != nil {
			t.Fatal(err)
		}
		if got.ID != p || got.Name != "ctl-app" || got.OrgID != e.org {
			t.Fatalf("projects get: %+v", got)
		}
	})
	t.Run("projects update", func(t *testing.T) {
		var got ctlProject
		if err := e.neonctl(t, &got, "projects", "update", p, "--name", "ctl-renamed"); err != nil {
			t.Fatal(err)
		}
		if got.Name != "ctl-renamed" {
			t.Fatalf("projects update printed %+v", got)
		}
		if err := e.neonctl(t, &got, "projects", "get", p); err != nil || got.Name != "ctl-renamed" {
			t.Fatalf("after update: %+v, %v", got, err)
		}
	})

	t.Run("branches list", func(t *testing.T) {
		var list []ctlBranch
		if err := e.neonctl(t, &list, "branches", "list", "--project-id", p); err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Name != "main" || !list[0].Default {
			t.Fatalf("branches list: %+v", list)
		}
	})
	t.Run("branches get", func(t *testing.T) {
		var b ctlBranch
		if err := e.neonctl(t, &b, "branches", "get", "main", "--project-id", p); err != nil {
			t.Fatal(err)
		}
		if b.Name != "main" || b.ID == "" {
			t.Fatalf("branches get main: %+v", b)
		}
	})
	t.Run("branches rename", func(t *testing.T) {
		var b ctlBranch
		if err := e.neonctl(t, &b, "branches", "rename", "main", "production", "--project-id", p); err != nil {
			t.Fatal(err)
		}
		if b.Name != "production" {
			t.Fatalf("branches rename printed %+v", b)
		}
		if err := e.neonctl(t, &b, "branches", "get", "production", "--project-id", p); err != nil || b.Name != "production" {
			t.Fatalf("get after rename: %+v, %v", b, err)
		}
	})

	t.Run("databases", func(t *testing.T) {
		var db ctlNamed
		if err := e.neonctl(t, &db, "databases", "create", "--project-id", p, "--name", "extra_db", "--owner-name", "app_user"); err != nil {
			t.Fatal(err)
		}
		if db.Name != "extra_db" || db.OwnerName != "app_user" {
			t.Fatalf("databases create printed %+v", db)
		}
		var list []ctlNamed
		if err := e.neonctl(t, &list, "databases", "list", "--project-id", p); err != nil {
			t.Fatal(err)
		}
		if names := namesOf(list); names != "app_db,extra_db" {
			t.Fatalf("databases list: %s", names)
		}
		if err := e.neonctl(t, &db, "databases", "delete", "extra_db", "--project-id", p); err != nil {
			t.Fatal(err)
		}
		if err := e.neonctl(t, &list, "databases", "list", "--project-id", p); err != nil || namesOf(list) != "app_db" {
			t.Fatalf("databases after delete: %s, %v", namesOf(list), err)
		}
	})
	t.Run("roles", func(t *testing.T) {
		var role ctlNamed
		if err := e.neonctl(t, &role, "roles", "create", "--project-id", p, "--name", "reader"); err != nil {
			t.Fatal(err)
		}
		if role.Name != "reader" {
			t.Fatalf("roles create printed %+v", role)
		}
		var list []ctlNamed
		if err := e.neonctl(t, &list, "roles", "list", "--project-id", p); err != nil {
			t.Fatal(err)
		}
		if names := namesOf(list); names != "app_user,reader" {
			t.Fatalf("roles list: %s", names)
		}
		if err := e.neonctl(t, &role, "roles", "delete", "reader", "--project-id", p); err != nil {
			t.Fatal(err)
		}
		if err := e.neonctl(t, &list, "roles", "list", "--project-id", p); err != nil || namesOf(list) != "app_user" {
			t.Fatalf("roles after delete: %s, %v", namesOf(list), err)
		}
	})

	t.Run("connection-string", func(t *testing.T) {
		for _, pooled := range []bool{false, true} {
			args := []string{"connection-string", "--project-id", p}
			if pooled {
				args = append(args, "--pooled")
			}
			out, err := e.ctlText(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			uri := strings.TrimSpace(out)
			if pooled != strings.Contains(uri, "-pooler.") {
				t.Errorf("pooled=%v: connection string %s", pooled, uri)
			}
			user, db, err := connectSNI(t, e, uri)
			if pooled && poolingMissing(t, err) {
				continue
			}
			if err != nil || user != "app_user" || db != "app_db" {
				t.Errorf("pooled=%v: connect %s: %s@%s, %v", pooled, uri, user, db, err)
			}
		}
	})

	t.Run("operations list", func(t *testing.T) {
		var ops []struct {
			ID        string `json:"id"`
			ProjectID string `json:"project_id"`
			Action    string `json:"action"`
			Status    string `json:"status"`
		}
		if err := e.neonctl(t, &ops, "operations", "list", "--project-id", p); err != nil {
			t.Fatal(err)
		}
		if len(ops) == 0 {
			t.Fatal("operations list is empty after a create")
		}
		for _, op := range ops {
			if op.ProjectID != p || op.ID == "" || op.Action == "" || op.Status == "" {
				t.Errorf("operation %+v", op)
			}
		}
	})

	t.Run("projects delete", func(t *testing.T) {
		var got ctlProject
		if err := e.neonctl(t, &got, "projects", "delete", p); err != nil {
			t.Fatal(err)
		}
		if got.ID != p {
			t.Fatalf("projects delete printed %+v", got)
		}
		err := e.neonctl(t, nil, "projects", "get", p)
		if err == nil || !strings.Contains(err.Error(), "not found") {
			t.Fatalf("projects get after delete: %v, want not found", err)
		}
	})
}

// ctlText runs neonctl for a command that prints plain text (connection-string).
func (e *env) ctlText(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cli := filepath.Join(e.npm, "node_modules", "neonctl", "bin", "cli.js")
	full := append([]string{cli, "--api-host", e.api, "--api-key", e.g.Key, "--no-analytics",
		"--no-color", "--config-dir", t.TempDir()}, args...)
	return e.node(t, nil, full...)
}

func namesOf(list []ctlNamed) string {
	var names []string
	for _, n := range list {
		names = append(names, n.Name)
	}
	return strings.Join(names, ",")
}

// connectSNI connects to a connection string whose host is an endpoint's DNS
// name, as wildcard DNS would: the TCP connection goes to Grove's proxy and
// the host name travels as TLS SNI.
func connectSNI(t *testing.T, e *env, uri string) (user, db string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cfg, err := pgx.ParseConfig(uri)
	if err != nil {
		return "", "", fmt.Errorf("parse %s: %w", uri, err)
	}
	cfg.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil }
	cfg.DialFunc = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, e.g.PGAddr)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", "", fmt.Errorf("connect %s: %w", uri, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = conn.QueryRow(ctx, "select current_user, current_database()").Scan(&user, &db)
	return user, db, err
}
