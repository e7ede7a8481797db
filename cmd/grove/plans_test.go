package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadPlans(t *testing.T) {
	tests := []struct {
		name, body, err string
		projects        int
	}{
		{"one limit", `{"free":{"projects_per_org":3}}`, "", 3},
		{"unknown field", `{"free":{"projects":3}}`, "unknown field", 0},
		{"not an object", `[1]`, "cannot unmarshal", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "plans.json")
			if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			plans, err := readPlans(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p := plans["free"].ProjectsPerOrg; p == nil || *p != tc.projects {
				t.Errorf("projects_per_org %v, want %d", p, tc.projects)
			}
		})
	}
}
