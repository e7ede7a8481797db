package platform

import (
	"context"
	"errors"
	"sync"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/reserved"
	"github.com/grovedb/grove/internal/rolesecret"
	"github.com/grovedb/grove/internal/rolesync"
)

// Roles and databases of a branch live in the metadata store, the source of
// truth; a change is recorded there first (marking the branch's config
// pending) and then applied to the branch's compute if it runs. A suspended
// compute is not woken: it converges at its next start, before any client
// gets in (see converge).

// roleTarget is a branch of a project the caller reaches, with the branch's
// read-write endpoint (nil when it has none).
type roleTarget struct {
	project metastore.Project
	branch  metastore.Branch
	ep      *metastore.Endpoint
}

func (p *Platform) roleTarget(ctx context.Context, pr accounts.Principal, projectID, branchID string) (roleTarget, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return roleTarget{}, err
	}
	if !ids.ValidResource(branchID) {
		return roleTarget{}, notFound("branch")
	}
	branches, err := p.store.ProjectBranches(ctx, proj.ID)
	if err != nil {
		return roleTarget{}, err
	}
	t := roleTarget{project: proj}
	found := false
	for _, b := range branches {
		if b.ID == branchID {
			t.branch, found = b, true
		}
	}
	if !found {
		return roleTarget{}, notFound("branch")
	}
	eps, err := p.store.ProjectEndpoints(ctx, proj.ID)
	if err != nil {
		return roleTarget{}, err
	}
	for i := range eps {
		if eps[i].BranchID == branchID && eps[i].Type == "read_write" {
			t.ep = &eps[i]
		}
	}
	return t, nil
}

// forChange is roleTarget for a mutation, which needs the branch's
// read-write endpoint as Neon does (412 without one).
func (p *Platform) forChange(ctx context.Context, pr accounts.Principal, projectID, branchID, what string) (roleTarget, error) {
	t, err := p.roleTarget(ctx, pr, projectID, branchID)
	if err == nil && t.ep == nil {
		err = newErr(errkind.Precondition, "create a read-write endpoint to manage %s on this branch", what)
	}
	return t, err
}

// configChange runs a role or database change under an apply_config
// operation: write records it in the metadata store, then the branch's
// compute, if running, applies it. The answer waits for write even when the
// apply outlasts the operation budget. When write succeeded but the apply
// failed, the change stays pending (retried at the compute's next start)
// and the answer carries the failed operation.
func (p *Platform) configChange(ctx context.Context, t roleTarget, write func(ctx context.Context) error) ([]metastore.Operation, error) {
	written := make(chan error, 1)
	ops, err := p.mutate(ctx, t.project.ID, []metastore.Operation{p.operation(*t.ep, "apply_config")}, func(ctx context.Context) error {
		err := write(ctx)
		written <- err
		if err != nil {
			return err
		}
		return p.applyIfRunning(ctx, t.ep.ID)
	})
	if err != nil {
		select {
		case werr := <-written:
			if werr != nil {
				return nil, werr
			}
			p.log.Warn("apply config; it stays pending", "branch", t.branch.ID, "err", err)
			return ops, nil
		default:
			return nil, err
		}
	}
	if werr := <-written; werr != nil {
		return nil, werr
	}
	return ops, nil
}

// applyIfRunning applies a branch's pending config to its endpoint's
// compute when that runs; a suspended one converges at its next start.
func (p *Platform) applyIfRunning(ctx context.Context, endpointID string) error {
	if _, ok := p.cfg.Computes.Get(endpointID); !ok {
		return nil
	}
	r, err := p.store.GetEndpointRoute(ctx, endpointID)
	if err != nil {
		return err
	}
	if _, err := p.start(ctx, r); err != nil {
		return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not apply the change to the endpoint", Err: err}
	}
	return nil
}

// storeErr maps the store's errors of role and database changes to Neon's.
func storeErr(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, metastore.ErrNoSuchOwner):
		return &errkind.Error{Kind: errkind.Unprocessable, Msg: "database owner not found", Err: err}
	case errors.Is(err, metastore.ErrRoleOwnsDatabase):
		return &errkind.Error{Kind: errkind.Conflict, Msg: "role owns a database; delete the database or change its owner first", Err: err}
	}
	return wrapStore(what, err)
}

func (p *Platform) ownerExists(ctx context.Context, branchID, owner string) error {
	_, err := p.store.GetRole(ctx, branchID, owner)
	if errors.Is(err, metastore.ErrNotFound) {
		return storeErr("role", metastore.ErrNoSuchOwner)
	}
	return err
}

// ListDatabases returns the databases of a branch.
func (p *Platform) ListDatabases(ctx context.Context, pr accounts.Principal, projectID, branchID string) ([]metastore.Database, error) {
	t, err := p.roleTarget(ctx, pr, projectID, branchID)
	if err != nil {
		return nil, err
	}
	return p.store.BranchDatabases(ctx, t.branch.ID)
}

// GetDatabase returns a database of a branch.
func (p *Platform) GetDatabase(ctx context.Context, pr accounts.Principal, projectID, branchID, name string) (metastore.Database, error) {
	t, err := p.roleTarget(ctx, pr, projectID, branchID)
	if err != nil {
		return metastore.Database{}, err
	}
	d, err := p.store.GetDatabase(ctx, t.branch.ID, name)
	return d, wrapStore("database", err)
}

// CreateDatabase makes a database owned by a role of the branch.
func (p *Platform) CreateDatabase(ctx context.Context, pr accounts.Principal, projectID, branchID, name, owner string) (metastore.Database, []metastore.Operation, error) {
	if err := reserved.CheckDatabase("database.name", name); err != nil {
		return metastore.Database{}, nil, err
	}
	if err := reserved.CheckName("database.owner_name", owner); err != nil {
		return metastore.Database{}, nil, err
	}
	t, err := p.forChange(ctx, pr, projectID, branchID, "databases")
	if err != nil {
		return metastore.Database{}, nil, err
	}
	if _, err := p.store.GetDatabase(ctx, t.branch.ID, name); err == nil {
		return metastore.Database{}, nil, newErr(errkind.Conflict, "database already exists")
	}
	if err := p.ownerExists(ctx, t.branch.ID, owner); err != nil {
		return metastore.Database{}, nil, err
	}
	at := now()
	d := metastore.Database{BranchID: t.branch.ID, Name: name, OwnerName: owner, CreatedAt: at, UpdatedAt: at}
	ops, err := p.configChange(ctx, t, func(ctx context.Context) error {
		var err error
		d, err = p.store.InsertDatabase(ctx, d)
		return storeErr("database", err)
	})
	return d, ops, err
}

// UpdateDatabase renames a database and/or gives it another owner; empty
// fields are left unchanged.
func (p *Platform) UpdateDatabase(ctx context.Context, pr accounts.Principal, projectID, branchID, name, newName, newOwner string) (metastore.Database, []metastore.Operation, error) {
	if newName != "" {
		if err := reserved.CheckDatabase("database.name", newName); err != nil {
			return metastore.Database{}, nil, err
		}
	}
	if newOwner != "" {
		if err := reserved.CheckName("database.owner_name", newOwner); err != nil {
			return metastore.Database{}, nil, err
		}
	}
	t, err := p.forChange(ctx, pr, projectID, branchID, "databases")
	if err != nil {
		return metastore.Database{}, nil, err
	}
	if _, err := p.store.GetDatabase(ctx, t.branch.ID, name); err != nil {
		return metastore.Database{}, nil, wrapStore("database", err)
	}
	if newName != "" && newName != name {
		if _, err := p.store.GetDatabase(ctx, t.branch.ID, newName); err == nil {
			return metastore.Database{}, nil, newErr(errkind.Conflict, "database already exists")
		}
	}
	if newOwner != "" {
		if err := p.ownerExists(ctx, t.branch.ID, newOwner); err != nil {
			return metastore.Database{}, nil, err
		}
	}
	var d metastore.Database
	ops, err := p.configChange(ctx, t, func(ctx context.Context) error {
		var err error
		d, err = p.store.UpdateDatabase(ctx, t.branch.ID, name, newName, newOwner, now())
		return storeErr("database", err)
	})
	return d, ops, err
}

// DeleteDatabase drops a database; found is false when there was none (Neon
// answers 204 then).
func (p *Platform) DeleteDatabase(ctx context.Context, pr accounts.Principal, projectID, branchID, name string) (d metastore.Database, ops []metastore.Operation, found bool, err error) {
	t, err := p.roleTarget(ctx, pr, projectID, branchID)
	if err != nil {
		return d, nil, false, err
	}
	if _, err := p.store.GetDatabase(ctx, t.branch.ID, name); errors.Is(err, metastore.ErrNotFound) {
		return d, nil, false, nil
	} else if err != nil {
		return d, nil, false, err
	}
	if t.ep == nil {
		return d, nil, false, newErr(errkind.Precondition, "create a read-write endpoint to manage databases on this branch")
	}
	ops, err = p.configChange(ctx, t, func(ctx context.Context) error {
		var err error
		d, err = p.store.DeleteDatabase(ctx, t.branch.ID, name)
		return storeErr("database", err)
	})
	return d, ops, err == nil, err
}

// ListRoles returns the roles of a branch.
func (p *Platform) ListRoles(ctx context.Context, pr accounts.Principal, projectID, branchID string) ([]metastore.Role, error) {
	t, err := p.roleTarget(ctx, pr, projectID, branchID)
	if err != nil {
		return nil, err
	}
	return p.store.BranchRoles(ctx, t.branch.ID)
}

// GetRole returns a role of a branch.
func (p *Platform) GetRole(ctx context.Context, pr accounts.Principal, projectID, branchID, name string) (metastore.Role, error) {
	t, err := p.roleTarget(ctx, pr, projectID, branchID)
	if err != nil {
		return metastore.Role{}, err
	}
	r, err := p.store.GetRole(ctx, t.branch.ID, name)
	return r, wrapStore("role", err)
}

// CreateRole makes a role of a branch; it returns the role's password (""
// for a role that cannot log in).
func (p *Platform) CreateRole(ctx context.Context, pr accounts.Principal, projectID, branchID, name string, noLogin bool) (metastore.Role, string, []metastore.Operation, error) {
	if err := reserved.CheckRole("role.name", name); err != nil {
		return metastore.Role{}, "", nil, err
	}
	t, err := p.forChange(ctx, pr, projectID, branchID, "roles")
	if err != nil {
		return metastore.Role{}, "", nil, err
	}
	if _, err := p.store.GetRole(ctx, t.branch.ID, name); err == nil {
		return metastore.Role{}, "", nil, newErr(errkind.Conflict, "role already exists")
	}
	at := now()
	r := metastore.Role{BranchID: t.branch.ID, Name: name, CreatedAt: at, UpdatedAt: at}
	var password string
	if !noLogin {
		if password, r.Verifier, r.SealedPassword, err = rolesecret.New(p.cfg.Sealer, t.project.StorePasswords); err != nil {
			return metastore.Role{}, "", nil, err
		}
	}
	ops, err := p.configChange(ctx, t, func(ctx context.Context) error {
		return storeErr("role", p.store.InsertRole(ctx, r))
	})
	if err != nil {
		return metastore.Role{}, "", nil, err
	}
	return r, password, ops, nil
}

// DeleteRole drops a role that owns no database of the branch (Neon refuses
// otherwise); its objects in each database go to that database's owner.
// found is false when there was no such role (Neon answers 204 then).
func (p *Platform) DeleteRole(ctx context.Context, pr accounts.Principal, projectID, branchID, name string) (r metastore.Role, ops []metastore.Operation, found bool, err error) {
	t, err := p.roleTarget(ctx, pr, projectID, branchID)
	if err != nil {
		return r, nil, false, err
	}
	if _, err := p.store.GetRole(ctx, t.branch.ID, name); errors.Is(err, metastore.ErrNotFound) {
		return r, nil, false, nil
	} else if err != nil {
		return r, nil, false, err
	}
	if t.ep == nil {
		return r, nil, false, newErr(errkind.Precondition, "create a read-write endpoint to manage roles on this branch")
	}
	dbs, err := p.store.BranchDatabases(ctx, t.branch.ID)
	if err != nil {
		return r, nil, false, err
	}
	for _, d := range dbs {
		if d.OwnerName == name {
			return r, nil, false, newErr(errkind.Conflict, "role %q owns database %q; delete the database or change its owner first", name, d.Name)
		}
	}
	if err := p.dataAPIRoleInUse(ctx, t.branch.ID, name); err != nil { // dataapi.go
		return r, nil, false, err
	}
	ops, err = p.configChange(ctx, t, func(ctx context.Context) error {
		var err error
		r, err = p.store.DeleteRole(ctx, t.branch.ID, name)
		return storeErr("role", err)
	})
	return r, ops, err == nil, err
}

// ResetRolePassword gives a role a new password; the proxy accepts it (and
// no longer the old one) as soon as the metadata records it.
func (p *Platform) ResetRolePassword(ctx context.Context, pr accounts.Principal, projectID, branchID, name string) (metastore.Role, string, []metastore.Operation, error) {
	t, err := p.roleTarget(ctx, pr, projectID, branchID)
	if err != nil {
		return metastore.Role{}, "", nil, err
	}
	if _, err := p.store.GetRole(ctx, t.branch.ID, name); err != nil {
		return metastore.Role{}, "", nil, wrapStore("role", err)
	}
	if t.ep == nil {
		return metastore.Role{}, "", nil, newErr(errkind.Precondition, "create a read-write endpoint to manage roles on this branch")
	}
	password, verifier, sealed, err := rolesecret.New(p.cfg.Sealer, t.project.StorePasswords)
	if err != nil {
		return metastore.Role{}, "", nil, err
	}
	var r metastore.Role
	ops, err := p.configChange(ctx, t, func(ctx context.Context) error {
		var err error
		r, err = p.store.SetRolePassword(ctx, t.branch.ID, name, verifier, sealed, now())
		return storeErr("role", err)
	})
	if err != nil {
		return metastore.Role{}, "", nil, err
	}
	return r, password, ops, nil
}

// RevealRolePassword returns a role's stored password: 404 for an unknown
// role, 412 when the project does not store passwords.
func (p *Platform) RevealRolePassword(ctx context.Context, pr accounts.Principal, projectID, branchID, name string) (string, error) {
	t, err := p.roleTarget(ctx, pr, projectID, branchID)
	if err != nil {
		return "", err
	}
	r, err := p.store.GetRole(ctx, t.branch.ID, name)
	if err != nil {
		return "", wrapStore("role", err)
	}
	if !t.project.StorePasswords {
		return "", newErr(errkind.Precondition, "storing passwords is disabled for this project")
	}
	if len(r.SealedPassword) == 0 {
		return "", newErr(errkind.Precondition, "the password of role %q is not stored; reset it to get a new one", name)
	}
	return p.cfg.Sealer.Open(r.SealedPassword)
}

// converge makes a running compute match its branch's recorded roles and
// databases when the branch's config is pending (rolesync.Apply), then
// clears the pending flag for what it applied. Applies of one branch are
// serialised.
func (p *Platform) converge(ctx context.Context, inst *compute.Instance, branchID string) error {
	mu, _ := p.setup.LoadOrStore(branchID, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if err := p.convergeDataAPIRoles(ctx, branchID); err != nil { // dataapi.go
		return err
	}
	cfg, err := p.store.GetBranchConfig(ctx, branchID)
	if err != nil || !cfg.Pending {
		return err
	}
	last, err := rolesync.Apply(ctx, inst, cfg)
	if err != nil {
		return err
	}
	if err := p.store.ClearConfigPending(ctx, branchID, cfg.Version, last); err != nil {
		return err
	}
	p.convergeDataAPIs(ctx, inst, branchID)
	// As after a project's set-up (CreateProject): branches of it then
	// have nothing to replay.
	p.cfg.Computes.CheckpointAfter(inst.ID(), setupCheckpointDelay)
	return nil
}
