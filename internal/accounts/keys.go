package accounts

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
)

// MaxKeyName is the longest API key name Neon accepts.
const MaxKeyName = 64

// CreatedKey is a new API key with its secret, which exists only here: the
// store keeps its hash.
type CreatedKey struct {
	metastore.APIKey
	Secret string
}

// KeyInput is a request for a new API key. ProjectID, for org keys only,
// makes a project-scoped key.
type KeyInput struct {
	Name      string
	ProjectID string
}

// Validate checks the key's name: required, at most MaxKeyName characters.
func (in KeyInput) Validate() error {
	if strings.TrimSpace(in.Name) == "" {
		return errkind.New(errkind.Invalid, "key_name is required")
	}
	if utf8.RuneCountInString(in.Name) > MaxKeyName {
		return errkind.New(errkind.Invalid, "key_name must be at most %d characters", MaxKeyName)
	}
	return nil
}

// personalOnly refuses personal key management to org and project keys,
// which belong to no user.
func personalOnly(pr Principal) error {
	if !pr.Personal() {
		return errkind.New(errkind.Forbidden, "personal API keys can be managed only with a personal API key")
	}
	return nil
}

// CreatePersonalKey makes an API key for the caller's user.
func (a *Accounts) CreatePersonalKey(ctx context.Context, pr Principal, in KeyInput) (CreatedKey, error) {
	if err := personalOnly(pr); err != nil {
		return CreatedKey{}, err
	}
	if err := in.Validate(); err != nil {
		return CreatedKey{}, err
	}
	user := pr.UserID
	return a.createKey(ctx, metastore.APIKey{Kind: "personal", Name: in.Name, UserID: &user, CreatedBy: pr.UserID})
}

// ListPersonalKeys returns the live personal keys of the caller's user.
func (a *Accounts) ListPersonalKeys(ctx context.Context, pr Principal) ([]metastore.KeyListing, error) {
	if err := personalOnly(pr); err != nil {
		return nil, err
	}
	keys, err := a.store.ListKeys(ctx, metastore.KeyScope{UserID: pr.UserID})
	return keys, fromStore("API keys", err)
}

// RevokePersonalKey revokes one of the caller's user's personal keys (the
// caller's own key included); any other id is not found.
func (a *Accounts) RevokePersonalKey(ctx context.Context, pr Principal, id int64) (metastore.KeyListing, error) {
	if err := personalOnly(pr); err != nil {
		return metastore.KeyListing{}, err
	}
	k, err := a.store.RevokeKey(ctx, metastore.KeyScope{UserID: pr.UserID}, id)
	return k, fromStore("API key", err)
}

// orgAccess is what a caller may do with an org's keys.
type orgAccess int

const (
	orgRead   orgAccess = iota // list keys
	orgMember                  // create project-scoped keys
	orgAdmin                   // create org keys, revoke keys
)

// checkOrgKeys decides whether the caller may act on an org's API keys: an
// org it does not reach is not found; a project-scoped key manages no keys;
// an org key lists, revokes and creates project-scoped keys of its org, but,
// as at Neon, only a personal key of an org admin creates org-wide keys;
// any member creates project-scoped ones.
func (a *Accounts) checkOrgKeys(ctx context.Context, pr Principal, orgID string, need orgAccess) error {
	if !ids.ValidResource(orgID) || !pr.CanOrg(orgID) {
		return notFound("organization")
	}
	if pr.ProjectID != "" {
		return errkind.New(errkind.Forbidden, "project-scoped API keys cannot manage organization API keys")
	}
	if !pr.Personal() {
		if need == orgAdmin {
			return errkind.New(errkind.Forbidden, "organization API keys can be created only with the personal API key of an organization admin")
		}
		return nil
	}
	role, err := a.store.MemberRole(ctx, orgID, pr.UserID)
	if errors.Is(err, metastore.ErrNotFound) {
		return notFound("organization")
	}
	if err != nil {
		return err
	}
	if need == orgAdmin && role != "admin" {
		return errkind.New(errkind.Forbidden, "only organization admins can manage organization API keys")
	}
	return nil
}

// CreateOrgKey makes an org API key, or a project-scoped one when
// in.ProjectID names a project of the org; project looks that up among
// the projects the caller reaches.
func (a *Accounts) CreateOrgKey(ctx context.Context, pr Principal, orgID string, in KeyInput,
	project func(ctx context.Context, id string) (metastore.Project, error)) (CreatedKey, error) {
	need := orgAdmin
	if in.ProjectID != "" {
		need = orgMember
	}
	if err := a.checkOrgKeys(ctx, pr, orgID, need); err != nil {
		return CreatedKey{}, err
	}
	if err := in.Validate(); err != nil {
		return CreatedKey{}, err
	}
	k := metastore.APIKey{Kind: "org", Name: in.Name, OrgID: orgID, CreatedBy: pr.UserID}
	if in.ProjectID != "" {
		proj, err := project(ctx, in.ProjectID)
		if err != nil {
			return CreatedKey{}, err
		}
		if proj.OrgID != orgID {
			return CreatedKey{}, notFound("project")
		}
		k.Kind, k.ProjectID = "project", proj.ID
	}
	return a.createKey(ctx, k)
}

// ListOrgKeys returns an org's live org and project-scoped keys.
func (a *Accounts) ListOrgKeys(ctx context.Context, pr Principal, orgID string) ([]metastore.KeyListing, error) {
	if err := a.checkOrgKeys(ctx, pr, orgID, orgRead); err != nil {
		return nil, err
	}
	keys, err := a.store.ListKeys(ctx, metastore.KeyScope{OrgID: orgID})
	return keys, fromStore("API keys", err)
}

// RevokeOrgKey revokes an org or project-scoped key of an org; a key of
// another org, or a personal key, is not found.
func (a *Accounts) RevokeOrgKey(ctx context.Context, pr Principal, orgID string, id int64) (metastore.KeyListing, error) {
	need := orgAdmin
	if !pr.Personal() {
		need = orgMember // an org key revokes its org's keys
	}
	if err := a.checkOrgKeys(ctx, pr, orgID, need); err != nil {
		return metastore.KeyListing{}, err
	}
	k, err := a.store.RevokeKey(ctx, metastore.KeyScope{OrgID: orgID}, id)
	return k, fromStore("API key", err)
}

func (a *Accounts) createKey(ctx context.Context, k metastore.APIKey) (CreatedKey, error) {
	secret := ids.NewAPIKey()
	k.CreatedAt = now()
	k, err := a.store.CreateKey(ctx, k, HashKey(secret))
	if err != nil {
		return CreatedKey{}, fromStore("API key", err)
	}
	return CreatedKey{APIKey: k, Secret: secret}, nil
}
