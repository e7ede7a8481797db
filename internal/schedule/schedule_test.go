package schedule

import (
	"testing"
	"time"

	"github.com/grovedb/grove/internal/errkind"
)

func TestScheduleLastSlot(t *testing.T) {
	ip := func(v int) *int { return &v }
	// Wednesday 2026-04-15 10:30 UTC.
	now := time.Date(2026, 4, 15, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		it   Item
		want time.Time
	}{
		{"hourly", Item{Frequency: "hourly"}, time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)},
		{"daily, hour passed", Item{Frequency: "daily", Hour: ip(3)}, time.Date(2026, 4, 15, 3, 0, 0, 0, time.UTC)},
		{"daily, hour to come", Item{Frequency: "daily", Hour: ip(22)}, time.Date(2026, 4, 14, 22, 0, 0, 0, time.UTC)},
		{"daily, this hour", Item{Frequency: "daily", Hour: ip(10)}, time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)},
		{"weekly Monday", Item{Frequency: "weekly", Day: ip(1), Hour: ip(5)}, time.Date(2026, 4, 13, 5, 0, 0, 0, time.UTC)},
		{"weekly Wednesday, later today", Item{Frequency: "weekly", Day: ip(3), Hour: ip(12)}, time.Date(2026, 4, 8, 12, 0, 0, 0, time.UTC)},
		{"weekly Sunday", Item{Frequency: "weekly", Day: ip(7)}, time.Date(2026, 4, 12, 0, 0, 0, 0, time.UTC)},
		{"monthly, day passed", Item{Frequency: "monthly", Day: ip(1)}, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"monthly, day to come", Item{Frequency: "monthly", Day: ip(20)}, time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)},
		{"monthly 31st, in a 30-day month", Item{Frequency: "monthly", Day: ip(31)}, time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)},
		{"yearly, passed", Item{Frequency: "yearly", Month: ip(2), Day: ip(29)}, time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)},
		{"yearly, to come", Item{Frequency: "yearly", Month: ip(12), Day: ip(25), Hour: ip(6)}, time.Date(2025, 12, 25, 6, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.it.Check(); err != nil {
				t.Fatalf("check: %v", err)
			}
			if got := tc.it.LastSlot(now); !got.Equal(tc.want) {
				t.Errorf("LastSlot = %v, want %v", got, tc.want)
			}
		})
	}
	// Monthly on the 31st, early in a month after a 31-day one.
	if got := (Item{Frequency: "monthly", Day: ip(31)}).LastSlot(time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("monthly 31st on June 2nd: %v", got)
	}
}

func TestItemCheck(t *testing.T) {
	ip := func(v int) *int { return &v }
	short := int64(60)
	for _, it := range []Item{
		{Frequency: "minutely"},
		{Frequency: "daily", Hour: ip(24)},
		{Frequency: "weekly", Day: ip(8)},
		{Frequency: "monthly", Day: ip(0)},
		{Frequency: "yearly", Month: ip(13)},
		{Frequency: "hourly", RetentionSeconds: &short},
	} {
		if err := it.Check(); errkind.Of(err) != errkind.Invalid {
			t.Errorf("%+v: %v, want an invalid-request error", it, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ip := func(v int) *int { return &v }
	if err := Validate([]Item{{Frequency: "daily"}, {Frequency: "weekly", Day: ip(2)}}); err != nil {
		t.Fatalf("valid schedule: %v", err)
	}
	for _, items := range [][]Item{
		{{Frequency: "daily"}, {Frequency: "daily", Hour: ip(3)}},
		{{Frequency: "daily"}, {Frequency: "weekly", Day: ip(9)}},
	} {
		if err := Validate(items); errkind.Of(err) != errkind.Invalid {
			t.Errorf("%+v: %v, want an invalid-request error", items, err)
		}
	}
}

// TestDue: a slot is due once, after the schedule was set and after the
// last snapshot of its frequency.
func TestDue(t *testing.T) {
	now := time.Date(2026, 4, 15, 10, 30, 0, 0, time.UTC)
	slot := time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)
	it := Item{Frequency: "hourly"}
	for _, tc := range []struct {
		name        string
		setAt, last time.Time
		want        bool
	}{
		{"never taken", slot.Add(-time.Hour), time.Time{}, true},
		{"set after the slot", slot.Add(time.Minute), time.Time{}, false},
		{"taken before the slot", slot.Add(-time.Hour), slot.Add(-time.Minute), true},
		{"taken since the slot", slot.Add(-time.Hour), slot.Add(time.Minute), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, due := it.Due(tc.setAt, tc.last, now)
			if due != tc.want || !got.Equal(slot) {
				t.Fatalf("Due = %v, %v; want %v, %v", got, due, slot, tc.want)
			}
		})
	}
}
