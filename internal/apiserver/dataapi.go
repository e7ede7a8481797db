package apiserver

import (
	"net/http"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/dataapispec"
)

func (s *Server) dataAPIRoutes() {
	const path = "/projects/{project_id}/branches/{branch_id}/data-api/{database_name}"
	s.handle("POST "+path, s.createDataAPI)
	s.handle("GET "+path, s.getDataAPI)
	s.handle("PATCH "+path, s.updateDataAPI)
	s.handle("DELETE "+path, s.deleteDataAPI)
}

// The wire's settings and dataapispec's have the same fields.
func specSettings(s *apitypes.DataAPISettings) *dataapispec.Settings {
	if s == nil {
		return nil
	}
	out := dataapispec.Settings(*s)
	return &out
}

func (s *Server) createDataAPI(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req apitypes.DataAPICreateRequest
	if err := decode(r, &req, true); err != nil {
		return err
	}
	url, err := s.p.EnableDataAPI(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), r.PathValue("database_name"),
		dataapispec.CreateRequest{AuthProvider: req.AuthProvider, JWKSURL: req.JWKSURL, ProviderName: req.ProviderName,
			JWTAudience: req.JWTAudience, AddDefaultGrants: req.AddDefaultGrants, SkipAuthSchema: req.SkipAuthSchema,
			Settings: specSettings(req.Settings)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apitypes.DataAPICreateResponse{URL: url})
	return nil
}

func (s *Server) getDataAPI(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	d, err := s.p.GetDataAPI(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), r.PathValue("database_name"))
	if err != nil {
		return err
	}
	settings := apitypes.DataAPISettings(d.Settings)
	writeJSON(w, http.StatusOK, apitypes.DataAPIResponse{URL: d.URL, Status: "active", Settings: &settings,
		AvailableSchemas: d.AvailableSchemas})
	return nil
}

// updateDataAPI answers 201, as Neon's spec says.
func (s *Server) updateDataAPI(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req apitypes.DataAPIUpdateRequest
	if err := decode(r, &req, true); err != nil {
		return err
	}
	if err := s.p.UpdateDataAPI(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), r.PathValue("database_name"),
		specSettings(req.Settings)); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apitypes.EmptyResponse{})
	return nil
}

func (s *Server) deleteDataAPI(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	if err := s.p.DisableDataAPI(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), r.PathValue("database_name")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.EmptyResponse{})
	return nil
}
