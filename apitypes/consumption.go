package apitypes

// ConsumptionHistoryPerProjectResponse is GET /consumption_history/projects
// (spec: ConsumptionHistoryPerProjectResponse with PaginationResponse).
type ConsumptionHistoryPerProjectResponse struct {
	Projects   List[ConsumptionHistoryPerProject] `json:"projects"`
	Pagination *Pagination                        `json:"pagination,omitempty"`
}

// ConsumptionHistoryPerProject is one project's periods (spec:
// ConsumptionHistoryPerProject).
type ConsumptionHistoryPerProject struct {
	ProjectID string                            `json:"project_id"`
	Periods   List[ConsumptionHistoryPerPeriod] `json:"periods"`
}

// ConsumptionHistoryPerAccountResponse is the legacy GET
// /consumption_history/account: the periods of every project together.
// Neon removed it from its spec in 2.7.3.
type ConsumptionHistoryPerAccountResponse struct {
	Periods List[ConsumptionHistoryPerPeriod] `json:"periods"`
}

// ConsumptionHistoryPerPeriod is a billing period with its timeframes (spec:
// ConsumptionHistoryPerPeriod). PeriodEnd is set for past periods only.
type ConsumptionHistoryPerPeriod struct {
	PeriodID    string                               `json:"period_id"`
	PeriodPlan  string                               `json:"period_plan"`
	PeriodStart Time                                 `json:"period_start"`
	PeriodEnd   Time                                 `json:"period_end,omitzero"`
	Consumption List[ConsumptionHistoryPerTimeframe] `json:"consumption"`
}

// ConsumptionHistoryPerTimeframe is the usage of one timeframe (spec:
// ConsumptionHistoryPerTimeframe); the pointer fields are sent when asked
// for through metrics.
type ConsumptionHistoryPerTimeframe struct {
	TimeframeStart            Time    `json:"timeframe_start"`
	TimeframeEnd              Time    `json:"timeframe_end"`
	ActiveTimeSeconds         uint64  `json:"active_time_seconds"`
	ComputeTimeSeconds        uint64  `json:"compute_time_seconds"`
	WrittenDataBytes          uint64  `json:"written_data_bytes"`
	SyntheticStorageSizeBytes uint64  `json:"synthetic_storage_size_bytes"`
	DataStorageBytesHour      *uint64 `json:"data_storage_bytes_hour,omitempty"`
	LogicalSizeBytes          *uint64 `json:"logical_size_bytes,omitempty"`
	LogicalSizeBytesHour      *uint64 `json:"logical_size_bytes_hour,omitempty"`
}

// ConsumptionHistoryPerProjectV2Response is GET
// /consumption_history/v2/projects (spec:
// ConsumptionHistoryPerProjectV2Response with PaginationResponse).
type ConsumptionHistoryPerProjectV2Response struct {
	Projects   List[ConsumptionHistoryPerProjectV2] `json:"projects"`
	Pagination *Pagination                          `json:"pagination,omitempty"`
}

// ConsumptionHistoryPerProjectV2 is one project's periods (spec:
// ConsumptionHistoryPerProjectV2).
type ConsumptionHistoryPerProjectV2 struct {
	ProjectID string                              `json:"project_id"`
	Periods   List[ConsumptionHistoryPerPeriodV2] `json:"periods"`
}

// ConsumptionHistoryPerBranchV2Response is GET
// /consumption_history/v2/branches (spec:
// ConsumptionHistoryPerBranchV2Response with PaginationResponse).
type ConsumptionHistoryPerBranchV2Response struct {
	Branches   List[ConsumptionHistoryPerBranchV2] `json:"branches"`
	Pagination *Pagination                         `json:"pagination,omitempty"`
}

// ConsumptionHistoryPerBranchV2 is one branch's periods (spec:
// ConsumptionHistoryPerBranchV2).
type ConsumptionHistoryPerBranchV2 struct {
	ProjectID string                              `json:"project_id"`
	BranchID  string                              `json:"branch_id"`
	Periods   List[ConsumptionHistoryPerPeriodV2] `json:"periods"`
}

// ConsumptionHistoryPerPeriodV2 is a billing period with its timeframes
// (spec: ConsumptionHistoryPerPeriodV2).
type ConsumptionHistoryPerPeriodV2 struct {
	PeriodID    string                                 `json:"period_id"`
	PeriodPlan  string                                 `json:"period_plan"`
	PeriodStart Time                                   `json:"period_start"`
	PeriodEnd   Time                                   `json:"period_end,omitzero"`
	Consumption List[ConsumptionHistoryPerTimeframeV2] `json:"consumption"`
}

// ConsumptionHistoryPerTimeframeV2 is a timeframe's metrics; metrics without
// usage are left out (spec: ConsumptionHistoryPerTimeframeV2).
type ConsumptionHistoryPerTimeframeV2 struct {
	TimeframeStart Time                         `json:"timeframe_start"`
	TimeframeEnd   Time                         `json:"timeframe_end"`
	Metrics        List[ConsumptionMetricValue] `json:"metrics"`
}

// ConsumptionMetricValue is one metric's value (spec: ConsumptionMetricValue).
type ConsumptionMetricValue struct {
	MetricName string `json:"metric_name"`
	Value      int64  `json:"value"`
}
