package osid

import (
	"os"
	"path/filepath"
	"testing"
)

func TestNextPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uids")
	a, err := Open(path, 100000, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []uint32{100000, 100001} {
		got, err := a.Next()
		if err != nil || got != want {
			t.Fatalf("Next = %d, %v; want %d", got, err, want)
		}
	}
	if got, err := a.Next(); err != nil || got != 100002 {
		t.Fatalf("Next = %d, %v; want 100002", got, err)
	}
	if _, err := a.Next(); err == nil {
		t.Fatal("Next past the range: no error")
	}
	if !a.Contains(100001) || a.Contains(99999) || a.Contains(100003) {
		t.Fatal("Contains disagrees with the range")
	}
}

func TestReopenSkipsReserved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uids")
	a, err := Open(path, 100000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.Next()
	if err != nil {
		t.Fatal(err)
	}
	// A restart (or a crash) never hands out a uid twice: it starts past
	// the block the first run reserved.
	b, err := Open(path, 100000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Next()
	if err != nil || got <= first || got != first+block {
		t.Fatalf("after reopen Next = %d, %v; want %d", got, err, first+block)
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("12\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		path         string
		first, count uint32
	}{
		{"empty range", filepath.Join(dir, "a"), 100000, 0},
		{"system uids", filepath.Join(dir, "b"), 1000, 10},
		{"past 32 bits", filepath.Join(dir, "c"), 1<<32 - 5, 10},
		{"next outside the range", bad, 100000, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Open(tc.path, tc.first, tc.count); err == nil {
				t.Fatal("no error")
			}
		})
	}
}
