package apitypes

// CurrentUserInfoResponse is the response of GET /users/me (spec:
// CurrentUserInfoResponse). The optional billing_account object is not
// modelled.
type CurrentUserInfoResponse struct {
	ActiveSecondsLimit  int64                        `json:"active_seconds_limit"`
	AuthAccounts        List[CurrentUserAuthAccount] `json:"auth_accounts"`
	Email               string                       `json:"email"`
	ID                  string                       `json:"id"`
	Image               string                       `json:"image"`
	Login               string                       `json:"login"` // deprecated, still required
	Name                string                       `json:"name"`
	LastName            string                       `json:"last_name"`
	ProjectsLimit       int64                        `json:"projects_limit"`
	BranchesLimit       int64                        `json:"branches_limit"`
	MaxAutoscalingLimit float64                      `json:"max_autoscaling_limit"`
	ComputeSecondsLimit *int64                       `json:"compute_seconds_limit,omitempty"`
	Plan                string                       `json:"plan"`
}

// CurrentUserAuthAccount is one login of the current user (spec:
// CurrentUserAuthAccount).
type CurrentUserAuthAccount struct {
	Email    string             `json:"email"`
	Image    string             `json:"image"`
	Login    string             `json:"login"` // deprecated, still required
	Name     string             `json:"name"`
	Provider IdentityProviderID `json:"provider"`
}

// Organization is an organization (spec: Organization). GET
// /organizations/{org_id} returns it bare.
type Organization struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Handle             string `json:"handle"`
	Plan               string `json:"plan"`
	CreatedAt          Time   `json:"created_at"`
	ManagedBy          string `json:"managed_by"`
	UpdatedAt          Time   `json:"updated_at"`
	AllowHIPAAProjects *bool  `json:"allow_hipaa_projects,omitempty"`
	RequireMFA         *bool  `json:"require_mfa,omitempty"`
}

// OrganizationsResponse is the response of GET /users/me/organizations
// (spec: OrganizationsResponse).
type OrganizationsResponse struct {
	Organizations List[Organization] `json:"organizations"`
}

// ApiKeyCreateRequest is the body of POST /api_keys (spec:
// ApiKeyCreateRequest). KeyName is at most 64 characters.
type ApiKeyCreateRequest struct {
	KeyName string `json:"key_name"`
}

// ApiKeyCreateResponse is the response of POST /api_keys (status 200). Key
// is the secret, shown only here; CreatedBy is the creator's user id (a
// UUID string, unlike the object in [ApiKeysListResponseItem]).
type ApiKeyCreateResponse struct {
	ID        int64  `json:"id"`
	Key       string `json:"key"`
	Name      string `json:"name"`
	CreatedAt Time   `json:"created_at"`
	CreatedBy string `json:"created_by"`
}

// ApiKeysListResponseItem is one element of the bare array returned by GET
// /api_keys. LastUsedAt is nullable and sent as null when the key was never
// used.
type ApiKeysListResponseItem struct {
	ID               int64             `json:"id"`
	Name             string            `json:"name"`
	CreatedAt        Time              `json:"created_at"`
	CreatedBy        ApiKeyCreatorData `json:"created_by"`
	LastUsedAt       *Time             `json:"last_used_at"`
	LastUsedFromAddr string            `json:"last_used_from_addr"`
}

// ApiKeyCreatorData identifies the user who created an API key (spec:
// ApiKeyCreatorData). ID is a UUID.
type ApiKeyCreatorData struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Image string `json:"image"`
}

// ApiKeyRevokeResponse is the response of DELETE /api_keys/{key_id} (spec:
// ApiKeyRevokeResponse).
type ApiKeyRevokeResponse struct {
	ID               int64  `json:"id"`
	Name             string `json:"name"`
	CreatedAt        Time   `json:"created_at"`
	CreatedBy        string `json:"created_by"`
	LastUsedAt       *Time  `json:"last_used_at"`
	LastUsedFromAddr string `json:"last_used_from_addr"`
	Revoked          bool   `json:"revoked"`
}

// ActiveRegionsResponse is the response of GET /regions (spec:
// ActiveRegionsResponse).
type ActiveRegionsResponse struct {
	Regions List[RegionResponse] `json:"regions"`
}

// RegionResponse is one region (spec: RegionResponse). GeoLat and GeoLong are
// decimal strings.
type RegionResponse struct {
	RegionID string `json:"region_id"`
	Name     string `json:"name"`
	Default  bool   `json:"default"`
	GeoLat   string `json:"geo_lat"`
	GeoLong  string `json:"geo_long"`
}
