package platform

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/metastore"
)

// Read replicas. A read_only endpoint is a hot standby of its branch
// (compute.Standby). Each start makes its volume afresh: a copy of the
// branch's volume as it is then (copyHead: CloneRunning of the read-write
// compute when it runs, else a storage clone of the stopped volume), which
// is O(1) on btrfs and needs no catch-up of WAL the replica missed while
// suspended; a suspend deletes it (compute.Manager.Suspend), so an idle
// replica holds no disk. While it runs it streams from the branch's
// read-write compute when there is one, and reads the branch volume's WAL
// archive otherwise (the primary suspended, or WAL it missed while
// disconnected). A replica never applies the branch's role and database
// set-up: it starts the read-write compute to apply it first.
//
// A branch restore, reset or snapshot restore stops the branch's endpoints,
// replicas included, and starts again those that ran: a restarted replica
// copies the branch's new volume.

// replicaVolume is the volume of a read_only endpoint's compute; one per
// endpoint, so that a stale one (a crash of grove) is found and replaced.
func replicaVolume(endpointID string) string { return "ro-" + endpointID }

// replicaStarts serialises the starts of each replica: one copy at a time.
var replicaStarts sync.Map // endpoint id → *sync.Mutex

// startReplica starts a read_only endpoint's compute on a fresh copy of its
// branch's volume; a compute already running (or between states) is left
// to compute.Manager.Start.
func (p *Platform) startReplica(ctx context.Context, r metastore.EndpointRoute) (*compute.Instance, error) {
	id := r.Endpoint.ID
	mu, _ := replicaStarts.LoadOrStore(id, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	vol := replicaVolume(id)
	giveUp := time.NewTimer(settleWait)
	defer giveUp.Stop()
	for {
		inst, ok := p.cfg.Computes.Get(id)
		if !ok {
			break
		}
		st, changed := inst.StateChange()
		if st == compute.StateFailed {
			break
		}
		if st != compute.StateSuspending {
			return p.cfg.Computes.Start(ctx, inst.Spec()) // running, or starting on its copy
		}
		// Suspending: its copy goes with it; make a new one once it is gone.
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("replica %s: still suspending: %w", id, ctx.Err())
		case <-giveUp.C:
			return nil, fmt.Errorf("replica %s: still suspending", id)
		}
	}
	b, err := p.store.GetBranch(ctx, r.Endpoint.ProjectID, r.Endpoint.BranchID)
	if err != nil {
		return nil, wrapStore("branch", err)
	}
	rw, err := p.readWriteEndpoint(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	if rw != nil && r.SetupPending && !rw.Disabled {
		// Roles and databases changed while the branch's computes slept:
		// the read-write compute applies them, and the copy has them.
		rr, err := p.store.GetEndpointRoute(ctx, rw.ID)
		if err != nil {
			return nil, wrapStore("endpoint", err)
		}
		if _, err := p.start(ctx, rr); err != nil {
			return nil, fmt.Errorf("start the branch's read-write endpoint %s: %w", rw.ID, err)
		}
	}
	for attempt := 0; ; attempt++ {
		if p.cfg.Volumes.Exists(vol) {
			if err := p.cfg.Volumes.Delete(ctx, vol); err != nil {
				return nil, fmt.Errorf("delete the stale volume of replica %s: %w", id, err)
			}
		}
		if err := p.copyHead(ctx, b, vol); err != nil {
			return nil, fmt.Errorf("copy branch %s for replica %s: %w", b.ID, id, err)
		}
		// A restore that replaced the branch's volume meanwhile stopped
		// the branch's computes before this one ran: copy the new volume.
		fresh, err := p.store.GetBranch(ctx, b.ProjectID, b.ID)
		if err != nil {
			p.dropVolume(ctx, vol)
			return nil, wrapStore("branch", err)
		}
		if fresh.VolumeID == b.VolumeID {
			break
		}
		if attempt == 2 {
			p.dropVolume(ctx, vol)
			return nil, fmt.Errorf("replica %s: the volume of branch %s keeps changing", id, b.ID)
		}
		b = fresh
	}
	spec := p.spec(r.Endpoint, vol, r.PGVersion)
	spec.Standby = &compute.Standby{ArchiveVolume: b.VolumeID}
	if rw != nil {
		spec.Standby.PrimaryID = rw.ID
	}
	inst, err := p.cfg.Computes.Start(ctx, spec)
	if err != nil {
		p.dropVolume(context.WithoutCancel(ctx), vol)
		return nil, err
	}
	return inst, nil
}

// primaryFirst returns eps with the read_write endpoint, if any, first.
func primaryFirst(eps []metastore.Endpoint) []metastore.Endpoint {
	out := make([]metastore.Endpoint, 0, len(eps))
	for _, e := range eps {
		if e.Type == "read_write" {
			out = append(out, e)
		}
	}
	for _, e := range eps {
		if e.Type != "read_write" {
			out = append(out, e)
		}
	}
	return out
}
