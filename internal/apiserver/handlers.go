package apiserver

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/platform"
	"github.com/grovedb/grove/internal/projectspec"
)

func (s *Server) projectRoutes() {
	s.handle("POST /projects", s.createProject)
	s.handle("GET /projects", s.listProjects)
	s.handle("GET /projects/shared", s.listSharedProjects)
	s.handle("GET /projects/{project_id}", s.getProject)
	s.handle("PATCH /projects/{project_id}", s.updateProject)
	s.handle("DELETE /projects/{project_id}", s.deleteProject)
	s.handle("GET /projects/{project_id}/connection_uri", s.connectionURI)
	s.handle("GET /projects/{project_id}/operations", s.listOperations)
	s.handle("GET /projects/{project_id}/operations/{operation_id}", s.getOperation)
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req struct {
		Project *apitypes.ProjectCreate `json:"project"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if req.Project == nil {
		return badRequest("invalid request: decode application/json: invalid: project (field required)")
	}
	pc := req.Project
	in := projectspec.Input{
		Name: pc.Name, OrgID: pc.OrgID, RegionID: pc.RegionID, PGVersion: pc.PgVersion,
		Provisioner: string(pc.Provisioner), StorePasswords: pc.StorePasswords,
	}
	// Neon still accepts the deprecated top-level sizes; default_endpoint_settings overrides them below.
	//lint:ignore SA1019 accepted for compatibility
	in.MinCU, in.MaxCU = pc.AutoscalingLimitMinCU, pc.AutoscalingLimitMaxCU
	if pc.HistoryRetentionSeconds != nil {
		h := int(*pc.HistoryRetentionSeconds)
		in.HistoryRetentionSeconds = &h
	}
	if b := pc.Branch; b != nil {
		in.BranchName, in.RoleName, in.DatabaseName = b.Name, b.RoleName, b.DatabaseName
	}
	if d := pc.DefaultEndpointSettings; d != nil {
		if d.AutoscalingLimitMinCU != nil {
			in.MinCU = d.AutoscalingLimitMinCU
		}
		if d.AutoscalingLimitMaxCU != nil {
			in.MaxCU = d.AutoscalingLimitMaxCU
		}
		in.SuspendTimeoutSeconds = d.SuspendTimeoutSeconds
	}
	if pc.Settings != nil {
		raw, _ := json.Marshal(pc.Settings)
		in.Settings = raw
	}
	c, err := s.p.CreateProject(r.Context(), pr, in)
	if err != nil {
		return err
	}
	ep := endpoint(c.Endpoint)
	resp := apitypes.CreatedProject{
		Project: s.project(c.Project),
		ConnectionURIs: apitypes.List[apitypes.ConnectionDetails]{{
			ConnectionURI: c.URI,
			ConnectionParameters: apitypes.ConnectionParameters{Database: c.Database.Name, Password: c.Password,
				Role: c.Role.Name, Host: c.Endpoint.Host, PoolerHost: s.p.Hosts().PoolerHost(c.Endpoint.ID, c.Endpoint.RegionID)},
		}},
		Roles:      apitypes.List[apitypes.Role]{role(c.Role, c.Password)},
		Databases:  apitypes.List[apitypes.Database]{database(c.Database)},
		Operations: operations(c.Operations),
		Branch:     branch(c.Branch, "ready"),
		Endpoints:  apitypes.List[apitypes.Endpoint]{ep},
	}
	if u, _, err := s.p.ProjectOwner(r.Context(), c.Project); err == nil {
		resp.Project.OwnerID = u.ID.String()
	}
	resp.Project.BranchLogicalSizeLimit, resp.Project.BranchLogicalSizeLimitBytes = sizeLimitFields(c.SizeLimit)
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	limit, err := queryInt(r, "limit", 10)
	if err != nil {
		return err
	}
	recoverable, err := queryBool(r, "recoverable")
	if err != nil {
		return err
	}
	if _, err := queryInt(r, "timeout", 0); err != nil {
		return err
	}
	q := r.URL.Query()
	var projects []platform.Project
	// Deleted projects are purged at once: none is ever recoverable.
	if !recoverable {
		projects, err = s.p.ListProjects(r.Context(), pr, platform.ListProjectsInput{
			OrgID: q.Get("org_id"), Search: q.Get("search"), Cursor: q.Get("cursor"), Limit: limit,
		})
		if err != nil {
			return err
		}
	}
	resp := apitypes.ProjectsResponse{Projects: make(apitypes.List[apitypes.ProjectListItem], len(projects))}
	type owner struct {
		userID, orgName string
		limitMiB, limit int64
	}
	owners := map[string]owner{}
	for i, p := range projects {
		resp.Projects[i] = s.projectListItem(p)
		o, ok := owners[p.OrgID]
		if !ok {
			u, org, err := s.p.ProjectOwner(r.Context(), p)
			if err != nil {
				return err
			}
			o = owner{userID: u.ID.String(), orgName: org.Name}
			o.limitMiB, o.limit = s.sizeLimit(r.Context(), org.Plan)
			owners[p.OrgID] = o
		}
		it := &resp.Projects[i]
		it.OwnerID, it.OrgName = o.userID, o.orgName
		it.BranchLogicalSizeLimit, it.BranchLogicalSizeLimitBytes = o.limitMiB, o.limit
	}
	if len(projects) > 0 {
		resp.Pagination = &apitypes.Pagination{Cursor: projects[len(projects)-1].ID}
	}
	if err := s.setListUsage(r.Context(), resp.Projects); err != nil { // consumption totals (convert.go)
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// listSharedProjects lists projects shared with the caller through project
// permissions. Grove shares projects only through organization membership,
// which GET /projects lists, so none is ever shared this way; neonctl calls
// this after listing the caller's own projects.
func (s *Server) listSharedProjects(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	limit, err := queryInt(r, "limit", 10)
	if err != nil {
		return err
	}
	if limit < 1 || limit > 400 {
		return badRequest("invalid request: limit must be between 1 and 400")
	}
	if _, err := queryInt(r, "timeout", 0); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.SharedProjectsResponse{Projects: apitypes.List[apitypes.ProjectListItem]{}})
	return nil
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	p, err := s.p.GetProject(r.Context(), pr, r.PathValue("project_id"))
	if err != nil {
		return err
	}
	out, err := s.ownedProject(r.Context(), p, true)
	if err != nil {
		return err
	}
	if err := s.setProjectUsage(r.Context(), &out); err != nil { // consumption totals (convert.go)
		return err
	}
	if last, err := s.p.ProjectLastActive(r.Context(), p.ID); err != nil {
		return err
	} else if last != nil {
		out.ComputeLastActiveAt = at(*last)
	}
	writeJSON(w, http.StatusOK, apitypes.ProjectResponse{Project: out})
	return nil
}

// sizeLimit is Neon's branch_logical_size_limit (MiB) and _bytes of a
// plan's projects: its storage quota, or -1 for none.
func (s *Server) sizeLimit(ctx context.Context, plan string) (mib, bytes int64) {
	pl, err := s.p.PlanByName(ctx, plan)
	if err != nil {
		return -1, -1
	}
	return sizeLimitFields(pl.StorageQuotaBytes)
}

// sizeLimitFields renders a storage quota (0: none) as Neon's two fields.
func sizeLimitFields(quota int64) (mib, bytes int64) {
	if quota <= 0 {
		return -1, -1
	}
	return quota >> 20, quota
}

// ownedProject is s.project with the owner's id and, when full, the
// owner's details (GET /projects/{id} only, as Neon).
func (s *Server) ownedProject(ctx context.Context, p platform.Project, full bool) (apitypes.Project, error) {
	out := s.project(p)
	u, o, err := s.p.ProjectOwner(ctx, p)
	if err != nil {
		return apitypes.Project{}, err
	}
	out.OwnerID = u.ID.String()
	out.BranchLogicalSizeLimit, out.BranchLogicalSizeLimitBytes = s.sizeLimit(ctx, o.Plan)
	if full {
		sub, branches := subscription(o.Plan)
		if pl, err := s.p.PlanByName(ctx, o.Plan); err == nil { // the plan's limit
			branches = pl.BranchesPerProject
		}
		out.Owner = &apitypes.ProjectOwner{Email: u.Email, Name: u.Name, BranchesLimit: branches, SubscriptionType: sub}
	}
	return out, nil
}

func (s *Server) updateProject(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req struct {
		Project *struct {
			Name                    *string         `json:"name"`
			Settings                json.RawMessage `json:"settings"`
			DefaultEndpointSettings json.RawMessage `json:"default_endpoint_settings"`
			HistoryRetentionSeconds *int32          `json:"history_retention_seconds"`
		} `json:"project"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if req.Project == nil {
		return badRequest("invalid request: decode application/json: invalid: project (field required)")
	}
	pu := req.Project
	in := platform.ProjectUpdate{Name: pu.Name, Settings: nonNull(pu.Settings), DefaultEndpointSettings: nonNull(pu.DefaultEndpointSettings)}
	// Typed decoding gives type errors in the same words as the rest of the API.
	if in.Settings != nil {
		if err := json.Unmarshal(in.Settings, new(apitypes.ProjectSettings)); err != nil {
			return badRequest("invalid request: decode application/json: project.settings: %v", err)
		}
	}
	if in.DefaultEndpointSettings != nil {
		if err := json.Unmarshal(in.DefaultEndpointSettings, new(apitypes.DefaultEndpointSettings)); err != nil {
			return badRequest("invalid request: decode application/json: project.default_endpoint_settings: %v", err)
		}
	}
	if pu.HistoryRetentionSeconds != nil {
		h := int(*pu.HistoryRetentionSeconds)
		in.HistoryRetentionSeconds = &h
	}
	p, ops, err := s.p.UpdateProject(r.Context(), pr, r.PathValue("project_id"), in)
	if err != nil {
		return err
	}
	out, err := s.ownedProject(r.Context(), p, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.ProjectOperations{Project: out, Operations: operations(ops)})
	return nil
}

// nonNull is raw unless it is absent or JSON null.
func nonNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

func (s *Server) deleteProject(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	p, err := s.p.DeleteProject(r.Context(), pr, r.PathValue("project_id"))
	if err != nil {
		return err
	}
	out := s.project(p)
	if u, o, err := s.p.ProjectOwner(r.Context(), p); err == nil {
		out.BranchLogicalSizeLimit, out.BranchLogicalSizeLimitBytes = s.sizeLimit(r.Context(), o.Plan)
		out.OwnerID = u.ID.String()
	}
	writeJSON(w, http.StatusOK, apitypes.ProjectResponse{Project: out})
	return nil
}

func (s *Server) connectionURI(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	q := r.URL.Query()
	pooled, err := queryBool(r, "pooled")
	if err != nil {
		return err
	}
	uri, err := s.p.ProjectConnectionURI(r.Context(), pr, r.PathValue("project_id"), platform.ConnectionURIInput{
		BranchID: q.Get("branch_id"), EndpointID: q.Get("endpoint_id"),
		DatabaseName: q.Get("database_name"), RoleName: q.Get("role_name"), Pooled: pooled,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.ConnectionURIResponse{URI: uri})
	return nil
}

func (s *Server) listOperations(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	limit, err := queryInt(r, "limit", 10)
	if err != nil {
		return err
	}
	if limit < 1 || limit > 1000 {
		return badRequest("invalid request: limit must be between 1 and 1000")
	}
	var before *time.Time
	if c := r.URL.Query().Get("cursor"); c != "" {
		t, err := time.Parse(time.RFC3339Nano, c)
		if err != nil {
			return badRequest("invalid request: cursor %q is not a timestamp", c)
		}
		before = &t
	}
	ops, err := s.p.Operations(r.Context(), pr, r.PathValue("project_id"), before, limit)
	if err != nil {
		return err
	}
	resp := apitypes.OperationsResponse{Operations: operations(ops)}
	if len(ops) > 0 {
		resp.Pagination = &apitypes.Pagination{Cursor: ops[len(ops)-1].CreatedAt.UTC().Format("2006-01-02T15:04:05.999999Z07:00")}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) getOperation(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	id, err := uuid.Parse(r.PathValue("operation_id"))
	if err != nil {
		return badRequest("invalid request: operation_id %q is not a UUID", r.PathValue("operation_id"))
	}
	op, err := s.p.Operation(r.Context(), pr, r.PathValue("project_id"), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.OperationResponse{Operation: operation(op)})
	return nil
}
