package platform

import (
	"context"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/branchspec"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/plans"
)

// maxName is the longest name (in bytes) of a project, branch or snapshot
// that Neon accepts: a branch's.
const maxName = branchspec.MaxName

// BranchPage is a page of branches with what the next request needs.
type BranchPage struct {
	Branches  []metastore.Branch
	SortBy    string
	SortOrder string // "asc" or "desc"
	Next      string // cursor of the next page; "" on the last page
}

// ListBranches returns a page of a project's branches.
func (p *Platform) ListBranches(ctx context.Context, pr accounts.Principal, projectID string, in branchspec.ListInput) (BranchPage, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return BranchPage{}, err
	}
	f, err := branchspec.ListFilter(in)
	if err != nil {
		return BranchPage{}, err
	}
	f.ProjectID = proj.ID
	branches, err := p.store.ListBranches(ctx, f)
	if err != nil {
		return BranchPage{}, err
	}
	page := BranchPage{SortBy: f.SortBy, SortOrder: branchspec.SortOrder(f)}
	page.Branches, page.Next = branchspec.Page(f, branches)
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

// UpdateBranch renames a branch or changes its protection.
func (p *Platform) UpdateBranch(ctx context.Context, pr accounts.Principal, projectID, branchID string, in branchspec.Update) (metastore.Branch, []metastore.Operation, error) {
	b, err := p.GetBranch(ctx, pr, projectID, branchID)
	if err != nil {
		return metastore.Branch{}, nil, err
	}
	t := now()
	b, protect, expires, err := branchspec.Apply(b, in, t)
	if err != nil {
		return metastore.Branch{}, nil, err
	}
	if expires {
		children, err := p.store.BranchChildren(ctx, b.ProjectID, b.ID)
		if err != nil {
			return metastore.Branch{}, nil, err
		}
		if len(children) > 0 {
			return metastore.Branch{}, nil, newErr(errkind.Invalid, "branch.expires_at cannot be set on a branch with child branches")
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
