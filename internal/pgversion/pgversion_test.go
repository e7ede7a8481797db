package pgversion

import (
	"testing"
)

func TestFindInstalled(t *testing.T) {
	installs, err := Find(t.Context())
	if err != nil {
		t.Skipf("no PostgreSQL installed (run scripts/setup.sh): %v", err)
	}
	seen := map[int]bool{}
	for _, in := range installs {
		if seen[in.Major] {
			t.Errorf("major %d listed twice", in.Major)
		}
		seen[in.Major] = true
		if in.Major < 10 || in.BinDir == "" || in.Version == "" {
			t.Errorf("implausible install %+v", in)
		}
	}
}

func TestProbeRejectsEmptyDir(t *testing.T) {
	if _, err := Probe(t.Context(), t.TempDir()); err == nil {
		t.Fatal("Probe of an empty folder succeeded")
	}
}
