package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/history"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/plans"
)

// point is a point in a branch's history: an LSN or a time; zero is the head.
type point struct {
	lsn string
	at  *time.Time
}

func (pt point) zero() bool { return pt.lsn == "" && pt.at == nil }

// pointResult is where a materialised point landed.
type pointResult struct {
	lsn string
	at  *time.Time
}

var lsnRe = regexp.MustCompile(`^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$`)

// parsePoint checks a requested point of b's history: an LSN in Postgres'
// form, or a time after the branch was created and within the project's
// history_retention_seconds (Neon's restore window).
func (p *Platform) parsePoint(proj metastore.Project, b metastore.Branch, lsn string, at *time.Time, lsnField, tsField string) (point, error) {
	switch {
	case lsn != "" && at != nil:
		return point{}, newErr(KindInvalid, "%s and %s are mutually exclusive", lsnField, tsField)
	case lsn != "":
		if !lsnRe.MatchString(lsn) {
			return point{}, newErr(KindInvalid, "%s %q is not an LSN (for example 0/1A2B3C4)", lsnField, lsn)
		}
		if proj.HistoryRetentionSeconds == 0 {
			return point{}, errNoHistory(proj)
		}
		return point{lsn: lsn}, nil
	case at != nil:
		t := at.UTC()
		n := now()
		if t.After(n) {
			return point{}, newErr(KindInvalid, "%s %s is in the future", tsField, t.Format(time.RFC3339))
		}
		if proj.HistoryRetentionSeconds == 0 {
			return point{}, errNoHistory(proj)
		}
		from := n.Add(-time.Duration(proj.HistoryRetentionSeconds) * time.Second)
		if b.CreatedAt.After(from) {
			from = b.CreatedAt
		}
		if t.Before(from) {
			return point{}, newErr(KindInvalid, "%s %s is outside the branch's history: it must be between %s and now (the project keeps %d seconds of history)",
				tsField, t.Format(time.RFC3339Nano), from.Format(time.RFC3339Nano), proj.HistoryRetentionSeconds)
		}
		return point{at: &t}, nil
	}
	return point{}, nil
}

func errNoHistory(proj metastore.Project) error {
	return newErr(KindInvalid, "project %s keeps no history (history_retention_seconds is 0): restore to a point in time is disabled", proj.ID)
}

// materialize makes dst the state of b's volume at pt, through the history
// manager; a point outside what it keeps is Neon's 400.
func (p *Platform) materialize(ctx context.Context, b metastore.Branch, pt point, dst string) (pointResult, error) {
	h := p.cfg.History
	if h == nil {
		return pointResult{}, &Error{Kind: KindUnavailable, Msg: "restore to a point in time needs the history manager, which this Grove runs without"}
	}
	src, err := p.historySource(ctx, b)
	if err != nil {
		return pointResult{}, err
	}
	res, err := h.Materialize(ctx, src, pt.history(), dst)
	if err != nil {
		return pointResult{}, pointErr(err, b, pt)
	}
	out := pointResult{lsn: res.LSN}
	if !res.Time.IsZero() {
		t := res.Time.UTC()
		out.at = &t
	}
	return out, nil
}

// historySource is b's volume for the history manager, with its running
// read-write compute if it has one.
func (p *Platform) historySource(ctx context.Context, b metastore.Branch) (history.Source, error) {
	src := history.Source{VolumeID: b.VolumeID}
	ep, err := p.readWriteEndpoint(ctx, b.ID)
	if err != nil {
		return src, err
	}
	if ep != nil {
		if inst, ok := p.cfg.Computes.Get(ep.ID); ok && inst.VolumeID() == b.VolumeID {
			src.ComputeID = ep.ID
		}
	}
	return src, nil
}

func (pt point) history() history.Point {
	hp := history.Point{LSN: pt.lsn}
	if pt.at != nil {
		hp.Time = *pt.at
	}
	return hp
}

// pointErr is the API's error for a failed recovery of b to pt: Neon's 400
// for a point outside what the history keeps.
func pointErr(err error, b metastore.Branch, pt point) error {
	if errors.Is(err, history.ErrOutsideWindow) || errors.Is(err, pgrun.ErrBeforeConsistent) {
		what := pt.lsn
		if pt.at != nil {
			what = pt.at.Format(time.RFC3339Nano)
		}
		return &Error{Kind: KindInvalid, Msg: fmt.Sprintf("%s is outside the history of branch %s kept for restore", what, b.ID), Err: err}
	}
	return &Error{Kind: KindUnavailable, Msg: "could not restore the branch's history to that point", Err: err}
}

// recoverInCompute makes b's volume the parent's state at pt through b's
// read-write endpoint e: a clone of the parent's snapshot before pt that
// the endpoint's compute recovers to pt, answering once promoted, while
// the replay's pages are written in the background (history.PrepareRecovery).
// b's parent point is set from where the recovery stopped.
func (p *Platform) recoverInCompute(ctx context.Context, proj metastore.Project, parent metastore.Branch, pt point, b *metastore.Branch, e metastore.Endpoint) error {
	h := p.cfg.History
	begin := time.Now()
	defer func() { p.log.Debug("branch recovered in its compute", "branch", b.ID, "took", time.Since(begin)) }()
	src, err := p.historySource(ctx, parent)
	if err != nil {
		return err
	}
	rec, err := h.PrepareRecovery(ctx, src, pt.history(), b.VolumeID)
	if err != nil {
		return pointErr(err, parent, pt)
	}
	defer rec.Release()
	spec := p.spec(e, b.VolumeID, proj.PGVersion)
	spec.Recovery = &rec.Recovery
	inst, err := p.cfg.Computes.Start(ctx, spec)
	if err == nil {
		var lsn string
		if lsn, err = h.Recovered(b.VolumeID); err == nil {
			b.ParentLSN, b.ParentTimestamp = lsn, p.lastReplayed(ctx, inst, rec.BaseTime)
			return nil
		}
		_ = p.cfg.Computes.Suspend(context.WithoutCancel(ctx), e.ID)
	}
	p.dropVolume(ctx, b.VolumeID)
	p.forgetHistory(ctx, b.VolumeID)
	return pointErr(err, parent, pt)
}

// lastReplayed is the commit time of the last transaction a recovery
// replayed, or base when it replayed none.
func (p *Platform) lastReplayed(ctx context.Context, inst *compute.Instance, base time.Time) *time.Time {
	t := base.UTC()
	conn, err := inst.Conn(ctx, "postgres")
	if err != nil {
		return &t
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var last *time.Time
	if err := conn.QueryRow(ctx, "SELECT pg_last_xact_replay_timestamp()").Scan(&last); err == nil && last != nil {
		t = last.UTC()
	}
	return &t
}

// forgetHistory drops what the history manager keeps of a deleted volume.
func (p *Platform) forgetHistory(ctx context.Context, volumeID string) {
	if p.cfg.History == nil {
		return
	}
	if err := p.cfg.History.Forget(ctx, volumeID); err != nil {
		p.log.Warn("forget volume history", "volume", volumeID, "err", err)
	}
}

// HistoryRetention returns how long a volume's history is kept: its
// project's history_retention_seconds. A volume no live branch owns (a
// deleted branch's, until the history manager forgets it) or an unreadable
// store keeps the longest window, so that a metadata hiccup never prunes.
// It reads the store alone, so that the history manager, which the
// platform needs, can be made before it.
func HistoryRetention(store *metastore.Store, log *slog.Logger) func(volumeID string) time.Duration {
	return func(volumeID string) time.Duration {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sec, err := store.VolumeRetention(ctx, volumeID)
		if err != nil {
			if !errors.Is(err, metastore.ErrNotFound) {
				log.Warn("history retention: keeping the longest window", "volume", volumeID, "err", err)
			}
			return plans.MaxHistoryRetention
		}
		return time.Duration(sec) * time.Second
	}
}
