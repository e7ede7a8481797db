// Package reserved names the roles and databases on a compute that belong
// to the platform or to Postgres itself: the API refuses to create them
// and the proxy refuses to log in as the platform's roles. Both read the
// one list here.
package reserved

import (
	"slices"
	"strings"

	"github.com/grovedb/grove/internal/pgrun"
)

// PlatformRoles are the platform's own superuser and helper roles, and the
// roles Neon keeps for itself.
var PlatformRoles = []string{pgrun.AdminRole, pgrun.ReplicationRole, pgrun.PoolerRole, "neon_superuser", "neon_service", "zenith_admin"}

// postgresRoles are names Postgres gives a meaning of its own in role
// positions (or its bootstrap superuser's), so a tenant role must not take them.
var postgresRoles = []string{"postgres", "public", "none", "current_user", "session_user"}

// SpareDatabase is the warm cluster's empty database that a project's
// first database is renamed from.
const SpareDatabase = "grove_spare"

// SystemRole reports whether name is in Postgres's pg_ namespace, which no
// tenant role may take.
func SystemRole(name string) bool { return strings.HasPrefix(name, "pg_") }

// Role reports whether a role name belongs to the platform or to Postgres.
func Role(name string) bool {
	return slices.Contains(PlatformRoles, name) || slices.Contains(postgresRoles, name) || SystemRole(name)
}

// Database reports whether a database name belongs to the platform or to
// Postgres.
func Database(name string) bool {
	switch name {
	case "postgres", "template0", "template1", SpareDatabase:
		return true
	}
	return false
}
