package platform

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/branchspec"
	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/computesql"
	"github.com/grovedb/grove/internal/connuri"
	"github.com/grovedb/grove/internal/endpointspec"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pitr"
	"github.com/grovedb/grove/internal/plans"
	"github.com/grovedb/grove/internal/rolesecret"
)

// A branch owns one volume. A new branch at its parent's head is a copy of
// the parent's volume: through the parent's running compute when it runs
// (compute.Manager.CloneRunning, consistent on every driver), else a
// storage clone made while the parent's volume lock keeps its compute from
// starting. A branch at a point in history is materialised by the history
// manager (pitr.go).

// rwLocks is a set of read-write locks by key, never removed (one per
// volume ever used; a few bytes each).
type rwLocks struct{ m sync.Map }

func (l *rwLocks) get(key string) *sync.RWMutex {
	v, _ := l.m.LoadOrStore(key, &sync.RWMutex{})
	return v.(*sync.RWMutex)
}

// volumeLocks guard volumes: a compute start holds its volume's read lock;
// copying a suspended compute's volume, moving an endpoint off a volume or
// replacing a branch's volume hold the write lock. Volume ids are random,
// so one registry serves every Platform of a process.
var volumeLocks rwLocks

// readWriteEndpoint returns the branch's read-write endpoint, if any.
func (p *Platform) readWriteEndpoint(ctx context.Context, branchID string) (*metastore.Endpoint, error) {
	eps, err := p.store.BranchEndpoints(ctx, branchID)
	if err != nil {
		return nil, err
	}
	for i := range eps {
		if eps[i].Type == "read_write" {
			return &eps[i], nil
		}
	}
	return nil, nil
}

// copyHead makes dst a consistent copy of a branch's volume as it is now.
func (p *Platform) copyHead(ctx context.Context, b metastore.Branch, dst string) error {
	vols := p.cfg.Volumes
	ep, err := p.readWriteEndpoint(ctx, b.ID)
	if err != nil {
		return err
	}
	l := volumeLocks.get(b.VolumeID)
	l.Lock()
	defer l.Unlock()
	if ep != nil {
		if inst, ok := p.waitSettled(ctx, ep.ID); ok && inst.VolumeID() == b.VolumeID {
			err := p.cfg.Computes.CloneRunning(ctx, ep.ID, dst)
			if err == nil || !errors.Is(err, compute.ErrNotRunning) {
				return err
			}
			// Suspended meanwhile (idle timeout): its volume is at rest now.
		}
	}
	if err := vols.Clone(ctx, b.VolumeID, dst); err != nil {
		return err
	}
	return nil
}

// waitSettled returns an endpoint's compute once it is active, or false
// when none runs; a compute between states (a crash restart) is waited for.
func (p *Platform) waitSettled(ctx context.Context, endpointID string) (*compute.Instance, bool) {
	giveUp := time.NewTimer(settleWait)
	defer giveUp.Stop()
	for {
		inst, ok := p.cfg.Computes.Get(endpointID)
		if !ok {
			return nil, false
		}
		st, changed := inst.StateChange()
		switch st {
		case compute.StateActive:
			return inst, true
		case compute.StateFailed, compute.StateSuspended:
			return nil, false
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return inst, true // CloneRunning reports it
		case <-giveUp.C:
			return inst, true
		}
	}
}

// settleWait bounds how long a branch or a replica waits for a compute
// between states (a crash restart, a suspend) before it reports what it
// found.
const settleWait = 30 * time.Second

// truncateUserTables empties every user table of every database of a
// volume on a throwaway compute, keeping schema and sequences, as a
// schema-only branch is made before any client gets in.
func (p *Platform) truncateUserTables(ctx context.Context, volumeID string, major int) error {
	id := "init-" + ids.LowerAlnum(16)
	inst, err := p.cfg.Computes.Start(ctx, compute.Spec{ID: id, VolumeID: volumeID, Major: major, MinCU: 0.25, MaxCU: 0.25,
		SuspendTimeout: -1})
	if err != nil {
		return fmt.Errorf("start a compute to empty the tables: %w", err)
	}
	defer func() {
		if err := p.cfg.Computes.Suspend(context.WithoutCancel(ctx), id); err != nil {
			p.log.Warn("stop schema-only compute", "compute", id, "err", err)
		}
	}()
	conn, err := inst.Conn(ctx, "postgres")
	if err != nil {
		return err
	}
	rows, err := conn.Query(ctx, computesql.ConnectableDatabases)
	if err != nil {
		conn.Close(ctx)
		return err
	}
	var dbs []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			conn.Close(ctx)
			return err
		}
		dbs = append(dbs, d)
	}
	rows.Close()
	conn.Close(ctx)
	for _, db := range dbs {
		if err := inst.Exec(ctx, db, computesql.TruncateUserTables); err != nil {
			return fmt.Errorf("empty the tables of database %q: %w", db, err)
		}
	}
	return nil
}

// CreatedBranch is the result of a branch create.
type CreatedBranch struct {
	Branch     metastore.Branch
	Endpoints  []EndpointView
	Operations []metastore.Operation
	Roles      []metastore.Role
	Databases  []metastore.Database
	// Passwords of roles the caller may be shown, for connection_uris.
	Passwords map[string]string
	URIs      []BranchURI
}

// BranchURI is one connection string of a new branch with its parts.
type BranchURI struct {
	URI, Database, Role, Password, Host, PoolerHost string
}

// CreateBranch makes a branch of a project: from the default branch or
// parent_id, at the parent's head or a point in its history, with the
// parent's data or (schema-only) its schema alone, and starts the
// requested endpoints on it.
func (p *Platform) CreateBranch(ctx context.Context, pr accounts.Principal, projectID string, in branchspec.Create) (CreatedBranch, error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return CreatedBranch{}, err
	}
	branches, err := p.store.ProjectBranches(ctx, proj.ID)
	if err != nil {
		return CreatedBranch{}, err
	}
	var parent *metastore.Branch
	for i := range branches {
		if b := &branches[i]; (in.ParentID == "" && b.IsDefault) || b.ID == in.ParentID {
			parent = b
		}
	}
	if parent == nil {
		return CreatedBranch{}, notFound("branch")
	}
	t := now()
	if in, err = branchspec.CheckCreate(in, *parent, t); err != nil {
		return CreatedBranch{}, err
	}
	protected := in.Protected != nil && *in.Protected
	pt, err := pitr.Parse(proj, *parent, in.ParentLSN, in.ParentTimestamp, "branch.parent_lsn", "branch.parent_timestamp", now())
	if err != nil {
		return CreatedBranch{}, err
	}
	eps, err := p.branchEndpoints(proj, in.Endpoints)
	if err != nil {
		return CreatedBranch{}, err
	}
	// The plan's limits (plans.go): branches, protected and root ones, endpoints.
	pl, err := p.projectPlan(ctx, proj)
	if err != nil {
		return CreatedBranch{}, err
	}
	if err := plans.CheckBranch(pl, branches, protected, in.InitSource == "schema-only", eps); err != nil {
		return CreatedBranch{}, err
	}

	b := metastore.Branch{
		ID: ids.NewBranch(), ProjectID: proj.ID, Name: in.Name, Protected: protected, VolumeID: ids.NewVolume(),
		CreatedAt: t, UpdatedAt: t, InitSource: in.InitSource, ParentID: &parent.ID,
	}
	if in.Name == "" {
		b.Name = b.ID
	}
	if in.InitSource == "schema-only" {
		b.ParentID = nil
	}
	if in.ExpiresAt != nil {
		branchspec.Expire(&b, *in.ExpiresAt, t)
	}
	for i := range eps {
		eps[i].BranchID = b.ID
	}
	ops := []metastore.Operation{newOp(proj.ID, b.ID, "", "create_branch")}
	for _, e := range eps {
		if !e.Disabled {
			ops = append(ops, p.operation(e, "start_compute"))
		}
	}
	var (
		out       metastore.Branch
		cfg       metastore.BranchConfigRecord
		passwords map[string]string
	)
	inserted := make(chan error, 1)
	ops, err = p.mutate(ctx, proj.ID, ops, func(ctx context.Context) error {
		// Read under the project's operations, so that no role change
		// lands between the parent's config and its data.
		fresh, err := p.store.GetBranch(ctx, proj.ID, parent.ID)
		if err == nil {
			cfg, err = p.store.BranchConfigOf(ctx, fresh.ID)
		}
		if err == nil { // a protected parent's login roles get new passwords
			cfg, passwords, err = rolesecret.ForChild(cfg, fresh.Protected, proj.StorePasswords, p.cfg.Sealer)
		}
		if err != nil {
			inserted <- err
			return err
		}
		// A copy of the parent's head has the parent's roles and databases
		// unless the parent's compute has changes still to apply or the
		// child's login roles get new passwords; data from a past point may
		// lack roles made since. Only then does the child's first start
		// converge.
		b.SetupPending = !pt.Zero() || fresh.Protected || fresh.SetupPending
		if in.InitSource == "parent-data" {
			b.LogicalSize = fresh.LogicalSize // until its own compute is measured
		}
		err = p.makeBranchData(ctx, proj, *parent, pt, &b, readWrite(eps))
		if err == nil {
			out, err = p.store.InsertBranch(ctx, metastore.NewBranch{Branch: b, Config: cfg, Endpoints: eps})
			if err != nil {
				if rw := readWrite(eps); rw != nil {
					// A recovery ran on the branch's compute (recoverInCompute).
					_ = p.cfg.Computes.Suspend(context.WithoutCancel(ctx), rw.ID)
				}
				p.dropVolume(ctx, b.VolumeID)
				err = wrapStore("branch", err)
			} else if dbs, derr := p.store.BranchDatabases(ctx, out.ID); derr == nil {
				cfg.Databases = dbs
			}
		}
		inserted <- err
		if err != nil {
			return err
		}
		// The branch exists: answer now, as Neon does, with the computes
		// starting; a client connecting meanwhile waits for its compute in
		// the proxy while its TLS and SCRAM exchanges run.
		p.release(ctx, 1)
		for _, e := range eps {
			if e.Disabled {
				continue
			}
			if err := p.startEndpoint(ctx, e.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return CreatedBranch{}, err
	}
	if err := <-inserted; err != nil {
		return CreatedBranch{}, err
	}
	res := CreatedBranch{Branch: out, Operations: ops, Roles: cfg.Roles, Databases: cfg.Databases, Passwords: passwords}
	for _, e := range eps {
		res.Endpoints = append(res.Endpoints, p.endpointView(e))
	}
	if len(eps) > 0 && len(cfg.Roles) == 1 && len(cfg.Databases) == 1 {
		eps := primaryFirst(eps) // the URI names the read_write endpoint when there is one
		role, db := cfg.Roles[0].Name, cfg.Databases[0].Name
		if pw, ok := passwords[role]; ok {
			res.URIs = append(res.URIs, BranchURI{
				URI:  p.Hosts().URI(connuri.Params{Role: role, Password: pw, Database: db, EndpointID: eps[0].ID, RegionID: eps[0].RegionID}),
				Role: role, Password: pw, Database: db,
				Host: p.Hosts().EndpointHost(eps[0].ID, eps[0].RegionID), PoolerHost: p.Hosts().PoolerHost(eps[0].ID, eps[0].RegionID),
			})
		}
	}
	return res, nil
}

// makeBranchData fills b's volume from the parent at pt (the head when
// pt is zero), emptied for a schema-only branch; b's parent point is set.
func (p *Platform) makeBranchData(ctx context.Context, proj metastore.Project, parent metastore.Branch, pt pitr.Point, b *metastore.Branch, rw *metastore.Endpoint) error {
	if !pt.Zero() && rw != nil && b.InitSource == "parent-data" && p.cfg.History != nil {
		// Its compute's history starts once it runs (history.Run).
		return p.recoverInCompute(ctx, proj, parent, pt, b, *rw)
	}
	if pt.Zero() {
		if err := p.copyHead(ctx, parent, b.VolumeID); err != nil {
			return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not copy the parent branch's data", Err: err}
		}
		ts := now()
		b.ParentTimestamp = &ts
	} else {
		res, err := p.materialize(ctx, parent, pt, b.VolumeID)
		if err != nil {
			return err
		}
		b.ParentLSN, b.ParentTimestamp = res.LSN, res.At
	}
	if b.InitSource == "schema-only" {
		if err := p.truncateUserTables(ctx, b.VolumeID, proj.PGVersion); err != nil {
			p.dropVolume(ctx, b.VolumeID)
			return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not make the schema-only branch", Err: err}
		}
		b.ParentLSN, b.ParentTimestamp = "", nil
	}
	// The branch's history starts now, not at its compute's first start,
	// which may come much later or never.
	if h := p.cfg.History; h != nil {
		if err := h.Track(ctx, b.VolumeID); err != nil {
			p.dropVolume(ctx, b.VolumeID)
			return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not start the branch's history", Err: err}
		}
	}
	return nil
}

// readWrite returns the enabled read_write endpoint among eps, or nil.
func readWrite(eps []metastore.Endpoint) *metastore.Endpoint {
	for i := range eps {
		if eps[i].Type == "read_write" && !eps[i].Disabled {
			return &eps[i]
		}
	}
	return nil
}

func (p *Platform) dropVolume(ctx context.Context, id string) {
	if err := p.cfg.Volumes.Delete(context.WithoutCancel(ctx), id); err != nil && !isNotFound(err) {
		p.log.Warn("delete volume", "volume", id, "err", err)
	}
}

// branchEndpoints checks the endpoints of a branch create request and
// returns their records (BranchID still to be set).
func (p *Platform) branchEndpoints(proj metastore.Project, in []endpointspec.Input) ([]metastore.Endpoint, error) {
	var out []metastore.Endpoint
	d := plans.ParseEndpointDefaults(proj.DefaultEndpointSettings)
	for i, e := range in {
		// One read_write, any number of read_only (replicas.go).
		if err := endpointspec.CheckType(e.Type, fmt.Sprintf("endpoints[%d]", i)); err != nil {
			return nil, err
		}
		for _, o := range out {
			if o.Type == "read_write" && e.Type == "read_write" {
				return nil, errSecondReadWrite
			}
		}
		ep, err := endpointspec.Resolve(e, proj.Provisioner, d)
		if err != nil {
			return nil, err
		}
		if ep.Settings, err = endpointspec.Settings(e.Settings, d.PgSettings); err != nil {
			return nil, err
		}
		t := now()
		ep.ID, ep.ProjectID, ep.RegionID, ep.CreatedAt, ep.UpdatedAt = ids.NewEndpoint(), proj.ID, proj.RegionID, t, t
		out = append(out, ep)
	}
	return out, nil
}

// DeleteBranch deletes a branch with Neon's rules: not the default branch,
// not one with children, not a protected one. Its computes stop and its
// volume is deleted. gone reports a branch that does not exist (Neon's 204).
func (p *Platform) DeleteBranch(ctx context.Context, pr accounts.Principal, projectID, branchID string) (b metastore.Branch, ops []metastore.Operation, gone bool, err error) {
	proj, err := p.GetProject(ctx, pr, projectID)
	if err != nil {
		return metastore.Branch{}, nil, false, err
	}
	if !ids.ValidResource(branchID) {
		return metastore.Branch{}, nil, true, nil
	}
	b, err = p.store.GetBranch(ctx, proj.ID, branchID)
	if errors.Is(err, metastore.ErrNotFound) {
		return metastore.Branch{}, nil, true, nil
	}
	if err != nil {
		return metastore.Branch{}, nil, false, err
	}
	if err := p.deletable(ctx, b); err != nil {
		return metastore.Branch{}, nil, false, err
	}
	eps, err := p.store.BranchEndpoints(ctx, b.ID)
	if err != nil {
		return metastore.Branch{}, nil, false, err
	}
	for _, e := range eps {
		if _, running := p.cfg.Computes.Get(e.ID); running {
			ops = append(ops, p.operation(e, "suspend_compute"))
		}
	}
	ops = append(ops, newOp(proj.ID, b.ID, "", "delete_timeline"))
	ops, err = p.mutate(ctx, proj.ID, ops, func(ctx context.Context) error {
		return p.removeBranch(ctx, b, eps)
	})
	if err != nil {
		return metastore.Branch{}, nil, false, err
	}
	return b, ops, false, nil
}

func (p *Platform) deletable(ctx context.Context, b metastore.Branch) error {
	switch {
	case b.IsDefault:
		return newErr(errkind.Invalid, "cannot delete the project's default branch")
	case b.Protected:
		return newErr(errkind.Invalid, "cannot delete protected branch %s", b.ID)
	}
	children, err := p.store.BranchChildren(ctx, b.ProjectID, b.ID)
	if err != nil {
		return err
	}
	if len(children) > 0 {
		return newErr(errkind.Invalid, "cannot delete branch %s: it has child branches", b.ID)
	}
	return nil
}

// removeBranch deletes a branch's row (so that no connection wakes its
// computes again), stops its computes, and deletes its volume and history.
func (p *Platform) removeBranch(ctx context.Context, b metastore.Branch, eps []metastore.Endpoint) error {
	if err := p.store.DeleteBranch(ctx, b.ProjectID, b.ID); err != nil && !errors.Is(err, metastore.ErrNotFound) {
		return wrapStore("branch", err)
	}
	for _, e := range eps {
		if err := p.cfg.Computes.Suspend(ctx, e.ID); err != nil {
			return &errkind.Error{Kind: errkind.Unavailable, Msg: "could not stop the branch's endpoint", Err: err}
		}
	}
	l := volumeLocks.get(b.VolumeID)
	l.Lock()
	defer l.Unlock()
	if err := p.cfg.Volumes.Delete(ctx, b.VolumeID); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete volume %s: %w", b.VolumeID, err)
	}
	p.forgetHistory(ctx, b.VolumeID)
	return nil
}

func (p *Platform) expire(ctx context.Context) {
	branches, err := p.store.ExpiredBranches(ctx, now())
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn("list expired branches", "err", err)
		}
		return
	}
	for _, b := range branches {
		if err := p.deletable(ctx, b); err != nil {
			continue
		}
		eps, err := p.store.BranchEndpoints(ctx, b.ID)
		if err != nil {
			continue
		}
		var ops []metastore.Operation
		for _, e := range eps {
			if _, running := p.cfg.Computes.Get(e.ID); running {
				ops = append(ops, p.operation(e, "suspend_compute"))
			}
		}
		ops = append(ops, newOp(b.ProjectID, b.ID, "", "delete_timeline"))
		if _, err := p.mutate(ctx, b.ProjectID, ops, func(ctx context.Context) error {
			return p.removeBranch(ctx, b, eps)
		}); err != nil && errkind.Of(err) != errkind.Locked {
			p.log.Warn("delete expired branch", "branch", b.ID, "err", err)
		} else if err == nil {
			p.log.Info("deleted expired branch", "branch", b.ID, "project", b.ProjectID)
		}
	}
	snaps, err := p.store.ExpiredSnapshots(ctx, now())
	if err != nil {
		return
	}
	for _, sn := range snaps {
		if _, err := p.mutate(ctx, sn.ProjectID, nil, func(ctx context.Context) error {
			return p.removeSnapshot(ctx, sn)
		}); err != nil && errkind.Of(err) != errkind.Locked {
			p.log.Warn("delete expired snapshot", "snapshot", sn.ID, "err", err)
		}
	}
}
