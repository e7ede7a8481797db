package compute

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/grovedb/grove/internal/pgrun"
)

// promoteOnStart reports whether a read-write compute's server should start
// as a standby and promote itself (pgrun.Options.Promote): when its data
// directory is a crash image, as every branch made from a running parent
// is, this spares the start the end-of-recovery checkpoint. A standby.signal
// a promotion interrupted by a crash left behind is removed, so that the
// next start is an ordinary recovery or promotes again.
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
	return pgrun.Crashed(in.dataDir)
}

// checkpointSoon runs, in the background, the checkpoint a promotion leaves
// pending (Postgres spreads it over minutes): done at full speed now, off
// the path of the start, it is not left for the compute's stop to finish
// before its own shutdown checkpoint.
func (m *Manager) checkpointSoon(in *Instance) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		ctx, cancel := context.WithTimeout(m.life, time.Minute)
		defer cancel()
		if err := in.Exec(ctx, "postgres", "CHECKPOINT"); err != nil && ctx.Err() == nil && in.State() == StateActive {
			m.log.Debug("checkpoint after promotion", "compute", in.ID(), "err", err)
		}
	}()
}
