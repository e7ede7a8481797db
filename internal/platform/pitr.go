package platform

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/history"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pitr"
	"github.com/grovedb/grove/internal/plans"
)

// materialize makes dst the state of b's volume at pt, through the history
// manager; a point outside what it keeps is Neon's 400 (pitr.RecoveryError).
func (p *Platform) materialize(ctx context.Context, b metastore.Branch, pt pitr.Point, dst string) (pitr.Point, error) {
	h := p.cfg.History
	if h == nil {
		return pitr.Point{}, &errkind.Error{Kind: errkind.Unavailable, Msg: "restore to a point in time needs the history manager, which this Grove runs without"}
	}
	src, err := p.historySource(ctx, b)
	if err != nil {
		return pitr.Point{}, err
	}
	res, err := h.Materialize(ctx, src, pt.History(), dst)
	if err != nil {
		return pitr.Point{}, pitr.RecoveryError(err, b.ID, pt)
	}
	out := pitr.Point{LSN: res.LSN}
	if !res.Time.IsZero() {
		t := res.Time.UTC()
		out.At = &t
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

// recoverInCompute makes b's volume the parent's state at pt through b's
// read-write endpoint e: a clone of the parent's snapshot before pt that
// the endpoint's compute recovers to pt, answering once promoted, while
// the replay's pages are written in the background (history.PrepareRecovery).
// b's parent point is set from where the recovery stopped.
func (p *Platform) recoverInCompute(ctx context.Context, proj metastore.Project, parent metastore.Branch, pt pitr.Point, b *metastore.Branch, e metastore.Endpoint) error {
	h := p.cfg.History
	begin := time.Now()
	defer func() { p.log.Debug("branch recovered in its compute", "branch", b.ID, "took", time.Since(begin)) }()
	src, err := p.historySource(ctx, parent)
	if err != nil {
		return err
	}
	rec, err := h.PrepareRecovery(ctx, src, pt.History(), b.VolumeID)
	if err != nil {
		return pitr.RecoveryError(err, parent.ID, pt)
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
	return pitr.RecoveryError(err, parent.ID, pt)
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
