package apitypes

// Snapshot is a read-only point-in-time copy of a root branch (spec:
// Snapshot). The spec types its times as plain strings; Grove sends RFC 3339.
type Snapshot struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	CreatedAt      Time   `json:"created_at"`
	LSN            string `json:"lsn,omitempty"`
	Timestamp      Time   `json:"timestamp,omitzero"`
	SourceBranchID string `json:"source_branch_id,omitempty"`
	ExpiresAt      Time   `json:"expires_at,omitzero"`
	Manual         bool   `json:"manual"`
	FullSize       *int64 `json:"full_size,omitempty"`
	DiffSize       *int64 `json:"diff_size,omitempty"`
}

// SnapshotCreateRequest is the optional JSON body of POST
// /projects/{project_id}/branches/{branch_id}/snapshot. Neon documents
// query parameters only, but its guides and demo send these fields as a
// body; Grove accepts both (query parameters win).
type SnapshotCreateRequest struct {
	LSN       string `json:"lsn,omitempty"`
	Timestamp *Time  `json:"timestamp,omitempty"`
	Name      string `json:"name,omitempty"`
	ExpiresAt *Time  `json:"expires_at,omitempty"`
}

// SnapshotOperations is the response of a snapshot create (snapshot +
// operations).
type SnapshotOperations struct {
	Snapshot   Snapshot        `json:"snapshot"`
	Operations List[Operation] `json:"operations"`
}

// SnapshotResponse wraps one snapshot (PATCH response).
type SnapshotResponse struct {
	Snapshot Snapshot `json:"snapshot"`
}

// SnapshotsResponse is the response of GET /projects/{project_id}/snapshots.
type SnapshotsResponse struct {
	Snapshots List[Snapshot] `json:"snapshots"`
}

// SnapshotUpdateRequest is the body of PATCH
// /projects/{project_id}/snapshots/{snapshot_id} (spec:
// SnapshotUpdateRequest).
type SnapshotUpdateRequest struct {
	Snapshot SnapshotUpdate `json:"snapshot"`
}

// SnapshotUpdate is the snapshot object of a [SnapshotUpdateRequest].
type SnapshotUpdate struct {
	Name string `json:"name,omitempty"`
}

// SnapshotRestoreRequest is the optional body of POST
// /projects/{project_id}/snapshots/{snapshot_id}/restore.
type SnapshotRestoreRequest struct {
	Name            string `json:"name,omitempty"`
	TargetBranchID  string `json:"target_branch_id,omitempty"`
	FinalizeRestore bool   `json:"finalize_restore,omitempty"`
}

// RestoredSnapshot is the response of a snapshot restore (spec response
// RestoredSnapshot: BranchResponse + EndpointsOptionalResponse +
// OperationsResponse).
type RestoredSnapshot struct {
	Branch     Branch          `json:"branch"`
	Endpoints  []Endpoint      `json:"endpoints,omitempty"`
	Operations List[Operation] `json:"operations"`
}

// FinalizeRestoreRequest is the optional body of POST
// /projects/{project_id}/branches/{branch_id}/finalize_restore: the name
// the replaced branch gets.
type FinalizeRestoreRequest struct {
	Name string `json:"name,omitempty"`
}

// BranchRestoreRequest is the body of POST
// /projects/{project_id}/branches/{branch_id}/restore (spec:
// BranchRestoreRequest).
type BranchRestoreRequest struct {
	SourceBranchID    string `json:"source_branch_id"`
	SourceLSN         string `json:"source_lsn,omitempty"`
	SourceTimestamp   *Time  `json:"source_timestamp,omitempty"`
	PreserveUnderName string `json:"preserve_under_name,omitempty"`
}

// BranchCreateRequest is the optional body of POST
// /projects/{project_id}/branches (spec: BranchCreateRequest +
// AnnotationCreateValueRequest).
type BranchCreateRequest struct {
	Branch          *BranchCreate          `json:"branch,omitempty"`
	Endpoints       []BranchCreateEndpoint `json:"endpoints,omitempty"`
	AnnotationValue map[string]string      `json:"annotation_value,omitempty"`
}

// BranchCreate is the branch object of a [BranchCreateRequest].
type BranchCreate struct {
	ParentID        string `json:"parent_id,omitempty"`
	Name            string `json:"name,omitempty"`
	ParentLSN       string `json:"parent_lsn,omitempty"`
	ParentTimestamp *Time  `json:"parent_timestamp,omitempty"`
	Protected       *bool  `json:"protected,omitempty"`
	Archived        *bool  `json:"archived,omitempty"`
	InitSource      string `json:"init_source,omitempty"`
	ExpiresAt       *Time  `json:"expires_at,omitempty"`
}

// BranchCreateEndpoint is an endpoint of a [BranchCreateRequest].
type BranchCreateEndpoint struct {
	Type                  EndpointType      `json:"type"`
	AutoscalingLimitMinCU *float64          `json:"autoscaling_limit_min_cu,omitempty"`
	AutoscalingLimitMaxCU *float64          `json:"autoscaling_limit_max_cu,omitempty"`
	Provisioner           Provisioner       `json:"provisioner,omitempty"`
	SuspendTimeoutSeconds *int64            `json:"suspend_timeout_seconds,omitempty"`
	Settings              *EndpointSettings `json:"settings,omitempty"`
}

// CreatedBranch is the response of POST /projects/{project_id}/branches
// (BranchResponse + EndpointsResponse + OperationsResponse + RolesResponse
// + DatabasesResponse + ConnectionURIsOptionalResponse).
type CreatedBranch struct {
	Branch         Branch              `json:"branch"`
	Endpoints      List[Endpoint]      `json:"endpoints"`
	Operations     List[Operation]     `json:"operations"`
	Roles          List[Role]          `json:"roles"`
	Databases      List[Database]      `json:"databases"`
	ConnectionURIs []ConnectionDetails `json:"connection_uris,omitempty"`
}

// BackupScheduleItem is one line of a root branch's backup schedule
// (spec: BackupScheduleItem): a snapshot every hour, day, week, month or
// year, at hour (UTC) of day (1 = Monday … 7 = Sunday for weekly) of month,
// kept retention_seconds (at least 3600) or, when absent, for ever.
type BackupScheduleItem struct {
	Frequency        string `json:"frequency"`
	Hour             *int   `json:"hour,omitempty"`
	Day              *int   `json:"day,omitempty"`
	Month            *int   `json:"month,omitempty"`
	RetentionSeconds *int64 `json:"retention_seconds,omitempty"`
}

// BackupSchedule is the body of GET and PUT
// /projects/{project_id}/branches/{branch_id}/backup_schedule (spec:
// BackupSchedule); an empty schedule takes no snapshots.
type BackupSchedule struct {
	Schedule []BackupScheduleItem `json:"schedule"`
}
