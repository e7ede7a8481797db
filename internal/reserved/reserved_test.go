package reserved

import (
	"strings"
	"testing"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/pgrun"
)

func TestReserved(t *testing.T) {
	tests := []struct {
		name           string
		role, database bool
	}{
		{pgrun.AdminRole, true, false},
		{pgrun.PoolerRole, true, false},
		{"neon_superuser", true, false},
		{"pg_monitor", true, false},
		{"public", true, false},
		{"postgres", true, true},
		{"template1", false, true},
		{SpareDatabase, false, true},
		{"app_owner", false, false},
		{"neondb", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Role(tt.name); got != tt.role {
				t.Errorf("Role(%q) = %v, want %v", tt.name, got, tt.role)
			}
			if got := Database(tt.name); got != tt.database {
				t.Errorf("Database(%q) = %v, want %v", tt.name, got, tt.database)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		check    func(field, name string) error
		arg, has string // has: "" when valid
	}{
		{"role", CheckRole, "app", ""},
		{"database", CheckDatabase, "app", ""},
		{"empty", CheckRole, "", "role.name must be 1 to 63 bytes"},
		{"long", CheckDatabase, strings.Repeat("d", 64), "role.name must be 1 to 63 bytes"},
		{"NUL", CheckName, "a\x00b", "without NUL characters"},
		{"reserved role", CheckRole, "neon_superuser", `role.name "neon_superuser" is reserved`},
		{"reserved database", CheckDatabase, "template1", `role.name "template1" is reserved`},
		{"a database may take a role's name", CheckDatabase, "public", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check("role.name", tt.arg)
			if tt.has == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if errkind.Of(err) != errkind.Invalid || !strings.Contains(err.Error(), tt.has) {
				t.Fatalf("%v, want an invalid-request error with %q", err, tt.has)
			}
		})
	}
}
