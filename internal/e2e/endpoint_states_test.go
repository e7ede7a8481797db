package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/client"
	"github.com/grovedb/grove/internal/grovetest"
)

// TestEndpointStates walks an endpoint through Neon's states: init (never
// started; a disabled endpoint refuses connections and starts), active,
// idle, with last_active moving; start of an active endpoint and suspend
// of an idle one are accepted as they are; suspend and restart of an
// endpoint between states are Neon's 423.
func TestEndpointStates(t *testing.T) {
	g := start(t)
	ctx := t.Context()
	c := checkedClient(g)
	cp := g.CreateSeed()
	id, seedEP := cp.Project.ID, cp.Endpoints[0].ID
	uri := cp.ConnectionURIs[0].ConnectionURI

	cb, err := c.CreateBranch(ctx, id, &apitypes.BranchCreateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, cb.Operations)
	disabled := true
	cr, err := c.CreateEndpoint(ctx, id, apitypes.EndpointCreateRequest{Endpoint: apitypes.EndpointCreate{
		BranchID: cb.Branch.ID, Type: "read_write", Disabled: &disabled}})
	if err != nil {
		t.Fatal(err)
	}
	ep := cr.Endpoint.ID
	epURI := strings.Replace(uri, seedEP, ep, 1)
	if cr.Endpoint.CurrentState != "init" || len(cr.Operations) != 0 {
		t.Errorf("disabled endpoint created: state %q, operations %+v; want init and none", cr.Endpoint.CurrentState, cr.Operations)
	}
	if out, err := grovetest.Psql(t, epURI, "select 1"); err == nil || !strings.Contains(out, "disabled") {
		t.Errorf("connection to a disabled endpoint: %v: %s", err, out)
	}
	if _, err := c.StartEndpoint(ctx, id, ep); client.StatusCode(err) != 409 {
		t.Errorf("start of a disabled endpoint: %v, want 409", err)
	}
	if _, err := c.RestartEndpoint(ctx, id, ep); client.StatusCode(err) != 409 {
		t.Errorf("restart of a disabled endpoint: %v, want 409", err)
	}
	if got, err := c.GetEndpoint(ctx, id, ep); err != nil || got.CurrentState != "init" || !got.LastActive.Equal(neverActiveTime()) {
		t.Fatalf("disabled endpoint after refused starts: %+v, %v", got, err)
	}

	enabled := false
	up, err := c.UpdateEndpoint(ctx, id, ep, apitypes.EndpointUpdateRequest{Endpoint: apitypes.EndpointUpdate{Disabled: &enabled}})
	if err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, up.Operations)
	st, err := c.StartEndpoint(ctx, id, ep)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Operations) != 1 || st.Operations[0].Action != "start_compute" {
		t.Errorf("start operations: %+v", st.Operations)
	}
	waitOps(t, c, id, st.Operations)
	active, err := c.GetEndpoint(ctx, id, ep)
	if err != nil || active.CurrentState != "active" || active.LastActive.Equal(neverActiveTime()) {
		t.Fatalf("started endpoint: %+v, %v", active, err)
	}
	if out, err := grovetest.Psql(t, epURI, "select 1"); err != nil || out != "1" {
		t.Fatalf("enabled endpoint: %v: %s", err, out)
	}
	// Start of an active endpoint: accepted, nothing changes.
	pid := postmasterOf(t, epURI)
	if st, err := c.StartEndpoint(ctx, id, ep); err != nil || st.Endpoint.CurrentState != "active" {
		t.Errorf("start of an active endpoint: %+v, %v", st, err)
	} else {
		waitOps(t, c, id, st.Operations)
	}
	if postmasterOf(t, epURI) != pid {
		t.Error("start of an active endpoint restarted it")
	}

	// Between states (a crash restart): suspend and restart are 423.
	transitive := false
	for attempt := 0; attempt < 2 && !transitive; attempt++ {
		if err := syscall.Kill(postmasterOf(t, epURI), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		grovetest.WaitFor(t, "crash noticed", func() bool {
			got, err := c.GetEndpoint(ctx, id, ep)
			return err == nil && got.PendingState == "active"
		})
		code, raw := g.API("POST", "/projects/"+id+"/endpoints/"+ep+"/suspend", nil, nil)
		if code == 423 {
			transitive = true
			wantError(t, "suspend between states", code, raw, 423, "endpoint is in some transitive state, could not suspend")
			code, raw = g.API("POST", "/projects/"+id+"/endpoints/"+ep+"/restart", nil, nil)
			if code != 200 { // the restart may be over by now
				wantError(t, "restart between states", code, raw, 423, "endpoint is in some transitive state")
			}
		}
		grovetest.WaitFor(t, "crash restart", func() bool {
			got, err := c.GetEndpoint(ctx, id, ep)
			return err == nil && got.CurrentState == "active" && got.PendingState == ""
		})
	}
	if !transitive {
		t.Error("suspend during a crash restart was never refused with 423")
	}

	// Suspend: idle, last_active moves; a second suspend is accepted.
	sus, err := c.SuspendEndpoint(ctx, id, ep)
	if err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, sus.Operations)
	idle, err := c.GetEndpoint(ctx, id, ep)
	if err != nil || idle.CurrentState != "idle" || idle.LastActive.Before(active.LastActive.Time) {
		t.Errorf("suspended endpoint: %+v, %v (last_active before: %v)", idle, err, active.LastActive)
	}
	if again, err := c.SuspendEndpoint(ctx, id, ep); err != nil || again.Endpoint.CurrentState != "idle" {
		t.Errorf("suspend of an idle endpoint: %+v, %v", again, err)
	} else {
		waitOps(t, c, id, again.Operations)
	}

	// Restart of an idle endpoint starts it; of an active one, a new postmaster.
	rs, err := c.RestartEndpoint(ctx, id, ep)
	if err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, rs.Operations)
	pid = postmasterOf(t, epURI)
	if rs, err = c.RestartEndpoint(ctx, id, ep); err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, rs.Operations)
	if isPostgres(pid) {
		t.Errorf("postmaster %d survived the restart", pid)
	}
	if got, err := c.GetEndpoint(ctx, id, ep); err != nil || got.CurrentState != "active" {
		t.Errorf("restarted endpoint: %+v, %v", got, err)
	}

	// Disabling an active endpoint suspends it and refuses connections.
	dis, err := c.UpdateEndpoint(ctx, id, ep, apitypes.EndpointUpdateRequest{Endpoint: apitypes.EndpointUpdate{Disabled: &disabled}})
	if err != nil {
		t.Fatal(err)
	}
	waitOps(t, c, id, dis.Operations)
	if got, err := c.GetEndpoint(ctx, id, ep); err != nil || got.CurrentState != "idle" {
		t.Errorf("disabled endpoint: %+v, %v", got, err)
	}
	if out, err := grovetest.Psql(t, epURI, "select 1"); err == nil || !strings.Contains(out, "disabled") {
		t.Errorf("connection to a disabled endpoint: %v: %s", err, out)
	}

	// Unknown endpoints are 404 for every transition.
	for _, action := range []string{"start", "suspend", "restart"} {
		code, raw := g.API("POST", "/projects/"+id+"/endpoints/ep-nope-nope-12345678/"+action, nil, nil)
		wantError(t, action+" of an unknown endpoint", code, raw, 404, "not found")
	}
}

// neverActiveTime is Neon's last_active of an endpoint that never ran.
func neverActiveTime() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }
