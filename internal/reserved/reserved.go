// Package reserved names the roles and databases on a compute that belong
// to the platform or to Postgres itself: the API refuses to create them
// and the proxy refuses to log in as the platform's roles. Both read the
// one list here. It also checks the role and database names requests ask
// for (CheckRole, CheckDatabase), with *errkind.Error the API returns.
package reserved

import (
	"slices"
	"strings"

	"github.com/grovedb/grove/internal/errkind"
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

// CheckName checks the shape of a requested role or database name: 1 to
// 63 bytes without NUL, as Postgres keeps it; field names it in errors.
func CheckName(field, v string) error {
	if v == "" || len(v) > 63 || strings.ContainsRune(v, 0) {
		return errkind.New(errkind.Invalid, "%s must be 1 to 63 bytes without NUL characters", field)
	}
	return nil
}

// CheckRole checks a requested role name: its shape, and that it is not
// reserved.
func CheckRole(field, name string) error { return check(field, name, Role) }

// CheckDatabase checks a requested database name: its shape, and that it
// is not reserved.
func CheckDatabase(field, name string) error { return check(field, name, Database) }

func check(field, name string, reserved func(string) bool) error {
	if err := CheckName(field, name); err != nil {
		return err
	}
	if reserved(name) {
		return errkind.New(errkind.Invalid, "%s %q is reserved", field, name)
	}
	return nil
}
