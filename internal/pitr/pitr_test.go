package pitr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/history"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pgrun"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)
	proj := metastore.Project{ID: "p-p-12345678", HistoryRetentionSeconds: 3600}
	noHistory := metastore.Project{ID: "p-p-12345678"}
	old := metastore.Branch{CreatedAt: now.Add(-24 * time.Hour)}
	young := metastore.Branch{CreatedAt: now.Add(-10 * time.Minute)}
	tp := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	tests := []struct {
		name   string
		proj   metastore.Project
		b      metastore.Branch
		lsn    string
		at     *time.Time
		want   Point
		errHas string // "" for success
	}{
		{"head", proj, old, "", nil, Point{}, ""},
		{"lsn", proj, old, "0/1A2B3C4", nil, Point{LSN: "0/1A2B3C4"}, ""},
		{"both", proj, old, "0/1", tp(-time.Minute), Point{}, "lsn and ts are mutually exclusive"},
		{"malformed lsn", proj, old, "1A2B", nil, Point{}, `lsn "1A2B" is not an LSN`},
		{"lsn without history", noHistory, old, "0/1", nil, Point{}, "keeps no history"},
		{"time in the window", proj, old, "", tp(-30 * time.Minute), Point{At: tp(-30 * time.Minute)}, ""},
		{"time in the future", proj, old, "", tp(time.Minute), Point{}, "is in the future"},
		{"time without history", noHistory, old, "", tp(-time.Minute), Point{}, "keeps no history"},
		{"time before the window", proj, old, "", tp(-2 * time.Hour), Point{}, "outside the branch's history"},
		{"time before the branch", proj, young, "", tp(-20 * time.Minute), Point{}, "outside the branch's history"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.proj, tc.b, tc.lsn, tc.at, "lsn", "ts", now)
			if tc.errHas != "" {
				if errkind.Of(err) != errkind.Invalid || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("Parse = %+v, %v; want an invalid-request error with %q", got, err, tc.errHas)
				}
				return
			}
			if err != nil || got.LSN != tc.want.LSN || (got.At == nil) != (tc.want.At == nil) || (got.At != nil && !got.At.Equal(*tc.want.At)) {
				t.Fatalf("Parse = %+v, %v; want %+v", got, err, tc.want)
			}
			if got.Zero() != (tc.lsn == "" && tc.at == nil) {
				t.Fatalf("Zero = %v", got.Zero())
			}
		})
	}
}

func TestHistory(t *testing.T) {
	at := time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)
	if hp := (Point{At: &at}).History(); !hp.Time.Equal(at) || hp.LSN != "" {
		t.Errorf("time point: %+v", hp)
	}
	if hp := (Point{LSN: "0/1"}).History(); !hp.Time.IsZero() || hp.LSN != "0/1" {
		t.Errorf("lsn point: %+v", hp)
	}
}

// TestRecoveryError: a point outside the history is the caller's error,
// anything else the service's.
func TestRecoveryError(t *testing.T) {
	at := time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		err  error
		pt   Point
		kind errkind.Kind
		msg  string
	}{
		{fmt.Errorf("x: %w", history.ErrOutsideWindow), Point{LSN: "0/1"}, errkind.Invalid, "0/1 is outside the history of branch br-1 kept for restore"},
		{pgrun.ErrBeforeConsistent, Point{At: &at}, errkind.Invalid, "2026-04-15T10:00:00Z is outside the history of branch br-1 kept for restore"},
		{errors.New("disk full"), Point{LSN: "0/1"}, errkind.Unavailable, "could not restore the branch's history to that point"},
	}
	for _, tc := range tests {
		err := RecoveryError(tc.err, "br-1", tc.pt)
		var e *errkind.Error
		if !errors.As(err, &e) || e.Kind != tc.kind || e.Msg != tc.msg || !errors.Is(err, tc.err) {
			t.Errorf("RecoveryError(%v) = %v, want kind %d %q wrapping the cause", tc.err, err, tc.kind, tc.msg)
		}
	}
}
