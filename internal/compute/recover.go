package compute

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/grovedb/grove/internal/pgrun"
)

// Recovery is a point-in-time recovery that a compute's first start runs
// on its volume, a clone of an automatic snapshot of another volume
// (internal/history prepares both): the server replays that volume's
// archived WAL up to the target, pauses there and promotes
// (pgrun.Options.PauseAtTarget). The branch answers once promoted; the
// pages the replay dirtied are written by the checkpoint that follows in
// the background, where a separate recovery server would write them all
// before a compute could start.
type Recovery struct {
	// Target holds restore_command and recovery_target_* (and the
	// replay's buffers and prefetching).
	Target map[string]string
	// ToEnd is used when the WAL ends before the target (nothing was
	// committed after it): the state at the point is the state at the
	// end, replayed as a standby that promotes when the WAL runs out.
	ToEnd map[string]string
	// BuffersMB is the shared_buffers the replay would like (its
	// database and a quarter more): capped at half the compute's memory.
	BuffersMB int
}

// Messages of the startup process that a recovery start acts on.
const msgTargetNotReached = "recovery ended before configured recovery target was reached"

// startRecovery runs a compute's recovery start: to the target, or to the
// end of the WAL when it ends before the target.
func (m *Manager) startRecovery(ctx context.Context, in *Instance, rec *Recovery, opts pgrun.Options) (*pgrun.Server, error) {
	in.mu.Lock()
	_, hi := specRange(in.spec)
	in.mu.Unlock()
	buffers := rec.BuffersMB
	if limit := int(m.limitsFor(hi).MemoryBytes >> 20 / 2); buffers > limit {
		// Shared buffers the replay touches count against the
		// compute's memory limit: past it, the kernel kills the replay.
		buffers = limit
	}
	settings := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range opts.Settings {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		if buffers > 0 {
			out["shared_buffers"] = strconv.Itoa(buffers) + "MB"
		}
		return out
	}
	if err := pgrun.StopStale(ctx, opts.DataDir); err != nil {
		return nil, err
	}
	o := opts
	o.Settings, o.PauseAtTarget, o.Promote = settings(rec.Target), true, false
	srv, err := pgrun.Start(ctx, o)
	if err == nil || rec.ToEnd == nil || !strings.Contains(err.Error(), msgTargetNotReached) {
		return srv, err
	}
	if err := os.Remove(filepath.Join(opts.DataDir, "recovery.signal")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	o.Settings, o.PauseAtTarget, o.Promote = settings(rec.ToEnd), false, true
	m.log.Info("recovery: the WAL ends before the target; recovering to its end", "compute", in.ID())
	return pgrun.Start(ctx, o)
}
