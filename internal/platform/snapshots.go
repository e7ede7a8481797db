package platform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pitr"
	"github.com/grovedb/grove/internal/plans"
)

// A snapshot is a read-only volume copied from a root branch at its head
// (or a point of its history) with the roles and databases the branch had;
// restoring one clones its volume into a new branch.

// SnapshotInput is a snapshot create request; zero values mean "not given".
type SnapshotInput struct {
	LSN       string
	Timestamp *time.Time
	Name      string
	ExpiresAt *time.Time
}

// CreateSnapshot snapshots a root branch now or at a point of its history.
func (p *Platform) CreateSnapshot(ctx context.Context, pr accounts.Principal, projectID, branchID string, in SnapshotInput) (metastore.Snapshot, []metastore.Operation, error) {
	b, err := p.GetBranch(ctx, pr, projectID, branchID)
	if err != nil {
		return metastore.Snapshot{}, nil, err
	}
	proj, err := p.store.GetProject(ctx, b.ProjectID)
	if err != nil {
		return metastore.Snapshot{}, nil, wrapStore("project", err)
	}
	if b.ParentID != nil {
		return metastore.Snapshot{}, nil, newErr(errkind.Invalid, "snapshots can be created only from root branches; branch %s has a parent", b.ID)
	}
	pt, err := pitr.Parse(proj, b, in.LSN, in.Timestamp, "lsn", "timestamp", now())
	if err != nil {
		return metastore.Snapshot{}, nil, err
	}
	t := now()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(t) {
		return metastore.Snapshot{}, nil, newErr(errkind.Invalid, "expires_at must be in the future")
	}
	if len(in.Name) > maxName {
		return metastore.Snapshot{}, nil, newErr(errkind.Invalid, "name must be at most %d characters", maxName)
	}
	pl, err := p.projectPlan(ctx, proj) // plans.go
	if err != nil {
		return metastore.Snapshot{}, nil, err
	}
	existing, err := p.store.ProjectSnapshots(ctx, proj.ID)
	if err != nil {
		return metastore.Snapshot{}, nil, err
	}
	if err := plans.CheckManualSnapshots(pl, existing); err != nil {
		return metastore.Snapshot{}, nil, err
	}
	cfg, err := p.store.BranchConfigOf(ctx, b.ID)
	if err != nil {
		return metastore.Snapshot{}, nil, err
	}
	sn := metastore.Snapshot{ID: ids.NewSnapshot(), ProjectID: proj.ID, SourceBranchID: b.ID, Name: in.Name,
		VolumeID: ids.NewVolume(), Manual: true, Config: cfg, CreatedAt: t, UpdatedAt: t, Timestamp: &t,
		// Neon reports a manual snapshot's full logical size; the branch's
		// last measured one stands in (absent: not measured yet).
		FullSize: b.LogicalSize}
	if sn.Name == "" {
		sn.Name = b.Name + " " + t.Format(time.RFC3339)
	}
	if in.ExpiresAt != nil {
		e := in.ExpiresAt.UTC().Truncate(time.Second)
		sn.ExpiresAt = &e
	}
	return p.takeSnapshot(ctx, b, pt, sn)
}

// takeSnapshot fills sn's volume from b at pt and records it, as one
// create_branch operation of b's project.
func (p *Platform) takeSnapshot(ctx context.Context, b metastore.Branch, pt pitr.Point, sn metastore.Snapshot) (metastore.Snapshot, []metastore.Operation, error) {
	var out metastore.Snapshot
	done := make(chan error, 1)
	ops, err := p.mutate(ctx, b.ProjectID, []metastore.Operation{newOp(b.ProjectID, b.ID, "", "create_branch")}, func(ctx context.Context) error {
		err := p.snapshotData(ctx, b, pt, &sn)
		if err == nil {
			if out, err = p.store.InsertSnapshot(ctx, sn); err != nil {
				p.dropVolume(ctx, sn.VolumeID)
				err = wrapStore("snapshot", err)
			}
		}
		done <- err
		return err
	})
	if err != nil {
		return metastore.Snapshot{}, nil, err
	}
	if err := <-done; err != nil {
		return metastore.Snapshot{}, nil, err
	}
	return out, ops, nil
}

// snapshotData fills sn's volume from b at pt (the head when zero).
func (p *Platform) snapshotData(ctx context.Context, b metastore.Branch, pt pitr.Point, sn *metastore.Snapshot) error {
	if pt.At != nil {
		// Neon's clients send timestamp=now with every checkpoint. When
		// nothing committed after that time, the head is the state at it:
		// a storage snapshot, not a recovery. The check comes after the
		// snapshot, so a commit racing it sends us to the recovery.
		if err := p.snapshotHead(ctx, b, sn); err == nil {
			if p.quietSince(ctx, b, *pt.At) {
				sn.Timestamp = pt.At
				return nil
			}
			p.dropVolume(ctx, sn.VolumeID)
		}
	}
	if !pt.Zero() {
		res, err := p.materialize(ctx, b, pt, sn.VolumeID)
		if err != nil {
			return err
		}
		sn.LSN, sn.Timestamp = res.LSN, res.At
		return nil
	}
	return p.snapshotHead(ctx, b, sn)
}

// quietSince reports whether nothing has committed on b since t. A running
// compute tells its last commit (track_commit_timestamp); a suspended
// volume's control file was last written by its shutdown checkpoint, after
// its last commit. Anything unknown answers false.
func (p *Platform) quietSince(ctx context.Context, b metastore.Branch, t time.Time) bool {
	ep, err := p.readWriteEndpoint(ctx, b.ID)
	if err != nil {
		return false
	}
	if ep != nil {
		if inst, running := p.cfg.Computes.Get(ep.ID); running {
			conn, err := inst.Conn(ctx, "postgres")
			if err != nil {
				return false
			}
			defer conn.Close(context.WithoutCancel(ctx))
			var last *time.Time
			if err := conn.QueryRow(ctx, "SELECT (pg_last_committed_xact()).timestamp").Scan(&last); err != nil {
				return false
			}
			if last == nil {
				return !inst.StartedAt().After(t)
			}
			return !last.After(t)
		}
	}
	vols := p.cfg.Volumes
	fi, err := os.Stat(filepath.Join(vols.Path(b.VolumeID), "global", "pg_control"))
	return err == nil && !fi.ModTime().After(t)
}

// snapshotHead fills sn's volume with b's state now.
func (p *Platform) snapshotHead(ctx context.Context, b metastore.Branch, sn *metastore.Snapshot) error {
	vols := p.cfg.Volumes
	ep, err := p.readWriteEndpoint(ctx, b.ID)
	if err != nil {
		return err
	}
	if ep != nil && !vols.Atomic() {
		// A plain copy of a running data directory is not consistent: copy
		// it through the compute first, then snapshot the copy.
		if _, running := p.cfg.Computes.Get(ep.ID); running {
			tmp := ids.NewVolume()
			if err := p.copyHead(ctx, b, tmp); err != nil {
				return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not copy the branch's data", Err: err}
			}
			defer p.dropVolume(ctx, tmp)
			if err := vols.Snapshot(ctx, tmp, sn.VolumeID); err != nil {
				return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not snapshot the branch's data", Err: err}
			}
			return nil
		}
	}
	if ep != nil {
		// Restored later, the snapshot replays what the compute wrote since
		// its last checkpoint.
		if err := p.cfg.Computes.SettleRedo(ctx, ep.ID); err != nil {
			return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not snapshot the branch's data", Err: err}
		}
	}
	l := volumeLocks.get(b.VolumeID)
	l.Lock()
	defer l.Unlock()
	if err := vols.Snapshot(ctx, b.VolumeID, sn.VolumeID); err != nil {
		return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not snapshot the branch's data", Err: err}
	}
	return nil
}

// ListSnapshots returns a project's snapshots.
func (p *Platform) ListSnapshots(ctx context.Context, pr accounts.Principal, projectID string) ([]metastore.Snapshot, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return nil, err
	}
	return p.store.ProjectSnapshots(ctx, proj.ID)
}

// GetSnapshot returns a snapshot of a project the caller reaches.
func (p *Platform) GetSnapshot(ctx context.Context, pr accounts.Principal, projectID, snapshotID string) (metastore.Snapshot, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return metastore.Snapshot{}, err
	}
	if !ids.ValidResource(snapshotID) {
		return metastore.Snapshot{}, notFound("snapshot")
	}
	sn, err := p.store.GetSnapshot(ctx, proj.ID, snapshotID)
	return sn, wrapStore("snapshot", err)
}

// SnapshotUpdate is a snapshot PATCH; nil fields stay as they are.
type SnapshotUpdate struct {
	Name *string
	// ExpiresAt is set when expires_at was given; ClearExpiry for null.
	ExpiresAt   *time.Time
	ClearExpiry bool
}

// UpdateSnapshot renames a snapshot or changes its expiry.
func (p *Platform) UpdateSnapshot(ctx context.Context, pr accounts.Principal, projectID, snapshotID string, in SnapshotUpdate) (metastore.Snapshot, error) {
	sn, err := p.GetSnapshot(ctx, pr, projectID, snapshotID)
	if err != nil {
		return metastore.Snapshot{}, err
	}
	if in.Name != nil {
		if *in.Name == "" || len(*in.Name) > maxName {
			return metastore.Snapshot{}, newErr(errkind.Invalid, "snapshot.name must be 1 to %d characters", maxName)
		}
		sn.Name = *in.Name
	}
	switch {
	case in.ClearExpiry:
		sn.ExpiresAt = nil
	case in.ExpiresAt != nil:
		if !in.ExpiresAt.After(now()) {
			return metastore.Snapshot{}, newErr(errkind.Invalid, "snapshot.expires_at must be in the future")
		}
		e := in.ExpiresAt.UTC().Truncate(time.Second)
		sn.ExpiresAt = &e
	}
	sn.UpdatedAt = now()
	var out metastore.Snapshot
	_, err = p.mutate(ctx, sn.ProjectID, nil, func(ctx context.Context) error {
		var err error
		out, err = p.store.UpdateSnapshot(ctx, sn)
		return wrapStore("snapshot", err)
	})
	return out, err
}

// DeleteSnapshot deletes a snapshot and its volume. Branches restored from
// it are unaffected (their volumes are their own).
func (p *Platform) DeleteSnapshot(ctx context.Context, pr accounts.Principal, projectID, snapshotID string) ([]metastore.Operation, error) {
	sn, err := p.GetSnapshot(ctx, pr, projectID, snapshotID)
	if err != nil {
		return nil, err
	}
	return p.mutate(ctx, sn.ProjectID, []metastore.Operation{newOp(sn.ProjectID, sn.SourceBranchID, "", "delete_timeline")},
		func(ctx context.Context) error { return p.removeSnapshot(ctx, sn) })
}

func (p *Platform) removeSnapshot(ctx context.Context, sn metastore.Snapshot) error {
	if err := p.store.DeleteSnapshot(ctx, sn.ProjectID, sn.ID); err != nil && !errors.Is(err, metastore.ErrNotFound) {
		return wrapStore("snapshot", err)
	}
	if err := p.cfg.Volumes.Delete(ctx, sn.VolumeID); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete snapshot volume %s: %w", sn.VolumeID, err)
	}
	return nil
}

// cloneSnapshot makes dst a writable copy of a snapshot volume that
// Postgres can start on.
func (p *Platform) cloneSnapshot(ctx context.Context, sn metastore.Snapshot, dst string) error {
	vols := p.cfg.Volumes
	if err := vols.Clone(ctx, sn.VolumeID, dst); err != nil {
		return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not restore the snapshot's data", Err: err}
	}
	// An atomic snapshot of a running compute holds its postmaster.pid.
	if dir := p.cfg.Volumes.Path(dst); dir != "" {
		if err := os.Remove(filepath.Join(dir, "postmaster.pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// purgeSnapshots deletes the volumes of a deleted project's snapshots.
func (p *Platform) purgeSnapshots(ctx context.Context, projectID string) error {
	snaps, err := p.store.ProjectSnapshots(ctx, projectID)
	if err != nil {
		return err
	}
	for _, sn := range snaps {
		if err := p.cfg.Volumes.Delete(ctx, sn.VolumeID); err != nil && !isNotFound(err) {
			return fmt.Errorf("delete snapshot volume %s: %w", sn.VolumeID, err)
		}
	}
	return nil
}
