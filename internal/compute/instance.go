package compute

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grovedb/grove/internal/cgroup"
	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgversion"
)

// State is where a compute is in its lifecycle.
type State string

// States of a compute.
const (
	StateStarting   State = "starting"
	StateActive     State = "active"
	StateRestarting State = "restarting" // crashed; waiting out the back-off
	StateSuspending State = "suspending"
	StateSuspended  State = "suspended" // stopped; no longer held by the manager
	StateFailed     State = "failed"    // crashed too often; Err says why
)

// Instance is one compute: a Postgres server on a volume.
type Instance struct {
	m        *Manager
	volumeID string
	install  pgversion.Install
	dataDir  string

	mu        sync.Mutex
	user      pgrun.User // the server's OS identity, set at launch
	id        string
	spec      Spec
	settings  pgconf.Settings
	srv       *pgrun.Server
	logFile   *os.File
	state     State
	err       error
	startedAt time.Time
	conns     int
	idleSince time.Time
	crashes   []time.Time
	changed   chan struct{} // closed and replaced on every state change
	stopping  bool          // a stop was asked: an exit is not a crash
	stopCh    chan struct{} // closed when stopping is set
	supDone   chan struct{} // closed when the supervisor exits; nil before it starts
	idleQueue bool          // Run has queued an idle suspend
	// spare is an admin connection to "postgres" opened while the instance
	// was warm, so that the first Exec after a Take skips a backend start.
	spare *pgx.Conn
	// cgroup holds the running server's processes (nil: no enforcement)
	// and cu is its current size (cgroups.go).
	cgroup cgroup.Group
	cu     float64
}

// takeSpare returns the warm admin connection, if any, for one use.
func (in *Instance) takeSpare() *pgx.Conn {
	in.mu.Lock()
	defer in.mu.Unlock()
	c := in.spare
	in.spare = nil
	return c
}

// dropSpare closes the warm admin connection (before a stop).
func (in *Instance) dropSpare() {
	if c := in.takeSpare(); c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = c.Close(ctx)
	}
}

func (m *Manager) newInstance(id string, spec Spec, volumeID string, install pgversion.Install) *Instance {
	spec.ID, spec.VolumeID, spec.Major = id, volumeID, install.Major
	return &Instance{
		m:        m,
		volumeID: volumeID,
		install:  install,
		dataDir:  m.cfg.Volumes.Path(volumeID),
		id:       id,
		spec:     spec,
		settings: m.size(spec),
		state:    StateStarting,
		changed:  make(chan struct{}),
		stopCh:   make(chan struct{}),
	}
}

// setState changes the state and wakes waiters; in.mu must be held.
func (in *Instance) setState(s State, err error) {
	in.state, in.err = s, err
	close(in.changed)
	in.changed = make(chan struct{})
}

// ID is the compute's id (the endpoint id once taken).
func (in *Instance) ID() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.id
}

// VolumeID is the volume the compute runs on.
func (in *Instance) VolumeID() string { return in.volumeID }

// Major is the Postgres major version.
func (in *Instance) Major() int { return in.install.Major }

// DataDir is the compute's data directory.
func (in *Instance) DataDir() string { return in.dataDir }

// Spec is the compute's current specification.
func (in *Instance) Spec() Spec {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.spec
}

// Settings are the Postgres settings the compute runs with.
func (in *Instance) Settings() pgconf.Settings {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.settings
}

// SocketDir is the folder holding the compute's Unix socket.
func (in *Instance) SocketDir() string { return in.m.sockDir(in.ID()) }

// SocketPath is the compute's Unix socket.
func (in *Instance) SocketPath() string { return filepath.Join(in.SocketDir(), ".s.PGSQL.5432") }

// Pid is the postmaster's process id, 0 when not running.
func (in *Instance) Pid() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.srv == nil {
		return 0
	}
	return in.srv.Pid()
}

// State is the compute's lifecycle state.
func (in *Instance) State() State {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.state
}

// Err is why the compute failed (StateFailed), or the last crash.
func (in *Instance) Err() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.err
}

// StartedAt is when the current server became ready.
func (in *Instance) StartedAt() time.Time {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.startedAt
}

// Conns is the number of client connections the proxy reported.
func (in *Instance) Conns() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.conns
}

// Conn connects to a database as the platform superuser over the socket.
func (in *Instance) Conn(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("sslmode=disable")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Database = in.SocketDir(), 5432, pgrun.AdminRole, db
	cfg.RuntimeParams = map[string]string{"application_name": "grove"}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to compute %s database %q: %w", in.ID(), db, err)
	}
	return conn, nil
}

// Exec runs SQL (simple protocol, several statements allowed) as the superuser.
func (in *Instance) Exec(ctx context.Context, db, sql string) error {
	conn := (*pgx.Conn)(nil)
	if db == "postgres" {
		conn = in.takeSpare()
	}
	if conn == nil || conn.IsClosed() {
		var err error
		if conn, err = in.Conn(ctx, db); err != nil {
			return err
		}
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("compute %s: %w", in.ID(), err)
	}
	return nil
}
