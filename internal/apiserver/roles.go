package apiserver

import (
	"net/http"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/platform"
)

func (s *Server) roleRoutes() {
	const branch = "/projects/{project_id}/branches/{branch_id}"
	s.handle("GET "+branch+"/databases", s.listDatabases)
	s.handle("POST "+branch+"/databases", s.createDatabase)
	s.handle("GET "+branch+"/databases/{database_name}", s.getDatabase)
	s.handle("PATCH "+branch+"/databases/{database_name}", s.updateDatabase)
	s.handle("DELETE "+branch+"/databases/{database_name}", s.deleteDatabase)
	s.handle("GET "+branch+"/roles", s.listRoles)
	s.handle("POST "+branch+"/roles", s.createRole)
	s.handle("GET "+branch+"/roles/{role_name}", s.getRole)
	s.handle("DELETE "+branch+"/roles/{role_name}", s.deleteRole)
	s.handle("POST "+branch+"/roles/{role_name}/reset_password", s.resetRolePassword)
	s.handle("GET "+branch+"/roles/{role_name}/reveal_password", s.revealRolePassword)
}

// apiRole is a role on the wire; password only where Neon shows it.
func apiRole(r platform.Role, password string) apitypes.Role {
	out := role(r, password)
	if r.Verifier == "" {
		out.AuthenticationMethod = "no_login"
	}
	return out
}

func (s *Server) listDatabases(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	dbs, err := s.p.ListDatabases(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"))
	if err != nil {
		return err
	}
	out := apitypes.DatabasesResponse{Databases: make(apitypes.List[apitypes.Database], len(dbs))}
	for i, d := range dbs {
		out.Databases[i] = database(d)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getDatabase(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	d, err := s.p.GetDatabase(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), r.PathValue("database_name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.DatabaseResponse{Database: database(d)})
	return nil
}

func (s *Server) createDatabase(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req struct {
		Database *struct {
			Name      *string `json:"name"`
			OwnerName *string `json:"owner_name"`
		} `json:"database"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	switch {
	case req.Database == nil:
		return badRequest("invalid request: decode application/json: invalid: database (field required)")
	case req.Database.Name == nil:
		return badRequest("invalid request: decode application/json: invalid: database (invalid: name (field required))")
	case req.Database.OwnerName == nil:
		return badRequest("invalid request: decode application/json: invalid: database (invalid: owner_name (field required))")
	}
	d, ops, err := s.p.CreateDatabase(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"),
		*req.Database.Name, *req.Database.OwnerName)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apitypes.DatabaseOperations{Database: database(d), Operations: operations(ops)})
	return nil
}

func (s *Server) updateDatabase(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req struct {
		Database *apitypes.DatabaseUpdate `json:"database"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if req.Database == nil {
		return badRequest("invalid request: decode application/json: invalid: database (field required)")
	}
	d, ops, err := s.p.UpdateDatabase(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"),
		r.PathValue("database_name"), req.Database.Name, req.Database.OwnerName)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.DatabaseOperations{Database: database(d), Operations: operations(ops)})
	return nil
}

func (s *Server) deleteDatabase(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	d, ops, found, err := s.p.DeleteDatabase(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), r.PathValue("database_name"))
	if err != nil {
		return err
	}
	if !found {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusOK, apitypes.DatabaseOperations{Database: database(d), Operations: operations(ops)})
	return nil
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	roles, err := s.p.ListRoles(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"))
	if err != nil {
		return err
	}
	out := apitypes.RolesResponse{Roles: make(apitypes.List[apitypes.Role], len(roles))}
	for i, ro := range roles {
		out.Roles[i] = apiRole(ro, "")
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getRole(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	ro, err := s.p.GetRole(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), r.PathValue("role_name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.RoleResponse{Role: apiRole(ro, "")})
	return nil
}

func (s *Server) createRole(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req struct {
		Role *struct {
			Name    *string `json:"name"`
			NoLogin *bool   `json:"no_login"`
		} `json:"role"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	switch {
	case req.Role == nil:
		return badRequest("invalid request: decode application/json: invalid: role (field required)")
	case req.Role.Name == nil:
		return badRequest("invalid request: decode application/json: invalid: role (invalid: name (field required))")
	}
	noLogin := req.Role.NoLogin != nil && *req.Role.NoLogin
	ro, password, ops, err := s.p.CreateRole(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), *req.Role.Name, noLogin)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apitypes.RoleOperations{Role: apiRole(ro, password), Operations: operations(ops)})
	return nil
}

func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	ro, ops, found, err := s.p.DeleteRole(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), r.PathValue("role_name"))
	if err != nil {
		return err
	}
	if !found {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusOK, apitypes.RoleOperations{Role: apiRole(ro, ""), Operations: operations(ops)})
	return nil
}

func (s *Server) resetRolePassword(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	ro, password, ops, err := s.p.ResetRolePassword(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), r.PathValue("role_name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.RoleOperations{Role: apiRole(ro, password), Operations: operations(ops)})
	return nil
}

func (s *Server) revealRolePassword(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	password, err := s.p.RevealRolePassword(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), r.PathValue("role_name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.RolePasswordResponse{Password: password})
	return nil
}
