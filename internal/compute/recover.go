package compute

import (
	"context"
	"errors"
	"maps"
	"strconv"

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
	settings := func(recovery map[string]string) map[string]string {
		out := maps.Clone(recovery) // the compute's own settings are in grove.conf
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
	if err == nil || rec.ToEnd == nil || !errors.Is(err, pgrun.ErrTargetNotReached) {
		return srv, err
	}
	o.Settings, o.PauseAtTarget, o.Promote = settings(rec.ToEnd), false, true
	m.log.Info("recovery: the WAL ends before the target; recovering to its end", "compute", in.ID())
	return pgrun.Start(ctx, o)
}
