package platform

import (
	"errors"
	"testing"
	"time"
)

func TestConsumptionWindow(t *testing.T) {
	now := time.Date(2026, 5, 20, 15, 30, 0, 0, time.UTC)
	d := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		gran, from, to string
		trunc          string
		rf, rt         string
		kind           Kind // 0: no error
	}{
		{"hourly", "2026-05-20T10:15:00Z", "2026-05-20T12:00:00Z", "hour", "2026-05-20T10:00:00Z", "2026-05-20T12:00:00Z", 0},
		{"hourly", "2026-05-20T10:15:00Z", "2026-05-20T12:01:00Z", "hour", "2026-05-20T10:00:00Z", "2026-05-20T13:00:00Z", 0},
		{"hourly", "2026-05-13T15:00:00Z", "2026-05-20T12:00:00Z", "hour", "2026-05-13T15:00:00Z", "2026-05-20T12:00:00Z", 0},
		{"hourly", "2026-05-13T14:00:00Z", "2026-05-20T12:00:00Z", "", "", "", KindNotAcceptable},
		{"daily", "2026-03-21T08:00:00Z", "2026-05-20T08:00:00Z", "day", "2026-03-21T00:00:00Z", "2026-05-21T00:00:00Z", 0},
		{"daily", "2026-03-20T00:00:00Z", "2026-05-20T00:00:00Z", "", "", "", KindNotAcceptable},
		{"monthly", "2025-06-10T00:00:00Z", "2026-05-20T00:00:00Z", "month", "2025-06-01T00:00:00Z", "2026-06-01T00:00:00Z", 0},
		{"monthly", "2025-04-01T00:00:00Z", "2026-05-20T00:00:00Z", "", "", "", KindNotAcceptable},
		{"monthly", "2024-02-01T00:00:00Z", "2024-05-01T00:00:00Z", "", "", "", KindNotAcceptable},
		{"weekly", "2026-05-20T10:00:00Z", "2026-05-20T12:00:00Z", "", "", "", KindInvalid},
		{"hourly", "2026-05-20T12:00:00Z", "2026-05-20T12:00:00Z", "", "", "", KindInvalid},
		{"hourly", "2026-05-20T13:00:00Z", "2026-05-20T12:00:00Z", "", "", "", KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.gran+" "+tc.from+" "+tc.to, func(t *testing.T) {
			trunc, rf, rt, err := ConsumptionWindow(tc.gran, d(tc.from), d(tc.to), now)
			if tc.kind != 0 {
				var e *Error
				if !errors.As(err, &e) || e.Kind != tc.kind {
					t.Fatalf("err = %v, want kind %d", err, tc.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if trunc != tc.trunc || !rf.Equal(d(tc.rf)) || !rt.Equal(d(tc.rt)) {
				t.Errorf("= %s %s %s, want %s %s %s", trunc, rf, rt, tc.trunc, tc.rf, tc.rt)
			}
		})
	}
}

func TestQuotaExceeded(t *testing.T) {
	u := Usage{ActiveSeconds: 100, ComputeSeconds: 25, WrittenBytes: 1 << 20, TransferBytes: 5000}
	tests := []struct {
		q    projectQuota
		want string
	}{
		{projectQuota{}, ""},
		{projectQuota{ActiveTimeSeconds: 101, DataTransferBytes: 5001}, ""},
		{projectQuota{ActiveTimeSeconds: 100}, "active_time_seconds"},
		{projectQuota{ComputeTimeSeconds: 20}, "compute_time_seconds"},
		{projectQuota{WrittenDataBytes: 1 << 20}, "written_data_bytes"},
		{projectQuota{DataTransferBytes: 4000, LogicalSizeBytes: 1}, "data_transfer_bytes"},
	}
	for _, tc := range tests {
		if got := tc.q.exceeded(u); got != tc.want {
			t.Errorf("%+v: exceeded = %q, want %q", tc.q, got, tc.want)
		}
	}
	if err := (&QuotaError{Metric: "data_transfer_bytes"}); !errors.Is(err, ErrQuotaExceeded) {
		t.Error("a QuotaError is not ErrQuotaExceeded")
	}
}
