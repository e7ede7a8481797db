// Package branchspec checks branch requests before any store is read: a
// list's sort, cursor and limit and the cut of its page, an update's name,
// protection and expiry, a create's name, parent point, expiry and init
// source, and what a restore needs of its branches. The
// checks that need the store (children, plan limits) are the platform's.
// Errors are *errkind.Error with the messages the API returns.
package branchspec

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/grovedb/grove/internal/endpointspec"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
)

// MaxName is the longest branch name (in bytes) Neon accepts.
const MaxName = 256

// MaxExpiry is how far ahead expires_at may be, as Neon's 30 days.
const MaxExpiry = 30 * 24 * time.Hour

// MaxPage is the largest page of a branch list.
const MaxPage = 10000

func invalid(format string, args ...any) error { return errkind.New(errkind.Invalid, format, args...) }

// ListInput selects a page of a project's branches, as Neon's
// GET /projects/{id}/branches: sort_by name, created_at or updated_at
// (default updated_at), sort_order asc or desc (default desc), an opaque
// cursor from the previous page and a limit of 1 to MaxPage.
type ListInput struct {
	Search, SortBy, SortOrder, Cursor string
	Limit                             int // 0: not given
}

// cursor is the opaque cursor, in the shape Neon's has.
type cursor struct {
	BranchID    string `json:"branch_id"`
	SortBy      string `json:"sort_by"`
	SortByValue string `json:"sort_by_value"`
	SortOrder   string `json:"sort_order"`
}

// ListFilter checks a list request and returns the store's filter for its
// page (ProjectID still to be set): one branch more than the page, so that
// Page knows whether another follows. A cursor carries its sort, which the
// request may leave out but not change.
func ListFilter(in ListInput) (metastore.BranchFilter, error) {
	var cur cursor
	if in.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(in.Cursor, "="))
		if err != nil || json.Unmarshal(raw, &cur) != nil || cur.BranchID == "" {
			return metastore.BranchFilter{}, invalid("cursor is not a cursor returned by this list")
		}
	}
	sortBy := in.SortBy
	if sortBy == "" {
		sortBy = cur.SortBy
	}
	if sortBy == "" {
		sortBy = "updated_at"
	}
	switch sortBy {
	case "name", "created_at", "updated_at":
	default:
		return metastore.BranchFilter{}, invalid("sort_by must be one of name, created_at, updated_at")
	}
	order := strings.ToLower(in.SortOrder)
	if order == "" {
		order = strings.ToLower(cur.SortOrder)
	}
	if order == "" {
		order = "desc"
	}
	if order != "asc" && order != "desc" {
		return metastore.BranchFilter{}, invalid("sort_order must be asc or desc")
	}
	if in.Cursor != "" && (cur.SortBy != sortBy || strings.ToLower(cur.SortOrder) != order) {
		return metastore.BranchFilter{}, invalid("cursor was made for sort_by %s and sort_order %s", cur.SortBy, cur.SortOrder)
	}
	limit := in.Limit
	if limit == 0 {
		limit = MaxPage
	}
	if limit < 1 || limit > MaxPage {
		return metastore.BranchFilter{}, invalid("limit must be between 1 and %d", MaxPage)
	}
	return metastore.BranchFilter{Search: in.Search, SortBy: sortBy, Desc: order == "desc",
		AfterValue: cur.SortByValue, AfterID: cur.BranchID, Limit: limit + 1}, nil
}

// SortOrder is the filter's order as the API names it.
func SortOrder(f metastore.BranchFilter) string {
	if f.Desc {
		return "desc"
	}
	return "asc"
}

// Page cuts what the store returned for f to the page and returns the
// cursor of the next page ("" on the last page).
func Page(f metastore.BranchFilter, branches []metastore.Branch) ([]metastore.Branch, string) {
	limit := f.Limit - 1
	if len(branches) <= limit {
		return branches, ""
	}
	page := branches[:limit]
	last := page[limit-1]
	c := cursor{BranchID: last.ID, SortBy: f.SortBy, SortOrder: SortOrder(f), SortByValue: last.Name}
	switch f.SortBy {
	case "created_at":
		c.SortByValue = last.CreatedAt.UTC().Format(time.RFC3339Nano)
	case "updated_at":
		c.SortByValue = last.UpdatedAt.UTC().Format(time.RFC3339Nano)
	}
	raw, _ := json.Marshal(c)
	return page, base64.RawURLEncoding.EncodeToString(raw)
}

// CheckExpiry applies Neon's expires_at rules to a time at now.
func CheckExpiry(t, now time.Time) error {
	if !t.After(now) {
		return invalid("expires_at must be in the future")
	}
	if t.Sub(now) > MaxExpiry {
		return invalid("expires_at must be at most 30 days in the future")
	}
	return nil
}

// Expire sets b to expire at t, set at now: to the second, with the TTL
// a reset renews.
func Expire(b *metastore.Branch, t, now time.Time) {
	e := t.UTC().Truncate(time.Second)
	ttl := int64(e.Sub(now) / time.Second)
	b.ExpiresAt, b.TTLIntervalSeconds = &e, &ttl
}

// Create is a branch create request; zero values mean "not given".
type Create struct {
	ParentID, Name  string
	ParentLSN       string
	ParentTimestamp *time.Time
	Protected       *bool
	InitSource      string
	ExpiresAt       *time.Time
	Endpoints       []endpointspec.Input
}

// CheckCreate checks a create of a child of parent at now and returns it
// with its init source filled: the init source, the name, the parent
// point's fields, the parent (which must not expire) and the expiry.
func CheckCreate(in Create, parent metastore.Branch, now time.Time) (Create, error) {
	var err error
	if in.InitSource, err = InitSource(in.InitSource); err != nil {
		return in, err
	}
	if len(in.Name) > MaxName {
		return in, invalid("branch.name must be at most %d characters", MaxName)
	}
	if in.ParentLSN != "" && in.ParentTimestamp != nil {
		return in, invalid("branch.parent_lsn and branch.parent_timestamp are mutually exclusive")
	}
	if parent.ExpiresAt != nil {
		return in, invalid("cannot create a child of branch %s: it has an expiration time", parent.ID)
	}
	if in.ExpiresAt != nil {
		if in.Protected != nil && *in.Protected {
			return in, invalid("expires_at cannot be set on a protected branch")
		}
		if err := CheckExpiry(*in.ExpiresAt, now); err != nil {
			return in, err
		}
	}
	return in, nil
}

// InitSource checks a create's init_source: parent-data (the default) or
// schema-only.
func InitSource(s string) (string, error) {
	switch s {
	case "":
		return "parent-data", nil
	case "parent-data", "schema-only":
		return s, nil
	}
	return "", invalid("branch.init_source %q is not supported; use parent-data or schema-only", s)
}

// Update is a branch PATCH; nil fields stay as they are.
type Update struct {
	Name      *string
	Protected *bool
	// ExpiresAt is set when expires_at was given: null (clear) or a time.
	ExpiresAt *json.RawMessage
}

// Apply returns b with an update applied at now, checked. protect reports
// a branch newly protected, whose plan's limit the caller checks, and
// expires one newly given an expiry, which a branch with children cannot
// have: the caller checks that too.
func Apply(b metastore.Branch, in Update, now time.Time) (out metastore.Branch, protect, expires bool, err error) {
	if in.Name != nil {
		if *in.Name == "" || len(*in.Name) > MaxName {
			return b, false, false, invalid("branch.name must be 1 to %d characters", MaxName)
		}
		b.Name = *in.Name
	}
	protect = in.Protected != nil && *in.Protected && !b.Protected
	if in.Protected != nil {
		if protect && b.ExpiresAt != nil && (in.ExpiresAt == nil || string(*in.ExpiresAt) != "null") {
			return b, false, false, invalid("cannot protect branch %s: it has an expiration time", b.ID)
		}
		b.Protected = *in.Protected
	}
	if in.ExpiresAt == nil {
		return b, protect, false, nil
	}
	if string(*in.ExpiresAt) == "null" {
		b.ExpiresAt, b.TTLIntervalSeconds = nil, nil
		return b, protect, false, nil
	}
	var e time.Time
	if err := json.Unmarshal(*in.ExpiresAt, &e); err != nil {
		return b, false, false, invalid("branch.expires_at must be an RFC 3339 time with a time zone")
	}
	switch {
	case b.IsDefault:
		return b, false, false, invalid("branch.expires_at cannot be set on the default branch")
	case b.Protected:
		return b, false, false, invalid("branch.expires_at cannot be set on a protected branch")
	}
	if err := CheckExpiry(e, now); err != nil {
		return b, false, false, err
	}
	Expire(&b, e, now)
	return b, protect, true, nil
}

// Restore is a branch restore request.
type Restore struct {
	SourceBranchID    string
	SourceLSN         string
	SourceTimestamp   *time.Time
	PreserveUnderName string
}

// CheckRestore checks a restore of target from source (target itself for
// a restore to its own history), to a point of source's history (atPoint)
// or to its head, target having children child branches.
func CheckRestore(in Restore, target, source metastore.Branch, atPoint bool, children int) error {
	self := source.ID == target.ID
	toParent := target.ParentID != nil && *target.ParentID == source.ID && !atPoint
	switch {
	case self && !atPoint:
		return invalid("restoring branch %s to its own history needs source_timestamp or source_lsn", target.ID)
	case self && in.PreserveUnderName == "":
		return invalid("restoring branch %s to its own history needs preserve_under_name", target.ID)
	case children > 0 && in.PreserveUnderName == "":
		return invalid("branch %s has child branches: preserve_under_name is required, and the children move to the preserved branch", target.ID)
	case toParent && target.Protected:
		return invalid("protected branch %s cannot be reset from its parent", target.ID)
	case atPoint && (source.RestoreStatus == "restored" || target.RestoreStatus == "restored"):
		// Neon's answer to a point-in-time restore of a branch made by a
		// snapshot restore.
		return invalid("restore from snapshot on target branch is still ongoing")
	case len(in.PreserveUnderName) > MaxName:
		return invalid("preserve_under_name must be at most %d characters", MaxName)
	}
	return nil
}

// OldName is the name a branch replaced by a restore gets: "<name> (old)",
// or with the time (now) when a branch of its project has that name.
func OldName(target metastore.Branch, branches []metastore.Branch, now time.Time) string {
	name := target.Name + " (old)"
	if slices.ContainsFunc(branches, func(b metastore.Branch) bool { return b.Name == name }) {
		name = target.Name + " (old " + now.Format(time.RFC3339Nano) + ")"
	}
	return name
}
