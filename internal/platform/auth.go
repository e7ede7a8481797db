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

// CanProject reports whether the caller reaches a project of an org.
func (pr Principal) CanProject(p metastore.Project) bool {
	if pr.ProjectID != "" {
		return p.ID == pr.ProjectID
	}
	return pr.CanOrg(p.OrgID)
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

// Me returns the caller's user.
func (p *Platform) Me(ctx context.Context, pr Principal) (metastore.User, error) {
	u, err := p.store.GetUser(ctx, pr.UserID)
	return u, wrapStore("user", err)
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
		{ID: NewOrgID(), Name: "sponsored", Handle: "sponsored", Plan: "free", CreatedAt: t},
		{ID: NewOrgID(), Name: "paid", Handle: "paid", Plan: "paid", CreatedAt: t.Add(time.Microsecond)},
	}
	key := NewAPIKey()
	if err := persistKey(key); err != nil {
		return BootstrapResult{}, fmt.Errorf("save admin API key: %w", err)
	}
	if err := p.store.CreateBootstrap(ctx, metastore.Bootstrap{User: u, Orgs: orgs, KeyHash: HashKey(key), KeyName: "admin"}); err != nil {
		return BootstrapResult{}, err
	}
	return BootstrapResult{Created: true, APIKey: key, Orgs: orgs}, nil
}
