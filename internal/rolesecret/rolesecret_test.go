package rolesecret

import (
	"path/filepath"
	"testing"

	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/scram"
	"github.com/grovedb/grove/internal/sealer"
)

func newSealer(t *testing.T) *sealer.Sealer {
	t.Helper()
	s, err := sealer.LoadOrCreate(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// logsIn reports whether a SCRAM exchange with password succeeds against
// verifier.
func logsIn(t *testing.T, verifier, password string) bool {
	t.Helper()
	v, err := scram.ParseVerifier(verifier)
	if err != nil {
		t.Fatal(err)
	}
	c, srv := scram.NewClientPassword(password), scram.NewServer(v, nil)
	first, err := c.First()
	if err != nil {
		t.Fatal(err)
	}
	sf, err := srv.ClientFirst(c.Mechanism(), first)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := c.Final(sf)
	if err != nil {
		t.Fatal(err)
	}
	fin, err := srv.ClientFinal(cf)
	return err == nil && c.Verify(fin) == nil
}

func TestNew(t *testing.T) {
	s := newSealer(t)
	pw, v, sealed, err := New(s, true)
	if err != nil || pw == "" || !logsIn(t, v, pw) {
		t.Fatalf("New = %q, %q, %v", pw, v, err)
	}
	if got, err := s.Open(sealed); err != nil || got != pw {
		t.Errorf("sealed password opens to %q, %v", got, err)
	}
	if _, _, sealed, err := New(s, false); err != nil || sealed != nil {
		t.Errorf("a project that stores no passwords: sealed %v, %v", sealed, err)
	}
}

// TestForChild: a child keeps its parent's secrets, shown when stored,
// unless the parent is protected: then its login roles get new ones.
func TestForChild(t *testing.T) {
	s := newSealer(t)
	pw, v, sealed, err := New(s, true)
	if err != nil {
		t.Fatal(err)
	}
	parent := func() metastore.BranchConfigRecord {
		return metastore.BranchConfigRecord{Roles: []metastore.Role{{Name: "app", Verifier: v, SealedPassword: sealed}, {Name: "nologin"}}}
	}
	cfg, shown, err := ForChild(parent(), false, true, s)
	if err != nil || cfg.Roles[0].Verifier != v || shown["app"] != pw || len(shown) != 1 {
		t.Fatalf("unprotected parent: %+v, %v, %v", cfg.Roles, shown, err)
	}
	if _, shown, _ := ForChild(parent(), false, false, s); len(shown) != 0 {
		t.Errorf("passwords not stored, yet shown: %v", shown)
	}
	cfg, shown, err = ForChild(parent(), true, true, s)
	if err != nil || cfg.Roles[0].Verifier == v || shown["app"] == pw || !logsIn(t, cfg.Roles[0].Verifier, shown["app"]) {
		t.Fatalf("protected parent: %+v, %v, %v", cfg.Roles, shown, err)
	}
	if got, err := s.Open(cfg.Roles[0].SealedPassword); err != nil || got != shown["app"] {
		t.Errorf("new password sealed as %q, %v", got, err)
	}
	if cfg.Roles[1].Verifier != "" || len(shown) != 1 {
		t.Errorf("a role that cannot log in got a password: %+v", cfg.Roles[1])
	}
}

func TestKeep(t *testing.T) {
	cfg := metastore.BranchConfigRecord{Roles: []metastore.Role{{Name: "app", Verifier: "src"}, {Name: "new", Verifier: "src2"}, {Name: "nologin", Verifier: "src3"}}}
	target := metastore.BranchConfigRecord{Roles: []metastore.Role{{Name: "app", Verifier: "own", SealedPassword: []byte("s")}, {Name: "nologin"}}}
	Keep(&cfg, target)
	if r := cfg.Roles; r[0].Verifier != "own" || string(r[0].SealedPassword) != "s" || r[1].Verifier != "src2" || r[2].Verifier != "src3" {
		t.Errorf("Keep: %+v", r)
	}
}
