package compute

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/grovedb/grove/internal/pgrun"
)

// promoteOnStart reports whether a read-write compute's server should start
// as a standby and promote itself (pgrun.Options.Promote): when its data
// directory is a crash image, as every branch made from a running parent
// is, this spares the start the end-of-recovery checkpoint, unless there is
// little to replay (smallRedo). A standby.signal a promotion interrupted by
// a crash left behind is removed, so that the next start is an ordinary
// recovery or promotes again.
func (m *Manager) promoteOnStart(in *Instance) (bool, error) {
	in.mu.Lock()
	standby := in.spec.Standby != nil
	in.mu.Unlock()
	if standby {
		return false, nil
	}
	if err := os.Remove(filepath.Join(in.dataDir, standbySignal)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	// Every wake comes here: the control file's state first (one small
	// read), the WAL only for a crash image.
	crashed, err := pgrun.Crashed(in.dataDir)
	if err != nil || !crashed {
		return false, err
	}
	// Unreadable WAL: promoting is right for any crash image.
	redo, err := pgrun.PendingRedo(in.dataDir)
	return err != nil || redo > smallRedo, nil
}

// smallRedo is the most WAL a crash image may hold past its last checkpoint
// for a plain crash recovery: the clone of a parent at rest (nothing written
// since its checkpoint) then skips the promotion's new timeline, and its
// end-of-recovery checkpoint has nothing to write (a branch of a 1 GiB
// parent at rest started 10 ms sooner here). Past it, the synchronous
// checkpoint costs more than the promotion: 62 kB of a new project's set-up
// touched 46 files, whose fsyncs took 17 ms.
const smallRedo = 16 << 10

// checkpointSoon runs, in the background, the checkpoint a promotion leaves
// pending (Postgres spreads it over minutes): done at full speed now, off
// the path of the start, it is not left for the compute's stop to finish
// before its own shutdown checkpoint.
func (m *Manager) checkpointSoon(in *Instance) { m.checkpointAfter(in, 0) }

// CheckpointAfter runs a checkpoint on a running compute after d, in the
// background: after a new project's set-up, so that its branches, clones
// of a compute at rest, have nothing to replay (promoteOnStart).
func (m *Manager) CheckpointAfter(id string, d time.Duration) {
	if in, ok := m.Get(id); ok {
		m.checkpointAfter(in, d)
	}
}

func (m *Manager) checkpointAfter(in *Instance, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return // Close waits for m.wg: no new goroutine
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		select {
		case <-time.After(d):
		case <-m.life.Done():
			return
		}
		ctx, cancel := context.WithTimeout(m.life, time.Minute)
		defer cancel()
		if in.State() != StateActive {
			return
		}
		if err := in.Exec(ctx, "postgres", "CHECKPOINT"); err != nil && ctx.Err() == nil && in.State() == StateActive {
			m.log.Debug("background checkpoint", "compute", in.ID(), "err", err)
		}
	}()
}

// cloneRedo is the most WAL a clone of a running compute may inherit: past
// it, the compute checkpoints before it is cloned. Each clone replays what
// it inherits (~150 MB/s here), so five branches of a parent that had just
// written 500 MB took 3.2 s each; 8 MB cost a clone ~50 ms.
const cloneRedo = 8 << 20

// SettleRedo checkpoints a running compute when a clone of its volume
// would inherit more than cloneRedo of WAL to replay, so that a branch or a
// snapshot of a parent that just wrote a lot starts at once, and so do the
// next ones. The first pays the checkpoint, which the parent would have run
// anyway; a compute that is not running has nothing to settle.
func (m *Manager) SettleRedo(ctx context.Context, id string) error {
	in, ok := m.Get(id)
	if !ok || in.State() != StateActive {
		return nil
	}
	redo, err := pgrun.PendingRedo(in.dataDir)
	if err == nil && redo <= cloneRedo {
		return nil
	}
	begin := time.Now()
	if err := in.Exec(ctx, "postgres", "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint compute %s: %w", id, err)
	}
	m.log.Info("checkpointed before a clone", "compute", id, "redo_bytes", redo, "took", time.Since(begin))
	return nil
}
