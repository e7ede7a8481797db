package platform

import (
	"testing"
	"time"
)

func TestScheduleLastSlot(t *testing.T) {
	ip := func(v int) *int { return &v }
	// Wednesday 2026-04-15 10:30 UTC.
	now := time.Date(2026, 4, 15, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		it   ScheduleItem
		want time.Time
	}{
		{"hourly", ScheduleItem{Frequency: "hourly"}, time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)},
		{"daily, hour passed", ScheduleItem{Frequency: "daily", Hour: ip(3)}, time.Date(2026, 4, 15, 3, 0, 0, 0, time.UTC)},
		{"daily, hour to come", ScheduleItem{Frequency: "daily", Hour: ip(22)}, time.Date(2026, 4, 14, 22, 0, 0, 0, time.UTC)},
		{"daily, this hour", ScheduleItem{Frequency: "daily", Hour: ip(10)}, time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)},
		{"weekly Monday", ScheduleItem{Frequency: "weekly", Day: ip(1), Hour: ip(5)}, time.Date(2026, 4, 13, 5, 0, 0, 0, time.UTC)},
		{"weekly Wednesday, later today", ScheduleItem{Frequency: "weekly", Day: ip(3), Hour: ip(12)}, time.Date(2026, 4, 8, 12, 0, 0, 0, time.UTC)},
		{"weekly Sunday", ScheduleItem{Frequency: "weekly", Day: ip(7)}, time.Date(2026, 4, 12, 0, 0, 0, 0, time.UTC)},
		{"monthly, day passed", ScheduleItem{Frequency: "monthly", Day: ip(1)}, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"monthly, day to come", ScheduleItem{Frequency: "monthly", Day: ip(20)}, time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)},
		{"monthly 31st, in a 30-day month", ScheduleItem{Frequency: "monthly", Day: ip(31)}, time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)},
		{"yearly, passed", ScheduleItem{Frequency: "yearly", Month: ip(2), Day: ip(29)}, time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)},
		{"yearly, to come", ScheduleItem{Frequency: "yearly", Month: ip(12), Day: ip(25), Hour: ip(6)}, time.Date(2025, 12, 25, 6, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.it.check(); err != nil {
				t.Fatalf("check: %v", err)
			}
			if got := tc.it.lastSlot(now); !got.Equal(tc.want) {
				t.Errorf("lastSlot = %v, want %v", got, tc.want)
			}
		})
	}
	// Monthly on the 31st, early in a month after a 31-day one.
	if got := (ScheduleItem{Frequency: "monthly", Day: ip(31)}).lastSlot(time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("monthly 31st on June 2nd: %v", got)
	}
}

func TestScheduleItemCheck(t *testing.T) {
	ip := func(v int) *int { return &v }
	short := int64(60)
	for _, it := range []ScheduleItem{
		{Frequency: "minutely"},
		{Frequency: "daily", Hour: ip(24)},
		{Frequency: "weekly", Day: ip(8)},
		{Frequency: "monthly", Day: ip(0)},
		{Frequency: "yearly", Month: ip(13)},
		{Frequency: "hourly", RetentionSeconds: &short},
	} {
		if err := it.check(); KindOf(err) != KindInvalid {
			t.Errorf("%+v: %v, want an invalid-request error", it, err)
		}
	}
}
