package sealer

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSealer: a sealed secret opens again under the same key, also after
// the key file is read back, and not when it was tampered with.
func TestSealer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	s, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	sealed := s.Seal("npg_secret")
	again, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		sealed []byte
		want   string
		ok     bool
	}{
		{"as sealed", sealed, "npg_secret", true},
		{"tampered", append(append([]byte{}, sealed[:len(sealed)-1]...), sealed[len(sealed)-1]^1), "", false},
		{"too short", sealed[:4], "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := again.Open(tt.sealed)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("Open = %q, %v", got, err)
			}
		})
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(path); err == nil {
		t.Error("a key of the wrong length was accepted")
	}
}
