package apitypes

// GeneralError is the body of every non-2xx response (spec: GeneralError).
// Code is usually "" in Neon's responses.
type GeneralError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// Pagination is the cursor style used by project, operation and consumption
// lists (spec: Pagination). The client passes Cursor back as the cursor query
// parameter. Cursor must not be empty.
type Pagination struct {
	Cursor string `json:"cursor"`
}

// CursorPagination is the style used by branch and member lists (spec:
// CursorPagination): Next is opaque, SortOrder is echoed upper-case.
type CursorPagination struct {
	Next      string `json:"next,omitempty"`
	SortBy    string `json:"sort_by,omitempty"`
	SortOrder string `json:"sort_order,omitempty"`
}

// OperationsResponse is a list of operations (spec: OperationsResponse, and
// the ListOperations response when Pagination is set).
type OperationsResponse struct {
	Operations List[Operation] `json:"operations"`
	Pagination *Pagination     `json:"pagination,omitempty"`
}
