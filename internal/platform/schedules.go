package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
)

// ScheduleItem is one line of a branch's backup schedule (Neon's
// BackupScheduleItem): a scheduled snapshot at every slot of its frequency,
// at Hour (UTC) of Day (1 = Monday … 7 = Sunday for weekly, the day of the
// month otherwise; a month's last day when it has fewer) of Month, kept
// RetentionSeconds or for ever.
type ScheduleItem struct {
	Frequency        string `json:"frequency"`
	Hour             *int   `json:"hour,omitempty"`
	Day              *int   `json:"day,omitempty"`
	Month            *int   `json:"month,omitempty"`
	RetentionSeconds *int64 `json:"retention_seconds,omitempty"`
}

// check validates an item against the spec's ranges and its frequency.
func (it ScheduleItem) check() error {
	switch {
	case it.Frequency != "hourly" && it.Frequency != "daily" && it.Frequency != "weekly" &&
		it.Frequency != "monthly" && it.Frequency != "yearly":
		return newErr(KindInvalid, "schedule: frequency %q must be one of hourly, daily, weekly, monthly, yearly", it.Frequency)
	case it.Hour != nil && (*it.Hour < 0 || *it.Hour > 23):
		return newErr(KindInvalid, "schedule: hour must be between 0 and 23")
	case it.Day != nil && it.Frequency == "weekly" && (*it.Day < 1 || *it.Day > 7):
		return newErr(KindInvalid, "schedule: day of a weekly snapshot must be between 1 (Monday) and 7 (Sunday)")
	case it.Day != nil && (*it.Day < 1 || *it.Day > 31):
		return newErr(KindInvalid, "schedule: day must be between 1 and 31")
	case it.Month != nil && (*it.Month < 1 || *it.Month > 12):
		return newErr(KindInvalid, "schedule: month must be between 1 and 12")
	case it.RetentionSeconds != nil && *it.RetentionSeconds < 3600:
		return newErr(KindInvalid, "schedule: retention_seconds must be at least 3600")
	}
	return nil
}

// lastSlot is the newest moment at or before now when the item takes a
// snapshot.
func (it ScheduleItem) lastSlot(now time.Time) time.Time {
	now = now.UTC()
	at := func(p *int, def int) int {
		if p != nil {
			return *p
		}
		return def
	}
	hour, day, month := at(it.Hour, 0), at(it.Day, 1), at(it.Month, 1)
	// inMonth is the day of a month at hour, clamped to its last day.
	inMonth := func(y int, m time.Month) time.Time {
		last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
		return time.Date(y, m, min(day, last), hour, 0, 0, 0, time.UTC)
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), hour, 0, 0, 0, time.UTC)
	switch it.Frequency {
	case "hourly":
		return now.Truncate(time.Hour)
	case "daily":
		if today.After(now) {
			return today.AddDate(0, 0, -1)
		}
		return today
	case "weekly":
		s := today.AddDate(0, 0, -((int(now.Weekday())-day%7)+7)%7)
		if s.After(now) {
			return s.AddDate(0, 0, -7)
		}
		return s
	case "monthly":
		if s := inMonth(now.Year(), now.Month()); !s.After(now) {
			return s
		}
		prev := now.AddDate(0, 0, -now.Day()) // the previous month's last day
		return inMonth(prev.Year(), prev.Month())
	default: // yearly
		if s := inMonth(now.Year(), time.Month(month)); !s.After(now) {
			return s
		}
		return inMonth(now.Year()-1, time.Month(month))
	}
}

// BackupSchedule returns a branch's backup schedule (empty when none).
func (p *Platform) BackupSchedule(ctx context.Context, pr Principal, projectID, branchID string) ([]ScheduleItem, error) {
	b, err := p.GetBranch(ctx, pr, projectID, branchID)
	if err != nil {
		return nil, err
	}
	s, err := p.store.GetBackupSchedule(ctx, b.ID)
	if errors.Is(err, metastore.ErrNotFound) {
		return []ScheduleItem{}, nil
	}
	if err != nil {
		return nil, err
	}
	var items []ScheduleItem
	if err := json.Unmarshal(s.Schedule, &items); err != nil {
		return nil, fmt.Errorf("backup schedule of %s: %w", b.ID, err)
	}
	return items, nil
}

// SetBackupSchedule replaces a root branch's backup schedule; an empty one
// turns scheduled snapshots off. Neon offers schedules on paid plans.
func (p *Platform) SetBackupSchedule(ctx context.Context, pr Principal, projectID, branchID string, items []ScheduleItem) error {
	b, err := p.GetBranch(ctx, pr, projectID, branchID)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, it := range items {
		if err := it.check(); err != nil {
			return err
		}
		if seen[it.Frequency] {
			return newErr(KindInvalid, "schedule: frequency %s appears more than once", it.Frequency)
		}
		seen[it.Frequency] = true
	}
	if b.ParentID != nil {
		return newErr(KindInvalid, "backup schedules can be set only on root branches; branch %s has a parent", b.ID)
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
			return newErr(KindUnprocessable, "backup schedules are not available on the %s plan", pl.Name)
		}
	}
	raw, err := json.Marshal(items)
	if err != nil {
		return err
	}
	return p.store.SetBackupSchedule(ctx, metastore.BackupSchedule{BranchID: b.ID, ProjectID: b.ProjectID, Schedule: raw, SetAt: now()})
}

// takeScheduled takes the scheduled snapshots that are due: for each item,
// its newest slot when that came after the schedule was set and no
// snapshot of its frequency was taken since. A slot missed while Grove was
// down is taken once when it comes back; older ones are not.
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
		var items []ScheduleItem
		if json.Unmarshal(s.Schedule, &items) != nil {
			continue // validated on write
		}
		for _, it := range items {
			slot := it.lastSlot(t)
			if !slot.After(s.SetAt) || !last[s.BranchID][it.Frequency].Before(slot) {
				continue
			}
			if err := p.takeScheduledOne(ctx, s, it, slot, len(last[s.BranchID]) == 0); err != nil {
				if KindOf(err) != KindLocked && ctx.Err() == nil {
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
func (p *Platform) takeScheduledOne(ctx context.Context, s metastore.BackupSchedule, it ScheduleItem, slot time.Time, first bool) error {
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
	_, _, err = p.takeSnapshot(ctx, b, point{}, sn)
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
