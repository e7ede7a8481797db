package platform

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/plans"
)

// maxName is the longest name (in bytes) of a project, branch or snapshot
// that Neon accepts.
const maxName = 256

// BranchListInput selects a page of a project's branches, as Neon's
// GET /projects/{id}/branches: sort_by name, created_at or updated_at
// (default updated_at), sort_order asc or desc (default desc), an opaque
// cursor from the previous page and a limit of 1 to 10000.
type BranchListInput struct {
	Search, SortBy, SortOrder, Cursor string
	Limit                             int // 0: not given
}

// BranchPage is a page of branches with what the next request needs.
type BranchPage struct {
	Branches  []metastore.Branch
	SortBy    string
	SortOrder string // "asc" or "desc"
	Next      string // cursor of the next page; "" on the last page
}

// branchCursor is the opaque cursor, in the shape Neon's has.
type branchCursor struct {
	BranchID    string `json:"branch_id"`
	SortBy      string `json:"sort_by"`
	SortByValue string `json:"sort_by_value"`
	SortOrder   string `json:"sort_order"`
}

const maxBranchPage = 10000

// ListBranches returns a page of a project's branches.
func (p *Platform) ListBranches(ctx context.Context, pr accounts.Principal, projectID string, in BranchListInput) (BranchPage, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return BranchPage{}, err
	}
	var cur branchCursor
	if in.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(in.Cursor, "="))
		if err != nil || json.Unmarshal(raw, &cur) != nil || cur.BranchID == "" {
			return BranchPage{}, newErr(errkind.Invalid, "cursor is not a cursor returned by this list")
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
		return BranchPage{}, newErr(errkind.Invalid, "sort_by must be one of name, created_at, updated_at")
	}
	order := strings.ToLower(in.SortOrder)
	if order == "" {
		order = strings.ToLower(cur.SortOrder)
	}
	if order == "" {
		order = "desc"
	}
	if order != "asc" && order != "desc" {
		return BranchPage{}, newErr(errkind.Invalid, "sort_order must be asc or desc")
	}
	if in.Cursor != "" && (cur.SortBy != sortBy || strings.ToLower(cur.SortOrder) != order) {
		return BranchPage{}, newErr(errkind.Invalid, "cursor was made for sort_by %s and sort_order %s", cur.SortBy, cur.SortOrder)
	}
	limit := in.Limit
	if limit == 0 {
		limit = maxBranchPage
	}
	if limit < 1 || limit > maxBranchPage {
		return BranchPage{}, newErr(errkind.Invalid, "limit must be between 1 and %d", maxBranchPage)
	}
	branches, err := p.store.ListBranches(ctx, metastore.BranchFilter{ProjectID: proj.ID, Search: in.Search,
		SortBy: sortBy, Desc: order == "desc", AfterValue: cur.SortByValue, AfterID: cur.BranchID, Limit: limit + 1})
	if err != nil {
		return BranchPage{}, err
	}
	page := BranchPage{Branches: branches, SortBy: sortBy, SortOrder: order}
	if len(branches) > limit {
		page.Branches = branches[:limit]
		last := page.Branches[limit-1]
		c := branchCursor{BranchID: last.ID, SortBy: sortBy, SortOrder: order, SortByValue: last.Name}
		switch sortBy {
		case "created_at":
			c.SortByValue = last.CreatedAt.UTC().Format(time.RFC3339Nano)
		case "updated_at":
			c.SortByValue = last.UpdatedAt.UTC().Format(time.RFC3339Nano)
		}
		raw, _ := json.Marshal(c)
		page.Next = base64.RawURLEncoding.EncodeToString(raw)
	}
	return page, nil
}

// CountBranches counts a project's branches whose name or id contains search.
func (p *Platform) CountBranches(ctx context.Context, pr accounts.Principal, projectID, search string) (int, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return 0, err
	}
	return p.store.CountBranches(ctx, proj.ID, search)
}

// GetBranch returns a branch of a project the caller reaches.
func (p *Platform) GetBranch(ctx context.Context, pr accounts.Principal, projectID, branchID string) (metastore.Branch, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return metastore.Branch{}, err
	}
	if !ids.ValidResource(branchID) {
		return metastore.Branch{}, notFound("branch")
	}
	b, err := p.store.GetBranch(ctx, proj.ID, branchID)
	return b, wrapStore("branch", err)
}

// BranchUpdate is a branch PATCH; nil fields stay as they are.
type BranchUpdate struct {
	Name      *string
	Protected *bool
	// ExpiresAt is set when expires_at was given: null (clear) or a time.
	ExpiresAt *json.RawMessage
}

// UpdateBranch renames a branch or changes its protection.
func (p *Platform) UpdateBranch(ctx context.Context, pr accounts.Principal, projectID, branchID string, in BranchUpdate) (metastore.Branch, []metastore.Operation, error) {
	b, err := p.GetBranch(ctx, pr, projectID, branchID)
	if err != nil {
		return metastore.Branch{}, nil, err
	}
	if in.Name != nil {
		if *in.Name == "" || len(*in.Name) > maxName {
			return metastore.Branch{}, nil, newErr(errkind.Invalid, "branch.name must be 1 to %d characters", maxName)
		}
		b.Name = *in.Name
	}
	protect := in.Protected != nil && *in.Protected && !b.Protected
	if in.Protected != nil {
		if protect && b.ExpiresAt != nil && (in.ExpiresAt == nil || string(*in.ExpiresAt) != "null") {
			return metastore.Branch{}, nil, newErr(errkind.Invalid, "cannot protect branch %s: it has an expiration time", b.ID)
		}
		b.Protected = *in.Protected
	}
	t := now()
	if in.ExpiresAt != nil {
		if string(*in.ExpiresAt) == "null" {
			b.ExpiresAt, b.TTLIntervalSeconds = nil, nil
		} else {
			var e time.Time
			if err := json.Unmarshal(*in.ExpiresAt, &e); err != nil {
				return metastore.Branch{}, nil, newErr(errkind.Invalid, "branch.expires_at must be an RFC 3339 time with a time zone")
			}
			switch {
			case b.IsDefault:
				return metastore.Branch{}, nil, newErr(errkind.Invalid, "branch.expires_at cannot be set on the default branch")
			case b.Protected:
				return metastore.Branch{}, nil, newErr(errkind.Invalid, "branch.expires_at cannot be set on a protected branch")
			}
			if err := checkExpiry(e, t); err != nil {
				return metastore.Branch{}, nil, err
			}
			children, err := p.store.BranchChildren(ctx, b.ProjectID, b.ID)
			if err != nil {
				return metastore.Branch{}, nil, err
			}
			if len(children) > 0 {
				return metastore.Branch{}, nil, newErr(errkind.Invalid, "branch.expires_at cannot be set on a branch with child branches")
			}
			e = e.UTC().Truncate(time.Second)
			ttl := int64(e.Sub(t) / time.Second)
			b.ExpiresAt, b.TTLIntervalSeconds = &e, &ttl
		}
	}
	b.UpdatedAt = t
	var out metastore.Branch
	ops, err := p.mutate(ctx, b.ProjectID, nil, func(ctx context.Context) error {
		if protect {
			// Counted under the project's lock, so that two branches
			// protected at once cannot pass the limit together.
			if err := p.checkProtect(ctx, b.ProjectID); err != nil {
				return err
			}
		}
		var err error
		out, err = p.store.SaveBranch(ctx, b)
		return wrapStore("branch", err)
	})
	if err != nil {
		return metastore.Branch{}, nil, err
	}
	return out, ops, nil
}

// checkProtect refuses protecting one more branch of a project beyond its
// plan.
func (p *Platform) checkProtect(ctx context.Context, projectID string) error {
	proj, err := p.store.GetProject(ctx, projectID)
	if err != nil {
		return wrapStore("project", err)
	}
	pl, err := p.projectPlan(ctx, proj)
	if err != nil {
		return err
	}
	branches, err := p.store.ProjectBranches(ctx, projectID)
	if err != nil {
		return err
	}
	return plans.CheckProtected(pl, branches)
}

// SetDefaultBranch makes a branch the project's default.
func (p *Platform) SetDefaultBranch(ctx context.Context, pr accounts.Principal, projectID, branchID string) (metastore.Branch, []metastore.Operation, error) {
	b, err := p.GetBranch(ctx, pr, projectID, branchID)
	if err != nil {
		return metastore.Branch{}, nil, err
	}
	if b.ExpiresAt != nil {
		return metastore.Branch{}, nil, newErr(errkind.Invalid, "cannot make branch %s the default: it has an expiration time", b.ID)
	}
	out := b
	ops, err := p.mutate(ctx, b.ProjectID, nil, func(ctx context.Context) error {
		if b.IsDefault {
			return nil
		}
		var err error
		out, err = p.store.SetDefaultBranch(ctx, b.ProjectID, b.ID, now())
		return wrapStore("branch", err)
	})
	if err != nil {
		return metastore.Branch{}, nil, err
	}
	return out, ops, nil
}

// BranchEndpoints returns a branch's endpoints with their runtime state.
func (p *Platform) BranchEndpoints(ctx context.Context, pr accounts.Principal, projectID, branchID string) ([]EndpointView, error) {
	b, err := p.GetBranch(ctx, pr, projectID, branchID)
	if err != nil {
		return nil, err
	}
	eps, err := p.store.BranchEndpoints(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	out := make([]EndpointView, len(eps))
	for i, e := range eps {
		out[i] = p.endpointView(e)
	}
	return out, nil
}
