package platform

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
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

func (in KeyInput) validate() error {
	if strings.TrimSpace(in.Name) == "" {
		return newErr(KindInvalid, "key_name is required")
	}
	if utf8.RuneCountInString(in.Name) > MaxKeyName {
		return newErr(KindInvalid, "key_name must be at most %d characters", MaxKeyName)
	}
	return nil
}

// personalOnly refuses personal key management to org and project keys,
// which belong to no user.
func personalOnly(pr Principal) error {
	if !pr.Personal() {
		return newErr(KindForbidden, "personal API keys can be managed only with a personal API key")
	}
	return nil
}

// CreatePersonalKey makes an API key for the caller's user.
func (p *Platform) CreatePersonalKey(ctx context.Context, pr Principal, in KeyInput) (CreatedKey, error) {
	if err := personalOnly(pr); err != nil {
		return CreatedKey{}, err
	}
	if err := in.validate(); err != nil {
		return CreatedKey{}, err
	}
	user := pr.UserID
	return p.createKey(ctx, metastore.APIKey{Kind: "personal", Name: in.Name, UserID: &user, CreatedBy: pr.UserID})
}

// ListPersonalKeys returns the live personal keys of the caller's user.
func (p *Platform) ListPersonalKeys(ctx context.Context, pr Principal) ([]metastore.KeyListing, error) {
	if err := personalOnly(pr); err != nil {
		return nil, err
	}
	keys, err := p.store.ListKeys(ctx, metastore.KeyScope{UserID: pr.UserID})
	return keys, wrapStore("API keys", err)
}

// RevokePersonalKey revokes one of the caller's user's personal keys (the
// caller's own key included); any other id is not found.
func (p *Platform) RevokePersonalKey(ctx context.Context, pr Principal, id int64) (metastore.KeyListing, error) {
	if err := personalOnly(pr); err != nil {
		return metastore.KeyListing{}, err
	}
	k, err := p.store.RevokeKey(ctx, metastore.KeyScope{UserID: pr.UserID}, id)
	return k, wrapStore("API key", err)
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
func (p *Platform) checkOrgKeys(ctx context.Context, pr Principal, orgID string, need orgAccess) error {
	if !ids.ValidResource(orgID) || !pr.CanOrg(orgID) {
		return notFound("organization")
	}
	if pr.ProjectID != "" {
		return newErr(KindForbidden, "project-scoped API keys cannot manage organization API keys")
	}
	if !pr.Personal() {
		if need == orgAdmin {
			return newErr(KindForbidden, "organization API keys can be created only with the personal API key of an organization admin")
		}
		return nil
	}
	role, err := p.store.MemberRole(ctx, orgID, pr.UserID)
	if errors.Is(err, metastore.ErrNotFound) {
		return notFound("organization")
	}
	if err != nil {
		return err
	}
	if need == orgAdmin && role != "admin" {
		return newErr(KindForbidden, "only organization admins can manage organization API keys")
	}
	return nil
}

// CreateOrgKey makes an org API key, or a project-scoped one when
// in.ProjectID names a project of the org.
func (p *Platform) CreateOrgKey(ctx context.Context, pr Principal, orgID string, in KeyInput) (CreatedKey, error) {
	need := orgAdmin
	if in.ProjectID != "" {
		need = orgMember
	}
	if err := p.checkOrgKeys(ctx, pr, orgID, need); err != nil {
		return CreatedKey{}, err
	}
	if err := in.validate(); err != nil {
		return CreatedKey{}, err
	}
	k := metastore.APIKey{Kind: "org", Name: in.Name, OrgID: orgID, CreatedBy: pr.UserID}
	if in.ProjectID != "" {
		proj, err := p.GetProject(ctx, pr, in.ProjectID)
		if err != nil {
			return CreatedKey{}, err
		}
		if proj.OrgID != orgID {
			return CreatedKey{}, notFound("project")
		}
		k.Kind, k.ProjectID = "project", proj.ID
	}
	return p.createKey(ctx, k)
}

// ListOrgKeys returns an org's live org and project-scoped keys.
func (p *Platform) ListOrgKeys(ctx context.Context, pr Principal, orgID string) ([]metastore.KeyListing, error) {
	if err := p.checkOrgKeys(ctx, pr, orgID, orgRead); err != nil {
		return nil, err
	}
	keys, err := p.store.ListKeys(ctx, metastore.KeyScope{OrgID: orgID})
	return keys, wrapStore("API keys", err)
}

// RevokeOrgKey revokes an org or project-scoped key of an org; a key of
// another org, or a personal key, is not found.
func (p *Platform) RevokeOrgKey(ctx context.Context, pr Principal, orgID string, id int64) (metastore.KeyListing, error) {
	need := orgAdmin
	if !pr.Personal() {
		need = orgMember // an org key revokes its org's keys
	}
	if err := p.checkOrgKeys(ctx, pr, orgID, need); err != nil {
		return metastore.KeyListing{}, err
	}
	k, err := p.store.RevokeKey(ctx, metastore.KeyScope{OrgID: orgID}, id)
	return k, wrapStore("API key", err)
}

func (p *Platform) createKey(ctx context.Context, k metastore.APIKey) (CreatedKey, error) {
	secret := ids.NewAPIKey()
	k.CreatedAt = now()
	k, err := p.store.CreateKey(ctx, k, HashKey(secret))
	if err != nil {
		return CreatedKey{}, wrapStore("API key", err)
	}
	return CreatedKey{APIKey: k, Secret: secret}, nil
}

// GetOrg returns an org the caller reaches.
func (p *Platform) GetOrg(ctx context.Context, pr Principal, orgID string) (metastore.Org, error) {
	if !ids.ValidResource(orgID) || !pr.CanOrg(orgID) {
		return metastore.Org{}, notFound("organization")
	}
	o, err := p.store.GetOrg(ctx, orgID)
	return o, wrapStore("organization", err)
}

// MembersInput selects a page of an org's members. SortBy is email, role or
// joined_at (the default); SortOrder asc or desc (the default); Cursor is
// the Next of the previous page.
type MembersInput struct {
	SortBy, SortOrder, Cursor string
	Limit                     int
}

// MembersPage is a page of members; Next is empty on the last page.
type MembersPage struct {
	Members           []metastore.MemberWithUser
	Next              string
	SortBy, SortOrder string
}

type memberCursor struct {
	MemberID  string `json:"member_id"`
	SortBy    string `json:"sort_by"`
	SortOrder string `json:"sort_order"`
}

// OrgMembers returns a page of an org's members. Orgs have few members, so
// the page is cut from the sorted list after the cursor's member.
func (p *Platform) OrgMembers(ctx context.Context, pr Principal, orgID string, in MembersInput) (MembersPage, error) {
	if _, err := p.GetOrg(ctx, pr, orgID); err != nil {
		return MembersPage{}, err
	}
	in.SortBy = cmp.Or(in.SortBy, "joined_at")
	in.SortOrder = strings.ToLower(cmp.Or(in.SortOrder, "desc"))
	if in.Limit == 0 {
		in.Limit = 100
	}
	switch {
	case in.SortBy != "email" && in.SortBy != "role" && in.SortBy != "joined_at":
		return MembersPage{}, newErr(KindInvalid, "sort_by must be one of email, role, joined_at")
	case in.SortOrder != "asc" && in.SortOrder != "desc":
		return MembersPage{}, newErr(KindInvalid, "sort_order must be asc or desc")
	case in.Limit < 1 || in.Limit > 500:
		return MembersPage{}, newErr(KindInvalid, "limit must be between 1 and 500")
	}
	all, err := p.store.OrgMembers(ctx, orgID)
	if err != nil {
		return MembersPage{}, wrapStore("organization members", err)
	}
	slices.SortStableFunc(all, func(a, b metastore.MemberWithUser) int {
		var c int
		switch in.SortBy {
		case "email":
			c = strings.Compare(a.Email, b.Email)
		case "role":
			c = strings.Compare(a.Role, b.Role)
		default:
			c = a.JoinedAt.Compare(b.JoinedAt)
		}
		c = cmp.Or(c, strings.Compare(a.ID.String(), b.ID.String()))
		if in.SortOrder == "desc" {
			c = -c
		}
		return c
	})
	start := 0
	if in.Cursor != "" {
		var cur memberCursor
		raw, err := base64.URLEncoding.DecodeString(in.Cursor)
		if err == nil {
			err = json.Unmarshal(raw, &cur)
		}
		if err != nil || cur.SortBy != in.SortBy || cur.SortOrder != in.SortOrder {
			return MembersPage{}, newErr(KindInvalid, "cursor is not valid for this sort")
		}
		i := slices.IndexFunc(all, func(m metastore.MemberWithUser) bool { return m.ID.String() == cur.MemberID })
		if i < 0 {
			return MembersPage{}, newErr(KindInvalid, "cursor is not valid: its member is gone")
		}
		start = i + 1
	}
	page := MembersPage{SortBy: in.SortBy, SortOrder: in.SortOrder, Members: all[start:]}
	if len(page.Members) > in.Limit {
		page.Members = page.Members[:in.Limit]
		last := page.Members[len(page.Members)-1]
		raw, _ := json.Marshal(memberCursor{MemberID: last.ID.String(), SortBy: in.SortBy, SortOrder: in.SortOrder})
		page.Next = base64.URLEncoding.EncodeToString(raw)
	}
	return page, nil
}

// OrgMember returns one member of an org the caller reaches.
func (p *Platform) OrgMember(ctx context.Context, pr Principal, orgID, memberID string) (metastore.MemberWithUser, error) {
	if _, err := p.GetOrg(ctx, pr, orgID); err != nil {
		return metastore.MemberWithUser{}, err
	}
	id, err := uuid.Parse(memberID)
	if err != nil {
		return metastore.MemberWithUser{}, notFound("member")
	}
	all, err := p.store.OrgMembers(ctx, orgID)
	if err != nil {
		return metastore.MemberWithUser{}, wrapStore("organization members", err)
	}
	for _, m := range all {
		if m.ID == id {
			return m, nil
		}
	}
	return metastore.MemberWithUser{}, notFound("member")
}
