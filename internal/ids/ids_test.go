package ids

import (
	"regexp"
	"testing"
)

func TestIDShapes(t *testing.T) {
	tests := []struct {
		name string
		gen  func() string
		re   string
	}{
		{"project", NewProject, `^[a-z]+-[a-z]+-[0-9]{8}$`},
		{"branch", NewBranch, `^br-[a-z]+-[a-z]+-[a-z0-9]{8}$`},
		{"endpoint", NewEndpoint, `^ep-[a-z]+-[a-z]+-[a-z0-9]{8}$`},
		{"org", NewOrg, `^org-[a-z]+-[a-z]+-[0-9]{8}$`},
		{"snapshot", NewSnapshot, `^snap-[a-z]+-[a-z]+-[a-z0-9]{8}$`},
		{"volume", NewVolume, `^vol-[a-z0-9]{16}$`},
		{"password", NewPassword, `^npg_[A-Za-z0-9]{12}$`},
		{"api key", NewAPIKey, `^napi_[a-z0-9]{64}$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re := regexp.MustCompile(tt.re)
			seen := map[string]bool{}
			for i := 0; i < 200; i++ {
				id := tt.gen()
				if !re.MatchString(id) {
					t.Fatalf("%q does not match %s", id, tt.re)
				}
				if len(id) > 60 && tt.name != "api key" {
					t.Fatalf("%q longer than 60", id)
				}
				if seen[id] {
					t.Fatalf("duplicate %q", id)
				}
				seen[id] = true
			}
		})
	}
	if !ValidEndpoint(NewEndpoint()) || ValidEndpoint("ep-x") {
		t.Fatal("ValidEndpoint disagrees with NewEndpoint")
	}
	if !ValidProject(NewProject()) || !ValidResource(NewBranch()) || ValidResource("Br_1") {
		t.Fatal("ValidProject or ValidResource disagrees with the generators")
	}
}
