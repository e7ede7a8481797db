package compute

import (
	"github.com/grovedb/grove/internal/pgrun"

	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"
)

// CloneRunning copies the volume of a running compute to a new volume dst
// that Postgres can start on and that holds a consistent state of the
// source. With an atomic driver the copy is a crash-consistent snapshot.
// Otherwise Postgres' online backup API brackets the copy: a temporary
// replication slot keeps the WAL, pg_backup_start, Clone, pg_backup_stop,
// then the WAL written meanwhile is copied again and backup_label (and
// tablespace_map) are written into the clone, so that it recovers to the
// end of the backup. postmaster.pid is removed from the clone either way.
func (m *Manager) CloneRunning(ctx context.Context, id, dstVolume string) error {
	if !volumePattern.MatchString(dstVolume) {
		return fmt.Errorf("clone compute %s: invalid volume id %q", id, dstVolume)
	}
	in, ok := m.Get(id)
	if !ok || in.State() != StateActive {
		return fmt.Errorf("clone compute %s: %w", id, ErrNotRunning)
	}
	src := in.volumeID
	dstDir := m.cfg.Volumes.Path(dstVolume)
	if m.cfg.Volumes.Atomic() {
		// The backup API below checkpoints; a snapshot inherits the WAL
		// since the last checkpoint (promote.go).
		if err := m.SettleRedo(ctx, id); err != nil {
			return fmt.Errorf("clone compute %s: %w", id, err)
		}
		if err := m.cfg.Volumes.Clone(ctx, src, dstVolume); err != nil {
			return fmt.Errorf("clone compute %s: %w", id, err)
		}
		return removePid(dstDir)
	}
	if err := m.cloneWithBackup(ctx, in, dstVolume); err != nil {
		if m.cfg.Volumes.Exists(dstVolume) {
			_ = m.cfg.Volumes.Delete(context.WithoutCancel(ctx), dstVolume)
		}
		return fmt.Errorf("clone compute %s: %w", id, err)
	}
	return nil
}

func (m *Manager) cloneWithBackup(ctx context.Context, in *Instance, dstVolume string) error {
	conn, err := in.Conn(ctx, "postgres")
	if err != nil {
		return err
	}
	// Ending the session drops the temporary slot and aborts an unfinished backup.
	defer conn.Close(context.WithoutCancel(ctx))
	label := "grove clone to " + dstVolume
	slot := "grove_clone_" + randomHex(6)
	if _, err := conn.Exec(ctx, "SELECT pg_create_physical_replication_slot($1, true, true)", slot); err != nil {
		return fmt.Errorf("reserve WAL: %w", err)
	}
	startSQL, stopSQL := "SELECT pg_backup_start($1, true)", "SELECT labelfile, spcmapfile FROM pg_backup_stop(false)"
	if in.Major() < 15 {
		startSQL, stopSQL = "SELECT pg_start_backup($1, true, false)", "SELECT labelfile, spcmapfile FROM pg_stop_backup(false, false)"
	}
	if _, err := conn.Exec(ctx, startSQL, label); err != nil {
		return fmt.Errorf("backup start: %w", err)
	}
	// A plain copy of a live data directory can trip over files Postgres
	// removes meanwhile (recycled WAL, temporary files): try again.
	for attempt := 1; ; attempt++ {
		err := m.cfg.Volumes.Clone(ctx, in.volumeID, dstVolume)
		if err == nil {
			break
		}
		if attempt == 3 || ctx.Err() != nil {
			return err
		}
		m.log.Warn("clone of a running compute failed, retrying", "compute", in.ID(), "attempt", attempt, "err", err)
		if m.cfg.Volumes.Exists(dstVolume) {
			if err := m.cfg.Volumes.Delete(ctx, dstVolume); err != nil {
				return err
			}
		}
	}
	var labelFile string
	var spcMap *string
	if err := conn.QueryRow(ctx, stopSQL, pgx.QueryExecModeSimpleProtocol).Scan(&labelFile, &spcMap); err != nil {
		return fmt.Errorf("backup stop: %w", err)
	}
	srcDir, dstDir := in.dataDir, m.cfg.Volumes.Path(dstVolume)
	// pg_backup_stop switched to a new segment: the WAL up to its end
	// record is on disk now, and the slot kept every segment since start.
	if err := m.copyWAL(filepath.Join(srcDir, "pg_wal"), filepath.Join(dstDir, "pg_wal")); err != nil {
		return err
	}
	if err := m.writeOwned(filepath.Join(dstDir, "backup_label"), []byte(labelFile)); err != nil {
		return err
	}
	if spcMap != nil && *spcMap != "" {
		if err := m.writeOwned(filepath.Join(dstDir, "tablespace_map"), []byte(*spcMap)); err != nil {
			return err
		}
	}
	return removePid(dstDir)
}

func removePid(dataDir string) error {
	if err := os.Remove(filepath.Join(dataDir, "postmaster.pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove postmaster.pid from clone: %w", err)
	}
	return nil
}

// writeOwned writes a file into a data directory, owned by the directory's owner.
func (m *Manager) writeOwned(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return ownLike(path, filepath.Dir(path))
}

// ownLike gives path (mode 0600) to the owner of dir.
func ownLike(path, dir string) error {
	u, err := pgrun.OwnerOf(dir)
	if err != nil {
		return err
	}
	return u.Own(path, 0o600)
}

// copyWAL copies the WAL segment files of src over those of dst.
func (m *Manager) copyWAL(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("copy WAL: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := m.copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // removed or recycled meanwhile: not needed
			}
			return fmt.Errorf("copy WAL: %w", err)
		}
	}
	return nil
}

func (m *Manager) copyFile(src, dst string) error {
	r, err := os.Open(src)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// Into pg_wal, which may be the template's: the data directory's owner.
	return ownLike(dst, filepath.Dir(filepath.Dir(dst)))
}
