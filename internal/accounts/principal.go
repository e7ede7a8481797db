// Package accounts holds who calls the API and what they reach: API keys
// (hashed at rest) resolved to principals, the personal, org and
// project-scoped keys' rules, orgs and their members, and the first
// start's admin user, orgs and key. It reads and writes the metadata
// store's users, orgs and keys, and nothing of projects' data: the
// platform asks it whether a principal reaches an org or a project.
// Errors are *errkind.Error with the messages the API returns.
package accounts

import (
	"crypto/sha256"
	"slices"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
)

// Principal is the caller of an API request, resolved from its key.
type Principal struct {
	KeyID     int64
	KeyKind   string // personal | org | project
	UserID    uuid.UUID
	OrgIDs    []string // orgs the key reaches
	ProjectID string   // set for project-scoped keys
}

// CanOrg reports whether the caller reaches an org.
func (pr Principal) CanOrg(orgID string) bool { return slices.Contains(pr.OrgIDs, orgID) }

// CanProject reports whether the caller reaches a project: a project-scoped
// key only its project while that stays in the key's org, other keys every
// project of the orgs they reach.
func (pr Principal) CanProject(p metastore.Project) bool {
	if pr.ProjectID != "" && p.ID != pr.ProjectID {
		return false
	}
	return pr.CanOrg(p.OrgID)
}

// Orgs returns the orgs a request reaches: the one it names (orgID), which
// the caller must reach, or every org the caller reaches.
func (pr Principal) Orgs(orgID string) ([]string, error) {
	if orgID == "" {
		return pr.OrgIDs, nil
	}
	if !ids.ValidResource(orgID) || !pr.CanOrg(orgID) {
		return nil, errkind.New(errkind.NotFound, "organization %s not found", orgID)
	}
	return []string{orgID}, nil
}

// Personal reports whether the caller uses a personal key.
func (pr Principal) Personal() bool { return pr.KeyKind == "personal" }

// CanDeleteProject refuses project deletion to project-scoped keys, which
// Neon gives member-level access without destructive project operations.
func (pr Principal) CanDeleteProject() error {
	if pr.ProjectID != "" {
		return errkind.New(errkind.Forbidden, "project-scoped API keys cannot delete projects")
	}
	return nil
}

// AuthDetails is what GET /auth reports: the account the key acts for (the
// user for personal keys, the org otherwise) and Neon's auth_method.
func (pr Principal) AuthDetails() (accountID, method string) {
	if pr.Personal() {
		return pr.UserID.String(), "api_key_user"
	}
	if len(pr.OrgIDs) > 0 {
		return pr.OrgIDs[0], "api_key_org"
	}
	return "", "api_key_org"
}

// ResolveOrg picks the org a new project goes to. An org key creates in its
// own org, which org_id may name or leave out: another org is refused as not
// found, like any org the caller does not reach, rather than ignored. A
// project-scoped key cannot create projects; a personal key names one of the
// user's orgs, or may leave it out when the user has only one.
func ResolveOrg(pr Principal, orgID string) (string, error) {
	switch {
	case pr.ProjectID != "":
		return "", errkind.New(errkind.Forbidden, "project-scoped API keys cannot create projects")
	case !pr.Personal():
		if len(pr.OrgIDs) != 1 {
			return "", errkind.New(errkind.Internal, "organization API key without its organization")
		}
		if orgID != "" && orgID != pr.OrgIDs[0] {
			return "", errkind.New(errkind.NotFound, "organization %s not found: an organization API key creates projects only in its own organization", orgID)
		}
		return pr.OrgIDs[0], nil
	case orgID == "":
		if len(pr.OrgIDs) == 1 {
			return pr.OrgIDs[0], nil
		}
		return "", errkind.New(errkind.Invalid, "org_id is required, you can find it on your organization settings page")
	case !ids.ValidResource(orgID) || !pr.CanOrg(orgID):
		return "", errkind.New(errkind.NotFound, "organization not found")
	}
	return orgID, nil
}

// HashKey is how API keys are stored: SHA-256 of a 64-character random secret
// (a slow KDF would add nothing against guessing and cost every request).
func HashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
