package apitypes

// TransferProjectsToOrganizationRequest moves projects to another org
// (spec: TransferProjectsToOrganizationRequest): 1 to 400 project ids.
type TransferProjectsToOrganizationRequest struct {
	DestinationOrgID string   `json:"destination_org_id"`
	ProjectIDs       []string `json:"project_ids"`
}

// EmptyResponse is the body of a successful transfer (spec: EmptyResponse).
type EmptyResponse struct{}

// LimitsUnsatisfiedResponse is a transfer's 406 body (spec:
// LimitsUnsatisfiedResponse): the destination limits it would break.
type LimitsUnsatisfiedResponse struct {
	Limits List[UnsatisfiedLimit] `json:"limits"`
}

// UnsatisfiedLimit is one element of LimitsUnsatisfiedResponse.limits;
// Name is projects_count, subscription_type or project_region.
type UnsatisfiedLimit struct {
	Name     string `json:"name"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
}
