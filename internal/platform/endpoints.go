package platform

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/connuri"
	"github.com/grovedb/grove/internal/endpointspec"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/plans"
	"github.com/grovedb/grove/internal/scram"
	"github.com/jackc/pgx/v5"
)

// GetEndpoint returns an endpoint of a project the caller reaches.
func (p *Platform) GetEndpoint(ctx context.Context, pr accounts.Principal, projectID, endpointID string) (EndpointView, error) {
	if _, err := p.GetProject(ctx, pr, projectID); err != nil {
		return EndpointView{}, err
	}
	r, err := p.store.GetEndpointRoute(ctx, endpointID)
	if err != nil || r.Endpoint.ProjectID != projectID {
		return EndpointView{}, notFound("endpoint")
	}
	return p.endpointView(r.Endpoint), nil
}

// StartEndpoint starts (wakes) an endpoint.
func (p *Platform) StartEndpoint(ctx context.Context, pr accounts.Principal, projectID, endpointID string) (EndpointView, []metastore.Operation, error) {
	if _, err := p.GetEndpoint(ctx, pr, projectID, endpointID); err != nil {
		return EndpointView{}, nil, err
	}
	r, err := p.store.GetEndpointRoute(ctx, endpointID)
	if err != nil {
		return EndpointView{}, nil, wrapStore("endpoint", err)
	}
	if r.Endpoint.Disabled {
		return EndpointView{}, nil, newErr(errkind.Conflict, "endpoint is disabled")
	}
	if err := p.quotaBlock(ctx, r.Endpoint.ProjectID, r.Endpoint.BranchID); err != nil { // quota.go
		return EndpointView{}, nil, quotaError(err)
	}
	ops, err := p.mutate(ctx, projectID, []metastore.Operation{p.operation(r.Endpoint, "start_compute")}, func(ctx context.Context) error {
		if _, err := p.start(ctx, r); err != nil {
			return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not start the endpoint", Err: err}
		}
		return p.store.TouchEndpoint(ctx, endpointID, now())
	})
	if err != nil {
		return EndpointView{}, nil, err
	}
	return p.endpointView(r.Endpoint), ops, nil
}

// errTransitive is Neon's 423 for an endpoint between states (its compute
// starting, restarting after a crash, or suspending).
func errTransitive(action string) error {
	return newErr(errkind.Locked, "endpoint is in some transitive state, could not %s", action)
}

// inTransition reports whether an endpoint's compute is between states.
func (p *Platform) inTransition(endpointID string) bool {
	inst, ok := p.cfg.Computes.Get(endpointID)
	if !ok {
		return false
	}
	switch inst.State() {
	case compute.StateStarting, compute.StateRestarting, compute.StateSuspending:
		return true
	}
	return false
}

// SuspendEndpoint suspends an endpoint: an idle one stays idle (200, as
// Neon's), one between states is Neon's 423. last_active becomes the
// moment the compute stopped.
func (p *Platform) SuspendEndpoint(ctx context.Context, pr accounts.Principal, projectID, endpointID string) (EndpointView, []metastore.Operation, error) {
	v, err := p.GetEndpoint(ctx, pr, projectID, endpointID)
	if err != nil {
		return EndpointView{}, nil, err
	}
	if p.inTransition(endpointID) {
		return EndpointView{}, nil, errTransitive("suspend")
	}
	ops, err := p.mutate(ctx, projectID, []metastore.Operation{p.operation(v.Endpoint, "suspend_compute")}, func(ctx context.Context) error {
		in, running := p.cfg.Computes.Get(endpointID)
		if running {
			p.measure(ctx, in) // the size it keeps while suspended
		}
		if err := p.cfg.Computes.Suspend(ctx, endpointID); err != nil {
			return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not suspend the endpoint", Err: err}
		}
		if !running {
			return nil
		}
		return p.store.TouchEndpoint(ctx, endpointID, now())
	})
	if err != nil {
		return EndpointView{}, nil, err
	}
	return p.endpointView(v.Endpoint), ops, nil
}

// ConnectionURIInput selects the connection string to build.
type ConnectionURIInput struct {
	BranchID, EndpointID, DatabaseName, RoleName string
	Pooled                                       bool
}

// ProjectConnectionURI builds a connection string with the role's stored password.
func (p *Platform) ProjectConnectionURI(ctx context.Context, pr accounts.Principal, projectID string, in ConnectionURIInput) (string, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return "", err
	}
	if in.DatabaseName == "" {
		return "", newErr(errkind.Invalid, "database_name is required")
	}
	if in.RoleName == "" {
		return "", newErr(errkind.Invalid, "role_name is required")
	}
	branches, err := p.store.ProjectBranches(ctx, projectID)
	if err != nil {
		return "", err
	}
	var branch *metastore.Branch
	for i := range branches {
		b := &branches[i]
		if (in.BranchID == "" && b.IsDefault) || b.ID == in.BranchID {
			branch = b
		}
	}
	if branch == nil {
		return "", notFound("branch")
	}
	eps, err := p.store.ProjectEndpoints(ctx, projectID)
	if err != nil {
		return "", err
	}
	var ep *metastore.Endpoint
	for i := range eps {
		e := &eps[i]
		if in.EndpointID != "" && e.ID == in.EndpointID || in.EndpointID == "" && e.BranchID == branch.ID && e.Type == "read_write" {
			ep = e
		}
	}
	if ep == nil {
		return "", notFound("endpoint")
	}
	dbs, err := p.store.BranchDatabases(ctx, branch.ID)
	if err != nil {
		return "", err
	}
	found := false
	for _, d := range dbs {
		found = found || d.Name == in.DatabaseName
	}
	if !found {
		return "", notFound("database")
	}
	role, err := p.store.GetRole(ctx, branch.ID, in.RoleName)
	if err != nil {
		return "", wrapStore("role", err)
	}
	if !proj.StorePasswords || len(role.SealedPassword) == 0 {
		return "", newErr(errkind.Invalid, "the password of role %q is not stored; reset it to get a connection string", in.RoleName)
	}
	pw, err := p.cfg.Sealer.Open(role.SealedPassword)
	if err != nil {
		return "", err
	}
	return p.Hosts().URI(connuri.Params{Role: role.Name, Password: pw, Database: in.DatabaseName, EndpointID: ep.ID,
		RegionID: ep.RegionID, Pooled: in.Pooled, ChannelBinding: true}), nil
}

// Errors the proxy backend distinguishes.
var (
	ErrUnknownEndpoint  = errors.New("endpoint not found")
	ErrUnknownRole      = errors.New("role not found")
	ErrEndpointDisabled = errors.New("endpoint is disabled")
)

// RoleVerifier returns the SCRAM verifier of a role on an endpoint's branch:
// from the metadata store for roles made through the API (so a failed login
// never wakes a compute), else from the compute itself (roles made in SQL).
func (p *Platform) RoleVerifier(ctx context.Context, endpointID, role string) (scram.Verifier, error) {
	gen := p.store.RolesGeneration()
	if v, ok := p.verifiers.get(endpointID, role, gen); ok {
		return v, nil
	}
	r, stored, err := p.store.GetEndpointRole(ctx, endpointID, role)
	if errors.Is(err, metastore.ErrNotFound) {
		return scram.Verifier{}, ErrUnknownEndpoint
	}
	if err != nil {
		return scram.Verifier{}, err
	}
	if stored != "" {
		v, err := scram.ParseVerifier(stored)
		if err == nil {
			p.verifiers.put(endpointID, role, gen, v)
		}
		return v, err
	}
	inst, err := p.wake(ctx, r)
	if err != nil {
		return scram.Verifier{}, err
	}
	// A role made in SQL: its verifier is the compute's. Read on the
	// compute's kept admin session, as SQL over HTTP asks on every request.
	var secret *string
	err = inst.Admin(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT rolpassword FROM pg_authid WHERE rolname = $1 AND rolcanlogin`, role).Scan(&secret)
	})
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && secret == nil) {
		return scram.Verifier{}, ErrUnknownRole
	}
	if err != nil {
		return scram.Verifier{}, fmt.Errorf("role %s on %s: %w", role, endpointID, err)
	}
	return scram.ParseVerifier(*secret)
}

// Connect wakes an endpoint if needed and returns its Unix socket path.
func (p *Platform) Connect(ctx context.Context, endpointID string) (string, error) {
	r, err := p.store.GetEndpointRoute(ctx, endpointID)
	if errors.Is(err, metastore.ErrNotFound) {
		return "", ErrUnknownEndpoint
	}
	if err != nil {
		return "", err
	}
	if r.Endpoint.Disabled {
		return "", ErrEndpointDisabled
	}
	inst, err := p.wake(ctx, r)
	if err != nil {
		return "", err
	}
	return inst.SocketPath(), nil
}

func (p *Platform) wake(ctx context.Context, r metastore.EndpointRoute) (*compute.Instance, error) {
	// A compute still starting (a branch create answers before its compute
	// is up) is waited for by start.
	if inst, ok := p.cfg.Computes.Get(r.Endpoint.ID); ok && !r.SetupPending && inst.State() == compute.StateActive {
		return inst, nil
	}
	inst, err := p.start(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("wake endpoint %s: %w", r.Endpoint.ID, err)
	}
	return inst, nil
}

// start starts an endpoint's compute (a running one is returned as it is)
// and, when its branch's config is pending (roles and databases changed
// while it was suspended, or a project created without a warm instance),
// applies that config before any client gets in. Read-only computes cannot
// apply it; their branch's read-write compute does.
//
// The start holds its volume's read lock, so that a branch being cloned
// from a suspended compute's volume, or an endpoint being moved off it,
// never sees the compute come up midway; it re-reads the endpoint's route
// under that lock, so that a start racing a move lands on the new branch.
func (p *Platform) start(ctx context.Context, r metastore.EndpointRoute) (*compute.Instance, error) {
	if err := p.quotaBlock(ctx, r.Endpoint.ProjectID, r.Endpoint.BranchID); err != nil { // quota.go
		return nil, err
	}
	if r.Endpoint.Type == "read_only" {
		return p.startReplica(ctx, r) // a hot standby on a copy of the branch (replicas.go)
	}
	var inst *compute.Instance
	for {
		l := volumeLocks.get(r.VolumeID)
		l.RLock()
		fresh, err := p.store.GetEndpointRoute(ctx, r.Endpoint.ID)
		if err != nil {
			l.RUnlock()
			return nil, err
		}
		if fresh.VolumeID != r.VolumeID {
			l.RUnlock()
			r = fresh
			continue
		}
		r = fresh
		inst, err = p.cfg.Computes.Start(ctx, p.spec(r.Endpoint, r.VolumeID, r.PGVersion))
		l.RUnlock()
		if err != nil {
			return nil, err
		}
		break
	}
	if !r.SetupPending || r.Endpoint.Type == "read_only" {
		return inst, nil
	}
	if err := p.converge(ctx, inst, r.Endpoint.BranchID); err != nil {
		return nil, fmt.Errorf("apply the config of branch %s: %w", r.Endpoint.BranchID, err)
	}
	return inst, nil
}

// activity tracks last_active updates so that a busy endpoint writes the
// metadata store at most once a minute.
type activity struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// ConnOpened records a client connection to an endpoint.
func (p *Platform) ConnOpened(endpointID string) {
	p.cfg.Computes.ConnOpened(endpointID)
	p.touch(endpointID)
}

// ConnClosed records the end of a client connection.
func (p *Platform) ConnClosed(endpointID string) {
	p.cfg.Computes.ConnClosed(endpointID)
	p.touch(endpointID)
}

func (p *Platform) touch(endpointID string) {
	p.act.mu.Lock()
	if p.act.last == nil {
		p.act.last = map[string]time.Time{}
	}
	t := now()
	if t.Sub(p.act.last[endpointID]) < time.Minute {
		p.act.mu.Unlock()
		return
	}
	p.act.last[endpointID] = t
	p.act.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.store.TouchEndpoint(ctx, endpointID, t); err != nil {
			p.log.Warn("record endpoint activity", "endpoint", endpointID, "err", err)
		}
	}()
}

// Operations returns a page of a project's operations, newest first.
func (p *Platform) Operations(ctx context.Context, pr accounts.Principal, projectID string, before *time.Time, limit int) ([]metastore.Operation, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return nil, err
	}
	return p.store.ListOperations(ctx, proj.ID, before, limit)
}

// Operation returns one operation of a project.
func (p *Platform) Operation(ctx context.Context, pr accounts.Principal, projectID string, id uuid.UUID) (metastore.Operation, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return metastore.Operation{}, err
	}
	op, err := p.store.GetOperation(ctx, proj.ID, id)
	return op, wrapStore("operation", err)
}

// errSecondReadWrite is Neon's answer to a second read_write endpoint on a branch.
var errSecondReadWrite = newErr(errkind.Conflict, "read_write endpoint already exists")

// CreateEndpoint adds a read_write compute to a branch and starts it
// (unless created disabled). The branch's data is what it serves: after
// the branch's endpoint was deleted, a new one finds the same databases.
// A branch has at most one read_write endpoint and any number of
// read_only ones (read replicas, replicas.go).
func (p *Platform) CreateEndpoint(ctx context.Context, pr accounts.Principal, projectID string, in endpointspec.Input) (EndpointView, []metastore.Operation, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return EndpointView{}, nil, err
	}
	if err := endpointspec.CheckType(in.Type, "endpoint"); err != nil {
		return EndpointView{}, nil, err
	}
	if in.BranchID == "" {
		return EndpointView{}, nil, newErr(errkind.Invalid, "endpoint.branch_id is required")
	}
	if !ids.ValidResource(in.BranchID) {
		return EndpointView{}, nil, notFound("branch")
	}
	branch, err := p.store.GetBranch(ctx, proj.ID, in.BranchID)
	if err != nil {
		return EndpointView{}, nil, wrapStore("branch", err)
	}
	if in.RegionID != "" && in.RegionID != proj.RegionID {
		return EndpointView{}, nil, newErr(errkind.Invalid, "endpoint.region_id %q must be the project's region %s", in.RegionID, proj.RegionID)
	}
	d := plans.ParseEndpointDefaults(proj.DefaultEndpointSettings)
	ep, err := endpointspec.Resolve(in, proj.Provisioner, d)
	if err != nil {
		return EndpointView{}, nil, err
	}
	if err := p.checkProjectPlan(ctx, proj, func(pl plans.Plan) error {
		return plans.CheckEndpoint(pl, ep.MinCU, ep.MaxCU, ep.SuspendTimeoutSeconds)
	}); err != nil {
		return EndpointView{}, nil, err
	}
	if ep.Settings, err = endpointspec.Settings(in.Settings, d.PgSettings); err != nil {
		return EndpointView{}, nil, err
	}
	eps, err := p.store.BranchEndpoints(ctx, branch.ID)
	if err != nil {
		return EndpointView{}, nil, err
	}
	for _, e := range eps {
		if e.Type == "read_write" && in.Type == "read_write" {
			return EndpointView{}, nil, errSecondReadWrite
		}
	}
	t := now()
	ep.ID, ep.ProjectID, ep.BranchID, ep.RegionID, ep.CreatedAt, ep.UpdatedAt = ids.NewEndpoint(), proj.ID, branch.ID, proj.RegionID, t, t
	var ops []metastore.Operation
	if !ep.Disabled {
		ops = append(ops, p.operation(ep, "start_compute"))
	}
	inserted := make(chan error, 1)
	ops, err = p.mutate(ctx, proj.ID, ops, func(ctx context.Context) error {
		err := p.store.InsertEndpoint(ctx, ep)
		if errors.Is(err, metastore.ErrConflict) {
			err = errSecondReadWrite
		}
		inserted <- err
		if err != nil || ep.Disabled {
			return err
		}
		return p.startEndpoint(ctx, ep.ID)
	})
	if err != nil {
		return EndpointView{}, nil, err
	}
	// Past the budget the start goes on, but the answer waits for the row.
	if err := <-inserted; err != nil {
		return EndpointView{}, nil, err
	}
	return p.endpointView(ep), ops, nil
}

// startEndpoint starts an endpoint's compute on its branch's volume and
// records the activity.
func (p *Platform) startEndpoint(ctx context.Context, endpointID string) error {
	r, err := p.store.GetEndpointRoute(ctx, endpointID)
	if err != nil {
		return wrapStore("endpoint", err)
	}
	if _, err := p.start(ctx, r); err != nil {
		return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not start the endpoint", Err: err}
	}
	return p.store.TouchEndpoint(ctx, endpointID, now())
}

// UpdateEndpoint changes an endpoint. On a running compute a new size
// applies at once (restarting it when Postgres needs that), a move to
// another branch restarts it there and disabling suspends it; an idle
// endpoint only changes its record, as Neon's (no operations). A new
// suspend_timeout_seconds applies from the compute's next start.
func (p *Platform) UpdateEndpoint(ctx context.Context, pr accounts.Principal, projectID, endpointID string, in endpointspec.Update) (EndpointView, []metastore.Operation, error) {
	v, err := p.GetEndpoint(ctx, pr, projectID, endpointID)
	if err != nil {
		return EndpointView{}, nil, err
	}
	old := v.Endpoint
	e, err := endpointspec.ApplySize(old, in)
	if err != nil {
		return EndpointView{}, nil, err
	}
	if in.MinCU != nil || in.MaxCU != nil || in.SuspendTimeoutSeconds != nil {
		if err := p.checkEndpointPlan(ctx, e, in.MinCU != nil || in.MaxCU != nil, in.SuspendTimeoutSeconds != nil); err != nil {
			return EndpointView{}, nil, err
		}
	}
	if e, err = endpointspec.ApplyRest(e, in); err != nil {
		return EndpointView{}, nil, err
	}
	moved := in.BranchID != "" && in.BranchID != old.BranchID
	if moved {
		if !ids.ValidResource(in.BranchID) {
			return EndpointView{}, nil, notFound("branch")
		}
		b, err := p.store.GetBranch(ctx, projectID, in.BranchID)
		if err != nil {
			return EndpointView{}, nil, wrapStore("branch", err)
		}
		others, err := p.store.BranchEndpoints(ctx, b.ID)
		if err != nil {
			return EndpointView{}, nil, err
		}
		for _, o := range others {
			if o.Type == "read_write" && e.Type == "read_write" {
				return EndpointView{}, nil, errSecondReadWrite
			}
		}
		e.BranchID = b.ID
	}
	e.UpdatedAt = now()
	_, running := p.cfg.Computes.Get(e.ID)
	resized := e.MinCU != old.MinCU || e.MaxCU != old.MaxCU
	var ops []metastore.Operation
	switch {
	case !running:
	case e.Disabled:
		ops = append(ops, p.operation(e, "suspend_compute"))
	case moved:
		ops = append(ops, p.operation(e, "suspend_compute"), p.operation(e, "start_compute"))
	default:
		ops = append(ops, p.operation(e, "apply_config"))
	}
	out := e
	ops, err = p.mutate(ctx, projectID, ops, func(ctx context.Context) error {
		var err error
		if moved {
			// A move holds the old volume's lock from the record's change
			// to the compute's stop, so that no start lands on the old
			// branch meanwhile; clients are disconnected and reconnect to
			// the new branch.
			r, err := p.store.GetEndpointRoute(ctx, e.ID)
			if err != nil {
				return wrapStore("endpoint", err)
			}
			l := volumeLocks.get(r.VolumeID)
			l.Lock()
			defer l.Unlock()
		}
		if out, err = p.store.UpdateEndpoint(ctx, e); err != nil {
			return wrapStore("endpoint", err)
		}
		switch {
		case moved:
			if err := p.cfg.Computes.Suspend(ctx, e.ID); err != nil {
				return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not suspend the endpoint", Err: err}
			}
			if e.Disabled || !running {
				return nil
			}
			return p.startEndpoint(ctx, e.ID)
		case !running:
			return nil
		case e.Disabled:
			if err := p.cfg.Computes.Suspend(ctx, e.ID); err != nil {
				return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not suspend the endpoint", Err: err}
			}
			if e.Disabled {
				return nil
			}
			return p.startEndpoint(ctx, e.ID)
		case resized:
			if err := p.cfg.Computes.Resize(ctx, e.ID, e.MinCU, e.MaxCU); err != nil {
				if _, still := p.cfg.Computes.Get(e.ID); still {
					return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not resize the endpoint", Err: err}
				}
			}
			return nil // suspended meanwhile: the next start has the new size
		}
		return nil
	})
	if err != nil {
		return EndpointView{}, nil, err
	}
	return p.endpointView(out), ops, nil
}

// DeleteEndpoint stops an endpoint's compute and removes it; the branch and
// its data stay. gone reports an endpoint that does not exist (Neon's 204).
func (p *Platform) DeleteEndpoint(ctx context.Context, pr accounts.Principal, projectID, endpointID string) (v EndpointView, ops []metastore.Operation, gone bool, err error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return EndpointView{}, nil, false, err
	}
	if !ids.ValidResource(endpointID) {
		return EndpointView{}, nil, true, nil
	}
	e, err := p.store.GetEndpoint(ctx, proj.ID, endpointID)
	if errors.Is(err, metastore.ErrNotFound) {
		return EndpointView{}, nil, true, nil
	}
	if err != nil {
		return EndpointView{}, nil, false, err
	}
	b, err := p.store.GetBranch(ctx, proj.ID, e.BranchID)
	if err != nil {
		return EndpointView{}, nil, false, wrapStore("branch", err)
	}
	if b.Protected {
		return EndpointView{}, nil, false, newErr(errkind.Invalid, "the compute endpoints of protected branch %s cannot be deleted", b.ID)
	}
	ops, err = p.mutate(ctx, proj.ID, []metastore.Operation{p.operation(e, "suspend_compute")}, func(ctx context.Context) error {
		// The row goes first so that no new connection wakes the compute.
		if err := p.store.DeleteEndpoint(ctx, proj.ID, e.ID); err != nil && !errors.Is(err, metastore.ErrNotFound) {
			return err
		}
		if err := p.cfg.Computes.Suspend(ctx, e.ID); err != nil {
			return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not stop the endpoint", Err: err}
		}
		if e.Type == "read_only" {
			p.dropVolume(ctx, replicaVolume(e.ID)) // gone at suspend, unless a crash left it
		}
		return nil
	})
	if err != nil {
		return EndpointView{}, nil, false, err
	}
	return p.endpointView(e), ops, false, nil
}

// RestartEndpoint suspends an endpoint's compute and starts it again.
func (p *Platform) RestartEndpoint(ctx context.Context, pr accounts.Principal, projectID, endpointID string) (EndpointView, []metastore.Operation, error) {
	v, err := p.GetEndpoint(ctx, pr, projectID, endpointID)
	if err != nil {
		return EndpointView{}, nil, err
	}
	if v.Disabled {
		return EndpointView{}, nil, newErr(errkind.Conflict, "endpoint is disabled")
	}
	if p.inTransition(endpointID) {
		return EndpointView{}, nil, errTransitive("restart")
	}
	ops := []metastore.Operation{p.operation(v.Endpoint, "suspend_compute"), p.operation(v.Endpoint, "start_compute")}
	ops, err = p.mutate(ctx, projectID, ops, func(ctx context.Context) error {
		if err := p.cfg.Computes.Suspend(ctx, endpointID); err != nil {
			return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not suspend the endpoint", Err: err}
		}
		return p.startEndpoint(ctx, endpointID)
	})
	if err != nil {
		return EndpointView{}, nil, err
	}
	return p.endpointView(v.Endpoint), ops, nil
}
