package history

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/grovedb/grove/internal/compute"
)

// A Recovery is a point-in-time recovery prepared for a compute to run
// (compute.Spec.Recovery): its volume is a clone of the snapshot to
// recover from, and the source's archive stays pinned until Release.
type Recovery struct {
	compute.Recovery
	// BaseTime is when the snapshot recovered from was taken: the point's
	// time when no transaction is replayed after it.
	BaseTime time.Time
	release  func()
}

// Release unpins the source's archive, once the compute has promoted (or
// failed to start). It may be called more than once.
func (r *Recovery) Release() { r.release() }

// PrepareRecovery makes dstVolume (a new volume id) a clone of the newest
// automatic snapshot of src before pt, ready for a compute to recover it
// to pt from src's archive and promote: the alternative to Materialize
// that leaves the replay's pages to be written after the branch answers.
// Errors are Materialize's (ErrOutsideWindow for a point outside the
// history); dstVolume then does not exist. dstVolume's own history starts
// once its compute runs (Run), not with a snapshot of the unrecovered
// clone.
func (m *Manager) PrepareRecovery(ctx context.Context, src Source, pt Point, dstVolume string) (*Recovery, error) {
	begin := time.Now()
	target, err := m.checkPoint(src, pt, dstVolume)
	if err != nil {
		return nil, err
	}
	m.pin(src.VolumeID, 1)
	var once sync.Once
	release := func() { once.Do(func() { m.pin(src.VolumeID, -1) }) }
	base, err := m.plan(ctx, src, pt, target)
	if err != nil {
		release()
		return nil, err
	}
	if err := m.cloneBase(ctx, base, dstVolume); err != nil {
		release()
		return nil, fmt.Errorf("prepare recovery of %s: %w", src.VolumeID, err)
	}
	buffersMB, prefetch := m.recoveryBuffers(m.cfg.Volumes.Path(dstVolume))
	toEnd := m.replaySettings(src.VolumeID, prefetch)
	tgt := maps.Clone(toEnd)
	maps.Copy(tgt, targetSettings(pt, target))
	m.log.Info("recovery prepared", "volume", src.VolumeID, "point", pointString(pt), "into", dstVolume,
		"base", base.ID, "buffers_mb", strconv.Itoa(buffersMB), "took", time.Since(begin))
	return &Recovery{Recovery: compute.Recovery{Target: tgt, ToEnd: toEnd, BuffersMB: buffersMB},
		BaseTime: base.Time, release: release}, nil
}

// cloneBase clones base into dstVolume and readies it for a recovery;
// dstVolume is marked as recovering, so that Prepare leaves its history
// to Run. On error dstVolume does not exist.
func (m *Manager) cloneBase(ctx context.Context, base snapshot, dstVolume string) error {
	m.sweep.RLock()
	defer m.sweep.RUnlock()
	if err := m.cfg.Volumes.Clone(ctx, base.ID, dstVolume); err != nil {
		return fmt.Errorf("clone snapshot: %w", err)
	}
	err := m.prepareRecovery(m.cfg.Volumes.Path(dstVolume), base)
	if err == nil {
		err = m.ensureDirs(dstVolume)
	}
	if err != nil {
		_ = m.cfg.Volumes.Delete(context.WithoutCancel(ctx), dstVolume)
		return err
	}
	m.mu.Lock()
	m.recovering[dstVolume] = true
	m.mu.Unlock()
	return nil
}

// Recovered returns where a volume a compute recovered left its source's
// timeline (the newest timeline history file's last line).
func (m *Manager) Recovered(volumeID string) (string, error) {
	lsn, err := forkPoint(filepath.Join(m.cfg.Volumes.Path(volumeID), "pg_wal"))
	if err != nil {
		return "", err
	}
	return lsn.String(), nil
}

// isRecovering reports whether volumeID waits for its compute's recovery.
func (m *Manager) isRecovering(volumeID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.recovering[volumeID]
}

func (m *Manager) doneRecovering(volumeID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recovering, volumeID)
}
