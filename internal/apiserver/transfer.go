package apiserver

import (
	"errors"
	"net/http"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/plans"
	"github.com/grovedb/grove/internal/platform"
)

// transferRoutes registers project transfer between orgs and Grove's plan
// administration. The plan routes are a Grove extension, not part of
// Neon's API: they are registered outside handle, so that Grove's
// Neon-compatible description (openapi.go) and docs/compat.md, which hold
// Neon's operations only, do not list them.
func (s *Server) transferRoutes() {
	s.handle("POST /organizations/{source_org_id}/projects/transfer", s.transferProjects)
	s.handle("POST /users/me/projects/transfer", s.transferMyProjects)

	s.mux.Handle("GET /api/v2/admin/plans", s.authed(s.listPlans))
	s.mux.Handle("PATCH /api/v2/admin/plans/{plan_name}", s.authed(s.updatePlan))
}

func decodeTransfer(r *http.Request) (platform.TransferInput, error) {
	var req struct {
		DestinationOrgID *string  `json:"destination_org_id"`
		ProjectIDs       []string `json:"project_ids"`
	}
	if err := decode(r, &req, false); err != nil {
		return platform.TransferInput{}, err
	}
	switch {
	case req.DestinationOrgID == nil:
		return platform.TransferInput{}, badRequest("invalid request: decode application/json: invalid: destination_org_id (field required)")
	case req.ProjectIDs == nil:
		return platform.TransferInput{}, badRequest("invalid request: decode application/json: invalid: project_ids (field required)")
	}
	return platform.TransferInput{DestinationOrgID: *req.DestinationOrgID, ProjectIDs: req.ProjectIDs}, nil
}

func (s *Server) transferProjects(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	in, err := decodeTransfer(r)
	if err != nil {
		return err
	}
	return s.transferred(w, r, s.p.TransferProjects(r.Context(), pr, r.PathValue("source_org_id"), in))
}

func (s *Server) transferMyProjects(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	in, err := decodeTransfer(r)
	if err != nil {
		return err
	}
	return s.transferred(w, r, s.p.TransferMyProjects(r.Context(), pr, in))
}

// transferred answers a transfer: 200 {} or Neon's 406 with limits[]
// alone (Neon's schema declares no other property).
func (s *Server) transferred(w http.ResponseWriter, r *http.Request, err error) error {
	var le *plans.LimitsError
	if errors.As(err, &le) {
		s.log.Info("transfer refused", "request_id", requestID(r), "reason", le.Error())
		var out apitypes.LimitsUnsatisfiedResponse
		for _, l := range le.Limits {
			out.Limits = append(out.Limits, apitypes.UnsatisfiedLimit{Name: l.Name, Expected: l.Expected, Actual: l.Actual})
		}
		writeJSON(w, http.StatusNotAcceptable, out)
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.EmptyResponse{})
	return nil
}

func planOut(p plans.Plan) apitypes.Plan {
	return apitypes.Plan{
		Name: p.Name, ProjectsPerOrg: p.ProjectsPerOrg, BranchesPerProject: p.BranchesPerProject, RootBranches: p.RootBranches,
		MinCU: p.MinCU, MaxCU: p.MaxCU, MaxCUSpread: p.MaxCUSpread, MinSuspendTimeoutSeconds: p.MinSuspendTimeoutSeconds,
		SuspendDisableAllowed: p.SuspendDisableAllowed, ManualSnapshots: p.ManualSnapshots, ProtectedBranches: p.ProtectedBranches,
		BackupSchedules:                p.BackupSchedules,
		HistoryRetentionDefaultSeconds: p.HistoryRetentionDefaultSeconds, HistoryRetentionMaxSeconds: p.HistoryRetentionMaxSeconds,
		StorageQuotaBytes: p.StorageQuotaBytes, TransferQuotaBytes: p.TransferQuotaBytes,
		ActiveTimeQuotaSeconds: p.ActiveTimeQuotaSeconds, ComputeTimeQuotaSeconds: p.ComputeTimeQuotaSeconds,
		UpdatedAt: at(p.UpdatedAt),
	}
}

func (s *Server) listPlans(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	plans, err := s.p.ListPlans(r.Context(), pr)
	if err != nil {
		return err
	}
	out := apitypes.PlansResponse{Plans: make(apitypes.List[apitypes.Plan], len(plans))}
	for i, p := range plans {
		out.Plans[i] = planOut(p)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) updatePlan(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req apitypes.PlanUpdateRequest
	if err := decode(r, &req, false); err != nil {
		return err
	}
	p, err := s.p.SetPlan(r.Context(), pr, r.PathValue("plan_name"), plans.Patch(req.Plan))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.PlanResponse{Plan: planOut(p)})
	return nil
}
