package compute

import (
	"context"

	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/pgrun"
)

// Replay limits.
//
// A hot standby, which a read replica is and which a point-in-time
// recovery runs as (to pause at its target), keeps shared structures sized
// by max_connections, max_worker_processes, max_wal_senders,
// max_prepared_transactions and max_locks_per_transaction, and refuses to
// replay WAL written by a server with any of them higher: at start (the
// control file's values) it exits, and at a parameter-change record in
// the WAL it pauses for good. A compute's size sets these, and sizes
// change: a snapshot taken while the project ran larger, a primary resized
// under its replica. So a replaying start raises them to the control
// file's before it starts (and a standby to its primary's present ones),
// starts again with what Postgres names when the WAL asks for more, and a
// primary that starts with higher ones restarts its running standbys. The
// raised values stay until the server's next start (Spec.replay); they
// cost only shared memory. A crash image's promotion runs without hot
// standby, which checks nothing.

// maxLimitRaises bounds the starts of one launch that raise replay
// limits: Postgres names one limit per failure, and there are five.
const maxLimitRaises = 6

// raiseReplay raises in's replay limits to at least l and those its
// control file records. A control file that cannot be read raises
// nothing: the start then learns the limits from Postgres.
func (m *Manager) raiseReplay(in *Instance, l pgconf.ReplayLimits) {
	if ctl, err := pgrun.ControlLimits(in.dataDir); err != nil {
		m.log.Warn("replay limits", "compute", in.ID(), "err", err)
	} else {
		l = l.Max(ctl)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.spec.replay = in.spec.replay.Max(l)
	in.settings.Raise(in.spec.replay)
}

// raiseFromError raises in's replay limits to what a failed start needed;
// it reports false when they were that high already (another cause).
func (m *Manager) raiseFromError(in *Instance, le *pgrun.LimitsError) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.settings.ReplayLimits().Covers(le.Need) { // the settings hold spec.replay already
		return false
	}
	in.spec.replay = in.spec.replay.Max(le.Need)
	in.settings.Raise(in.spec.replay)
	m.log.Info("replay limits raised: the WAL was written by a larger server", "compute", in.id, "limits", in.spec.replay)
	return true
}

// followPrimary restarts, in the background, the running standbys of
// primary whose replay limits are below those it now runs with: its start
// wrote them into the WAL, where the standbys' replay would stop.
func (m *Manager) followPrimary(primary *Instance) {
	need := primary.Settings().ReplayLimits()
	id := primary.ID()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return // Close waits for m.wg: no new goroutine
	}
	var behind []*Instance
	for _, in := range m.byID {
		in.mu.Lock()
		if sb := in.spec.Standby; sb != nil && sb.PrimaryID == id && in.state == StateActive &&
			!in.settings.ReplayLimits().Covers(need) {
			behind = append(behind, in)
		}
		in.mu.Unlock()
	}
	if len(behind) == 0 {
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for _, in := range behind {
			in.mu.Lock()
			in.spec.replay = in.spec.replay.Max(need)
			spec, cu := in.spec, in.cu
			in.mu.Unlock()
			m.log.Info("restarting a standby: its primary runs with higher replay limits", "compute", in.ID(), "primary", id)
			if err := m.resize(m.life, in, m.sizeAt(spec, cu)); err != nil && m.life.Err() == nil {
				m.log.Warn("restart standby for its primary's limits", "compute", in.ID(), "err", err)
			}
		}
	}()
}

// startReplaying starts in's server with start, raising its replay limits
// and starting again while Postgres stops on limits below the WAL's.
func (m *Manager) startReplaying(ctx context.Context, in *Instance, start func() (*pgrun.Server, error)) (*pgrun.Server, error) {
	for attempt := 1; ; attempt++ {
		srv, err := start()
		le, ok := pgrun.IsLimits(err)
		if !ok || attempt == maxLimitRaises || ctx.Err() != nil || !m.raiseFromError(in, le) {
			return srv, err
		}
		if err := m.writeConf(in.dataDir, in.User(), in.Settings()); err != nil {
			return nil, err
		}
	}
}
