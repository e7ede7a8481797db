package reserved

import (
	"testing"

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
