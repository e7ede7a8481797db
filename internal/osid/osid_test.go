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
	// A reopened allocator never hands out a uid twice.
	b, err := Open(path, 100000, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Next(); err != nil || got != 100002 {
		t.Fatalf("after reopen Next = %d, %v; want 100002", got, err)
	}
	if _, err := b.Next(); err == nil {
		t.Fatal("Next past the range: no error")
	}
	if !b.Contains(100001) || b.Contains(99999) || b.Contains(100003) {
		t.Fatal("Contains disagrees with the range")
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
