package apiserver

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/connuri"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/platform"
)

func (s *Server) accountRoutes() {
	s.handle("GET /users/me", s.me)
	s.handle("GET /users/me/organizations", s.myOrgs)
	s.handle("GET /auth", s.authDetails)
	s.handle("GET /regions", s.regions)
	s.handle("GET /api_keys", s.listKeys)
	s.handle("POST /api_keys", s.createKey)
	s.handle("DELETE /api_keys/{key_id}", s.revokeKey)
	s.handle("GET /organizations/{org_id}", s.getOrg)
	s.handle("GET /organizations/{org_id}/members", s.orgMembers)
	s.handle("GET /organizations/{org_id}/members/{member_id}", s.orgMember)
	s.handle("GET /organizations/{org_id}/api_keys", s.listOrgKeys)
	s.handle("POST /organizations/{org_id}/api_keys", s.createOrgKey)
	s.handle("DELETE /organizations/{org_id}/api_keys/{key_id}", s.revokeOrgKey)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	u, err := s.p.Me(r.Context(), pr)
	if err != nil {
		return err
	}
	name, last, _ := strings.Cut(u.Name, " ")
	writeJSON(w, http.StatusOK, apitypes.CurrentUserInfoResponse{
		AuthAccounts: apitypes.List[apitypes.CurrentUserAuthAccount]{{Email: u.Email, Login: u.Email, Name: u.Name, Provider: apitypes.IdentityProviderKeycloak}},
		Email:        u.Email, ID: u.ID.String(), Login: u.Email, Name: name, LastName: last,
		ProjectsLimit: int64(u.Limits.ProjectsPerOrg), BranchesLimit: int64(u.Limits.BranchesPerProject),
		MaxAutoscalingLimit: u.Limits.MaxCU, Plan: u.Plan, // the plan's limits
	})
	return nil
}

func (s *Server) myOrgs(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	orgs, err := s.p.Accounts().Orgs(r.Context(), pr)
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

func (s *Server) regions(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
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
	for _, rg := range connuri.Regions {
		out.Regions = append(out.Regions, region{rg.ID, rg.Name, rg.Default, rg.Lat, rg.Long})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) authDetails(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	id, method := pr.AuthDetails()
	writeJSON(w, http.StatusOK, apitypes.AuthDetailsResponse{AccountID: id, AuthMethod: method})
	return nil
}

// keyRequest is the create body of personal and org keys, decoded so that
// a missing key_name is told from an empty one, with ogen's (Neon's)
// validation messages.
type keyRequest struct {
	KeyName   *string `json:"key_name"`
	ProjectID *string `json:"project_id"`
}

func decodeKey(r *http.Request, org bool) (accounts.KeyInput, error) {
	var req keyRequest
	if err := decode(r, &req, false); err != nil {
		return accounts.KeyInput{}, err
	}
	const prefix = "invalid request: decode application/json: invalid: "
	switch {
	case req.KeyName == nil:
		return accounts.KeyInput{}, badRequest(prefix + "key_name (field required)")
	case utf8.RuneCountInString(*req.KeyName) > accounts.MaxKeyName:
		return accounts.KeyInput{}, badRequest(prefix+"key_name (string: len %d greater than maximum %d)",
			utf8.RuneCountInString(*req.KeyName), accounts.MaxKeyName)
	}
	in := accounts.KeyInput{Name: *req.KeyName}
	if org && req.ProjectID != nil {
		if !ids.ValidResource(*req.ProjectID) {
			return accounts.KeyInput{}, badRequest(prefix + "project_id (string: no regex match: ^[a-z0-9-]{1,60}$)")
		}
		in.ProjectID = *req.ProjectID
	}
	return in, nil
}

func keyID(r *http.Request) (int64, error) {
	v := r.PathValue("key_id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badRequest("invalid request: path parameter key_id: %q is not an integer", v)
	}
	return id, nil
}

func createdKey(k accounts.CreatedKey) apitypes.ApiKeyCreateResponse {
	return apitypes.ApiKeyCreateResponse{ID: k.ID, Key: k.Secret, Name: k.Name, CreatedAt: at(k.CreatedAt), CreatedBy: k.CreatedBy.String()}
}

func listedKey(k platform.KeyListing) apitypes.ApiKeysListResponseItem {
	out := apitypes.ApiKeysListResponseItem{ID: k.ID, Name: k.Name, CreatedAt: at(k.CreatedAt),
		CreatedBy: apitypes.ApiKeyCreatorData{ID: k.CreatedBy.String(), Name: k.CreatorName}}
	if k.LastUsedAt != nil {
		t := at(*k.LastUsedAt)
		out.LastUsedAt = &t
	}
	return out
}

func revokedKey(k platform.KeyListing) apitypes.ApiKeyRevokeResponse {
	l := listedKey(k)
	return apitypes.ApiKeyRevokeResponse{ID: k.ID, Name: k.Name, CreatedAt: l.CreatedAt, CreatedBy: l.CreatedBy.ID,
		LastUsedAt: l.LastUsedAt, Revoked: k.Revoked}
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	keys, err := s.p.Accounts().ListPersonalKeys(r.Context(), pr)
	if err != nil {
		return err
	}
	out := make(apitypes.List[apitypes.ApiKeysListResponseItem], len(keys))
	for i, k := range keys {
		out[i] = listedKey(k)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	in, err := decodeKey(r, false)
	if err != nil {
		return err
	}
	k, err := s.p.Accounts().CreatePersonalKey(r.Context(), pr, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, createdKey(k))
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	id, err := keyID(r)
	if err != nil {
		return err
	}
	k, err := s.p.Accounts().RevokePersonalKey(r.Context(), pr, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, revokedKey(k))
	return nil
}

func (s *Server) listOrgKeys(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	keys, err := s.p.Accounts().ListOrgKeys(r.Context(), pr, r.PathValue("org_id"))
	if err != nil {
		return err
	}
	out := make(apitypes.List[apitypes.OrgApiKeysListResponseItem], len(keys))
	for i, k := range keys {
		out[i] = apitypes.OrgApiKeysListResponseItem{ApiKeysListResponseItem: listedKey(k), ProjectID: k.ProjectID}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createOrgKey(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	in, err := decodeKey(r, true)
	if err != nil {
		return err
	}
	k, err := s.p.CreateOrgKey(r.Context(), pr, r.PathValue("org_id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.OrgApiKeyCreateResponse{ApiKeyCreateResponse: createdKey(k), ProjectID: k.ProjectID})
	return nil
}

func (s *Server) revokeOrgKey(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	id, err := keyID(r)
	if err != nil {
		return err
	}
	k, err := s.p.Accounts().RevokeOrgKey(r.Context(), pr, r.PathValue("org_id"), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.OrgApiKeyRevokeResponse{ApiKeyRevokeResponse: revokedKey(k), ProjectID: k.ProjectID})
	return nil
}

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	o, err := s.p.Accounts().GetOrg(r.Context(), pr, r.PathValue("org_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, organization(o))
	return nil
}

func member(m platform.MemberWithUser) apitypes.Member {
	joined := at(m.JoinedAt)
	return apitypes.Member{ID: m.ID.String(), UserID: m.UserID.String(), OrgID: m.OrgID, Role: m.Role, JoinedAt: &joined}
}

func (s *Server) orgMembers(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	q := r.URL.Query()
	in := accounts.MembersInput{SortBy: q.Get("sort_by"), SortOrder: q.Get("sort_order"), Cursor: q.Get("cursor")}
	const prefix = "invalid request: decode params: query: "
	switch in.SortBy {
	case "", "email", "role", "joined_at":
	default:
		return badRequest(prefix+"sort_by: invalid value: %s", in.SortBy)
	}
	switch in.SortOrder {
	case "", "asc", "desc":
	default:
		return badRequest(prefix+"sort_order: invalid value: %s", in.SortOrder)
	}
	limit, err := queryInt(r, "limit", 0)
	if err != nil {
		return err
	}
	if q.Has("limit") && (limit < 1 || limit > 500) {
		return badRequest(prefix+"limit: int %d is not between 1 and 500", limit)
	}
	in.Limit = limit
	page, err := s.p.Accounts().OrgMembers(r.Context(), pr, r.PathValue("org_id"), in)
	if err != nil {
		return err
	}
	out := apitypes.OrganizationMembersResponse{Members: make(apitypes.List[apitypes.MemberWithUser], len(page.Members)),
		Pagination: &apitypes.CursorPagination{Next: page.Next, SortBy: page.SortBy, SortOrder: strings.ToUpper(page.SortOrder)}}
	for i, m := range page.Members {
		out.Members[i] = apitypes.MemberWithUser{Member: member(m), User: apitypes.MemberUserInfo{Email: m.Email}}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) orgMember(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	m, err := s.p.Accounts().OrgMember(r.Context(), pr, r.PathValue("org_id"), r.PathValue("member_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, member(m))
	return nil
}
