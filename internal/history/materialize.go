package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/pgrun"
)

// Materialize makes dstVolume (a new volume id) hold src's state at pt: the
// newest automatic snapshot of src completed at or before pt, cloned,
// recovered from src's WAL archive to pt, promoted, and cleanly shut down —
// left like a suspended branch's volume, ready for a compute to start
// read-write on it. If src runs and pt may be after its last archived WAL,
// it first forces a segment switch (pg_switch_wal) and waits for the
// archiver. A point after the last WAL there is gives the state at the end
// of it. dstVolume's own history starts with it. It returns an error
// wrapping ErrOutsideWindow when pt is before src's history or its
// retention window, or after its present; dstVolume then does not exist,
// as after any error.
func (m *Manager) Materialize(ctx context.Context, src Source, pt Point, dstVolume string) (Result, error) {
	target, err := m.checkPoint(src, pt, dstVolume)
	if err != nil {
		return Result{}, err
	}
	m.pin(src.VolumeID, 1)
	defer m.pin(src.VolumeID, -1)
	base, err := m.plan(ctx, src, pt, target)
	if err != nil {
		return Result{}, err
	}

	begin := time.Now()
	res, err := m.build(ctx, src.VolumeID, base, pt, target, dstVolume)
	if err != nil {
		return Result{}, fmt.Errorf("materialize %s: %w", src.VolumeID, err)
	}
	m.log.Info("materialized", "volume", src.VolumeID, "point", pointString(pt), "into", dstVolume,
		"base", base.ID, "lsn", res.LSN, "took", time.Since(begin))
	if err := m.Track(context.WithoutCancel(ctx), dstVolume); err != nil {
		// Its first start will try again.
		m.log.Warn("materialize: start history of the new volume", "volume", dstVolume, "err", err)
	}
	return res, nil
}

// checkPoint validates a recovery of src to pt into dstVolume and returns
// pt's LSN (0 for a time).
func (m *Manager) checkPoint(src Source, pt Point, dstVolume string) (LSN, error) {
	if !volumePattern.MatchString(src.VolumeID) || m.Owns(src.VolumeID) {
		return 0, fmt.Errorf("materialize: invalid source volume %q", src.VolumeID)
	}
	if !volumePattern.MatchString(dstVolume) || m.Owns(dstVolume) || dstVolume == src.VolumeID {
		return 0, fmt.Errorf("materialize: invalid destination volume %q", dstVolume)
	}
	if (pt.LSN == "") == pt.Time.IsZero() {
		return 0, errors.New("materialize: a point needs exactly one of an LSN or a time")
	}
	var target LSN
	if pt.LSN != "" {
		var err error
		if target, err = ParseLSN(pt.LSN); err != nil {
			return 0, fmt.Errorf("materialize: %w", err)
		}
	}
	if m.cfg.Volumes.Exists(dstVolume) {
		return 0, fmt.Errorf("materialize: volume %s already exists", dstVolume)
	}
	if !m.cfg.Volumes.Exists(src.VolumeID) {
		return 0, fmt.Errorf("materialize: source volume %s does not exist", src.VolumeID)
	}
	return target, nil
}

// plan makes sure src's archive holds its WAL up to pt (a running source
// switches segments) and picks the snapshot to recover from. The caller
// pins src's archive.
func (m *Manager) plan(ctx context.Context, src Source, pt Point, target LSN) (snapshot, error) {
	now := time.Now()
	if !pt.Time.IsZero() && pt.Time.After(now) {
		return snapshot{}, fmt.Errorf("materialize %s at %s: %w: in the future", src.VolumeID, pt.Time.Format(time.RFC3339Nano), ErrOutsideWindow)
	}
	in := m.running(src)
	if pt.LSN != "" {
		present, err := m.present(ctx, src.VolumeID, in)
		if err != nil {
			return snapshot{}, fmt.Errorf("materialize %s: %w", src.VolumeID, err)
		}
		if target > present {
			return snapshot{}, fmt.Errorf("materialize %s at %s: %w: after its present %s", src.VolumeID, target, ErrOutsideWindow, present)
		}
	}
	if in != nil {
		if err := m.switchWAL(ctx, in, src.VolumeID, pt, target); err != nil {
			return snapshot{}, fmt.Errorf("materialize %s: %w", src.VolumeID, err)
		}
	}
	return m.pickBase(src.VolumeID, pt, target, now)
}

// build clones base into a temporary volume, recovers it to the point and
// renames it to dstVolume; on error it deletes the temporary.
func (m *Manager) build(ctx context.Context, srcVolume string, base snapshot, pt Point, target LSN, dstVolume string) (Result, error) {
	m.sweep.RLock()
	defer m.sweep.RUnlock()
	tmp := tmpPrefix + randomHex(8)
	published := false
	defer func() {
		if !published && m.cfg.Volumes.Exists(tmp) {
			if err := m.cfg.Volumes.Delete(context.WithoutCancel(ctx), tmp); err != nil {
				m.log.Warn("materialize: delete temporary volume", "volume", tmp, "err", err)
			}
		}
	}()
	if err := m.cfg.Volumes.Clone(ctx, base.ID, tmp); err != nil {
		return Result{}, fmt.Errorf("clone snapshot: %w", err)
	}
	dir := m.cfg.Volumes.Path(tmp)
	if err := m.prepareRecovery(dir, base); err != nil {
		return Result{}, err
	}
	res, err := m.recover(ctx, dir, srcVolume, base, pt, target)
	if err != nil {
		return Result{}, err
	}
	if err := publish(dir, m.cfg.Volumes.Path(dstVolume)); err != nil {
		return Result{}, err
	}
	published = true
	return res, nil
}

func pointString(pt Point) string {
	if pt.LSN != "" {
		return pt.LSN
	}
	return pt.Time.UTC().Format(time.RFC3339Nano)
}

// running returns the compute running read-write on src now, if any.
func (m *Manager) running(src Source) *compute.Instance {
	c := m.getComputes()
	if src.ComputeID == "" || c == nil {
		return nil
	}
	in, ok := c.Get(src.ComputeID)
	if !ok || in.State() != compute.StateActive || in.VolumeID() != src.VolumeID || in.Spec().ReadOnly {
		return nil
	}
	return in
}

// present is the WAL position of a volume now: the insert position of its
// running compute, else its last checkpoint.
func (m *Manager) present(ctx context.Context, volumeID string, in *compute.Instance) (LSN, error) {
	if in != nil {
		conn, err := in.Conn(ctx, "postgres")
		if err == nil {
			defer conn.Close(context.WithoutCancel(ctx))
			var s string
			if err = conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&s); err == nil {
				return ParseLSN(s)
			}
		}
		if in.State() == compute.StateActive {
			return 0, fmt.Errorf("current WAL position: %w", err)
		}
		// Suspended meanwhile: read its volume.
	}
	dir := m.cfg.Volumes.Path(volumeID)
	major, err := majorOf(dir)
	if err != nil {
		return 0, err
	}
	inst, err := m.install(major)
	if err != nil {
		return 0, err
	}
	c, err := readControl(ctx, inst, dir)
	if err != nil {
		return 0, err
	}
	return c.CheckLSN, nil
}

// switchWAL makes sure the WAL up to pt is archived: unless the newest
// archived segment already passes pt (its copy time is after every commit
// it holds; its end after every record), it switches to a new segment and
// waits (ArchiveWait at most) for the archiver to store the finished one.
func (m *Manager) switchWAL(ctx context.Context, in *compute.Instance, volumeID string, pt Point, target LSN) error {
	if name, fi, ok := newestSegment(m.WALDir(volumeID)); ok {
		if !pt.Time.IsZero() && pt.Time.Before(fi.ModTime()) {
			return nil
		}
		if pt.LSN != "" {
			if _, start, ok := segmentStart(name, fi.Size()); ok && target < start+LSN(fi.Size()) {
				return nil
			}
		}
	}
	conn, err := in.Conn(ctx, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// pg_switch_wal returns the end of its switch record, in the segment
	// it finished, or, when nothing was written since the last switch, the
	// start of the current segment: pg_walfile_name names the previous one.
	var seg string
	if err := conn.QueryRow(ctx, "SELECT pg_walfile_name(pg_switch_wal())").Scan(&seg); err != nil {
		return fmt.Errorf("switch WAL segment: %w", err)
	}
	p := filepath.Join(m.WALDir(volumeID), seg)
	wctx, cancel := context.WithTimeout(ctx, m.cfg.ArchiveWait)
	defer cancel()
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Recovery reads what the archive lacks from the volume's pg_wal.
			newest, _, _ := newestSegment(m.WALDir(volumeID))
			m.log.Warn("materialize: archiver is late; reading the volume's pg_wal",
				"volume", volumeID, "segment", seg, "newest_archived", newest)
			return nil
		case <-t.C:
		}
	}
}

// newestSegment returns the archived full segment with the greatest name.
func newestSegment(dir string) (string, os.FileInfo, bool) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, false
	}
	for i := len(ents) - 1; i >= 0; i-- {
		n := ents[i].Name()
		if len(n) == 24 && segmentPattern.MatchString(n) {
			fi, err := ents[i].Info()
			if err != nil {
				return "", nil, false
			}
			return n, fi, true
		}
	}
	return "", nil, false
}

// pickBase chooses the newest snapshot completed at or before the point,
// checking the point against the volume's history and retention window.
func (m *Manager) pickBase(volumeID string, pt Point, target LSN, now time.Time) (snapshot, error) {
	v := m.vol(volumeID)
	v.mu.Lock()
	idx, err := m.readIndex(volumeID)
	v.mu.Unlock()
	if err != nil {
		return snapshot{}, err
	}
	what := pointString(pt)
	if len(idx.Snapshots) == 0 {
		return snapshot{}, fmt.Errorf("materialize %s at %s: %w: the volume has no history", volumeID, what, ErrOutsideWindow)
	}
	windowStart := now.Add(-m.cfg.Retention(volumeID))
	if !pt.Time.IsZero() && pt.Time.Before(windowStart) {
		return snapshot{}, fmt.Errorf("materialize %s at %s: %w: before the retention window (from %s)",
			volumeID, what, ErrOutsideWindow, windowStart.UTC().Format(time.RFC3339))
	}
	var base *snapshot
	for i := range idx.Snapshots {
		s := &idx.Snapshots[i]
		if pt.LSN != "" && !s.Time.After(windowStart) && target < s.LSN {
			// The window's base is younger than the point.
			return snapshot{}, fmt.Errorf("materialize %s at %s: %w: before the retention window (from %s)",
				volumeID, what, ErrOutsideWindow, s.LSN)
		}
		if (pt.LSN != "" && s.LSN <= target) || (pt.LSN == "" && !s.Time.After(pt.Time)) {
			base = s
		}
	}
	if base == nil {
		first := idx.Snapshots[0]
		return snapshot{}, fmt.Errorf("materialize %s at %s: %w: before the volume's history (from %s, %s)",
			volumeID, what, ErrOutsideWindow, first.Time.Format(time.RFC3339Nano), first.LSN)
	}
	return *base, nil
}

// prepareRecovery turns a clone of a snapshot into a cluster to recover:
// no postmaster.pid, the snapshot's backup label, recovery.signal.
func (m *Manager) prepareRecovery(dir string, base snapshot) error {
	for _, f := range []string{"postmaster.pid", "standby.signal"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	files := map[string]string{"recovery.signal": ""}
	if base.BackupLabel != "" {
		files["backup_label"] = base.BackupLabel
	}
	if base.TablespaceMap != "" {
		files["tablespace_map"] = base.TablespaceMap
	}
	owner, err := pgrun.OwnerOf(dir)
	if err != nil {
		return err
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := owner.Own(p, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// recover runs Postgres on dir until recovery reaches the point and
// promotes, then stops it cleanly. Settings go on the command line, so
// nothing of the recovery stays in the volume's configuration.
func (m *Manager) recover(ctx context.Context, dir, srcVolume string, base snapshot, pt Point, target LSN) (Result, error) {
	install, err := m.install(base.Major)
	if err != nil {
		return Result{}, err
	}
	// The server runs as the volume's own identity: the project's, whose
	// archive it reads.
	owner, err := pgrun.OwnerOf(dir)
	if err != nil {
		return Result{}, err
	}
	sock := filepath.Join(m.cfg.RunDir, "r"+randomHex(4))
	if err := owner.MkdirOwned(sock, 0o700); err != nil {
		return Result{}, fmt.Errorf("socket dir: %w", err)
	}
	defer os.RemoveAll(sock)
	buffersMB, prefetch := m.recoveryBuffers(dir)
	settings := m.replaySettings(srcVolume, prefetch)
	maps.Copy(settings, map[string]string{
		"archive_mode":           "off",
		"hot_standby":            "off", // the server is "ready" once promoted
		"recovery_target_action": "promote",
		// Replay is one process reading pages at random: keep them in
		// memory.
		"shared_buffers": strconv.Itoa(buffersMB) + "MB",
		// The recovered volume is published only once complete, and
		// syncTree makes it durable first (a crash before leaves a
		// temporary that Run deletes): the server need not flush as it
		// goes. Without fsync, it restores each archived segment without
		// three fsyncs (durable_rename) and its end-of-recovery and
		// shutdown checkpoints write without waiting for the disk; the
		// writes then go to the disk once, in syncTree.
		"fsync":                  "off",
		"checkpoint_flush_after": "0",
	})
	maps.Copy(settings, targetSettings(pt, target))
	logs := &logBuffer{}
	opts := pgrun.Options{Install: install, User: owner, DataDir: dir, SocketDir: sock, Settings: settings, Log: logs}
	begin := time.Now()
	srv, err := pgrun.Start(ctx, opts)
	if err != nil && ctx.Err() == nil && errors.Is(err, pgrun.ErrTargetNotReached) {
		// Nothing after the point was written yet: the state at the point
		// is the state at the end of the WAL.
		for _, k := range []string{"recovery_target_lsn", "recovery_target_time", "recovery_target_inclusive"} {
			delete(settings, k)
		}
		logs.Reset()
		srv, err = pgrun.Start(ctx, opts)
	}
	if err != nil {
		if errors.Is(err, pgrun.ErrBeforeConsistent) {
			return Result{}, fmt.Errorf("%w: %s is before the snapshot it needs is consistent", ErrOutsideWindow, pointString(pt))
		}
		return Result{}, fmt.Errorf("recover: %w%s", err, fatalLines(logs.String()))
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = srv.Stop(context.WithoutCancel(ctx))
		}
	}()
	res := Result{Time: base.Time}
	conn, err := srv.Connect(ctx, "postgres")
	if err != nil {
		return Result{}, err
	}
	var last *time.Time
	err = conn.QueryRow(ctx, "SELECT pg_last_xact_replay_timestamp()").Scan(&last)
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return Result{}, fmt.Errorf("recover: %w", err)
	}
	if last != nil {
		res.Time = last.UTC()
	}
	fork, err := forkPoint(filepath.Join(dir, "pg_wal"))
	if err != nil {
		return Result{}, fmt.Errorf("recover: %w", err)
	}
	res.LSN = fork.String()
	stopped = true
	recovered := time.Now()
	if err := srv.Stop(ctx); err != nil {
		return Result{}, fmt.Errorf("recover: stop: %w", err)
	}
	m.log.Debug("materialize: recovery", "replay", recovered.Sub(begin), "shutdown", time.Since(recovered),
		"postgres", logLines(logs.String(), "redo done at", "checkpoint complete"))
	c, err := readControl(ctx, install, dir)
	if err != nil {
		return Result{}, err
	}
	if c.State != "shut down" {
		return Result{}, fmt.Errorf("recover: cluster left %q, not shut down", c.State)
	}
	synced := time.Now()
	if err := syncTree(dir); err != nil {
		return Result{}, fmt.Errorf("recover: %w", err)
	}
	m.log.Debug("materialize: synced", "took", time.Since(synced))
	return res, nil
}

// replaySettings are the settings of any recovery from srcVolume's archive.
func (m *Manager) replaySettings(srcVolume, prefetch string) map[string]string {
	return map[string]string{
		"restore_command":          m.restoreCommand(srcVolume),
		"recovery_target_timeline": "latest",
		// Replay spends much of its time faulting in fresh buffers (1.3 s
		// of 3.1 s for 1 GiB here, in a VM whose host takes freed memory
		// back). A pool of huge pages the host reserved stays faulted in
		// between recoveries (1.5 s); without one Postgres falls back.
		"huge_pages": "try",
		// Prefetch what the WAL will touch (recoveryBuffers).
		"maintenance_io_concurrency": "64",
		"recovery_prefetch":          prefetch,
	}
}

// targetSettings are the settings of a recovery that stops at pt: before
// the LSN, or after the last commit at or before the time.
func targetSettings(pt Point, target LSN) map[string]string {
	if pt.LSN != "" {
		return map[string]string{"recovery_target_lsn": target.String(), "recovery_target_inclusive": "false"}
	}
	return map[string]string{"recovery_target_time": pt.Time.UTC().Truncate(time.Microsecond).Format("2006-01-02 15:04:05.999999+00"),
		"recovery_target_inclusive": "true"}
}

// syncTree flushes every file and directory under dir to disk: the
// recovering server ran with fsync off.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() && !d.IsDir() {
			return nil // symbolic links (tablespaces) point outside the volume
		}
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("sync %s: %w", p, err)
		}
		return nil
	})
}

// forkPoint reads the newest timeline history file: its last line is where
// the new timeline left the old one.
func forkPoint(walDir string) (LSN, error) {
	ents, err := os.ReadDir(walDir)
	if err != nil {
		return 0, err
	}
	var hist []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".history") && len(e.Name()) == 16 {
			hist = append(hist, e.Name())
		}
	}
	if len(hist) == 0 {
		return 0, errors.New("no timeline history file after promotion")
	}
	sort.Strings(hist)
	b, err := os.ReadFile(filepath.Join(walDir, hist[len(hist)-1]))
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 2 {
		return 0, fmt.Errorf("timeline history %s: unexpected line %q", hist[len(hist)-1], lines[len(lines)-1])
	}
	return ParseLSN(f[1])
}

// publish renames a finished temporary volume to its id, failing if that
// exists, and flushes the rename.
func publish(tmp, dst string) error {
	if tmp == "" || dst == "" {
		return errors.New("publish: invalid volume path")
	}
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dst, unix.RENAME_NOREPLACE); err != nil {
		return fmt.Errorf("publish %s: %w", filepath.Base(dst), err)
	}
	d, err := os.Open(filepath.Dir(dst))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// logBuffer keeps a recovering server's log.
// fatalLines returns the FATAL and PANIC lines of a server log, which the
// tail that pgrun keeps of a failed start may have lost.
func fatalLines(log string) string {
	lines := logLines(log, "FATAL:", "PANIC:")
	if lines == "" {
		return ""
	}
	return " (server log: " + lines + ")"
}

// logLines returns the lines of a server log that contain any of the
// phrases, joined by " | ".
func logLines(log string, phrases ...string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		for _, p := range phrases {
			if strings.Contains(l, p) {
				out = append(out, strings.TrimSpace(l))
				break
			}
		}
	}
	return strings.Join(out, " | ")
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		b.buf.Reset()
	}
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// recoveryBuffers sizes the buffers of a recovery in dir. Replay touches
// pages at random; a page it evicts is written and read again, so the
// buffers hold the whole database (its relation files and a quarter more,
// at least 128 MiB) up to the limit. Replay from a checkpoint reads few
// pages (the first change to each page after it carries the page's full
// image), so a database that fits is replayed without per-block
// prefetching, which then only costs; a larger one is prefetched block by
// block as the WAL asks for them.
func (m *Manager) recoveryBuffers(dir string) (buffersMB int, prefetch string) {
	var size int64
	for _, sub := range []string{"base", "global"} {
		_ = filepath.WalkDir(filepath.Join(dir, sub), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if fi, err := d.Info(); err == nil {
					size += fi.Size()
				}
			}
			return nil
		})
	}
	limit := m.cfg.RecoveryBuffersMB
	want := int(size>>20)*5/4 + 128
	if want > limit {
		return max(128, limit), "try"
	}
	return want, "off"
}

// hostMemoryMB is the machine's memory in MiB (4096 when unknown).
func hostMemoryMB() int {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil || si.Totalram == 0 {
		return 4096
	}
	return int(uint64(si.Totalram) * uint64(si.Unit) >> 20)
}
