// Package schedule is the arithmetic of branches' backup schedules (Neon's
// BackupScheduleItem): which schedules are valid, when each item's last
// slot was and which slots are due. Errors are *errkind.Error with the
// messages the API returns.
package schedule

import (
	"time"

	"github.com/grovedb/grove/internal/errkind"
)

// Item is one line of a branch's backup schedule (Neon's
// BackupScheduleItem): a scheduled snapshot at every slot of its frequency,
// at Hour (UTC) of Day (1 = Monday … 7 = Sunday for weekly, the day of the
// month otherwise; a month's last day when it has fewer) of Month, kept
// RetentionSeconds or for ever.
type Item struct {
	Frequency        string `json:"frequency"`
	Hour             *int   `json:"hour,omitempty"`
	Day              *int   `json:"day,omitempty"`
	Month            *int   `json:"month,omitempty"`
	RetentionSeconds *int64 `json:"retention_seconds,omitempty"`
}

func invalid(format string, args ...any) error { return errkind.New(errkind.Invalid, format, args...) }

// Validate checks every item and that no frequency appears twice.
func Validate(items []Item) error {
	seen := map[string]bool{}
	for _, it := range items {
		if err := it.Check(); err != nil {
			return err
		}
		if seen[it.Frequency] {
			return invalid("schedule: frequency %s appears more than once", it.Frequency)
		}
		seen[it.Frequency] = true
	}
	return nil
}

// Check validates an item against the spec's ranges and its frequency.
func (it Item) Check() error {
	switch {
	case it.Frequency != "hourly" && it.Frequency != "daily" && it.Frequency != "weekly" &&
		it.Frequency != "monthly" && it.Frequency != "yearly":
		return invalid("schedule: frequency %q must be one of hourly, daily, weekly, monthly, yearly", it.Frequency)
	case it.Hour != nil && (*it.Hour < 0 || *it.Hour > 23):
		return invalid("schedule: hour must be between 0 and 23")
	case it.Day != nil && it.Frequency == "weekly" && (*it.Day < 1 || *it.Day > 7):
		return invalid("schedule: day of a weekly snapshot must be between 1 (Monday) and 7 (Sunday)")
	case it.Day != nil && (*it.Day < 1 || *it.Day > 31):
		return invalid("schedule: day must be between 1 and 31")
	case it.Month != nil && (*it.Month < 1 || *it.Month > 12):
		return invalid("schedule: month must be between 1 and 12")
	case it.RetentionSeconds != nil && *it.RetentionSeconds < 3600:
		return invalid("schedule: retention_seconds must be at least 3600")
	}
	return nil
}

// LastSlot is the newest moment at or before now when the item takes a
// snapshot.
func (it Item) LastSlot(now time.Time) time.Time {
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

// Due returns the slot the item has due at now, if any: its newest slot,
// when that came after the schedule was set and no snapshot of the item's
// frequency was taken since (last, zero when none). A slot missed while
// Grove was down is due once when it comes back; older ones are not.
func (it Item) Due(setAt, last, now time.Time) (time.Time, bool) {
	slot := it.LastSlot(now)
	return slot, slot.After(setAt) && last.Before(slot)
}
