package accounts

import (
	"testing"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
)

// TestResolveOrg: the org a project create goes to, for each key kind.
func TestResolveOrg(t *testing.T) {
	const a, b = "org-a-a-11111111", "org-b-b-22222222"
	personal2 := Principal{KeyKind: "personal", OrgIDs: []string{a, b}}
	personal1 := Principal{KeyKind: "personal", OrgIDs: []string{a}}
	org := Principal{KeyKind: "org", OrgIDs: []string{a}}
	project := Principal{KeyKind: "project", OrgIDs: []string{a}, ProjectID: "p-p-12345678"}
	tests := []struct {
		name  string
		pr    Principal
		orgID string
		want  string
		kind  errkind.Kind
	}{
		{"personal names its org", personal2, b, b, 0},
		{"personal of two orgs without org_id", personal2, "", "", errkind.Invalid},
		{"personal of one org without org_id", personal1, "", a, 0},
		{"personal names another org", personal1, b, "", errkind.NotFound},
		{"personal names a malformed org", personal2, "Org!", "", errkind.NotFound},
		{"org key infers its org", org, "", a, 0},
		{"org key names its org", org, a, a, 0},
		{"org key names another org", org, b, "", errkind.NotFound},
		{"project key", project, "", "", errkind.Forbidden},
		{"project key naming its org", project, a, "", errkind.Forbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveOrg(tc.pr, tc.orgID)
			if tc.kind != 0 {
				if err == nil || errkind.Of(err) != tc.kind {
					t.Fatalf("ResolveOrg = %q, %v; want error of kind %d", got, err, tc.kind)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ResolveOrg = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestCanProject: which projects each key kind reaches.
func TestCanProject(t *testing.T) {
	const a, b = "org-a-a-11111111", "org-b-b-22222222"
	mine := metastore.Project{ID: "mine-p-12345678", OrgID: a}
	sibling := metastore.Project{ID: "sib-p-12345678", OrgID: a}
	moved := metastore.Project{ID: "mine-p-12345678", OrgID: b} // the scoped project, now in another org
	other := metastore.Project{ID: "other-p-12345678", OrgID: b}
	tests := []struct {
		name string
		pr   Principal
		want map[string]bool // by project id + org
	}{
		{"personal", Principal{KeyKind: "personal", UserID: uuid.New(), OrgIDs: []string{a, b}},
			map[string]bool{"mine": true, "sibling": true, "moved": true, "other": true}},
		{"org", Principal{KeyKind: "org", OrgIDs: []string{a}},
			map[string]bool{"mine": true, "sibling": true, "moved": false, "other": false}},
		{"project", Principal{KeyKind: "project", OrgIDs: []string{a}, ProjectID: mine.ID},
			map[string]bool{"mine": true, "sibling": false, "moved": false, "other": false}},
	}
	projects := map[string]metastore.Project{"mine": mine, "sibling": sibling, "moved": moved, "other": other}
	for _, tc := range tests {
		for name, p := range projects {
			if got := tc.pr.CanProject(p); got != tc.want[name] {
				t.Errorf("%s key, project %s: CanProject = %v, want %v", tc.name, name, got, tc.want[name])
			}
		}
	}
}

// TestKeyInput: names are required and at most 64 characters.
func TestKeyInput(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"ci", true},
		{"", false},
		{"   ", false},
		{string(make([]byte, 64)), true},
		{"é" + string(make([]byte, 63)), true},
		{string(make([]byte, 65)), false},
	}
	for _, tc := range tests {
		if err := (KeyInput{Name: tc.name}).Validate(); (err == nil) != tc.ok {
			t.Errorf("name of %d bytes: %v, want ok=%v", len(tc.name), err, tc.ok)
		}
	}
}

// TestPrincipalOrgs: a request names one of the caller's orgs, or reaches them all.
func TestPrincipalOrgs(t *testing.T) {
	const a, b = "org-a-a-11111111", "org-b-b-22222222"
	pr := Principal{KeyKind: "personal", OrgIDs: []string{a, b}}
	if got, err := pr.Orgs(""); err != nil || len(got) != 2 {
		t.Errorf("Orgs(\"\") = %v, %v", got, err)
	}
	if got, err := pr.Orgs(b); err != nil || len(got) != 1 || got[0] != b {
		t.Errorf("Orgs(b) = %v, %v", got, err)
	}
	for _, id := range []string{"org-c-c-33333333", "Org!"} {
		if _, err := pr.Orgs(id); errkind.Of(err) != errkind.NotFound {
			t.Errorf("Orgs(%q) = %v, want not found", id, err)
		}
	}
}
