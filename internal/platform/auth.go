package platform

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
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

// Personal reports whether the caller uses a personal key.
func (pr Principal) Personal() bool { return pr.KeyKind == "personal" }

// CanDeleteProject refuses project deletion to project-scoped keys, which
// Neon gives member-level access without destructive project operations.
func (pr Principal) CanDeleteProject() error {
	if pr.ProjectID != "" {
		return newErr(KindForbidden, "project-scoped API keys cannot delete projects")
	}
	return nil
}

// resolveOrg picks the org a new project goes to. An org key creates in its
// own org, which org_id may name or leave out: another org is refused as not
// found, like any org the caller does not reach, rather than ignored. A
// project-scoped key cannot create projects; a personal key names one of the
// user's orgs, or may leave it out when the user has only one.
func resolveOrg(pr Principal, orgID string) (string, error) {
	switch {
	case pr.ProjectID != "":
		return "", newErr(KindForbidden, "project-scoped API keys cannot create projects")
	case !pr.Personal():
		if len(pr.OrgIDs) != 1 {
			return "", newErr(KindInternal, "organization API key without its organization")
		}
		if orgID != "" && orgID != pr.OrgIDs[0] {
			return "", newErr(KindNotFound, "organization %s not found: an organization API key creates projects only in its own organization", orgID)
		}
		return pr.OrgIDs[0], nil
	case orgID == "":
		if len(pr.OrgIDs) == 1 {
			return pr.OrgIDs[0], nil
		}
		return "", newErr(KindInvalid, "org_id is required, you can find it on your organization settings page")
	case !ids.ValidResource(orgID) || !pr.CanOrg(orgID):
		return "", newErr(KindNotFound, "organization not found")
	}
	return orgID, nil
}

// HashKey is how API keys are stored: SHA-256 of a 64-character random secret
// (a slow KDF would add nothing against guessing and cost every request).
func HashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Authenticate resolves a bearer key.
func (p *Platform) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if secret == "" || len(secret) > 200 {
		return Principal{}, newErr(KindUnauthorized, "authentication required")
	}
	k, err := p.store.KeyByHash(ctx, HashKey(strings.TrimSpace(secret)))
	if errors.Is(err, metastore.ErrNotFound) {
		return Principal{}, newErr(KindUnauthorized, "authentication failed: invalid API key")
	}
	if err != nil {
		return Principal{}, err
	}
	pr := Principal{KeyID: k.ID, KeyKind: k.Kind, UserID: k.CreatedBy, ProjectID: k.ProjectID}
	switch k.Kind {
	case "personal":
		if k.UserID != nil {
			pr.UserID = *k.UserID
		}
		orgs, err := p.store.UserOrgs(ctx, pr.UserID)
		if err != nil {
			return Principal{}, err
		}
		for _, o := range orgs {
			pr.OrgIDs = append(pr.OrgIDs, o.ID)
		}
	default:
		pr.OrgIDs = []string{k.OrgID}
	}
	return pr, nil
}

// UserInfo is the caller's user with the plan of the first org the caller
// reaches (an org key's own org).
type UserInfo struct {
	metastore.User
	Plan   string
	Limits Plan // the plan's limits (plans.go)
}

// Me returns the caller's user: for org and project-scoped keys, the user
// who created the key.
func (p *Platform) Me(ctx context.Context, pr Principal) (UserInfo, error) {
	u, err := p.store.GetUser(ctx, pr.UserID)
	if err != nil {
		return UserInfo{}, wrapStore("user", err)
	}
	info := UserInfo{User: u, Plan: "free"}
	if len(pr.OrgIDs) > 0 {
		o, err := p.store.GetOrg(ctx, pr.OrgIDs[0])
		if err != nil {
			return UserInfo{}, wrapStore("organization", err)
		}
		info.Plan = o.Plan
	}
	limits, err := p.plan(ctx, info.Plan)
	if err != nil {
		return UserInfo{}, err
	}
	info.Limits = limits
	return info, nil
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

// Orgs returns the orgs the caller reaches.
func (p *Platform) Orgs(ctx context.Context, pr Principal) ([]metastore.Org, error) {
	out := make([]metastore.Org, 0, len(pr.OrgIDs))
	for _, id := range pr.OrgIDs {
		o, err := p.store.GetOrg(ctx, id)
		if err != nil {
			return nil, wrapStore("organization", err)
		}
		out = append(out, o)
	}
	return out, nil
}

// BootstrapResult is what a first start made.
type BootstrapResult struct {
	Created bool
	APIKey  string // only when Created
	Orgs    []metastore.Org
}

// Bootstrap creates, on the first start only, the admin user, the orgs
// "sponsored" (plan free) and "paid" (plan paid), and a personal API key.
// persistKey saves the key before it is committed, so that a crash between
// the two never leaves a key nobody knows.
func (p *Platform) Bootstrap(ctx context.Context, persistKey func(key string) error) (BootstrapResult, error) {
	done, err := p.store.IsBootstrapped(ctx)
	if err != nil {
		return BootstrapResult{}, err
	}
	if done {
		var orgs []metastore.Org
		for _, name := range []string{"sponsored", "paid"} {
			o, err := p.store.OrgByName(ctx, name)
			if err != nil {
				return BootstrapResult{}, err
			}
			orgs = append(orgs, o)
		}
		return BootstrapResult{Orgs: orgs}, nil
	}
	t := now()
	u := metastore.User{ID: uuid.New(), Email: "admin@grove.local", Name: "admin", CreatedAt: t}
	orgs := []metastore.Org{
		{ID: ids.NewOrg(), Name: "sponsored", Handle: "sponsored", Plan: "free", CreatedAt: t},
		{ID: ids.NewOrg(), Name: "paid", Handle: "paid", Plan: "paid", CreatedAt: t.Add(time.Microsecond)},
	}
	key := ids.NewAPIKey()
	if err := persistKey(key); err != nil {
		return BootstrapResult{}, fmt.Errorf("save admin API key: %w", err)
	}
	if err := p.store.CreateBootstrap(ctx, metastore.Bootstrap{User: u, Orgs: orgs, KeyHash: HashKey(key), KeyName: "admin"}); err != nil {
		return BootstrapResult{}, err
	}
	return BootstrapResult{Created: true, APIKey: key, Orgs: orgs}, nil
}
