package apitypes

// Endpoint is a compute endpoint (spec: Endpoint). Settings is always sent
// (as {} when empty); PoolerEnabled, PoolerMode ("transaction"),
// PasswordlessAccess, ProxyHost, Provisioner and SuspendTimeoutSeconds are
// required.
type Endpoint struct {
	Host                  string             `json:"host"`
	ID                    string             `json:"id"`
	Name                  string             `json:"name,omitempty"`
	ProjectID             string             `json:"project_id"`
	BranchID              string             `json:"branch_id"`
	AutoscalingLimitMinCU float64            `json:"autoscaling_limit_min_cu"`
	AutoscalingLimitMaxCU float64            `json:"autoscaling_limit_max_cu"`
	RegionID              string             `json:"region_id"`
	Type                  EndpointType       `json:"type"`
	CurrentState          EndpointState      `json:"current_state"`
	PendingState          EndpointState      `json:"pending_state,omitempty"`
	Settings              EndpointSettings   `json:"settings"`
	PoolerEnabled         bool               `json:"pooler_enabled"` // deprecated, still required
	PoolerMode            EndpointPoolerMode `json:"pooler_mode"`    // deprecated, still required
	Disabled              bool               `json:"disabled"`
	PasswordlessAccess    bool               `json:"passwordless_access"`
	LastActive            Time               `json:"last_active,omitzero"`
	CreationSource        string             `json:"creation_source"`
	CreatedAt             Time               `json:"created_at"`
	UpdatedAt             Time               `json:"updated_at"`
	StartedAt             Time               `json:"started_at,omitzero"`
	SuspendedAt           Time               `json:"suspended_at,omitzero"`
	ProxyHost             string             `json:"proxy_host"`
	SuspendTimeoutSeconds int64              `json:"suspend_timeout_seconds"`
	Provisioner           Provisioner        `json:"provisioner"`
	ComputeReleaseVersion string             `json:"compute_release_version,omitempty"`
}

// EndpointSettings are an endpoint's Postgres settings (spec:
// EndpointSettingsData).
type EndpointSettings struct {
	PgSettings        map[string]string `json:"pg_settings,omitzero"`
	PgbouncerSettings map[string]string `json:"pgbouncer_settings,omitzero"` // deprecated
	PreloadLibraries  *PreloadLibraries `json:"preload_libraries,omitempty"`
}

// EndpointCreateRequest is the body of POST /projects/{project_id}/endpoints
// (spec: EndpointCreateRequest).
type EndpointCreateRequest struct {
	Endpoint EndpointCreate `json:"endpoint"`
}

// EndpointCreate is the endpoint object of an [EndpointCreateRequest].
// BranchID and Type are required.
type EndpointCreate struct {
	BranchID              string             `json:"branch_id"`
	RegionID              string             `json:"region_id,omitempty"`
	Type                  EndpointType       `json:"type"`
	Settings              *EndpointSettings  `json:"settings,omitempty"`
	AutoscalingLimitMinCU *float64           `json:"autoscaling_limit_min_cu,omitempty"`
	AutoscalingLimitMaxCU *float64           `json:"autoscaling_limit_max_cu,omitempty"`
	Provisioner           Provisioner        `json:"provisioner,omitempty"`
	PoolerEnabled         *bool              `json:"pooler_enabled,omitempty"` // deprecated
	PoolerMode            EndpointPoolerMode `json:"pooler_mode,omitempty"`    // deprecated
	Disabled              *bool              `json:"disabled,omitempty"`
	PasswordlessAccess    *bool              `json:"passwordless_access,omitempty"`
	SuspendTimeoutSeconds *int64             `json:"suspend_timeout_seconds,omitempty"`
	Name                  string             `json:"name,omitempty"`
}

// EndpointUpdateRequest is the body of PATCH
// /projects/{project_id}/endpoints/{endpoint_id} (spec:
// EndpointUpdateRequest).
type EndpointUpdateRequest struct {
	Endpoint EndpointUpdate `json:"endpoint"`
}

// EndpointUpdate is the endpoint object of an [EndpointUpdateRequest]. Absent
// fields are left unchanged.
type EndpointUpdate struct {
	BranchID              string             `json:"branch_id,omitempty"` // deprecated: move to another branch
	AutoscalingLimitMinCU *float64           `json:"autoscaling_limit_min_cu,omitempty"`
	AutoscalingLimitMaxCU *float64           `json:"autoscaling_limit_max_cu,omitempty"`
	Provisioner           Provisioner        `json:"provisioner,omitempty"`
	Settings              *EndpointSettings  `json:"settings,omitempty"`
	PoolerEnabled         *bool              `json:"pooler_enabled,omitempty"` // deprecated
	PoolerMode            EndpointPoolerMode `json:"pooler_mode,omitempty"`    // deprecated
	Disabled              *bool              `json:"disabled,omitempty"`
	PasswordlessAccess    *bool              `json:"passwordless_access,omitempty"`
	SuspendTimeoutSeconds *int64             `json:"suspend_timeout_seconds,omitempty"`
	Name                  string             `json:"name,omitempty"`
}

// EndpointResponse wraps one endpoint (spec: EndpointResponse).
type EndpointResponse struct {
	Endpoint Endpoint `json:"endpoint"`
}

// EndpointsResponse is a list of endpoints (spec: EndpointsResponse).
type EndpointsResponse struct {
	Endpoints List[Endpoint] `json:"endpoints"`
}

// EndpointOperations is the response of endpoint mutations: create, update,
// delete, start, suspend, restart (spec: EndpointOperations).
type EndpointOperations struct {
	Endpoint   Endpoint        `json:"endpoint"`
	Operations List[Operation] `json:"operations"`
}
