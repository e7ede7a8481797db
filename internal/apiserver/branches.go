package apiserver

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/platform"
)

// branchRoutes registers the branch read side; create, delete and restore
// come with branching.
func (s *Server) branchRoutes() {
	s.handle("GET /projects/{project_id}/branches", s.listBranches)
	s.handle("GET /projects/{project_id}/branches/count", s.countBranches)
	s.handle("GET /projects/{project_id}/branches/{branch_id}", s.getBranch)
	s.handle("PATCH /projects/{project_id}/branches/{branch_id}", s.updateBranch)
	s.handle("POST /projects/{project_id}/branches/{branch_id}/set_as_default", s.setDefaultBranch)
	s.handle("GET /projects/{project_id}/branches/{branch_id}/endpoints", s.listBranchEndpoints)
}

func (s *Server) listBranches(w http.ResponseWriter, r *http.Request, pr platform.Principal) error {
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
	page, err := s.p.ListBranches(r.Context(), pr, r.PathValue("project_id"), platform.BranchListInput{
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
		resp.Branches[i] = branch(b, "ready")
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) countBranches(w http.ResponseWriter, r *http.Request, pr platform.Principal) error {
	n, err := s.p.CountBranches(r.Context(), pr, r.PathValue("project_id"), r.URL.Query().Get("search"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.BranchesCountResponse{Count: n})
	return nil
}

func (s *Server) getBranch(w http.ResponseWriter, r *http.Request, pr platform.Principal) error {
	b, err := s.p.GetBranch(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.BranchGetResponse{Branch: branch(b, "ready"), Annotation: branchAnnotation(b)})
	return nil
}

func (s *Server) updateBranch(w http.ResponseWriter, r *http.Request, pr platform.Principal) error {
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
	in := platform.BranchUpdate{Name: req.Branch.Name, Protected: req.Branch.Protected}
	if len(req.Branch.ExpiresAt) > 0 {
		in.ExpiresAt = &req.Branch.ExpiresAt
	}
	b, ops, err := s.p.UpdateBranch(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.BranchOperations{Branch: branch(b, "ready"), Operations: operations(ops)})
	return nil
}

func (s *Server) setDefaultBranch(w http.ResponseWriter, r *http.Request, pr platform.Principal) error {
	b, ops, err := s.p.SetDefaultBranch(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.BranchOperations{Branch: branch(b, "ready"), Operations: operations(ops)})
	return nil
}

func (s *Server) listBranchEndpoints(w http.ResponseWriter, r *http.Request, pr platform.Principal) error {
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
