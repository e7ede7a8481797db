package compute

import (
	"errors"
	"os"
	"path/filepath"

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
