package apispec

import (
	"slices"
	"testing"
)

func TestHits(t *testing.T) {
	Load(t)
	n := len(Hits())
	const opPath = "/api/v2/projects/cold-bonus-61650555/operations/d8ac46eb-a757-42b1-9907-f78322ee394e"
	_ = CheckResponse(t, "GET", opPath, 200, nil, []byte(operationJSON))
	_ = CheckResponse(t, "GET", opPath, 404, nil, []byte(`{"code":"","message":"not found"}`))
	_ = CheckResponse(t, "GET", opPath, 201, nil, []byte(operationJSON)) // undocumented: not recorded
	_ = CheckResponse(t, "GET", "/api/v2/nope", 200, nil, []byte(`{}`))  // unknown: not recorded
	got := Hits()[n:]
	want := []Hit{
		{Method: "GET", Path: "/projects/{project_id}/operations/{operation_id}", OperationID: "getProjectOperation", Status: 200},
		{Method: "GET", Path: "/projects/{project_id}/operations/{operation_id}", OperationID: "getProjectOperation", Status: 404},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("hits %+v, want %+v", got, want)
	}
}
