package apiserver

import (
	"net/http"
	"strings"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/platform"
)

func (s *Server) accountRoutes() {
	s.handle("GET /users/me", s.me)
	s.handle("GET /users/me/organizations", s.myOrgs)
	s.handle("GET /regions", s.regions)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, pr platform.Principal) error {
	u, err := s.p.Me(r.Context(), pr)
	if err != nil {
		return err
	}
	name, last, _ := strings.Cut(u.Name, " ")
	writeJSON(w, http.StatusOK, apitypes.CurrentUserInfoResponse{
		AuthAccounts: apitypes.List[apitypes.CurrentUserAuthAccount]{{Email: u.Email, Login: u.Email, Name: u.Name, Provider: apitypes.IdentityProviderKeycloak}},
		Email:        u.Email, ID: u.ID.String(), Login: u.Email, Name: name, LastName: last,
		ProjectsLimit: 30000, BranchesLimit: 5000, MaxAutoscalingLimit: 16, Plan: "free",
	})
	return nil
}

func (s *Server) myOrgs(w http.ResponseWriter, r *http.Request, pr platform.Principal) error {
	orgs, err := s.p.Orgs(r.Context(), pr)
	if err != nil {
		return err
	}
	out := apitypes.OrganizationsResponse{Organizations: make(apitypes.List[apitypes.Organization], len(orgs))}
	for i, o := range orgs {
		out.Organizations[i] = organization(o)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) regions(w http.ResponseWriter, r *http.Request, pr platform.Principal) error {
	type region struct {
		RegionID string `json:"region_id"`
		Name     string `json:"name"`
		Default  bool   `json:"default"`
		GeoLat   string `json:"geo_lat"`
		GeoLong  string `json:"geo_long"`
	}
	out := struct {
		Regions []region `json:"regions"`
	}{}
	for _, rg := range platform.Regions {
		out.Regions = append(out.Regions, region{rg.ID, rg.Name, rg.Default, rg.Lat, rg.Long})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
