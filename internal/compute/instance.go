package compute

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
	// spare is the admin connection to "postgres" that Admin keeps
	// between uses (opened already while the instance is warm), so that
	// Grove's own statements do not each start a backend; adminSem
	// admits one user of it at a time.
	spare    *pgx.Conn
	adminSem chan struct{}
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

// putSpare keeps conn for the next Admin, unless the server is stopping
// or conn is not idle.
func (in *Instance) putSpare(conn *pgx.Conn) {
	in.mu.Lock()
	keep := in.state == StateActive && !in.stopping && in.spare == nil &&
		!conn.IsClosed() && conn.PgConn().TxStatus() == 'I'
	if keep {
		in.spare = conn
	}
	in.mu.Unlock()
	if !keep {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(ctx)
	}
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
		adminSem: make(chan struct{}, 1),
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

// StateChange is the compute's lifecycle state and a channel closed at
// its next change, for callers that wait for a state rather than poll.
func (in *Instance) StateChange() (State, <-chan struct{}) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.state, in.changed
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

// Admin runs f on an admin connection to "postgres" that is kept open
// between calls. A backend start is a fork of the postmaster and its
// exit, the dominant CPU cost of a small query (~20 ms of CPU on a
// virtual machine whose page tables are costly), and Grove queries every
// running compute every few seconds (sizes, cache hits, checkpoints).
// f must leave the session as it found it: outside a transaction, no
// settings changed. A call made while another uses the connection gets
// a connection of its own rather than waiting behind a long statement.
func (in *Instance) Admin(ctx context.Context, f func(*pgx.Conn) error) error {
	select {
	case in.adminSem <- struct{}{}:
	default:
		conn, err := in.Conn(ctx, "postgres")
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		return f(conn)
	}
	defer func() { <-in.adminSem }()
	conn := in.takeSpare()
	kept := conn != nil && !conn.IsClosed()
	if !kept {
		var err error
		if conn, err = in.Conn(ctx, "postgres"); err != nil {
			return err
		}
	}
	err := f(conn)
	var pgErr *pgconn.PgError
	if err != nil && kept && !errors.As(err, &pgErr) && ctx.Err() == nil {
		// The kept connection died with a server that restarted since:
		// once more on a new one.
		_ = conn.Close(context.WithoutCancel(ctx))
		if conn, err = in.Conn(ctx, "postgres"); err != nil {
			return err
		}
		err = f(conn)
	}
	in.putSpare(conn)
	return err
}

// Exec runs SQL (simple protocol, several statements allowed) as the superuser.
func (in *Instance) Exec(ctx context.Context, db, sql string) error {
	run := func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("compute %s: %w", in.ID(), err)
		}
		return nil
	}
	if db == "postgres" {
		return in.Admin(ctx, run)
	}
	conn, err := in.Conn(ctx, db)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return run(conn)
}
