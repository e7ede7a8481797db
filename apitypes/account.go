package apitypes

// OrgApiKeyCreateRequest is the body of POST /organizations/{org_id}/api_keys
// (spec: OrgApiKeyCreateRequest). A ProjectID makes a project-scoped key.
type OrgApiKeyCreateRequest struct {
	KeyName   string `json:"key_name"`
	ProjectID string `json:"project_id,omitempty"`
}

// OrgApiKeyCreateResponse is the response of POST
// /organizations/{org_id}/api_keys (status 200; spec:
// OrgApiKeyCreateResponse). Key is shown only here.
type OrgApiKeyCreateResponse struct {
	ApiKeyCreateResponse
	ProjectID string `json:"project_id,omitempty"`
}

// OrgApiKeysListResponseItem is one element of the bare array returned by
// GET /organizations/{org_id}/api_keys (spec: OrgApiKeysListResponseItem).
type OrgApiKeysListResponseItem struct {
	ApiKeysListResponseItem
	ProjectID string `json:"project_id,omitempty"`
}

// OrgApiKeyRevokeResponse is the response of DELETE
// /organizations/{org_id}/api_keys/{key_id} (spec: OrgApiKeyRevokeResponse).
type OrgApiKeyRevokeResponse struct {
	ApiKeyRevokeResponse
	ProjectID string `json:"project_id,omitempty"`
}

// AuthDetailsResponse is the response of GET /auth (spec:
// AuthDetailsResponse). AuthMethod is api_key_user for personal keys and
// api_key_org for org and project-scoped keys; AccountID is then the user
// id or the org id.
type AuthDetailsResponse struct {
	AccountID  string `json:"account_id"`
	AuthMethod string `json:"auth_method"`
	AuthData   string `json:"auth_data,omitempty"`
}

// Member is a membership of an organization (spec: Member); GET
// /organizations/{org_id}/members/{member_id} returns it bare. Role is one
// of admin, member, editor, viewer, collaborator.
type Member struct {
	ID       string `json:"id"`
	UserID   string `json:"user_id"`
	OrgID    string `json:"org_id"`
	Role     string `json:"role"`
	JoinedAt *Time  `json:"joined_at,omitempty"`
}

// MemberUserInfo is the user side of a member (spec: MemberUserInfo).
type MemberUserInfo struct {
	Email  string `json:"email"`
	HasMFA *bool  `json:"has_mfa,omitempty"`
}

// MemberWithUser is one element of a member list (spec: MemberWithUser).
type MemberWithUser struct {
	Member Member         `json:"member"`
	User   MemberUserInfo `json:"user"`
}

// OrganizationMembersResponse is the response of GET
// /organizations/{org_id}/members (spec: OrganizationMembersResponse with
// CursorPaginationResponse).
type OrganizationMembersResponse struct {
	Members    List[MemberWithUser] `json:"members"`
	Pagination *CursorPagination    `json:"pagination,omitempty"`
}
