package platform

import (
	"context"
	"errors"
	"time"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/branchspec"
	"github.com/grovedb/grove/internal/endpointspec"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pitr"
	"github.com/grovedb/grove/internal/rolesecret"
)

// A restore replaces what a branch serves while its endpoints keep their
// hosts: a branch restore gives the branch (same id) a new volume; a
// snapshot restore makes a new branch that, once finalized, takes the
// target's name and endpoints. Either way the endpoints' computes stop
// (clients are disconnected and reconnect) and start on the new volume.

// RestoreBranch overwrites a branch with another branch's head, or a point
// of its own or another branch's history, as Neon's branch restore: with
// preserve_under_name the previous state becomes a backup branch that
// takes the branch's children (and becomes its parent when it had one).
func (p *Platform) RestoreBranch(ctx context.Context, pr accounts.Principal, projectID, branchID string, in branchspec.Restore) (metastore.Branch, []metastore.Operation, error) {
	target, err := p.GetBranch(ctx, pr, projectID, branchID)
	if err != nil {
		return metastore.Branch{}, nil, err
	}
	proj, err := p.store.GetProject(ctx, target.ProjectID)
	if err != nil {
		return metastore.Branch{}, nil, wrapStore("project", err)
	}
	if in.SourceBranchID == "" {
		return metastore.Branch{}, nil, newErr(errkind.Invalid, "invalid request: decode application/json: invalid: source_branch_id (field required)")
	}
	if !ids.ValidResource(in.SourceBranchID) {
		return metastore.Branch{}, nil, notFound("source branch")
	}
	source, err := p.store.GetBranch(ctx, proj.ID, in.SourceBranchID)
	if err != nil {
		return metastore.Branch{}, nil, wrapStore("source branch", err)
	}
	pt, err := pitr.Parse(proj, source, in.SourceLSN, in.SourceTimestamp, "source_lsn", "source_timestamp", now())
	if err != nil {
		return metastore.Branch{}, nil, err
	}
	children, err := p.store.BranchChildren(ctx, proj.ID, target.ID)
	if err != nil {
		return metastore.Branch{}, nil, err
	}
	if err := branchspec.CheckRestore(in, target, source, !pt.Zero(), len(children)); err != nil {
		return metastore.Branch{}, nil, err
	}
	self := source.ID == target.ID
	cfg, err := p.store.BranchConfigOf(ctx, source.ID)
	if err != nil {
		return metastore.Branch{}, nil, err
	}
	own, err := p.store.BranchConfigOf(ctx, target.ID)
	if err != nil {
		return metastore.Branch{}, nil, err
	}
	rolesecret.Keep(&cfg, own)
	eps, err := p.store.BranchEndpoints(ctx, target.ID)
	if err != nil {
		return metastore.Branch{}, nil, err
	}
	running := map[string]bool{}
	var ops []metastore.Operation
	for _, e := range eps {
		if _, ok := p.cfg.Computes.Get(e.ID); ok {
			running[e.ID] = true
			ops = append(ops, p.operation(e, "suspend_compute"))
		}
	}
	ops = append(ops, newOp(proj.ID, target.ID, "", "create_branch"))
	if in.PreserveUnderName == "" {
		ops = append(ops, newOp(proj.ID, target.ID, "", "delete_timeline"))
	}
	for _, e := range eps {
		if running[e.ID] {
			ops = append(ops, p.operation(e, "start_compute"))
		}
	}

	t := now()
	next := target
	next.VolumeID, next.UpdatedAt, next.LastResetAt = ids.NewVolume(), t, &t
	if next.TTLIntervalSeconds != nil {
		e := t.Add(time.Duration(*next.TTLIntervalSeconds) * time.Second)
		next.ExpiresAt = &e
	}
	var backup *metastore.Branch
	if in.PreserveUnderName != "" {
		backup = &metastore.Branch{ID: ids.NewBranch(), ProjectID: proj.ID, ParentID: target.ParentID,
			Name: in.PreserveUnderName, VolumeID: target.VolumeID, InitSource: target.InitSource,
			ParentLSN: target.ParentLSN, ParentTimestamp: target.ParentTimestamp, CreatedAt: t, UpdatedAt: t}
		if target.ParentID != nil {
			next.ParentID = &backup.ID
		}
	}
	var out metastore.Branch
	written := make(chan error, 1)
	ops, err = p.mutate(ctx, proj.ID, ops, func(ctx context.Context) error {
		var err error
		if pt.Zero() {
			err = p.copyHead(ctx, source, next.VolumeID)
			if err != nil {
				err = &errkind.Error{Kind: errkind.Unavailable, Msg: "could not copy the source branch's data", Err: err}
			}
		} else {
			var res pitr.Point
			if res, err = p.materialize(ctx, source, pt, next.VolumeID); err == nil && self {
				next.ParentLSN, next.ParentTimestamp = res.LSN, res.At
			}
		}
		if err != nil {
			written <- err
			return err
		}
		l := volumeLocks.get(target.VolumeID)
		l.Lock()
		out, err = p.store.ResetBranch(ctx, metastore.Reset{Target: next, Config: cfg, Backup: backup})
		if err != nil {
			l.Unlock()
			p.dropVolume(ctx, next.VolumeID)
			err = wrapStore("branch", err)
			written <- err
			return err
		}
		written <- nil
		err = p.stopAll(ctx, eps)
		l.Unlock()
		if err != nil {
			return err
		}
		if backup == nil {
			p.dropVolume(ctx, target.VolumeID)
			p.forgetHistory(ctx, target.VolumeID)
		}
		return p.restartAll(ctx, eps, running)
	})
	if err != nil {
		return metastore.Branch{}, nil, err
	}
	if err := <-written; err != nil {
		return metastore.Branch{}, nil, err
	}
	return out, ops, nil
}

// stopAll stops the computes of endpoints; their clients are disconnected.
func (p *Platform) stopAll(ctx context.Context, eps []metastore.Endpoint) error {
	for _, e := range eps {
		if err := p.cfg.Computes.Suspend(ctx, e.ID); err != nil {
			return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not stop the endpoint", Err: err}
		}
	}
	return nil
}

// restartAll starts again the endpoints that were running.
func (p *Platform) restartAll(ctx context.Context, eps []metastore.Endpoint, running map[string]bool) error {
	for _, e := range eps {
		if running[e.ID] && !e.Disabled {
			if err := p.startEndpoint(ctx, e.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// SnapshotRestoreInput is a snapshot restore request.
type SnapshotRestoreInput struct {
	Name           string
	TargetBranchID string // default: the snapshot's source branch
	Finalize       bool
}

// RestoredSnapshot is the result of a snapshot restore.
type RestoredSnapshot struct {
	Branch     metastore.Branch
	Endpoints  []EndpointView
	Operations []metastore.Operation
}

// RestoreSnapshot makes a new branch from a snapshot. With finalize it
// takes the target branch's place at once (see FinalizeRestore); without,
// it is a preview with its own read-write endpoint and connection string,
// the target untouched.
func (p *Platform) RestoreSnapshot(ctx context.Context, pr accounts.Principal, projectID, snapshotID string, in SnapshotRestoreInput) (RestoredSnapshot, error) {
	sn, err := p.GetSnapshot(ctx, pr, projectID, snapshotID)
	if err != nil {
		return RestoredSnapshot{}, err
	}
	proj, err := p.store.GetProject(ctx, sn.ProjectID)
	if err != nil {
		return RestoredSnapshot{}, wrapStore("project", err)
	}
	if in.TargetBranchID == "" {
		in.TargetBranchID = sn.SourceBranchID
	}
	if !ids.ValidResource(in.TargetBranchID) {
		return RestoredSnapshot{}, notFound("target branch")
	}
	target, err := p.store.GetBranch(ctx, proj.ID, in.TargetBranchID)
	if err != nil {
		return RestoredSnapshot{}, wrapStore("target branch", err)
	}
	if len(in.Name) > maxName {
		return RestoredSnapshot{}, newErr(errkind.Invalid, "name must be at most %d characters", maxName)
	}
	own, err := p.store.BranchConfigOf(ctx, target.ID)
	if err != nil {
		return RestoredSnapshot{}, err
	}
	cfg := sn.Config
	rolesecret.Keep(&cfg, own)
	t := now()
	b := metastore.Branch{ID: ids.NewBranch(), ProjectID: proj.ID, Name: in.Name, VolumeID: ids.NewVolume(), SetupPending: true,
		CreatedAt: t, UpdatedAt: t, InitSource: "parent-data", ParentTimestamp: sn.Timestamp, ParentLSN: sn.LSN,
		RestoreStatus: "restored", RestoredFrom: sn.ID, RestoredAs: target.ID}
	if b.Name == "" {
		b.Name = target.Name + " (restored " + t.Format(time.RFC3339) + ")"
	}
	var eps []metastore.Endpoint
	if !in.Finalize {
		if eps, err = p.branchEndpoints(proj, []endpointspec.Input{{Type: "read_write"}}); err != nil {
			return RestoredSnapshot{}, err
		}
		eps[0].BranchID = b.ID
	}
	ops := []metastore.Operation{newOp(proj.ID, b.ID, "", "create_branch")}
	for _, e := range eps {
		ops = append(ops, p.operation(e, "start_compute"))
	}
	var moving []metastore.Endpoint
	running := map[string]bool{}
	if in.Finalize {
		if moving, err = p.store.BranchEndpoints(ctx, target.ID); err != nil {
			return RestoredSnapshot{}, err
		}
		for _, e := range moving {
			if _, ok := p.cfg.Computes.Get(e.ID); ok {
				running[e.ID] = true
				ops = append(ops, p.operation(e, "suspend_compute"), p.operation(e, "start_compute"))
			}
		}
	}
	var out metastore.Branch
	written := make(chan error, 1)
	ops, err = p.mutate(ctx, proj.ID, ops, func(ctx context.Context) error {
		err := p.cloneSnapshot(ctx, sn, b.VolumeID)
		if err == nil {
			if out, err = p.store.InsertBranch(ctx, metastore.NewBranch{Branch: b, Config: cfg, Endpoints: eps}); err != nil {
				p.dropVolume(ctx, b.VolumeID)
				err = wrapStore("branch", err)
			}
		}
		if err != nil || !in.Finalize {
			written <- err
			if err != nil {
				return err
			}
			for _, e := range eps {
				if err := p.startEndpoint(ctx, e.ID); err != nil {
					return err
				}
			}
			return nil
		}
		out, err = p.finalize(ctx, out, target, "", moving, running, written)
		return err
	})
	if err != nil {
		return RestoredSnapshot{}, err
	}
	if err := <-written; err != nil {
		return RestoredSnapshot{}, err
	}
	res := RestoredSnapshot{Branch: out, Operations: ops}
	for _, e := range eps {
		res.Endpoints = append(res.Endpoints, p.endpointView(e))
	}
	return res, nil
}

// oldName is the name a replaced branch gets: "<name> (old)", or with the
// time when a branch has that name already.
func (p *Platform) oldName(ctx context.Context, target metastore.Branch) (string, error) {
	branches, err := p.store.ProjectBranches(ctx, target.ProjectID)
	if err != nil {
		return "", err
	}
	return branchspec.OldName(target, branches, now()), nil
}

// finalize swaps a restored branch in for target: it takes target's name,
// default flag, protection and endpoints (their computes restart on its
// volume); its own preview endpoints go; target is renamed. The metadata
// result is sent on written as soon as it is committed.
func (p *Platform) finalize(ctx context.Context, restored, target metastore.Branch, name string, moving []metastore.Endpoint,
	running map[string]bool, written chan<- error) (metastore.Branch, error) {
	fail := func(err error) (metastore.Branch, error) {
		written <- err
		return metastore.Branch{}, err
	}
	if name == "" {
		var err error
		if name, err = p.oldName(ctx, target); err != nil {
			return fail(err)
		}
	}
	own, err := p.store.BranchEndpoints(ctx, restored.ID)
	if err != nil {
		return fail(err)
	}
	drop := make([]string, len(own))
	for i, e := range own {
		drop[i] = e.ID
	}
	l := volumeLocks.get(target.VolumeID)
	l.Lock()
	out, _, err := p.store.FinalizeRestore(ctx, metastore.Finalize{ProjectID: target.ProjectID, RestoredID: restored.ID,
		TargetID: target.ID, OldName: name, DropEndpoints: drop, At: now()})
	if err != nil {
		l.Unlock()
		return fail(wrapStore("branch", err))
	}
	written <- nil
	err = p.stopAll(ctx, append(own, moving...))
	l.Unlock()
	if err != nil {
		return out, err
	}
	return out, p.restartAll(ctx, moving, running)
}

// FinalizeRestore makes a branch restored from a snapshot (as a preview)
// take the place of the branch it was restored for; name is the replaced
// branch's new name (default "<name> (old)").
func (p *Platform) FinalizeRestore(ctx context.Context, pr accounts.Principal, projectID, branchID, name string) ([]metastore.Operation, error) {
	b, err := p.GetBranch(ctx, pr, projectID, branchID)
	if err != nil {
		return nil, err
	}
	switch b.RestoreStatus {
	case "restored":
	case "finalized":
		return nil, newErr(errkind.Invalid, "branch %s is already finalized", b.ID)
	default:
		return nil, newErr(errkind.Invalid, "branch %s was not created by a snapshot restore", b.ID)
	}
	if len(name) > maxName {
		return nil, newErr(errkind.Invalid, "name must be at most %d characters", maxName)
	}
	target, err := p.store.GetBranch(ctx, b.ProjectID, b.RestoredAs)
	if errors.Is(err, metastore.ErrNotFound) {
		return nil, newErr(errkind.Invalid, "the branch that %s was restored for no longer exists", b.ID)
	}
	if err != nil {
		return nil, err
	}
	moving, err := p.store.BranchEndpoints(ctx, target.ID)
	if err != nil {
		return nil, err
	}
	own, err := p.store.BranchEndpoints(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	running := map[string]bool{}
	var ops []metastore.Operation
	for _, e := range own {
		if _, ok := p.cfg.Computes.Get(e.ID); ok {
			ops = append(ops, p.operation(e, "suspend_compute"))
		}
	}
	for _, e := range moving {
		if _, ok := p.cfg.Computes.Get(e.ID); ok {
			running[e.ID] = true
			ops = append(ops, p.operation(e, "suspend_compute"), p.operation(e, "start_compute"))
		}
	}
	if len(ops) == 0 {
		ops = append(ops, newOp(b.ProjectID, b.ID, "", "apply_config"))
	}
	written := make(chan error, 1)
	ops, err = p.mutate(ctx, b.ProjectID, ops, func(ctx context.Context) error {
		_, err := p.finalize(ctx, b, target, name, moving, running, written)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := <-written; err != nil {
		return nil, err
	}
	return ops, nil
}
