package compute

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/pgrun"
)

// EnsureTemplates makes, for every installed major, the template volume
// "tmpl-<major>" new computes are cloned from: initdb with 1 MB WAL
// segments and checksums, an empty database grove_spare to hand out by
// renaming, Grove's helper roles, and postgresql.conf including grove.conf;
// its files open to every identity (openTemplate). An
// existing complete template is kept; an incomplete one (an interrupted
// initdb, or one made before identities) is remade.
func (m *Manager) EnsureTemplates(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, install := range m.cfg.Installs {
		g.Go(func() error {
			id := TemplateID(install.Major)
			dir := m.cfg.Volumes.Path(id)
			if m.cfg.Volumes.Exists(id) {
				if templateComplete(dir) && templateOpened(dir) {
					// Templates made before the flag existed get it too.
					return markNoAtime(dir)
				}
				if err := pgrun.StopStale(ctx, dir); err != nil {
					return fmt.Errorf("template %s: %w", id, err)
				}
				if err := m.cfg.Volumes.Delete(ctx, id); err != nil {
					return fmt.Errorf("remove incomplete template %s: %w", id, err)
				}
			}
			begin := time.Now()
			if err := m.cfg.Volumes.Create(ctx, id); err != nil {
				return fmt.Errorf("template %s: %w", id, err)
			}
			opts := pgrun.InitOptions{WALSegSizeMB: 1, Databases: []string{spareDatabase}, Freeze: true, Helpers: true}
			if err := pgrun.InitDB(ctx, install, m.cfg.User, dir, opts); err != nil {
				return fmt.Errorf("template %s: %w", id, err)
			}
			f, err := os.OpenFile(filepath.Join(dir, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return fmt.Errorf("template %s: %w", id, err)
			}
			_, err = f.WriteString("\n# Added by Grove: the compute manager's settings.\n" + includeLine + "\n")
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("template %s: %w", id, err)
			}
			if err := markNoAtime(dir); err != nil {
				return fmt.Errorf("template %s: %w", id, err)
			}
			if err := openTemplate(dir); err != nil {
				return fmt.Errorf("template %s: %w", id, err)
			}
			m.log.Info("template created", "volume", id, "version", install.Version, "took", time.Since(begin))
			return nil
		})
	}
	return g.Wait()
}

func templateComplete(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "postgresql.conf"))
	return err == nil && bytes.Contains(b, []byte(includeLine))
}

// Run keeps the warm pools full, suspends idle computes and returns when
// ctx ends or the manager closes, after its own goroutines have ended.
// Crashed computes are restarted by their supervisors whether Run runs or not.
func (m *Manager) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(m.life, cancel)
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(m.cfg.IdleCheckInterval)
	defer tick.Stop()
	for {
		m.fillPools(ctx, &wg)
		m.suspendIdle(ctx, &wg)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-m.poke:
		}
	}
}

// fillPools keeps each major's pool at its target (demand.go): it starts
// warm instances for majors short of it, at most maxParallelFills at a time
// per major and none above the floor once the warm instances of all majors
// reach PoolMax or would push the running computes past MaxActive, and
// stops one surplus instance per major and call once demand has decayed.
func (m *Manager) fillPools(ctx context.Context, wg *sync.WaitGroup) {
	if m.cfg.PoolSize < 0 {
		return
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	for major, install := range m.installs {
		// Drop warm instances that failed.
		var live []*Instance
		for _, in := range m.pool[major] {
			if in.State() == StateFailed {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m.dropVolume(ctx, in.volumeID)
				}()
				continue
			}
			live = append(live, in)
		}
		m.pool[major] = live
		m.rewarm(ctx, wg, major)
		target, keep := m.poolTargetLocked(major)
		m.shrinkLocked(ctx, wg, major, keep, now)
		for {
			fs := m.fillBack[major]
			have := len(m.pool[major]) + fs.filling
			if fs.filling >= maxParallelFills || have >= target || now.Before(fs.next) {
				break
			}
			// A fill (a Postgres start: a dozen processes forked) competes
			// for the CPU with the creates it serves. Each Take postpones
			// fills by fillQuiet, so a burst is served from the pool and
			// refilled after it, until the pool is down to a quarter of
			// its target: then running dry would cost more.
			if len(m.pool[major]) > 0 && now.Before(fs.quietUntil) && 4*len(m.pool[major]) >= target {
				break
			}
			if have >= m.cfg.PoolSize && !m.roomLocked() {
				break
			}
			fs.filling++
			m.fillBack[major] = fs
			id := warmPrefix + randomHex(4)
			vol := "vol-" + randomHex(8)
			spec := Spec{ID: id, Major: major, MinCU: m.cfg.PoolMinCU, MaxCU: m.cfg.PoolMaxCU, SuspendTimeout: -1}
			if fs.minCU > 0 {
				spec.MinCU, spec.MaxCU = fs.minCU, fs.maxCU
			}
			in := m.newInstance(id, spec, vol, install)
			m.warming[in] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := m.fill(ctx, in)
				m.mu.Lock()
				delete(m.warming, in)
				fs := m.fillBack[major]
				fs.filling--
				if err != nil {
					fs.fails++
					fs.next = time.Now().Add(min(time.Duration(1<<min(fs.fails, 5))*time.Second, 30*time.Second))
				} else {
					fs.fails, fs.next = 0, time.Time{}
				}
				m.fillBack[major] = fs
				fails := fs.fails
				if err == nil && m.closed {
					m.mu.Unlock()
					_ = m.stop(context.WithoutCancel(ctx), in, false)
					m.dropVolume(ctx, vol)
					return
				}
				if err == nil {
					m.pool[major] = append(m.pool[major], in)
				}
				m.mu.Unlock()
				if err != nil {
					// A full disk fails every retry: warn at the first of a run.
					lvl := slog.LevelDebug
					if fails == 1 {
						lvl = slog.LevelWarn
					}
					if ctx.Err() == nil {
						m.log.Log(ctx, lvl, "fill warm pool", "version", major, "failures", fails, "err", err)
					}
					return
				}
				m.wakeRun()
			}()
		}
	}
}

// rewarm restarts, one at a time, warm instances whose size is no longer
// the one Takes ask for, so that the restart is paid here and not by a
// Take. Called with m.mu held.
func (m *Manager) rewarm(ctx context.Context, wg *sync.WaitGroup, major int) {
	fs := m.fillBack[major]
	if fs.minCU == 0 || fs.filling >= maxParallelFills || time.Now().Before(fs.quietUntil) {
		return
	}
	pool := m.pool[major]
	for i, in := range pool {
		want := m.size(Spec{Major: major, MinCU: fs.minCU, MaxCU: fs.maxCU, VolumeID: in.volumeID})
		if in.State() != StateActive || !pgconf.NeedsRestart(in.Settings(), want) {
			continue
		}
		m.pool[major] = append(pool[:i:i], pool[i+1:]...)
		m.warming[in] = true
		fs.filling++
		m.fillBack[major] = fs
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := m.resize(ctx, in, want)
			if err == nil {
				in.dropSpare() // the restart closed it; open a new one
				var conn *pgx.Conn
				if conn, err = in.Conn(ctx, "postgres"); err == nil {
					in.mu.Lock()
					in.spare = conn
					in.mu.Unlock()
				}
			}
			m.mu.Lock()
			delete(m.warming, in)
			fs := m.fillBack[major]
			fs.filling--
			m.fillBack[major] = fs
			closed := m.closed
			if err == nil && !closed {
				m.pool[major] = append(m.pool[major], in)
			}
			m.mu.Unlock()
			if err != nil || closed {
				if err != nil && ctx.Err() == nil {
					m.log.Warn("resize warm instance", "version", major, "err", err)
				}
				_ = m.stop(context.WithoutCancel(ctx), in, false)
				m.dropVolume(ctx, in.volumeID)
			}
			m.wakeRun()
		}()
		return
	}
}

func (m *Manager) fill(ctx context.Context, in *Instance) error {
	begin := time.Now()
	if err := m.cfg.Volumes.Clone(ctx, TemplateID(in.Major()), in.volumeID); err != nil {
		return fmt.Errorf("clone template: %w", err)
	}
	m.log.Debug("warm instance cloned", "volume", in.volumeID, "took", time.Since(begin))
	if _, err := m.run(ctx, in); err != nil {
		m.dropVolume(ctx, in.volumeID)
		return err
	}
	// The first connection to a database after a start builds its relation
	// cache file: pay for it here rather than in the first client's Take.
	// The connection to "postgres" stays open for the Take's set-up statements.
	if err := in.Exec(ctx, spareDatabase, "SELECT 1"); err != nil {
		_ = m.stop(context.WithoutCancel(ctx), in, false)
		m.dropVolume(ctx, in.volumeID)
		return fmt.Errorf("warm up: %w", err)
	}
	conn, err := in.Conn(ctx, "postgres")
	if err != nil {
		_ = m.stop(context.WithoutCancel(ctx), in, false)
		m.dropVolume(ctx, in.volumeID)
		return fmt.Errorf("warm up: %w", err)
	}
	in.mu.Lock()
	in.spare = conn
	in.mu.Unlock()
	return nil
}

// suspendIdle suspends computes without connections for their timeout and,
// past MaxActive, those idle longest.
func (m *Manager) suspendIdle(ctx context.Context, wg *sync.WaitGroup) {
	now := time.Now()
	instances := m.List()
	evict := m.overCap(instances)
	for _, in := range instances {
		in.mu.Lock()
		timeout := in.spec.SuspendTimeout
		if timeout == 0 {
			timeout = m.cfg.DefaultSuspendTimeout
		}
		due := in.state == StateActive && !in.idleQueue && in.conns == 0 && timeout > 0 && now.Sub(in.idleSince) >= timeout
		due = due || (evict[in] && in.state == StateActive && !in.idleQueue && in.conns == 0)
		if due {
			in.idleQueue = true
		}
		id := in.id
		in.mu.Unlock()
		if !due {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if err := m.Suspend(sctx, id); err != nil {
				m.log.Warn("suspend idle compute", "compute", id, "err", err)
			}
		}()
	}
}

// overCap picks the computes to suspend to get back under MaxActive: those
// without connections, idle longest first.
func (m *Manager) overCap(instances []*Instance) map[*Instance]bool {
	if m.cfg.MaxActive <= 0 || len(instances) <= m.cfg.MaxActive {
		return nil
	}
	type cand struct {
		in    *Instance
		since time.Time
	}
	var idle []cand
	for _, in := range instances {
		in.mu.Lock()
		if in.state == StateActive && in.conns == 0 && !in.idleQueue {
			idle = append(idle, cand{in, in.idleSince})
		}
		in.mu.Unlock()
	}
	sort.Slice(idle, func(i, j int) bool { return idle[i].since.Before(idle[j].since) })
	n := min(len(instances)-m.cfg.MaxActive, len(idle))
	out := make(map[*Instance]bool, n)
	for _, c := range idle[:n] {
		out[c.in] = true
	}
	return out
}

// NewVolume clones the template of major into a new volume without starting
// a server on it, for a compute to start later (a project created while no
// warm instance is ready). The caller records the volume id.
func (m *Manager) NewVolume(ctx context.Context, major int) (string, error) {
	if _, err := m.install(major); err != nil {
		return "", fmt.Errorf("new volume: %w", err)
	}
	// A create that found no warm instance is demand the pool missed.
	m.mu.Lock()
	m.countDemandLocked(major)
	m.mu.Unlock()
	m.wakeRun()
	vol := "vol-" + randomHex(8)
	if err := m.cfg.Volumes.Clone(ctx, TemplateID(major), vol); err != nil {
		return "", fmt.Errorf("new volume: clone template: %w", err)
	}
	return vol, nil
}

// dropVolume deletes a volume the manager made for a warm instance, and its
// history, which no branch will ever read.
func (m *Manager) dropVolume(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	if err := m.cfg.Volumes.Delete(ctx, id); err != nil && m.cfg.Volumes.Exists(id) {
		m.log.Warn("delete warm volume", "volume", id, "err", err)
		return
	}
	if m.cfg.Archive != nil {
		if err := m.cfg.Archive.Forget(ctx, id); err != nil {
			m.log.Warn("forget warm volume's history", "volume", id, "err", err)
		}
	}
}
