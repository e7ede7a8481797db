package apitypes

// EndpointCompute is a Grove extension (not in Neon's API): what an
// endpoint's compute runs with now. Neon's Endpoint has no field for the
// size its autoscaler chose, and its objects keep Neon's exact shape.
type EndpointCompute struct {
	EndpointID            string        `json:"endpoint_id"`
	CurrentState          EndpointState `json:"current_state"`
	AutoscalingLimitMinCU float64       `json:"autoscaling_limit_min_cu"`
	AutoscalingLimitMaxCU float64       `json:"autoscaling_limit_max_cu"`
	// CurrentCU is the size the autoscaler gives the running compute
	// (absent while it is not running).
	CurrentCU float64 `json:"current_cu,omitempty"`
	StartedAt Time    `json:"started_at,omitzero"`
}

// EndpointComputeResponse wraps EndpointCompute.
type EndpointComputeResponse struct {
	Compute EndpointCompute `json:"compute"`
}
