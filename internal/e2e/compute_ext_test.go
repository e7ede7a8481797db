package e2e

import (
	"encoding/json"
	"testing"

	"github.com/grovedb/grove/apitypes"
)

// TestEndpointCompute: Grove's extension route reports a running
// endpoint's current size within its limits, none once it is suspended,
// and answers only keys that reach the project.
func TestEndpointCompute(t *testing.T) {
	g := start(t)
	cp := g.CreateSeed()
	id, ep := cp.Project.ID, cp.Endpoints[0].ID
	psql(t, cp.ConnectionURIs[0].ConnectionURI, "select 1")
	path := "/projects/" + id + "/endpoints/" + ep + "/compute"
	get := func() apitypes.EndpointCompute {
		t.Helper()
		st, raw := admin(t, g, g.Key, "GET", path, nil)
		if st != 200 {
			t.Fatalf("GET %s: %d %s", path, st, raw)
		}
		var out apitypes.EndpointComputeResponse
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return out.Compute
	}
	c := get()
	if c.EndpointID != ep || c.CurrentState != "active" || c.CurrentCU < c.AutoscalingLimitMinCU || c.CurrentCU > c.AutoscalingLimitMaxCU || c.CurrentCU == 0 {
		t.Fatalf("running endpoint's compute: %+v", c)
	}
	if st, raw := apiUnlocked(t, g, "POST", "/projects/"+id+"/endpoints/"+ep+"/suspend", nil, nil); st != 200 {
		t.Fatalf("suspend: %d %s", st, raw)
	}
	if c := get(); c.CurrentState != "idle" || c.CurrentCU != 0 {
		t.Fatalf("suspended endpoint's compute: %+v", c)
	}
	for _, tt := range []struct {
		name, key, path string
		status          int
	}{
		{"no key", "", path, 401},
		{"unknown project", g.Key, "/projects/nope-nope-12345678/endpoints/" + ep + "/compute", 404},
		{"unknown endpoint", g.Key, "/projects/" + id + "/endpoints/ep-nope-nope-12345678/compute", 404},
	} {
		if st, raw := admin(t, g, tt.key, "GET", tt.path, nil); st != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, st, raw, tt.status)
		}
	}
}
