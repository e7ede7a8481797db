package plans

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
)

// MaxTransferProjects is how many projects one transfer may move (Neon's
// maxItems of project_ids).
const MaxTransferProjects = 400

// Limit is one limit of the destination org that a transfer would break,
// as Neon's LimitsUnsatisfiedResponse names them (projects_count,
// subscription_type, project_region).
type Limit struct {
	Name, Expected, Actual string
}

// LimitsError refuses a transfer the destination's plan cannot take:
// Neon's 406 with limits[].
type LimitsError struct {
	Limits []Limit
}

func (e *LimitsError) Error() string {
	var b strings.Builder
	b.WriteString("Transfer failed - the target organization has too many projects or its plan is incompatible with the source organization. Reduce projects or upgrade the organization.")
	for _, l := range e.Limits {
		fmt.Fprintf(&b, " %s: expected %s, actual %s.", l.Name, l.Expected, l.Actual)
	}
	return b.String()
}

// ValidTransfer checks the shape of a transfer request: a destination org
// and 1 to MaxTransferProjects project ids.
func ValidTransfer(destOrgID string, projectIDs []string) error {
	switch {
	case destOrgID == "":
		return invalid("destination_org_id is required")
	case !ids.ValidResource(destOrgID):
		return invalid("destination_org_id %q is not a valid organization id", destOrgID)
	case len(projectIDs) == 0 || len(projectIDs) > MaxTransferProjects:
		return invalid("project_ids must list 1 to %d projects, got %d", MaxTransferProjects, len(projectIDs))
	}
	for _, id := range projectIDs {
		if !ids.ValidResource(id) {
			return invalid("project_ids: %q is not a valid project id", id)
		}
	}
	return nil
}

// CheckTransfer decides, with the orgs and projects locked, whether the
// transfer may go on.
func CheckTransfer(st metastore.TransferState) error {
	if len(st.Missing) > 0 {
		return errkind.New(errkind.NotFound, "project %s not found in organization %s", st.Missing[0], st.Source.ID)
	}
	var limits []Limit
	if total := st.DestProjectCount + len(st.Projects); total > st.Plan.ProjectsPerOrg {
		limits = append(limits, Limit{Name: "projects_count",
			Expected: strconv.Itoa(st.Plan.ProjectsPerOrg), Actual: strconv.Itoa(total)})
	}
	for _, tp := range st.Projects {
		if tp.Branches > st.Plan.BranchesPerProject || tp.RootBranches > st.Plan.RootBranches ||
			tp.ManualSnapshots > st.Plan.ManualSnapshots || tp.ProtectedBranches > st.Plan.ProtectedBranches {
			// Branches and snapshots are the user's data: the transfer
			// does not delete them to fit, it asks for a larger plan.
			limits = append(limits, Limit{Name: "subscription_type", Expected: st.SourcePlan.Name, Actual: st.Plan.Name})
			break
		}
	}
	if len(limits) > 0 {
		return &LimitsError{Limits: limits}
	}
	return nil
}
