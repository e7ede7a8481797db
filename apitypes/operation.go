package apitypes

// Operation is an asynchronous control-plane operation (spec: Operation). ID
// is a UUID. Clients poll GET /projects/{project_id}/operations/{id} until
// Status is terminal (see [OperationStatus.Terminal]).
type Operation struct {
	ID              string          `json:"id"`
	ProjectID       string          `json:"project_id"`
	BranchID        string          `json:"branch_id,omitempty"`
	EndpointID      string          `json:"endpoint_id,omitempty"`
	Action          OperationAction `json:"action"`
	Status          OperationStatus `json:"status"`
	Error           string          `json:"error,omitempty"`
	FailuresCount   int32           `json:"failures_count"`
	RetryAt         Time            `json:"retry_at,omitzero"`
	CreatedAt       Time            `json:"created_at"`
	UpdatedAt       Time            `json:"updated_at"`
	TotalDurationMs int32           `json:"total_duration_ms"`
}

// OperationResponse wraps one operation (spec: OperationResponse).
type OperationResponse struct {
	Operation Operation `json:"operation"`
}
