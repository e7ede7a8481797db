package compute

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/pgrun"
)

var errStopping = errors.New("compute is stopping")

// writeConf writes grove.conf into a data directory, owned by its server's identity u.
func (m *Manager) writeConf(dataDir string, u pgrun.User, s pgconf.Settings) error {
	p := filepath.Join(dataDir, confFile)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, pgconf.Render(s), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := u.Own(tmp, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// launch writes the configuration and starts the server of in, which must
// have no running server. It retries while a previous server's processes
// still hold the data directory (after a crash, orphaned backends keep the
// shared memory segment for a moment).
func (m *Manager) launch(ctx context.Context, in *Instance) error {
	begin := time.Now()
	var phases []any
	mark := func(name string) {
		phases = append(phases, name, time.Since(begin))
	}
	user, legacy, err := m.identity(in.dataDir)
	if err != nil {
		return err
	}
	in.mu.Lock()
	in.user = user
	in.mu.Unlock()
	if err := m.prepareStandby(in); err != nil { // read replicas only (standby.go)
		return err
	}
	if in.Spec().Recovery != nil {
		m.raiseReplay(in, pgconf.ReplayLimits{}) // replay.go
	}
	in.mu.Lock()
	id, settings, rec := in.id, in.settings, in.spec.Recovery
	in.mu.Unlock()
	if err := m.writeConf(in.dataDir, user, settings); err != nil {
		return err
	}
	sock := m.sockDir(id)
	if err := os.RemoveAll(sock); err != nil {
		return fmt.Errorf("socket dir: %w", err)
	}
	if err := user.MkdirOwned(sock, 0o700); err != nil {
		return fmt.Errorf("socket dir: %w", err)
	}
	var logw io.Writer
	var logFile *os.File
	if m.cfg.LogDir != "" {
		f, err := os.OpenFile(filepath.Join(m.cfg.LogDir, in.volumeID+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("compute log: %w", err)
		}
		logw, logFile = f, f
	}
	mark("conf")
	if settings.ArchiveMode {
		if err := m.cfg.Archive.Prepare(ctx, in.volumeID); err != nil {
			return fmt.Errorf("start compute %s: %w", id, err)
		}
		if err := linkArchive(in.dataDir, m.cfg.Archive.WALDir(in.volumeID), user); err != nil {
			return fmt.Errorf("start compute %s: %w", id, err)
		}
	}
	mark("archive")
	promote := false
	if rec == nil {
		var err error
		if promote, err = m.promoteOnStart(in); err != nil {
			return fmt.Errorf("start compute %s: %w", id, err)
		}
	}
	g := m.prepareCgroup(in) // cgroups.go
	mark("cgroup")
	opts := pgrun.Options{Install: in.install, User: user, DataDir: in.dataDir, SocketDir: sock, Log: logw, Promote: promote,
		Started: func(pid int) { mark("exec"); m.enterCgroup(g, pid); mark("entered") }}
	srv, err := m.startReplaying(ctx, in, func() (*pgrun.Server, error) { // replay.go
		if rec != nil {
			return m.startRecovery(ctx, in, rec, opts) // recover.go
		}
		return startRetry(ctx, opts)
	})
	if err != nil {
		if g != nil {
			_ = g.Delete()
		}
		if logFile != nil {
			logFile.Close()
		}
		return fmt.Errorf("start compute %s: %w", id, err)
	}
	mark("postgres")
	m.settleCgroup(in, g, srv.Pid())
	mark("settle")
	m.log.Debug("compute launched", append([]any{"compute", id, "promote", promote}, phases...)...)
	if promote || rec != nil {
		m.checkpointSoon(in)
	}
	in.mu.Lock()
	if in.stopping {
		in.mu.Unlock()
		_ = srv.Stop(context.WithoutCancel(ctx))
		m.releaseCgroup(in)
		if logFile != nil {
			logFile.Close()
		}
		return errStopping
	}
	now := time.Now()
	in.spec.Recovery = nil // recovered: a restart is an ordinary start
	in.srv, in.logFile = srv, logFile
	in.startedAt, in.idleSince = now, now
	in.setState(StateActive, nil)
	standby := in.spec.Standby != nil
	in.mu.Unlock()
	if !standby {
		m.followPrimary(in)
	}
	if legacy {
		if err := m.adoptLegacy(ctx, in); err != nil {
			// Its pooler and replicas cannot log in until a later start adds them.
			m.log.Warn("add helper roles", "compute", id, "err", err)
		}
	}
	return nil
}

// linkArchive points a data directory's archiveLink at an archive
// directory: a clone carries its parent's link, which must not be followed.
func linkArchive(dataDir, target string, u pgrun.User) error {
	link := filepath.Join(dataDir, archiveLink)
	tmp := link + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("archive link: %w", err)
	}
	if u.Switch {
		if err := os.Lchown(tmp, int(u.UID), int(u.GID)); err != nil {
			return fmt.Errorf("archive link: %w", err)
		}
	}
	if err := os.Rename(tmp, link); err != nil {
		return fmt.Errorf("archive link: %w", err)
	}
	return nil
}

// startRetry starts postgres, first stopping a postmaster left on the data
// directory, and retries with back-off while the server exits at once.
func startRetry(ctx context.Context, opts pgrun.Options) (*pgrun.Server, error) {
	delay := 10 * time.Millisecond
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := pgrun.StopStale(ctx, opts.DataDir); err != nil {
			return nil, err
		}
		srv, err := pgrun.Start(ctx, opts)
		if err == nil {
			return srv, nil
		}
		if _, limits := pgrun.IsLimits(err); limits || !errors.Is(err, pgrun.ErrExited) || time.Now().After(deadline) {
			return nil, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		delay = min(delay*2, time.Second)
	}
}

// superviseLocked starts the goroutine that restarts in after a crash; in.mu must be held.
func (m *Manager) superviseLocked(in *Instance) {
	done := make(chan struct{})
	in.supDone = done
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(done)
		m.supervise(in)
	}()
}

func (m *Manager) supervise(in *Instance) {
	for {
		in.mu.Lock()
		srv, logFile := in.srv, in.logFile
		in.mu.Unlock()
		if srv == nil {
			return
		}
		select {
		case <-srv.Done():
		case <-m.leaving: // Leave: the server runs on for the next Grove
			return
		}
		if logFile != nil {
			logFile.Close()
		}
		in.mu.Lock()
		in.srv, in.logFile = nil, nil
		if in.stopping {
			in.mu.Unlock()
			return
		}
		in.mu.Unlock()
		// A crash. Kill what is left of the process group (orphaned
		// backends hold the shared memory) and restart with back-off.
		srv.Kill()
		cause := srv.ExitErr()
		if cause == nil {
			cause = errors.New("postgres exited")
		}
		for {
			in.mu.Lock()
			keep, delay, giveUp := m.cfg.Restart.Next(in.crashes, time.Now())
			in.crashes = keep
			id := in.id
			if giveUp {
				err := fmt.Errorf("compute %s crashed %d times within %v, giving up: %w", id, len(keep), m.cfg.Restart.Window, cause)
				in.setState(StateFailed, err)
				in.mu.Unlock()
				m.emit(Event{Kind: EventFailed, ID: id, VolumeID: in.volumeID, Err: err})
				return
			}
			in.setState(StateRestarting, cause)
			stopCh := in.stopCh
			in.mu.Unlock()
			m.emit(Event{Kind: EventCrashed, ID: id, VolumeID: in.volumeID, Err: cause})
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-stopCh:
				t.Stop()
				return
			case <-m.life.Done():
				t.Stop()
				return
			}
			start := time.Now()
			ctx, cancel := context.WithTimeout(m.life, startTimeout)
			err := m.launch(ctx, in)
			cancel()
			if err == nil {
				m.emit(Event{Kind: EventRestarted, ID: id, VolumeID: in.volumeID, Duration: time.Since(start)})
				break
			}
			if errors.Is(err, errStopping) || m.life.Err() != nil {
				return
			}
			cause = err
		}
	}
}

// stop stops in's server (fast shutdown), after pg_switch_wal() when
// switchWAL, and waits for its supervisor. in leaves StateActive for good.
func (m *Manager) stop(ctx context.Context, in *Instance, switchWAL bool) error {
	in.mu.Lock()
	if !in.stopping {
		in.stopping = true
		close(in.stopCh)
	}
	srv, st, sup := in.srv, in.state, in.supDone
	if st == StateActive || st == StateRestarting || st == StateStarting {
		in.setState(StateSuspending, nil)
	}
	in.mu.Unlock()
	in.dropSpare()
	var err error
	if srv != nil {
		if switchWAL && st == StateActive {
			wctx, cancel := context.WithTimeout(ctx, switchWALTimout)
			// Skipped on a standby, where pg_switch_wal() is not allowed.
			if e := in.Exec(wctx, "postgres", "SELECT pg_switch_wal() WHERE NOT pg_is_in_recovery()"); e != nil {
				m.log.Warn("pg_switch_wal before suspend", "compute", in.ID(), "err", e)
			}
			cancel()
		}
		err = srv.Stop(ctx)
	}
	if sup != nil {
		select {
		case <-sup:
		case <-ctx.Done():
			return fmt.Errorf("stop compute %s: %w", in.ID(), ctx.Err())
		}
	}
	m.releaseCgroup(in) // cgroups.go
	if err != nil {
		return fmt.Errorf("stop compute %s: %w", in.ID(), err)
	}
	return nil
}

// Suspend stops a compute: pg_switch_wal() (so the archive is complete),
// then a fast shutdown. A compute that is not running is a no-op.
func (m *Manager) Suspend(ctx context.Context, id string) error {
	in, ok := m.Get(id)
	if !ok {
		return nil
	}
	err := m.stop(ctx, in, true)
	m.mu.Lock()
	if m.byID[id] == in {
		delete(m.byID, id)
	}
	m.mu.Unlock()
	in.mu.Lock()
	in.setState(StateSuspended, nil)
	in.conns = 0
	in.mu.Unlock()
	_ = os.RemoveAll(m.sockDir(id))
	if err != nil {
		return err
	}
	if err := m.dropStandbyVolume(ctx, in); err != nil { // read replicas only (standby.go)
		return err
	}
	m.emit(Event{Kind: EventSuspended, ID: id, VolumeID: in.volumeID})
	return nil
}

// Start starts the compute spec.ID on spec.VolumeID (a wake) and returns
// once it accepts connections. Concurrent calls for one id share one start;
// a running compute is returned as it is (its idle timer restarts); a
// failed one is started afresh.
func (m *Manager) Start(ctx context.Context, spec Spec) (*Instance, error) {
	if err := spec.validate(true); err != nil {
		return nil, err
	}
	ch := m.starts.DoChan(spec.ID, func() (any, error) {
		// The start outlives a caller that gives up (others may wait on
		// it), but not the manager.
		sctx, cancel := context.WithTimeout(m.life, startTimeout)
		defer cancel()
		return m.start(sctx, spec)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Instance), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("start compute %s: %w", spec.ID, ctx.Err())
	}
}

func (m *Manager) start(ctx context.Context, spec Spec) (*Instance, error) {
	install, err := m.install(spec.Major)
	if err != nil {
		return nil, fmt.Errorf("start compute %s: %w", spec.ID, err)
	}
	if !m.cfg.Volumes.Exists(spec.VolumeID) {
		return nil, fmt.Errorf("start compute %s: %w: %s", spec.ID, ErrNoVolume, spec.VolumeID)
	}
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return nil, ErrClosed
		}
		in := m.byID[spec.ID]
		if in != nil {
			in.mu.Lock()
			st, changed := in.state, in.changed
			if st == StateActive {
				in.idleSince = time.Now()
				in.mu.Unlock()
				m.mu.Unlock()
				return in, nil
			}
			in.mu.Unlock()
			if adopt := m.adopting[in]; adopt != nil {
				// Left running by an earlier Grove: adopt it now (adopt.go).
				m.mu.Unlock()
				adopt()
				continue
			}
			if st != StateFailed {
				m.mu.Unlock()
				select {
				case <-changed:
					continue
				case <-ctx.Done():
					return nil, fmt.Errorf("start compute %s: %w", spec.ID, ctx.Err())
				}
			}
			delete(m.byID, spec.ID)
		}
		for _, other := range m.byID {
			if other.volumeID == spec.VolumeID {
				m.mu.Unlock()
				return nil, fmt.Errorf("start compute %s: volume %s is in use by compute %s", spec.ID, spec.VolumeID, other.ID())
			}
		}
		in = m.newInstance(spec.ID, spec, spec.VolumeID, install)
		m.byID[spec.ID] = in
		m.mu.Unlock()
		return m.run(ctx, in)
	}
}

// run launches a registered instance and supervises it, or unregisters it.
func (m *Manager) run(ctx context.Context, in *Instance) (*Instance, error) {
	begin := time.Now()
	if err := m.launch(ctx, in); err != nil {
		m.mu.Lock()
		if m.byID[in.id] == in {
			delete(m.byID, in.id)
		}
		m.mu.Unlock()
		in.mu.Lock()
		in.setState(StateFailed, err)
		in.mu.Unlock()
		return nil, err
	}
	in.mu.Lock()
	m.superviseLocked(in)
	id := in.id
	in.mu.Unlock()
	m.emit(Event{Kind: EventStarted, ID: id, VolumeID: in.volumeID, Duration: time.Since(begin)})
	return in, nil
}

// Take hands out a warm instance of spec.Major renamed to spec.ID and
// resized to spec, or, when the pool is empty, clones the template and
// starts one. The instance's VolumeID is new: the caller records it.
func (m *Manager) Take(ctx context.Context, spec Spec) (*Instance, error) {
	if err := spec.validate(false); err != nil {
		return nil, err
	}
	install, err := m.install(spec.Major)
	if err != nil {
		return nil, fmt.Errorf("take compute %s: %w", spec.ID, err)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	if _, ok := m.byID[spec.ID]; ok {
		m.mu.Unlock()
		return nil, fmt.Errorf("take compute %s: %w", spec.ID, ErrExists)
	}
	fs := m.fillBack[install.Major]
	fs.minCU, fs.maxCU = spec.MinCU, spec.MaxCU
	fs.quietUntil = time.Now().Add(fillQuiet)
	m.fillBack[install.Major] = fs
	m.countDemandLocked(install.Major)
	time.AfterFunc(fillQuiet, m.wakeRun)
	// Prefer a warm instance already of the wanted size: it needs no restart.
	var in *Instance
	pick := -1
	pool := m.pool[install.Major]
	for i, p := range pool {
		if p.State() != StateActive {
			continue
		}
		want := spec
		want.VolumeID = p.volumeID
		same := pgconf.Equal(p.Settings(), m.size(want))
		if pick < 0 || same {
			pick = i
		}
		if same {
			break
		}
	}
	if pick >= 0 {
		in = pool[pick]
		m.pool[install.Major] = append(pool[:pick:pick], pool[pick+1:]...)
	}
	if in == nil {
		// Cold: reserve the id, then clone and start outside the lock.
		vol := "vol-" + randomHex(8)
		in = m.newInstance(spec.ID, spec, vol, install)
		m.byID[spec.ID] = in
		m.mu.Unlock()
		m.wakeRun()
		if err := m.cfg.Volumes.Clone(ctx, TemplateID(install.Major), vol); err != nil {
			m.mu.Lock()
			delete(m.byID, spec.ID)
			m.mu.Unlock()
			return nil, fmt.Errorf("take compute %s: clone template: %w", spec.ID, err)
		}
		out, err := m.run(ctx, in)
		if err != nil {
			m.dropVolume(ctx, vol)
			return nil, fmt.Errorf("take compute %s: %w", spec.ID, err)
		}
		return out, nil
	}
	// Warm: move the socket directory to the new id while the server runs
	// (the listening socket follows its directory).
	in.mu.Lock()
	old := in.id
	_ = os.RemoveAll(m.sockDir(spec.ID))
	if err := os.Rename(m.sockDir(old), m.sockDir(spec.ID)); err != nil {
		in.mu.Unlock()
		m.pool[install.Major] = append(m.pool[install.Major], in)
		m.mu.Unlock()
		return nil, fmt.Errorf("take compute %s: move socket: %w", spec.ID, err)
	}
	spec.VolumeID, spec.Major = in.volumeID, install.Major
	in.id, in.spec = spec.ID, spec
	in.idleSince = time.Now()
	m.byID[spec.ID] = in
	in.mu.Unlock()
	m.mu.Unlock()
	m.wakeRun()
	if err := m.resize(ctx, in, m.size(spec)); err != nil {
		return nil, fmt.Errorf("take compute %s: %w", spec.ID, err)
	}
	return in, nil
}

// resize applies new settings: a reload when only reloadable ones change,
// else a restart.
func (m *Manager) resize(ctx context.Context, in *Instance, s pgconf.Settings) error {
	in.mu.Lock()
	old := in.settings
	in.mu.Unlock()
	if pgconf.Equal(old, s) {
		return nil
	}
	if !pgconf.NeedsRestart(old, s) {
		if err := m.writeConf(in.dataDir, in.User(), s); err != nil {
			return err
		}
		in.mu.Lock()
		defer in.mu.Unlock()
		in.settings = s
		if in.srv != nil {
			if err := syscall.Kill(in.srv.Pid(), syscall.SIGHUP); err != nil {
				return fmt.Errorf("reload compute %s: %w", in.id, err)
			}
		}
		return nil
	}
	if err := m.stop(ctx, in, false); err != nil {
		return err
	}
	in.mu.Lock()
	in.settings = s
	in.stopping = false
	in.stopCh = make(chan struct{})
	in.crashes = nil
	in.setState(StateStarting, nil)
	in.mu.Unlock()
	_, err := m.run(ctx, in)
	return err
}

// Close stops every compute (fast shutdown), deletes the untaken pool
// volumes and waits for the manager's goroutines.
func (m *Manager) Close(ctx context.Context) error { return m.shut(ctx, false) }

// shut is Close, or with leave Leave (adopt.go): the running computes are
// left running, their supervisors ended.
func (m *Manager) shut(ctx context.Context, leave bool) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	var all, pooled []*Instance
	for _, in := range m.byID {
		all = append(all, in)
	}
	for _, p := range m.pool {
		pooled = append(pooled, p...)
	}
	m.pool = map[int][]*Instance{}
	m.mu.Unlock()
	if leave {
		close(m.leaving)
		for _, in := range all {
			in.dropSpare()
		}
		all = nil
	}
	m.stopLife()

	var wg sync.WaitGroup
	errs := make([]error, len(all)+len(pooled))
	for i, in := range append(all, pooled...) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.stop(ctx, in, false)
			_ = os.RemoveAll(m.sockDir(in.ID()))
			if i >= len(all) {
				m.dropVolume(ctx, in.volumeID)
			}
		}()
	}
	wg.Wait()
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("close compute manager: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

// Resize changes a running compute's size range. Settings that reload take
// effect at once (SIGHUP); when a restart-only one changes (max_connections,
// shared_buffers, …) the compute restarts, as a Neon endpoint does when its
// min or max CU is edited.
func (m *Manager) Resize(ctx context.Context, id string, minCU, maxCU float64) error {
	in, ok := m.Get(id)
	if !ok || in.State() != StateActive {
		return fmt.Errorf("resize compute %s: %w", id, ErrNotRunning)
	}
	in.mu.Lock()
	spec := in.spec
	spec.MinCU, spec.MaxCU = minCU, maxCU
	if err := spec.validate(false); err != nil {
		in.mu.Unlock()
		return err
	}
	in.spec = spec
	in.mu.Unlock()
	if err := m.resize(ctx, in, m.size(spec)); err != nil {
		return fmt.Errorf("resize compute %s: %w", id, err)
	}
	// The current size into the new range, its limits live (cgroups.go).
	m.applyRange(ctx, in)
	return nil
}
