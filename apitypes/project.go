package apitypes

import "encoding/json"

// Project is a project as returned by get, create, update and delete (spec:
// Project). The consumption counters and ConsumptionPeriodStart/End are
// required; the period is the current calendar month (UTC) on every
// answer, where Neon sends the zero time outside GET /projects/{id}.
type Project struct {
	DataStorageBytesHour    int64                    `json:"data_storage_bytes_hour"`
	DataTransferBytes       int64                    `json:"data_transfer_bytes"`
	WrittenDataBytes        int64                    `json:"written_data_bytes"`
	ComputeTimeSeconds      int64                    `json:"compute_time_seconds"`
	ActiveTimeSeconds       int64                    `json:"active_time_seconds"`
	CPUUsedSec              int64                    `json:"cpu_used_sec"` // deprecated, still required
	ID                      string                   `json:"id"`
	PlatformID              string                   `json:"platform_id"`
	RegionID                string                   `json:"region_id"`
	Name                    string                   `json:"name"`
	Provisioner             Provisioner              `json:"provisioner"`
	DefaultEndpointSettings *DefaultEndpointSettings `json:"default_endpoint_settings,omitempty"`
	Settings                *ProjectSettings         `json:"settings,omitempty"`
	PgVersion               int                      `json:"pg_version"`
	ProxyHost               string                   `json:"proxy_host"`
	// BranchLogicalSizeLimit is in MiB, BranchLogicalSizeLimitBytes in bytes.
	BranchLogicalSizeLimit      int64                  `json:"branch_logical_size_limit"`
	BranchLogicalSizeLimitBytes int64                  `json:"branch_logical_size_limit_bytes"`
	StorePasswords              bool                   `json:"store_passwords"`
	MaintenanceStartsAt         Time                   `json:"maintenance_starts_at,omitzero"`
	CreationSource              string                 `json:"creation_source"`
	HistoryRetentionSeconds     int32                  `json:"history_retention_seconds"`
	CreatedAt                   Time                   `json:"created_at"`
	UpdatedAt                   Time                   `json:"updated_at"`
	SyntheticStorageSize        *int64                 `json:"synthetic_storage_size,omitempty"`
	ConsumptionPeriodStart      Time                   `json:"consumption_period_start"`
	ConsumptionPeriodEnd        Time                   `json:"consumption_period_end"`
	QuotaResetAt                Time                   `json:"quota_reset_at,omitzero"` // deprecated
	OwnerID                     string                 `json:"owner_id"`
	Owner                       *ProjectOwner          `json:"owner,omitempty"`
	ComputeLastActiveAt         Time                   `json:"compute_last_active_at,omitzero"`
	OrgID                       string                 `json:"org_id,omitempty"`
	MaintenanceScheduledFor     Time                   `json:"maintenance_scheduled_for,omitzero"`
	HIPAAEnabledAt              Time                   `json:"hipaa_enabled_at,omitzero"`
	EffectiveProjectPermission  ProjectPermissionLevel `json:"effective_project_permission,omitempty"`
}

// ProjectListItem is a project in GET /projects (spec: ProjectListItem). It
// carries active_time instead of the consumption counters of [Project].
type ProjectListItem struct {
	ID                          string                   `json:"id"`
	PlatformID                  string                   `json:"platform_id"`
	RegionID                    string                   `json:"region_id"`
	Name                        string                   `json:"name"`
	Provisioner                 Provisioner              `json:"provisioner"`
	DefaultEndpointSettings     *DefaultEndpointSettings `json:"default_endpoint_settings,omitempty"`
	Settings                    *ProjectSettings         `json:"settings,omitempty"`
	PgVersion                   int                      `json:"pg_version"`
	ProxyHost                   string                   `json:"proxy_host"`
	BranchLogicalSizeLimit      int64                    `json:"branch_logical_size_limit"`
	BranchLogicalSizeLimitBytes int64                    `json:"branch_logical_size_limit_bytes"`
	StorePasswords              bool                     `json:"store_passwords"`
	ActiveTime                  int64                    `json:"active_time"`
	CPUUsedSec                  int64                    `json:"cpu_used_sec"` // deprecated, still required
	MaintenanceStartsAt         Time                     `json:"maintenance_starts_at,omitzero"`
	CreationSource              string                   `json:"creation_source"`
	CreatedAt                   Time                     `json:"created_at"`
	UpdatedAt                   Time                     `json:"updated_at"`
	SyntheticStorageSize        *int64                   `json:"synthetic_storage_size,omitempty"`
	QuotaResetAt                Time                     `json:"quota_reset_at,omitzero"` // deprecated
	OwnerID                     string                   `json:"owner_id"`
	ComputeLastActiveAt         Time                     `json:"compute_last_active_at,omitzero"`
	OrgID                       string                   `json:"org_id,omitempty"`
	OrgName                     string                   `json:"org_name,omitempty"`
	HistoryRetentionSeconds     *int32                   `json:"history_retention_seconds,omitempty"`
	HIPAAEnabledAt              Time                     `json:"hipaa_enabled_at,omitzero"`
	DeletedAt                   Time                     `json:"deleted_at,omitzero"`
	RecoverableUntil            Time                     `json:"recoverable_until,omitzero"`
	EffectiveProjectPermission  ProjectPermissionLevel   `json:"effective_project_permission,omitempty"`
}

// ProjectOwner describes the owner of a project (spec: ProjectOwnerData).
type ProjectOwner struct {
	Email            string                  `json:"email"`
	Name             string                  `json:"name"`
	BranchesLimit    int                     `json:"branches_limit"`
	SubscriptionType BillingSubscriptionType `json:"subscription_type"`
}

// ProjectSettings are a project's settings (spec: ProjectSettingsData). Every
// field is optional; Neon fills allowed_ips, the booleans and the maintenance
// window in responses.
type ProjectSettings struct {
	Quota                    *ProjectQuota        `json:"quota,omitempty"`
	AllowedIPs               *AllowedIPs          `json:"allowed_ips,omitempty"`
	EnableLogicalReplication *bool                `json:"enable_logical_replication,omitempty"`
	MaintenanceWindow        *MaintenanceWindow   `json:"maintenance_window,omitempty"`
	BlockPublicConnections   *bool                `json:"block_public_connections,omitempty"`
	BlockVPCConnections      *bool                `json:"block_vpc_connections,omitempty"`
	AuditLogLevel            ProjectAuditLogLevel `json:"audit_log_level,omitempty"`
	HIPAA                    *bool                `json:"hipaa,omitempty"`
	PreloadLibraries         *PreloadLibraries    `json:"preload_libraries,omitempty"`
}

// ProjectQuota holds per-project limits for the billing period; 0 or absent
// means unlimited (spec: ProjectQuota).
type ProjectQuota struct {
	ActiveTimeSeconds  *int64 `json:"active_time_seconds,omitempty"`
	ComputeTimeSeconds *int64 `json:"compute_time_seconds,omitempty"`
	WrittenDataBytes   *int64 `json:"written_data_bytes,omitempty"`
	DataTransferBytes  *int64 `json:"data_transfer_bytes,omitempty"`
	LogicalSizeBytes   *int64 `json:"logical_size_bytes,omitempty"`
}

// AllowedIPs restricts the client addresses allowed to connect (spec:
// AllowedIps). A non-nil empty IPs is sent as [].
type AllowedIPs struct {
	IPs                   []string `json:"ips,omitzero"`
	ProtectedBranchesOnly *bool    `json:"protected_branches_only,omitempty"`
}

// MaintenanceWindow is a weekly maintenance window in UTC (spec:
// MaintenanceWindow). Weekdays are 1 (Monday) to 7; times are "HH:MM".
type MaintenanceWindow struct {
	Weekdays  List[int] `json:"weekdays"`
	StartTime string    `json:"start_time"`
	EndTime   string    `json:"end_time"`
}

// PreloadLibraries selects shared_preload_libraries (spec: PreloadLibraries).
type PreloadLibraries struct {
	UseDefaults      *bool    `json:"use_defaults,omitempty"`
	EnabledLibraries []string `json:"enabled_libraries,omitzero"`
}

// DefaultEndpointSettings are the defaults applied to endpoints created in a
// project (spec: DefaultEndpointSettings).
type DefaultEndpointSettings struct {
	PgSettings            map[string]string `json:"pg_settings,omitzero"`
	PgbouncerSettings     map[string]string `json:"pgbouncer_settings,omitzero"` // deprecated
	AutoscalingLimitMinCU *float64          `json:"autoscaling_limit_min_cu,omitempty"`
	AutoscalingLimitMaxCU *float64          `json:"autoscaling_limit_max_cu,omitempty"`
	SuspendTimeoutSeconds *int64            `json:"suspend_timeout_seconds,omitempty"`
}

// ProjectCreateRequest is the body of POST /projects (spec:
// ProjectCreateRequest).
type ProjectCreateRequest struct {
	Project ProjectCreate `json:"project"`
}

// ProjectCreate is the project object of a [ProjectCreateRequest]. Every
// field is optional.
type ProjectCreate struct {
	Settings *ProjectSettings     `json:"settings,omitempty"`
	Name     string               `json:"name,omitempty"`
	Branch   *ProjectCreateBranch `json:"branch,omitempty"`
	// Deprecated: use DefaultEndpointSettings.AutoscalingLimitMinCU.
	AutoscalingLimitMinCU *float64 `json:"autoscaling_limit_min_cu,omitempty"`
	// Deprecated: use DefaultEndpointSettings.AutoscalingLimitMaxCU.
	AutoscalingLimitMaxCU   *float64                 `json:"autoscaling_limit_max_cu,omitempty"`
	Provisioner             Provisioner              `json:"provisioner,omitempty"`
	RegionID                string                   `json:"region_id,omitempty"`
	DefaultEndpointSettings *DefaultEndpointSettings `json:"default_endpoint_settings,omitempty"`
	PgVersion               int                      `json:"pg_version,omitempty"`
	StorePasswords          *bool                    `json:"store_passwords,omitempty"`
	HistoryRetentionSeconds *int32                   `json:"history_retention_seconds,omitempty"`
	OrgID                   string                   `json:"org_id,omitempty"`
}

// ProjectCreateBranch configures the default branch of a new project.
// Defaults: name "main", database "neondb", role "{database}_owner".
type ProjectCreateBranch struct {
	Name         string            `json:"name,omitempty"`
	RoleName     string            `json:"role_name,omitempty"`
	DatabaseName string            `json:"database_name,omitempty"`
	Annotations  map[string]string `json:"annotations,omitzero"`
}

// ProjectUpdateRequest is the body of PATCH /projects/{project_id} (spec:
// ProjectUpdateRequest).
type ProjectUpdateRequest struct {
	Project ProjectUpdate `json:"project"`
}

// ProjectUpdate is the project object of a [ProjectUpdateRequest]. Absent
// fields are left unchanged.
type ProjectUpdate struct {
	Settings                *ProjectSettings         `json:"settings,omitempty"`
	Name                    string                   `json:"name,omitempty"`
	DefaultEndpointSettings *DefaultEndpointSettings `json:"default_endpoint_settings,omitempty"`
	HistoryRetentionSeconds *int32                   `json:"history_retention_seconds,omitempty"`
}

// ProjectResponse wraps one project: GET and DELETE /projects/{project_id}
// (spec: ProjectResponse).
type ProjectResponse struct {
	Project Project `json:"project"`
}

// ProjectOperations is the response of PATCH /projects/{project_id}
// (ProjectResponse + OperationsResponse).
type ProjectOperations struct {
	Project    Project         `json:"project"`
	Operations List[Operation] `json:"operations"`
}

// ProjectsResponse is the response of GET /projects (ProjectsResponse +
// PaginationResponse + ProjectsApplicationsMapResponse +
// ProjectsIntegrationsMapResponse). Pagination is omitted when the list is
// empty; Applications and Integrations are always sent, as {} when nil.
type ProjectsResponse struct {
	Projects              List[ProjectListItem]        `json:"projects"`
	UnavailableProjectIDs []string                     `json:"unavailable_project_ids,omitzero"`
	Pagination            *Pagination                  `json:"pagination,omitempty"`
	Applications          map[string][]ApplicationType `json:"applications"`
	Integrations          map[string][]ApplicationType `json:"integrations"`
}

// SharedProjectsResponse is listSharedProjects' answer (ProjectsResponse +
// PaginationResponse, without the applications and integrations maps).
type SharedProjectsResponse struct {
	Projects   List[ProjectListItem] `json:"projects"`
	Pagination *Pagination           `json:"pagination,omitempty"`
}

// MarshalJSON implements [json.Marshaler], sending nil maps as {}.
func (r ProjectsResponse) MarshalJSON() ([]byte, error) {
	type plain ProjectsResponse
	p := plain(r)
	if p.Applications == nil {
		p.Applications = map[string][]ApplicationType{}
	}
	if p.Integrations == nil {
		p.Integrations = map[string][]ApplicationType{}
	}
	return json.Marshal(p)
}

// CreatedProject is the response of POST /projects (spec response
// CreatedProject): the project with its default branch, its read-write
// endpoint, the owner role (with password), the database, the connection URI
// and the operations started.
type CreatedProject struct {
	Project        Project                 `json:"project"`
	ConnectionURIs List[ConnectionDetails] `json:"connection_uris"`
	Roles          List[Role]              `json:"roles"`
	Databases      List[Database]          `json:"databases"`
	Operations     List[Operation]         `json:"operations"`
	Branch         Branch                  `json:"branch"`
	Endpoints      List[Endpoint]          `json:"endpoints"`
}

// ConnectionDetails is a connection URI with its parts (spec:
// ConnectionDetails).
type ConnectionDetails struct {
	ConnectionURI        string               `json:"connection_uri"`
	ConnectionParameters ConnectionParameters `json:"connection_parameters"`
}

// ConnectionParameters are the parts of a connection URI (spec:
// ConnectionParameters).
type ConnectionParameters struct {
	Database   string `json:"database"`
	Password   string `json:"password"`
	Role       string `json:"role"`
	Host       string `json:"host"`
	PoolerHost string `json:"pooler_host"`
}

// ConnectionURIResponse is the response of GET
// /projects/{project_id}/connection_uri (spec: ConnectionURIResponse).
type ConnectionURIResponse struct {
	URI string `json:"uri"`
}
