package history

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/pgrun"
)

// Run removes what a crash left (temporaries of Materialize, snapshots no
// index records), then until ctx ends takes automatic snapshots of running
// read-write computes' volumes and prunes every history to its retention
// window, removing the histories of volumes that no longer exist.
func (m *Manager) Run(ctx context.Context) {
	if err := m.sweepLeftovers(ctx); err != nil && ctx.Err() == nil {
		m.log.Warn("history: remove leftovers", "err", err)
	}
	t := time.NewTicker(m.cfg.CheckInterval)
	defer t.Stop()
	var pruned time.Time
	for {
		m.snapshotDue(ctx)
		if time.Since(pruned) >= m.cfg.PruneInterval {
			m.pruneAll(ctx)
			pruned = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepLeftovers deletes temporaries of Materialize (stopping a recovery a
// crash left running) and snapshots that no index records.
func (m *Manager) sweepLeftovers(ctx context.Context) error {
	m.sweep.Lock()
	defer m.sweep.Unlock()
	vols, err := m.cfg.Volumes.List(ctx)
	if err != nil {
		return err
	}
	recorded := map[string]bool{}
	ents, err := os.ReadDir(m.cfg.Dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		idx, err := m.readIndex(e.Name())
		if err != nil {
			return err // keep every snapshot when one index cannot be read
		}
		for _, s := range idx.Snapshots {
			recorded[s.ID] = true
		}
	}
	var errs []error
	for _, v := range vols {
		if !m.Owns(v) || recorded[v] {
			continue
		}
		if strings.HasPrefix(v, tmpPrefix) {
			if err := pgrun.StopStale(ctx, m.cfg.Volumes.Path(v)); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if err := m.cfg.Volumes.Delete(ctx, v); err != nil {
			errs = append(errs, err)
			continue
		}
		m.log.Info("history: removed leftover volume", "volume", v)
	}
	return errors.Join(errs...)
}

// snapshotDue snapshots the volume of every running read-write compute
// whose last snapshot is older than SnapshotInterval or SnapshotWAL bytes
// of WAL (or of full-page images), when it wrote WAL since.
func (m *Manager) snapshotDue(ctx context.Context) {
	c := m.getComputes()
	if c == nil {
		return
	}
	for _, in := range c.List() {
		if ctx.Err() != nil {
			return
		}
		if in.State() != compute.StateActive || in.Spec().ReadOnly || !in.Settings().ArchiveMode {
			continue
		}
		if err := m.snapshotIfDue(ctx, in); err != nil && ctx.Err() == nil && in.State() == compute.StateActive {
			m.log.Warn("history: automatic snapshot", "volume", in.VolumeID(), "err", err)
		}
	}
}

func (m *Manager) snapshotIfDue(ctx context.Context, in *compute.Instance) error {
	vol := in.VolumeID()
	v := m.vol(vol)
	v.mu.Lock()
	defer v.mu.Unlock()
	idx, err := m.readIndex(vol)
	if err != nil || (len(idx.Snapshots) == 0 && !m.isRecovering(vol)) {
		return err // not tracked yet: Prepare starts its history
	}
	conn, err := in.Conn(ctx, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// Read before any snapshot: images written in between count twice,
	// which only brings the next snapshot a little forward.
	cur, imgs, err := readWAL(ctx, conn)
	if err != nil {
		return err
	}
	if len(idx.Snapshots) == 0 {
		// A volume its compute recovered to a point (PrepareRecovery),
		// promoted since (the compute is active): its history starts now.
		idx.Volume = vol
		s, err := m.addSnapshot(ctx, in, conn, idx, imgs)
		if err != nil {
			return err
		}
		m.doneRecovering(vol)
		m.log.Info("history started", "volume", vol, "snapshot", s.ID, "lsn", s.LSN)
		return nil
	}
	last := idx.Snapshots[len(idx.Snapshots)-1]
	images := v.images.since(last.ID, imgs)
	if cur <= last.LSN || (time.Since(last.Time) < m.cfg.SnapshotInterval &&
		max(int64(cur-last.LSN), images) < m.cfg.SnapshotWAL) {
		return nil
	}
	s, err := m.addSnapshot(ctx, in, conn, idx, imgs)
	if err != nil {
		return err
	}
	m.log.Debug("history: automatic snapshot", "volume", vol, "snapshot", s.ID, "lsn", s.LSN)
	return nil
}

// addSnapshot snapshots in's volume and records it in idx, the volume's
// index, which the caller holds locked; imgs, read before, becomes the
// mark its compute's full-page images count from.
func (m *Manager) addSnapshot(ctx context.Context, in *compute.Instance, conn *pgx.Conn, idx index, imgs imageMark) (snapshot, error) {
	s, err := m.snapshotRunning(ctx, in, conn)
	if err != nil {
		return snapshot{}, err
	}
	idx.Snapshots = append(idx.Snapshots, s)
	if err := m.writeIndex(in.VolumeID(), idx); err != nil {
		_ = m.cfg.Volumes.Delete(context.WithoutCancel(ctx), s.ID)
		return snapshot{}, err
	}
	imgs.snapshot = s.ID
	m.vol(in.VolumeID()).images = imgs
	return s, nil
}

// imageMark is a compute's count of full-page images (pg_stat_wal) when
// a snapshot was taken or first seen.
type imageMark struct {
	snapshot string
	reset    time.Time // pg_stat_wal.stats_reset: the count restarts from 0 with it
	fpi      int64
	pageSize int64
}

// readWAL reads, in one query, a compute's WAL insert position and its
// count of full-page images.
func readWAL(ctx context.Context, conn *pgx.Conn) (LSN, imageMark, error) {
	var m imageMark
	var at string
	err := conn.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text, wal_fpi, coalesce(stats_reset, 'epoch'),
		current_setting('block_size')::bigint FROM pg_stat_wal`).Scan(&at, &m.fpi, &m.reset, &m.pageSize)
	if err != nil {
		return 0, imageMark{}, fmt.Errorf("WAL position and statistics: %w", err)
	}
	lsn, err := ParseLSN(at)
	return lsn, m, err
}

// since returns the bytes of the full-page images written since snapshot
// at their uncompressed size, now being the current count. A snapshot
// without a mark (taken before Grove started, or of a stopped volume) is
// marked now and counts from here; after a reset of the statistics the
// count since the reset is the best estimate.
func (mk *imageMark) since(snapshot string, now imageMark) int64 {
	switch {
	case mk.snapshot != snapshot:
		now.snapshot = snapshot
		*mk = now
		return 0
	case !mk.reset.Equal(now.reset) || now.fpi < mk.fpi:
		return now.fpi * now.pageSize
	default:
		return (now.fpi - mk.fpi) * now.pageSize
	}
}

// SnapshotNow takes an automatic snapshot of the volume of a running
// read-write compute at once (tests, benchmarks, and callers that want a
// cheap base before a burst of writes).
func (m *Manager) SnapshotNow(ctx context.Context, in *compute.Instance) error {
	vol := in.VolumeID()
	v := m.vol(vol)
	v.mu.Lock()
	defer v.mu.Unlock()
	idx, err := m.readIndex(vol)
	if err != nil {
		return err
	}
	if len(idx.Snapshots) == 0 {
		return fmt.Errorf("snapshot %s: its history has not started", vol)
	}
	conn, err := in.Conn(ctx, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, imgs, err := readWAL(ctx, conn)
	if err != nil {
		return err
	}
	_, err = m.addSnapshot(ctx, in, conn, idx, imgs)
	return err
}

func insertLSN(ctx context.Context, conn *pgx.Conn) (LSN, error) {
	var s string
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&s); err != nil {
		return 0, fmt.Errorf("current WAL position: %w", err)
	}
	return ParseLSN(s)
}

// snapshotRunning snapshots a running compute's volume consistently: a
// checkpoint and an atomic snapshot where the driver makes one (btrfs), else a copy between
// pg_backup_start and pg_backup_stop, whose label is kept in the index and
// written into clones. Its position is the WAL insert position after the
// atomic snapshot, or the backup's end.
func (m *Manager) snapshotRunning(ctx context.Context, in *compute.Instance, conn *pgx.Conn) (snapshot, error) {
	vol := in.VolumeID()
	id := snapPrefix + randomHex(8)
	m.sweep.RLock()
	defer m.sweep.RUnlock()
	s := snapshot{ID: id, Major: in.Major()}
	if m.cfg.Volumes.Atomic() {
		// A checkpoint first, so that recovery from the snapshot starts
		// here and not at an older checkpoint (as pg_backup_start does).
		if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
			return snapshot{}, fmt.Errorf("snapshot %s: checkpoint: %w", vol, err)
		}
		if err := m.cfg.Volumes.Snapshot(ctx, vol, id); err != nil {
			return snapshot{}, fmt.Errorf("snapshot %s: %w", vol, err)
		}
		lsn, err := insertLSN(ctx, conn)
		if err != nil {
			_ = m.cfg.Volumes.Delete(context.WithoutCancel(ctx), id)
			return snapshot{}, err
		}
		s.LSN, s.Time = lsn, time.Now().UTC()
	} else if err := m.backupSnapshot(ctx, in, conn, id, &s); err != nil {
		if m.cfg.Volumes.Exists(id) {
			_ = m.cfg.Volumes.Delete(context.WithoutCancel(ctx), id)
		}
		return snapshot{}, fmt.Errorf("snapshot %s: %w", vol, err)
	}
	inst, err := m.install(s.Major)
	if err == nil {
		var c control
		if c, err = readControl(ctx, inst, m.cfg.Volumes.Path(id)); err == nil {
			s.Timeline, s.SegSize = c.Timeline, c.SegSize
			s.RedoLSN = c.RedoLSN
			if start, ok := labelStart(s.BackupLabel); ok {
				s.RedoLSN = min(s.RedoLSN, start)
			}
		}
	}
	if err != nil {
		_ = m.cfg.Volumes.Delete(context.WithoutCancel(ctx), id)
		return snapshot{}, fmt.Errorf("snapshot %s: %w", vol, err)
	}
	return s, nil
}

// backupSnapshot copies a running cluster with the online backup API.
// pg_backup_stop waits until the WAL up to the backup's end is archived.
func (m *Manager) backupSnapshot(ctx context.Context, in *compute.Instance, conn *pgx.Conn, id string, s *snapshot) error {
	startSQL := "SELECT pg_backup_start($1, true)"
	stopSQL := "SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop(true)"
	if in.Major() < 15 {
		startSQL = "SELECT pg_start_backup($1, true, false)"
		stopSQL = "SELECT lsn::text, labelfile, spcmapfile FROM pg_stop_backup(false, true)"
	}
	if _, err := conn.Exec(ctx, startSQL, "grove history "+id); err != nil {
		return fmt.Errorf("backup start: %w", err)
	}
	// A copy of a live data directory can trip over files Postgres removes
	// meanwhile: try again.
	for attempt := 1; ; attempt++ {
		err := m.cfg.Volumes.Snapshot(ctx, in.VolumeID(), id)
		if err == nil {
			break
		}
		if attempt == 3 || ctx.Err() != nil {
			return err
		}
		if m.cfg.Volumes.Exists(id) {
			if err := m.cfg.Volumes.Delete(ctx, id); err != nil {
				return err
			}
		}
	}
	var lsn string
	var label string
	var spcMap *string
	if err := conn.QueryRow(ctx, stopSQL, pgx.QueryExecModeSimpleProtocol).Scan(&lsn, &label, &spcMap); err != nil {
		return fmt.Errorf("backup stop: %w", err)
	}
	end, err := ParseLSN(lsn)
	if err != nil {
		return err
	}
	s.LSN, s.Time, s.BackupLabel = end, time.Now().UTC(), label
	if spcMap != nil {
		s.TablespaceMap = *spcMap
	}
	return nil
}

// pruneAll prunes every history to its window and forgets the histories
// of volumes that no longer exist.
func (m *Manager) pruneAll(ctx context.Context) {
	ents, err := os.ReadDir(m.cfg.Dir)
	if err != nil {
		m.log.Warn("history: prune", "err", err)
		return
	}
	for _, e := range ents {
		if ctx.Err() != nil {
			return
		}
		vol := e.Name()
		if !e.IsDir() || !volumePattern.MatchString(vol) || m.pinned(vol) {
			continue
		}
		if !m.cfg.Volumes.Exists(vol) {
			if err := m.Forget(ctx, vol); err != nil {
				m.log.Warn("history: forget a deleted volume", "volume", vol, "err", err)
			} else {
				m.log.Info("history: forgot a deleted volume", "volume", vol)
			}
			continue
		}
		if err := m.Prune(ctx, vol); err != nil {
			m.log.Warn("history: prune", "volume", vol, "err", err)
		}
	}
}

// Prune deletes the automatic snapshots of volumeID older than its
// retention window, except the newest of them (the base of the window's
// first moment), and the archived WAL that base does not need.
func (m *Manager) Prune(ctx context.Context, volumeID string) error {
	v := m.vol(volumeID)
	v.mu.Lock()
	defer v.mu.Unlock()
	if m.pinned(volumeID) {
		return nil
	}
	idx, err := m.readIndex(volumeID)
	if err != nil || len(idx.Snapshots) == 0 {
		return err
	}
	windowStart := time.Now().Add(-m.cfg.Retention(volumeID))
	keepFrom := 0
	for i, s := range idx.Snapshots {
		if !s.Time.After(windowStart) {
			keepFrom = i
		}
	}
	for keepFrom > 0 {
		s := idx.Snapshots[0]
		if err := m.cfg.Volumes.Delete(ctx, s.ID); err != nil && m.cfg.Volumes.Exists(s.ID) {
			return fmt.Errorf("delete snapshot %s: %w", s.ID, err)
		}
		idx.Snapshots = idx.Snapshots[1:]
		keepFrom--
		if err := m.writeIndex(volumeID, idx); err != nil {
			return err
		}
	}
	base := idx.Snapshots[0]
	return m.pruneWAL(volumeID, base)
}

// pruneWAL deletes archived segments that end at or before the base's
// REDO position, and archive_command temporaries older than an hour.
func (m *Manager) pruneWAL(volumeID string, base snapshot) error {
	dir := m.WALDir(volumeID)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		name := e.Name()
		remove := false
		if strings.HasPrefix(name, ".tmp-") || strings.HasPrefix(name, "archtemp.") { // basic_archive's, left by a crash
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
				remove = true
			}
		} else if _, start, ok := segmentStart(name, base.SegSize); ok && start+LSN(base.SegSize) <= base.RedoLSN {
			remove = true
		}
		if remove {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
