package platform

import (
	"context"
	"errors"
	"fmt"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/plans"
)

// TransferInput is a project transfer request.
type TransferInput struct {
	DestinationOrgID string
	ProjectIDs       []string
}

var errTransferKey = newErr(errkind.Forbidden, "projects can be transferred between organizations only with a personal API key that is a member of both organizations")

// TransferProjects moves up to 400 projects from one org to another, all
// or none, in one metadata transaction. It needs a personal key of a
// member of both orgs (organization and project-scoped keys get 403). A
// project missing from the source org fails the whole transfer, as does a
// destination whose plan cannot take the projects (plans.LimitsError: too many
// projects for its projects_per_org, or projects with more branches or
// manual snapshots than it allows). The destination plan's limits are
// applied in the same transaction: endpoint sizes above its range and
// suspend timeouts below its minimum are brought within it, history
// retention is capped. Only metadata changes: endpoints keep their ids
// and hosts, so connection strings keep working, and running computes go
// on serving their connections (a capped size applies from their next
// start).
func (p *Platform) TransferProjects(ctx context.Context, pr accounts.Principal, sourceOrgID string, in TransferInput) error {
	if !pr.Personal() {
		return errTransferKey
	}
	if err := plans.ValidTransfer(in.DestinationOrgID, in.ProjectIDs); err != nil {
		return err
	}
	if !ids.ValidResource(sourceOrgID) || !pr.CanOrg(sourceOrgID) {
		return newErr(errkind.NotFound, "organization %s not found", sourceOrgID)
	}
	if !pr.CanOrg(in.DestinationOrgID) {
		return newErr(errkind.NotFound, "organization %s not found", in.DestinationOrgID)
	}
	if sourceOrgID == in.DestinationOrgID {
		return newErr(errkind.Invalid, "destination_org_id must differ from the source organization")
	}
	res, err := p.store.TransferProjects(ctx, metastore.TransferProjects{
		SourceOrgID: sourceOrgID, DestOrgID: in.DestinationOrgID, ProjectIDs: in.ProjectIDs,
	}, plans.CheckTransfer)
	switch {
	case errors.Is(err, metastore.ErrTransferBusy):
		return errLocked
	case errors.Is(err, metastore.ErrNotFound):
		return newErr(errkind.NotFound, "organization not found")
	case err != nil:
		var le *plans.LimitsError
		var pe *errkind.Error
		if errors.As(err, &le) || errors.As(err, &pe) {
			return err
		}
		return fmt.Errorf("transfer projects: %w", err)
	}
	p.plans.Invalidate()
	p.log.Info("projects transferred", "from", sourceOrgID, "to", in.DestinationOrgID,
		"projects", len(in.ProjectIDs), "endpoints_capped", len(res.Capped))
	return nil
}

// TransferMyProjects is the deprecated user-to-org transfer: Grove has no
// personal accounts, so the source is the org that holds the projects
// (they must all be in one of the caller's orgs).
func (p *Platform) TransferMyProjects(ctx context.Context, pr accounts.Principal, in TransferInput) error {
	if !pr.Personal() {
		return errTransferKey
	}
	if err := plans.ValidTransfer(in.DestinationOrgID, in.ProjectIDs); err != nil {
		return err
	}
	proj, err := p.GetProject(ctx, pr, in.ProjectIDs[0])
	if err != nil {
		return newErr(errkind.NotFound, "project %s not found", in.ProjectIDs[0])
	}
	return p.TransferProjects(ctx, pr, proj.OrgID, in)
}
