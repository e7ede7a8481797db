package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pitr"
	"github.com/grovedb/grove/internal/schedule"
)

// BackupSchedule returns a branch's backup schedule (empty when none).
func (p *Platform) BackupSchedule(ctx context.Context, pr accounts.Principal, projectID, branchID string) ([]schedule.Item, error) {
	b, err := p.GetBranch(ctx, pr, projectID, branchID)
	if err != nil {
		return nil, err
	}
	s, err := p.store.GetBackupSchedule(ctx, b.ID)
	if errors.Is(err, metastore.ErrNotFound) {
		return []schedule.Item{}, nil
	}
	if err != nil {
		return nil, err
	}
	var items []schedule.Item
	if err := json.Unmarshal(s.Schedule, &items); err != nil {
		return nil, fmt.Errorf("backup schedule of %s: %w", b.ID, err)
	}
	return items, nil
}

// SetBackupSchedule replaces a root branch's backup schedule; an empty one
// turns scheduled snapshots off. Neon offers schedules on paid plans.
func (p *Platform) SetBackupSchedule(ctx context.Context, pr accounts.Principal, projectID, branchID string, items []schedule.Item) error {
	b, err := p.GetBranch(ctx, pr, projectID, branchID)
	if err != nil {
		return err
	}
	if err := schedule.Validate(items); err != nil {
		return err
	}
	if b.ParentID != nil {
		return newErr(errkind.Invalid, "backup schedules can be set only on root branches; branch %s has a parent", b.ID)
	}
	if len(items) > 0 {
		proj, err := p.store.GetProject(ctx, b.ProjectID)
		if err != nil {
			return wrapStore("project", err)
		}
		pl, err := p.projectPlan(ctx, proj)
		if err != nil {
			return err
		}
		if !pl.BackupSchedules {
			return newErr(errkind.Unprocessable, "backup schedules are not available on the %s plan", pl.Name)
		}
	}
	raw, err := json.Marshal(items)
	if err != nil {
		return err
	}
	return p.store.SetBackupSchedule(ctx, metastore.BackupSchedule{BranchID: b.ID, ProjectID: b.ProjectID, Schedule: raw, SetAt: now()})
}

// takeScheduled takes the scheduled snapshots that are due (schedule.Item.Due).
func (p *Platform) takeScheduled(ctx context.Context) {
	schedules, err := p.store.BackupSchedules(ctx)
	if err != nil || len(schedules) == 0 {
		if err != nil && ctx.Err() == nil {
			p.log.Warn("backup schedules", "err", err)
		}
		return
	}
	last, err := p.store.LastScheduledSnapshots(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn("backup schedules", "err", err)
		}
		return
	}
	t := now()
	for _, s := range schedules {
		var items []schedule.Item
		if json.Unmarshal(s.Schedule, &items) != nil {
			continue // validated on write
		}
		for _, it := range items {
			slot, due := it.Due(s.SetAt, last[s.BranchID][it.Frequency], t)
			if !due {
				continue
			}
			if err := p.takeScheduledOne(ctx, s, it, slot, len(last[s.BranchID]) == 0); err != nil {
				if errkind.Of(err) != errkind.Locked && ctx.Err() == nil {
					p.log.Warn("scheduled snapshot", "branch", s.BranchID, "frequency", it.Frequency, "err", err)
				}
				continue // the next check tries again
			}
			if last[s.BranchID] == nil {
				last[s.BranchID] = map[string]time.Time{}
			}
			last[s.BranchID][it.Frequency] = t
		}
	}
}

// takeScheduledOne takes one scheduled snapshot of a root branch at its
// head, unless the project's plan no longer offers schedules (a transfer).
func (p *Platform) takeScheduledOne(ctx context.Context, s metastore.BackupSchedule, it schedule.Item, slot time.Time, first bool) error {
	b, err := p.store.GetBranch(ctx, s.ProjectID, s.BranchID)
	if err != nil {
		return wrapStore("branch", err)
	}
	proj, err := p.store.GetProject(ctx, b.ProjectID)
	if err != nil {
		return wrapStore("project", err)
	}
	if pl, err := p.projectPlan(ctx, proj); err != nil || !pl.BackupSchedules || b.ParentID != nil {
		return err
	}
	cfg, err := p.store.BranchConfigOf(ctx, b.ID)
	if err != nil {
		return err
	}
	t := now()
	sn := metastore.Snapshot{ID: ids.NewSnapshot(), ProjectID: b.ProjectID, SourceBranchID: b.ID,
		Name: fmt.Sprintf("%s %s %s", b.Name, it.Frequency, slot.Format(time.RFC3339)), VolumeID: ids.NewVolume(),
		Schedule: it.Frequency, Config: cfg, CreatedAt: t, UpdatedAt: t, Timestamp: &t}
	if first {
		// Neon sizes the first scheduled snapshot in full and the later
		// ones by difference, which Grove does not measure (left absent:
		// not calculated).
		sn.FullSize = b.LogicalSize
	}
	if it.RetentionSeconds != nil {
		e := t.Add(time.Duration(*it.RetentionSeconds) * time.Second).Truncate(time.Second)
		sn.ExpiresAt = &e
	}
	_, _, err = p.takeSnapshot(ctx, b, pitr.Point{}, sn)
	if err == nil {
		p.log.Info("scheduled snapshot", "branch", b.ID, "project", b.ProjectID, "frequency", it.Frequency, "snapshot", sn.ID)
	}
	return err
}

// runSchedules runs the platform's scheduled work until ctx ends, as
// Neon's background jobs: not to the second, about every interval
// (Config.ScheduleInterval). It deletes expired branches and snapshots and
// takes the scheduled snapshots that are due.
func (p *Platform) runSchedules(ctx context.Context) {
	t := time.NewTicker(p.cfg.ScheduleInterval)
	defer t.Stop()
	for {
		p.expire(ctx)
		p.takeScheduled(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
