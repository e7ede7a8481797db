package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
)

// Accounts resolves and manages API keys, orgs and their members in the
// metadata store.
type Accounts struct {
	store *metastore.Store

	mu    sync.Mutex
	admin string // the admin user's id, once known
}

// New returns Accounts over a metadata store.
func New(store *metastore.Store) *Accounts { return &Accounts{store: store} }

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func notFound(what string) error { return errkind.New(errkind.NotFound, "%s not found", what) }

// fromStore gives the store's not-found and conflict errors the API's kinds.
func fromStore(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, metastore.ErrNotFound):
		return &errkind.Error{Kind: errkind.NotFound, Msg: what + " not found", Err: err}
	case errors.Is(err, metastore.ErrConflict):
		return &errkind.Error{Kind: errkind.Conflict, Msg: what + " already exists", Err: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Authenticate resolves a bearer key.
func (a *Accounts) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if secret == "" || len(secret) > 200 {
		return Principal{}, errkind.New(errkind.Unauthorized, "authentication required")
	}
	k, err := a.store.KeyByHash(ctx, HashKey(strings.TrimSpace(secret)))
	if errors.Is(err, metastore.ErrNotFound) {
		return Principal{}, errkind.New(errkind.Unauthorized, "authentication failed: invalid API key")
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
		orgs, err := a.store.UserOrgs(ctx, pr.UserID)
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

// User returns the caller's user (for org and project-scoped keys, the
// user who created the key) and the plan of the first org the caller
// reaches (an org key's own org; "free" when none).
func (a *Accounts) User(ctx context.Context, pr Principal) (metastore.User, string, error) {
	u, err := a.store.GetUser(ctx, pr.UserID)
	if err != nil {
		return metastore.User{}, "", fromStore("user", err)
	}
	plan := "free"
	if len(pr.OrgIDs) > 0 {
		o, err := a.store.GetOrg(ctx, pr.OrgIDs[0])
		if err != nil {
			return metastore.User{}, "", fromStore("organization", err)
		}
		plan = o.Plan
	}
	return u, plan, nil
}

// IsAdmin reports whether the caller uses a personal key of the admin (the
// user made at the first start).
func (a *Accounts) IsAdmin(ctx context.Context, pr Principal) (bool, error) {
	if !pr.Personal() {
		return false, nil
	}
	a.mu.Lock()
	admin := a.admin
	a.mu.Unlock()
	if admin == "" {
		id, err := a.store.FirstUser(ctx)
		if err != nil {
			return false, err
		}
		admin = id.String()
		a.mu.Lock()
		a.admin = admin
		a.mu.Unlock()
	}
	return pr.UserID.String() == admin, nil
}

// Orgs returns the orgs the caller reaches.
func (a *Accounts) Orgs(ctx context.Context, pr Principal) ([]metastore.Org, error) {
	out := make([]metastore.Org, 0, len(pr.OrgIDs))
	for _, id := range pr.OrgIDs {
		o, err := a.store.GetOrg(ctx, id)
		if err != nil {
			return nil, fromStore("organization", err)
		}
		out = append(out, o)
	}
	return out, nil
}

// GetOrg returns an org the caller reaches.
func (a *Accounts) GetOrg(ctx context.Context, pr Principal, orgID string) (metastore.Org, error) {
	if !ids.ValidResource(orgID) || !pr.CanOrg(orgID) {
		return metastore.Org{}, notFound("organization")
	}
	o, err := a.store.GetOrg(ctx, orgID)
	return o, fromStore("organization", err)
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
func (a *Accounts) Bootstrap(ctx context.Context, persistKey func(key string) error) (BootstrapResult, error) {
	done, err := a.store.IsBootstrapped(ctx)
	if err != nil {
		return BootstrapResult{}, err
	}
	if done {
		var orgs []metastore.Org
		for _, name := range []string{"sponsored", "paid"} {
			o, err := a.store.OrgByName(ctx, name)
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
	if err := a.store.CreateBootstrap(ctx, metastore.Bootstrap{User: u, Orgs: orgs, KeyHash: HashKey(key), KeyName: "admin"}); err != nil {
		return BootstrapResult{}, err
	}
	return BootstrapResult{Created: true, APIKey: key, Orgs: orgs}, nil
}
