package apiserver

import (
	"net/http"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/platform"
)

func (s *Server) endpointRoutes() {
	s.handle("GET /projects/{project_id}/endpoints", s.listEndpoints)
	s.handle("GET /projects/{project_id}/endpoints/{endpoint_id}", s.getEndpoint)
	s.handle("POST /projects/{project_id}/endpoints/{endpoint_id}/start", s.startEndpoint)
	s.handle("POST /projects/{project_id}/endpoints/{endpoint_id}/suspend", s.suspendEndpoint)
}

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request, pr platform.Principal) error {
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

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request, pr platform.Principal) error {
	v, err := s.p.GetEndpoint(r.Context(), pr, r.PathValue("project_id"), r.PathValue("endpoint_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.EndpointResponse{Endpoint: endpoint(v)})
	return nil
}

func (s *Server) startEndpoint(w http.ResponseWriter, r *http.Request, pr platform.Principal) error {
	v, ops, err := s.p.StartEndpoint(r.Context(), pr, r.PathValue("project_id"), r.PathValue("endpoint_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.EndpointOperations{Endpoint: endpoint(v), Operations: operations(ops)})
	return nil
}

func (s *Server) suspendEndpoint(w http.ResponseWriter, r *http.Request, pr platform.Principal) error {
	v, ops, err := s.p.SuspendEndpoint(r.Context(), pr, r.PathValue("project_id"), r.PathValue("endpoint_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.EndpointOperations{Endpoint: endpoint(v), Operations: operations(ops)})
	return nil
}
