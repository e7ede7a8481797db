package apiserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/branchspec"
	"github.com/grovedb/grove/internal/endpointspec"
	"github.com/grovedb/grove/internal/platform"
)

// branchRoutes registers the branch routes.
func (s *Server) branchRoutes() {
	s.handle("POST /projects/{project_id}/branches", s.createBranch)
	s.handle("DELETE /projects/{project_id}/branches/{branch_id}", s.deleteBranch)
	s.handle("POST /projects/{project_id}/branches/{branch_id}/restore", s.restoreBranch)
	s.handle("POST /projects/{project_id}/branches/{branch_id}/finalize_restore", s.finalizeRestore)
	s.handle("GET /projects/{project_id}/branches", s.listBranches)
	s.handle("GET /projects/{project_id}/branches/count", s.countBranches)
	s.handle("GET /projects/{project_id}/branches/{branch_id}", s.getBranch)
	s.handle("PATCH /projects/{project_id}/branches/{branch_id}", s.updateBranch)
	s.handle("POST /projects/{project_id}/branches/{branch_id}/set_as_default", s.setDefaultBranch)
	s.handle("GET /projects/{project_id}/branches/{branch_id}/endpoints", s.listBranchEndpoints)
}

func (s *Server) listBranches(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	limit, err := queryInt(r, "limit", 0)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("limit") && limit == 0 {
		return badRequest("invalid request: query parameter limit: must be between 1 and 10000")
	}
	if _, err := queryBool(r, "include_deleted"); err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := s.p.ListBranches(r.Context(), pr, r.PathValue("project_id"), branchspec.ListInput{
		Search: q.Get("search"), SortBy: q.Get("sort_by"), SortOrder: q.Get("sort_order"), Cursor: q.Get("cursor"), Limit: limit,
	})
	if err != nil {
		return err
	}
	resp := apitypes.BranchesResponse{
		Branches:    make(apitypes.List[apitypes.Branch], len(page.Branches)),
		Annotations: map[string]apitypes.AnnotationData{},
		Pagination:  &apitypes.CursorPagination{Next: page.Next, SortBy: page.SortBy, SortOrder: strings.ToUpper(page.SortOrder)},
	}
	for i, b := range page.Branches {
		resp.Branches[i] = fullBranch(b, "ready", "")
	}
	if err := s.setBranchUsage(r.Context(), r.PathValue("project_id"), resp.Branches); err != nil { // consumption totals (convert.go)
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) countBranches(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	n, err := s.p.CountBranches(r.Context(), pr, r.PathValue("project_id"), r.URL.Query().Get("search"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.BranchesCountResponse{Count: n})
	return nil
}

func (s *Server) getBranch(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	b, err := s.p.GetBranch(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"))
	if err != nil {
		return err
	}
	out := []apitypes.Branch{fullBranch(b, "ready", "")}
	if err := s.setBranchUsage(r.Context(), b.ProjectID, out); err != nil { // consumption totals (convert.go)
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.BranchGetResponse{Branch: out[0], Annotation: branchAnnotation(b)})
	return nil
}

func (s *Server) updateBranch(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req struct {
		Branch *struct {
			Name      *string         `json:"name"`
			Protected *bool           `json:"protected"`
			ExpiresAt json.RawMessage `json:"expires_at"`
		} `json:"branch"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if req.Branch == nil {
		return badRequest("invalid request: decode application/json: invalid: branch (field required)")
	}
	in := branchspec.Update{Name: req.Branch.Name, Protected: req.Branch.Protected}
	if len(req.Branch.ExpiresAt) > 0 {
		in.ExpiresAt = &req.Branch.ExpiresAt
	}
	b, ops, err := s.p.UpdateBranch(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.BranchOperations{Branch: fullBranch(b, "ready", ""), Operations: operations(ops)})
	return nil
}

func (s *Server) setDefaultBranch(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	b, ops, err := s.p.SetDefaultBranch(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.BranchOperations{Branch: fullBranch(b, "ready", ""), Operations: operations(ops)})
	return nil
}

func (s *Server) listBranchEndpoints(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	views, err := s.p.BranchEndpoints(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"))
	if err != nil {
		return err
	}
	out := apitypes.EndpointsResponse{Endpoints: make(apitypes.List[apitypes.Endpoint], len(views))}
	for i, v := range views {
		out.Endpoints[i] = endpoint(v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// fullBranch is a branch with what branching records: its point of origin,
// init source, expiry and restore links.
func fullBranch(b platform.Branch, state, pending string) apitypes.Branch {
	out := branch(b, state)
	out.PendingState = apitypes.BranchState(pending)
	out.ParentLSN = b.ParentLSN
	if b.ParentTimestamp != nil {
		out.ParentTimestamp = at(b.ParentTimestamp.Truncate(time.Second))
	}
	if b.InitSource != "" {
		out.InitSource = b.InitSource
	}
	if b.ExpiresAt != nil {
		out.ExpiresAt = at(*b.ExpiresAt)
	}
	out.TTLIntervalSeconds = b.TTLIntervalSeconds
	if b.LastResetAt != nil {
		out.LastResetAt = at(*b.LastResetAt)
		out.StateChangedAt = at(*b.LastResetAt)
	}
	out.RestoreStatus = apitypes.BranchRestoreStatus(b.RestoreStatus)
	out.RestoredFrom, out.RestoredAs = b.RestoredFrom, b.RestoredAs
	return out
}

func (s *Server) createBranch(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req apitypes.BranchCreateRequest
	if err := decode(r, &req, true); err != nil {
		return err
	}
	var in branchspec.Create
	if b := req.Branch; b != nil {
		in = branchspec.Create{ParentID: b.ParentID, Name: b.Name, ParentLSN: b.ParentLSN, Protected: b.Protected,
			InitSource: b.InitSource}
		if b.ParentTimestamp != nil {
			in.ParentTimestamp = &b.ParentTimestamp.Time
		}
		if b.ExpiresAt != nil {
			in.ExpiresAt = &b.ExpiresAt.Time
		}
		if b.Archived != nil && *b.Archived {
			return badRequest("invalid request: branch.archived: creating archived branches is not supported by this Grove")
		}
	}
	for _, e := range req.Endpoints {
		ei := endpointspec.Input{Type: string(e.Type), Provisioner: string(e.Provisioner), MinCU: e.AutoscalingLimitMinCU,
			MaxCU: e.AutoscalingLimitMaxCU, SuspendTimeoutSeconds: e.SuspendTimeoutSeconds}
		if e.Settings != nil {
			raw, _ := json.Marshal(e.Settings)
			ei.Settings = raw
		}
		in.Endpoints = append(in.Endpoints, ei)
	}
	c, err := s.p.CreateBranch(r.Context(), pr, r.PathValue("project_id"), in)
	if err != nil {
		return err
	}
	resp := apitypes.CreatedBranch{
		Branch:     fullBranch(c.Branch, "init", "ready"),
		Endpoints:  make(apitypes.List[apitypes.Endpoint], len(c.Endpoints)),
		Operations: operations(c.Operations),
		Roles:      make(apitypes.List[apitypes.Role], len(c.Roles)),
		Databases:  make(apitypes.List[apitypes.Database], len(c.Databases)),
	}
	for i, e := range c.Endpoints {
		resp.Endpoints[i] = endpoint(e)
	}
	for i, ro := range c.Roles {
		ro.BranchID = c.Branch.ID
		resp.Roles[i] = role(ro, "")
	}
	for i, d := range c.Databases {
		d.BranchID = c.Branch.ID
		resp.Databases[i] = database(d)
	}
	for _, u := range c.URIs {
		resp.ConnectionURIs = append(resp.ConnectionURIs, apitypes.ConnectionDetails{ConnectionURI: u.URI,
			ConnectionParameters: apitypes.ConnectionParameters{Database: u.Database, Password: u.Password, Role: u.Role,
				Host: u.Host, PoolerHost: u.PoolerHost}})
	}
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

func (s *Server) deleteBranch(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	if _, err := queryBool(r, "hard_delete"); err != nil {
		return err
	}
	b, ops, gone, err := s.p.DeleteBranch(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"))
	if err != nil {
		return err
	}
	if gone {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusOK, apitypes.BranchOperations{Branch: fullBranch(b, "ready", string(apitypes.BranchStateStorageDeleted)),
		Operations: operations(ops)})
	return nil
}

func (s *Server) restoreBranch(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req apitypes.BranchRestoreRequest
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if req.SourceBranchID == "" {
		return badRequest("invalid request: decode application/json: invalid: source_branch_id (field required)")
	}
	in := branchspec.Restore{SourceBranchID: req.SourceBranchID, SourceLSN: req.SourceLSN,
		PreserveUnderName: req.PreserveUnderName}
	if req.SourceTimestamp != nil {
		in.SourceTimestamp = &req.SourceTimestamp.Time
	}
	b, ops, err := s.p.RestoreBranch(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.BranchOperations{Branch: fullBranch(b, "resetting", "ready"), Operations: operations(ops)})
	return nil
}

func (s *Server) finalizeRestore(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req apitypes.FinalizeRestoreRequest
	if err := decode(r, &req, true); err != nil {
		return err
	}
	ops, err := s.p.FinalizeRestore(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.OperationsResponse{Operations: operations(ops)})
	return nil
}
