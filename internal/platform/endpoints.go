package platform

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/scram"
)

// GetEndpoint returns an endpoint of a project the caller reaches.
func (p *Platform) GetEndpoint(ctx context.Context, pr Principal, projectID, endpointID string) (EndpointView, error) {
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
func (p *Platform) StartEndpoint(ctx context.Context, pr Principal, projectID, endpointID string) (EndpointView, []metastore.Operation, error) {
	if _, err := p.GetEndpoint(ctx, pr, projectID, endpointID); err != nil {
		return EndpointView{}, nil, err
	}
	r, err := p.store.GetEndpointRoute(ctx, endpointID)
	if err != nil {
		return EndpointView{}, nil, wrapStore("endpoint", err)
	}
	if r.Endpoint.Disabled {
		return EndpointView{}, nil, newErr(KindConflict, "endpoint is disabled")
	}
	ops, err := p.mutate(ctx, projectID, []metastore.Operation{p.operation(r.Endpoint, "start_compute")}, func(ctx context.Context) error {
		if _, err := p.start(ctx, r); err != nil {
			return &Error{Kind: KindUnavailable, Msg: "could not start the endpoint", Err: err}
		}
		return p.store.TouchEndpoint(ctx, endpointID, now())
	})
	if err != nil {
		return EndpointView{}, nil, err
	}
	return p.endpointView(r.Endpoint), ops, nil
}

// SuspendEndpoint suspends an endpoint.
func (p *Platform) SuspendEndpoint(ctx context.Context, pr Principal, projectID, endpointID string) (EndpointView, []metastore.Operation, error) {
	v, err := p.GetEndpoint(ctx, pr, projectID, endpointID)
	if err != nil {
		return EndpointView{}, nil, err
	}
	ops, err := p.mutate(ctx, projectID, []metastore.Operation{p.operation(v.Endpoint, "suspend_compute")}, func(ctx context.Context) error {
		if err := p.cfg.Computes.Suspend(ctx, endpointID); err != nil {
			return &Error{Kind: KindUnavailable, Msg: "could not suspend the endpoint", Err: err}
		}
		return nil
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
func (p *Platform) ProjectConnectionURI(ctx context.Context, pr Principal, projectID string, in ConnectionURIInput) (string, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return "", err
	}
	if in.DatabaseName == "" {
		return "", newErr(KindInvalid, "database_name is required")
	}
	if in.RoleName == "" {
		return "", newErr(KindInvalid, "role_name is required")
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
		return "", newErr(KindInvalid, "the password of role %q is not stored; reset it to get a connection string", in.RoleName)
	}
	pw, err := p.cfg.Sealer.Open(role.SealedPassword)
	if err != nil {
		return "", err
	}
	return p.ConnectionURI(ConnParams{Role: role.Name, Password: pw, Database: in.DatabaseName, EndpointID: ep.ID,
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
	r, stored, err := p.store.GetEndpointRole(ctx, endpointID, role)
	if errors.Is(err, metastore.ErrNotFound) {
		return scram.Verifier{}, ErrUnknownEndpoint
	}
	if err != nil {
		return scram.Verifier{}, err
	}
	if stored != "" {
		return scram.ParseVerifier(stored)
	}
	inst, err := p.wake(ctx, r)
	if err != nil {
		return scram.Verifier{}, err
	}
	conn, err := inst.Conn(ctx, "postgres")
	if err != nil {
		return scram.Verifier{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var secret *string
	if err := conn.QueryRow(ctx, `SELECT rolpassword FROM pg_authid WHERE rolname = $1 AND rolcanlogin`, role).Scan(&secret); err != nil || secret == nil {
		return scram.Verifier{}, ErrUnknownRole
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
	if inst, ok := p.cfg.Computes.Get(r.Endpoint.ID); ok && !r.SetupPending {
		return inst, nil
	}
	inst, err := p.start(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("wake endpoint %s: %w", r.Endpoint.ID, err)
	}
	return inst, nil
}

// start starts an endpoint's compute and, on the first start of a project
// created without a warm instance, makes its owner role and database
// before any client gets in.
func (p *Platform) start(ctx context.Context, r metastore.EndpointRoute) (*compute.Instance, error) {
	inst, err := p.cfg.Computes.Start(ctx, p.spec(r.Endpoint, r.VolumeID, r.PGVersion))
	if err != nil || !r.SetupPending {
		return inst, err
	}
	mu, _ := p.setup.LoadOrStore(r.Endpoint.BranchID, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	roles, err := p.store.BranchRoles(ctx, r.Endpoint.BranchID)
	if err != nil {
		return nil, err
	}
	dbs, err := p.store.BranchDatabases(ctx, r.Endpoint.BranchID)
	if err != nil {
		return nil, err
	}
	var owner *metastore.Role
	for i := range roles {
		if len(dbs) > 0 && roles[i].Name == dbs[0].OwnerName {
			owner = &roles[i]
		}
	}
	if owner == nil {
		return nil, fmt.Errorf("set up branch %s: no owner role or database recorded", r.Endpoint.BranchID)
	}
	if err := inst.Exec(ctx, "postgres", setupSQL(owner.Name, owner.Verifier, dbs[0].Name)); err != nil {
		return nil, fmt.Errorf("set up branch %s: %w", r.Endpoint.BranchID, err)
	}
	if err := p.store.ClearSetupPending(ctx, r.Endpoint.BranchID); err != nil {
		return nil, err
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
func (p *Platform) Operations(ctx context.Context, pr Principal, projectID string, before *time.Time, limit int) ([]metastore.Operation, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return nil, err
	}
	return p.store.ListOperations(ctx, proj.ID, before, limit)
}

// Operation returns one operation of a project.
func (p *Platform) Operation(ctx context.Context, pr Principal, projectID string, id uuid.UUID) (metastore.Operation, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return metastore.Operation{}, err
	}
	op, err := p.store.GetOperation(ctx, proj.ID, id)
	return op, wrapStore("operation", err)
}
