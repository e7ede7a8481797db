package apitypes

// Branch is a branch of a project (spec: Branch). Primary is deprecated and
// optional but Neon always sends it.
type Branch struct {
	ID                 string                   `json:"id"`
	ProjectID          string                   `json:"project_id"`
	ParentID           string                   `json:"parent_id,omitempty"`
	ParentLSN          string                   `json:"parent_lsn,omitempty"`
	ParentTimestamp    Time                     `json:"parent_timestamp,omitzero"`
	Name               string                   `json:"name"`
	CurrentState       BranchState              `json:"current_state"`
	PendingState       BranchState              `json:"pending_state,omitempty"`
	StateChangedAt     Time                     `json:"state_changed_at"`
	LogicalSize        *int64                   `json:"logical_size,omitempty"`
	CreationSource     string                   `json:"creation_source"`
	Primary            *bool                    `json:"primary,omitempty"` // deprecated
	Default            bool                     `json:"default"`
	Protected          bool                     `json:"protected"`
	CPUUsedSec         int64                    `json:"cpu_used_sec"` // deprecated, still required
	ComputeTimeSeconds int64                    `json:"compute_time_seconds"`
	ActiveTimeSeconds  int64                    `json:"active_time_seconds"`
	WrittenDataBytes   int64                    `json:"written_data_bytes"`
	DataTransferBytes  int64                    `json:"data_transfer_bytes"`
	CreatedAt          Time                     `json:"created_at"`
	UpdatedAt          Time                     `json:"updated_at"`
	TTLIntervalSeconds *int64                   `json:"ttl_interval_seconds,omitempty"`
	ExpiresAt          Time                     `json:"expires_at,omitzero"`
	LastResetAt        Time                     `json:"last_reset_at,omitzero"`
	CreatedBy          *BranchCreatedBy         `json:"created_by,omitempty"`
	InitSource         string                   `json:"init_source,omitempty"`
	RestoreStatus      BranchRestoreStatus      `json:"restore_status,omitempty"`
	RestoredFrom       string                   `json:"restored_from,omitempty"`
	RestoredAs         string                   `json:"restored_as,omitempty"`
	RestrictedActions  []BranchRestrictedAction `json:"restricted_actions,omitzero"`
	Recovery           *BranchRecoveryInfo      `json:"recovery,omitempty"`
}

// BranchCreatedBy names the user who created a branch.
type BranchCreatedBy struct {
	Name  string `json:"name,omitempty"`
	Image string `json:"image,omitempty"`
}

// BranchRestrictedAction is an action not allowed on a branch, with the
// reason (spec: BranchRestrictedAction).
type BranchRestrictedAction struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// BranchRecoveryInfo describes a deleted, recoverable branch (spec:
// BranchRecoveryInfo). DeletionMethod is "user" or "ttl".
type BranchRecoveryInfo struct {
	DeletedAt        Time   `json:"deleted_at"`
	RecoverableUntil Time   `json:"recoverable_until"`
	DeletionMethod   string `json:"deletion_method"`
}

// BranchResponse wraps one branch (spec: BranchResponse).
type BranchResponse struct {
	Branch Branch `json:"branch"`
}

// BranchesResponse is a list of branches (spec: BranchesResponse). For GET
// /projects/{project_id}/branches the spec also requires Annotations (send a
// non-nil map) and Pagination.
type BranchesResponse struct {
	Branches    List[Branch]              `json:"branches"`
	Annotations map[string]AnnotationData `json:"annotations,omitzero"`
	Pagination  *CursorPagination         `json:"pagination,omitempty"`
}

// AnnotationData is an annotation attached to an object (spec:
// AnnotationData).
type AnnotationData struct {
	Object    AnnotationObject  `json:"object"`
	Value     map[string]string `json:"value"`
	CreatedAt Time              `json:"created_at,omitzero"`
	UpdatedAt Time              `json:"updated_at,omitzero"`
}

// AnnotationObject identifies the annotated object, e.g. type
// "console/branch" (spec: AnnotationObjectData).
type AnnotationObject struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// BranchGetResponse is the response of GET
// /projects/{project_id}/branches/{branch_id} (BranchResponse +
// AnnotationResponse). The spec requires Annotation; Grove sends the
// branch's (an empty value when it has none).
type BranchGetResponse struct {
	Branch     Branch         `json:"branch"`
	Annotation AnnotationData `json:"annotation"`
}

// BranchOperations is the response of branch mutations: update,
// set_as_default, delete, restore (spec: BranchOperations).
type BranchOperations struct {
	Branch     Branch          `json:"branch"`
	Operations List[Operation] `json:"operations"`
}

// BranchesCountResponse is the response of GET
// /projects/{project_id}/branches/count (spec: BranchesCountResponse).
type BranchesCountResponse struct {
	Count int `json:"count"`
}

// BranchUpdateRequest is the body of PATCH
// /projects/{project_id}/branches/{branch_id} (spec: BranchUpdateRequest).
type BranchUpdateRequest struct {
	Branch BranchUpdate `json:"branch"`
}

// BranchUpdate is the branch object of a [BranchUpdateRequest]. Absent
// fields are left unchanged; ExpiresAt as JSON null clears the expiry.
type BranchUpdate struct {
	Name      string `json:"name,omitempty"`
	Protected *bool  `json:"protected,omitempty"`
	ExpiresAt *Time  `json:"expires_at,omitempty"`
}
