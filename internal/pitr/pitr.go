// Package pitr checks the points in a branch's history that branch
// creates, restores and snapshots ask for (an LSN or a time within the
// project's restore window) and words a failed recovery to one as the
// API's error. Errors are *errkind.Error with the messages the API returns.
package pitr

import (
	"errors"
	"regexp"
	"time"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/history"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pgrun"
)

// Point is a point in a branch's history: an LSN or a time; zero is the
// head. It is also where a recovery to a point landed.
type Point struct {
	LSN string
	At  *time.Time
}

// Zero reports whether pt is the head.
func (pt Point) Zero() bool { return pt.LSN == "" && pt.At == nil }

// History is pt as the history manager takes it.
func (pt Point) History() history.Point {
	hp := history.Point{LSN: pt.LSN}
	if pt.At != nil {
		hp.Time = *pt.At
	}
	return hp
}

var lsnRe = regexp.MustCompile(`^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$`)

// Parse checks a requested point of b's history at now: an LSN in
// Postgres' form, or a time after the branch was created and within the
// project's history_retention_seconds (Neon's restore window). lsnField and
// tsField name the request's fields in errors.
func Parse(proj metastore.Project, b metastore.Branch, lsn string, at *time.Time, lsnField, tsField string, now time.Time) (Point, error) {
	switch {
	case lsn != "" && at != nil:
		return Point{}, invalid("%s and %s are mutually exclusive", lsnField, tsField)
	case lsn != "":
		if !lsnRe.MatchString(lsn) {
			return Point{}, invalid("%s %q is not an LSN (for example 0/1A2B3C4)", lsnField, lsn)
		}
		if proj.HistoryRetentionSeconds == 0 {
			return Point{}, errNoHistory(proj)
		}
		return Point{LSN: lsn}, nil
	case at != nil:
		t := at.UTC()
		if t.After(now) {
			return Point{}, invalid("%s %s is in the future", tsField, t.Format(time.RFC3339))
		}
		if proj.HistoryRetentionSeconds == 0 {
			return Point{}, errNoHistory(proj)
		}
		from := now.Add(-time.Duration(proj.HistoryRetentionSeconds) * time.Second)
		if b.CreatedAt.After(from) {
			from = b.CreatedAt
		}
		if t.Before(from) {
			return Point{}, invalid("%s %s is outside the branch's history: it must be between %s and now (the project keeps %d seconds of history)",
				tsField, t.Format(time.RFC3339Nano), from.Format(time.RFC3339Nano), proj.HistoryRetentionSeconds)
		}
		return Point{At: &t}, nil
	}
	return Point{}, nil
}

func invalid(format string, args ...any) error { return errkind.New(errkind.Invalid, format, args...) }

func errNoHistory(proj metastore.Project) error {
	return invalid("project %s keeps no history (history_retention_seconds is 0): restore to a point in time is disabled", proj.ID)
}

// RecoveryError is the API's error for a failed recovery of branch
// branchID to pt: Neon's 400 for a point outside what the history keeps,
// 503 otherwise.
func RecoveryError(err error, branchID string, pt Point) error {
	if errors.Is(err, history.ErrOutsideWindow) || errors.Is(err, pgrun.ErrBeforeConsistent) {
		what := pt.LSN
		if pt.At != nil {
			what = pt.At.Format(time.RFC3339Nano)
		}
		return &errkind.Error{Kind: errkind.Invalid, Msg: what + " is outside the history of branch " + branchID + " kept for restore", Err: err}
	}
	return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not restore the branch's history to that point", Err: err}
}
