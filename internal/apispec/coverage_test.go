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

func TestParseDoc(t *testing.T) {
	const doc = `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"servers":[{"url":"/api/v2"}],
"paths":{"/things/{id}":{"get":{"operationId":"getThing","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],
"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}}}}}}}}}}`
	d, err := ParseDoc(t.Context(), []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	n := len(Hits())
	if err := d.CheckResponse("GET", "/api/v2/things/a", 200, nil, []byte(`{"id":"a"}`)); err != nil {
		t.Errorf("valid response: %v", err)
	}
	if err := d.CheckResponse("GET", "/api/v2/things/a", 200, nil, []byte(`{"id":"a","extra":1}`)); err == nil {
		t.Error("undeclared field accepted")
	}
	if err := d.CheckResponse("GET", "/api/v2/things/a", 200, nil, []byte(`{}`)); err == nil {
		t.Error("missing required field accepted")
	}
	if len(Hits()) != n {
		t.Error("a document other than Neon's recorded hits")
	}
	if _, err := ParseDoc(t.Context(), []byte(`{"openapi":"3.0.3"}`)); err == nil {
		t.Error("invalid document parsed")
	}
}
