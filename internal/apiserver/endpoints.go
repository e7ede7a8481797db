package apiserver

import (
	"encoding/json"
	"net/http"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/endpointspec"
)

func (s *Server) endpointRoutes() {
	s.handle("GET /projects/{project_id}/endpoints", s.listEndpoints)
	s.handle("GET /projects/{project_id}/endpoints/{endpoint_id}", s.getEndpoint)
	s.handle("POST /projects/{project_id}/endpoints/{endpoint_id}/start", s.startEndpoint)
	s.handle("POST /projects/{project_id}/endpoints/{endpoint_id}/suspend", s.suspendEndpoint)
	s.handle("POST /projects/{project_id}/endpoints", s.createEndpoint)
	s.handle("PATCH /projects/{project_id}/endpoints/{endpoint_id}", s.updateEndpoint)
	s.handle("DELETE /projects/{project_id}/endpoints/{endpoint_id}", s.deleteEndpoint)
	s.handle("POST /projects/{project_id}/endpoints/{endpoint_id}/restart", s.restartEndpoint)
	// A Grove extension, outside Neon's spec (and so outside the routes the
	// contract test checks against it): the compute's size now.
	s.mux.Handle("GET /api/v2/projects/{project_id}/endpoints/{endpoint_id}/compute", s.authed(s.endpointCompute))
}

func (s *Server) endpointCompute(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	e, err := s.p.GetEndpoint(r.Context(), pr, r.PathValue("project_id"), r.PathValue("endpoint_id"))
	if err != nil {
		return err
	}
	out := apitypes.EndpointCompute{EndpointID: e.ID, CurrentState: apitypes.EndpointState(e.CurrentState),
		AutoscalingLimitMinCU: e.MinCU, AutoscalingLimitMaxCU: e.MaxCU, CurrentCU: e.CurrentCU}
	if !e.StartedAt.IsZero() {
		out.StartedAt = at(e.StartedAt)
	}
	writeJSON(w, http.StatusOK, apitypes.EndpointComputeResponse{Compute: out})
	return nil
}

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	p, err := s.p.GetProject(r.Context(), pr, r.PathValue("project_id"))
	if err != nil {
		return err
	}
	views, err := s.p.ProjectEndpoints(r.Context(), p.ID)
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

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	v, err := s.p.GetEndpoint(r.Context(), pr, r.PathValue("project_id"), r.PathValue("endpoint_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.EndpointResponse{Endpoint: endpoint(v)})
	return nil
}

func (s *Server) startEndpoint(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	v, ops, err := s.p.StartEndpoint(r.Context(), pr, r.PathValue("project_id"), r.PathValue("endpoint_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.EndpointOperations{Endpoint: endpoint(v), Operations: operations(ops)})
	return nil
}

func (s *Server) suspendEndpoint(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	v, ops, err := s.p.SuspendEndpoint(r.Context(), pr, r.PathValue("project_id"), r.PathValue("endpoint_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.EndpointOperations{Endpoint: endpoint(v), Operations: operations(ops)})
	return nil
}

func (s *Server) createEndpoint(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req struct {
		Endpoint *struct {
			apitypes.EndpointCreate
			Settings json.RawMessage `json:"settings"`
		} `json:"endpoint"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	e := req.Endpoint
	switch {
	case e == nil:
		return badRequest("invalid request: decode application/json: invalid: endpoint (field required)")
	case e.BranchID == "":
		return badRequest("invalid request: decode application/json: invalid: endpoint.branch_id (field required)")
	case e.Type == "":
		return badRequest("invalid request: decode application/json: invalid: endpoint.type (field required)")
	}
	settings, err := endpointSettingsBody(e.Settings)
	if err != nil {
		return err
	}
	v, ops, err := s.p.CreateEndpoint(r.Context(), pr, r.PathValue("project_id"), endpointspec.Input{
		BranchID: e.BranchID, Type: string(e.Type), RegionID: e.RegionID, Provisioner: string(e.Provisioner), Name: e.Name,
		MinCU: e.AutoscalingLimitMinCU, MaxCU: e.AutoscalingLimitMaxCU, SuspendTimeoutSeconds: e.SuspendTimeoutSeconds,
		Disabled: e.Disabled, PasswordlessAccess: e.PasswordlessAccess, Settings: settings,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apitypes.EndpointOperations{Endpoint: endpoint(v), Operations: operations(ops)})
	return nil
}

// endpointSettingsBody checks the types of an endpoint's settings object
// (in the API's error words) and returns it, nil when absent.
func endpointSettingsBody(raw json.RawMessage) (json.RawMessage, error) {
	raw = nonNull(raw)
	if raw == nil {
		return nil, nil
	}
	if err := json.Unmarshal(raw, new(apitypes.EndpointSettings)); err != nil {
		return nil, badRequest("invalid request: decode application/json: endpoint.settings: %v", err)
	}
	return raw, nil
}

func (s *Server) updateEndpoint(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req struct {
		Endpoint *struct {
			apitypes.EndpointUpdate
			Name        *string         `json:"name"`
			Provisioner *string         `json:"provisioner"`
			Settings    json.RawMessage `json:"settings"`
		} `json:"endpoint"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	e := req.Endpoint
	if e == nil {
		return badRequest("invalid request: decode application/json: invalid: endpoint (field required)")
	}
	settings, err := endpointSettingsBody(e.Settings)
	if err != nil {
		return err
	}
	v, ops, err := s.p.UpdateEndpoint(r.Context(), pr, r.PathValue("project_id"), r.PathValue("endpoint_id"), endpointspec.Update{
		BranchID: e.BranchID, MinCU: e.AutoscalingLimitMinCU, MaxCU: e.AutoscalingLimitMaxCU,
		SuspendTimeoutSeconds: e.SuspendTimeoutSeconds, Disabled: e.Disabled, PasswordlessAccess: e.PasswordlessAccess,
		Provisioner: e.Provisioner, Name: e.Name, Settings: settings,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.EndpointOperations{Endpoint: endpoint(v), Operations: operations(ops)})
	return nil
}

func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	v, ops, gone, err := s.p.DeleteEndpoint(r.Context(), pr, r.PathValue("project_id"), r.PathValue("endpoint_id"))
	if err != nil {
		return err
	}
	if gone {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusOK, apitypes.EndpointOperations{Endpoint: endpoint(v), Operations: operations(ops)})
	return nil
}

func (s *Server) restartEndpoint(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	v, ops, err := s.p.RestartEndpoint(r.Context(), pr, r.PathValue("project_id"), r.PathValue("endpoint_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.EndpointOperations{Endpoint: endpoint(v), Operations: operations(ops)})
	return nil
}
