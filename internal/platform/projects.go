package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/computesql"
	"github.com/grovedb/grove/internal/connuri"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/plans"
	"github.com/grovedb/grove/internal/projectspec"
	"github.com/grovedb/grove/internal/rolesecret"
	"github.com/grovedb/grove/internal/settings"
	"github.com/grovedb/grove/internal/storage"
)

// EndpointView is an endpoint with its runtime state.
type EndpointView struct {
	metastore.Endpoint
	Host, ProxyHost string
	CurrentState    string // init | active | idle
	PendingState    string
	StartedAt       time.Time // when active: when its compute started
	CurrentCU       float64   // when active: its size now (the autoscaler's)
}

// CreatedProject is the result of a project create.
type CreatedProject struct {
	Project    metastore.Project
	Branch     metastore.Branch
	Endpoint   EndpointView
	Role       metastore.Role
	Password   string
	Database   metastore.Database
	Operations []metastore.Operation
	URI        string
	// SizeLimit is the org plan's storage quota: each branch's limit (0: none).
	SizeLimit int64
}

// setupCheckpointDelay is how long after a set-up of roles and databases
// (a new project's, a branch's convergence) its compute checkpoints.
const setupCheckpointDelay = time.Second

// CreateProject makes a project with its default branch, a read-write
// endpoint already running, an owner role and a database. The compute work
// happens first on a warm instance; one metadata transaction then makes the
// project exist. A crash before that commit leaves only an unreferenced
// volume, which reconciliation deletes; after it, the project is whole.
func (p *Platform) CreateProject(ctx context.Context, pr accounts.Principal, in projectspec.Input) (CreatedProject, error) {
	orgID, err := accounts.ResolveOrg(pr, in.OrgID)
	if err != nil {
		return CreatedProject{}, err
	}
	in, sizes, err := projectspec.Resolve(in, p.cfg.Installs)
	if err != nil {
		return CreatedProject{}, err
	}
	minCU, maxCU, suspend := sizes.MinCU, sizes.MaxCU, sizes.SuspendTimeoutSeconds
	// The org's plan (plans.go): its history default, its limits.
	pl, err := p.orgPlan(ctx, orgID)
	if err != nil {
		return CreatedProject{}, err
	}
	history, err := projectspec.History(in.HistoryRetentionSeconds, pl.HistoryRetentionDefaultSeconds)
	if err != nil {
		return CreatedProject{}, err
	}
	if err := plans.CheckHistory(pl, history); err != nil {
		return CreatedProject{}, err
	}
	if err := plans.CheckEndpoint(pl, minCU, maxCU, suspend); err != nil {
		return CreatedProject{}, err
	}
	if err := p.checkProjectsLimit(ctx, orgID); err != nil {
		return CreatedProject{}, err
	}
	storePasswords := true
	if in.StorePasswords != nil {
		storePasswords = *in.StorePasswords
	}

	// From here on the create runs to its end even if the caller goes away:
	// a commit cut short by a cancelled context could land on one side only.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	t := now()
	begin := time.Now()
	projectID, branchID, endpointID := ids.NewProject(), ids.NewBranch(), ids.NewEndpoint()
	if in.Name == "" {
		in.Name = projectID
	}
	password, verifier, sealed, err := rolesecret.New(p.cfg.Sealer, storePasswords)
	if err != nil {
		return CreatedProject{}, fmt.Errorf("create project: %w", err)
	}
	ep := metastore.Endpoint{
		ID: endpointID, ProjectID: projectID, BranchID: branchID, Type: "read_write", RegionID: in.RegionID,
		MinCU: minCU, MaxCU: maxCU, SuspendTimeoutSeconds: suspend, Settings: json.RawMessage(`{}`),
		CreatedAt: t, UpdatedAt: t, Provisioner: in.Provisioner, PasswordlessAccess: true,
	}

	// With a warm instance ready, the project's compute runs at once; with
	// none (a burst of creates), the volume is cloned and the role and
	// database are made at the compute's first start, so that creates are
	// never held up by starting servers.
	var volumeID string
	lazy := p.cfg.Computes.PoolLen(in.PGVersion) == 0
	if lazy {
		if volumeID, err = p.cfg.Computes.NewVolume(ctx, in.PGVersion); err != nil {
			return CreatedProject{}, &errkind.Error{Kind: errkind.Unavailable, Msg: "could not make the project's storage", Err: err}
		}
	} else {
		inst, err := p.cfg.Computes.Take(ctx, p.spec(ep, "", in.PGVersion))
		if err != nil {
			return CreatedProject{}, &errkind.Error{Kind: errkind.Unavailable, Msg: "could not start a compute for the project", Err: err}
		}
		volumeID = inst.VolumeID()
		if err := inst.Exec(ctx, "postgres", computesql.Setup(in.RoleName, verifier, in.DatabaseName, in.PGVersion)); err != nil {
			return CreatedProject{}, p.abandon(ctx, endpointID, volumeID, fmt.Errorf("create project %s: set up role and database: %w", projectID, err))
		}
		// The set-up touched some fifty catalog files: a checkpoint once
		// the first queries are done leaves branches of the project nothing
		// to replay, where a promotion or a checkpoint of those files
		// would delay their start by 10–20 ms.
		p.cfg.Computes.CheckpointAfter(endpointID, setupCheckpointDelay)
	}
	tookSetup := time.Since(begin)
	settings := in.Settings
	if len(settings) == 0 {
		settings = json.RawMessage(`{}`)
	}
	des, _ := json.Marshal(map[string]any{
		"autoscaling_limit_min_cu": minCU, "autoscaling_limit_max_cu": maxCU, "suspend_timeout_seconds": suspend,
	})
	opCreate := metastore.Operation{ID: uuid.New(), ProjectID: projectID, BranchID: branchID, Action: "create_timeline",
		Status: "finished", CreatedAt: t, UpdatedAt: now()}
	opStart := metastore.Operation{ID: uuid.New(), ProjectID: projectID, BranchID: branchID, EndpointID: endpointID,
		Action: "start_compute", Status: "finished", CreatedAt: t, UpdatedAt: now()}
	ops := []metastore.Operation{opCreate}
	if !lazy {
		ops = append(ops, opStart)
		lastActive := now()
		ep.LastActive = &lastActive
	}
	for i := range ops {
		ops[i].TotalDurationMS = int(ops[i].UpdatedAt.Sub(ops[i].CreatedAt) / time.Millisecond)
	}
	np := metastore.NewProject{
		Project: metastore.Project{ID: projectID, OrgID: orgID, Name: in.Name, RegionID: in.RegionID, PGVersion: in.PGVersion,
			Provisioner: in.Provisioner, StorePasswords: storePasswords, HistoryRetentionSeconds: history,
			Settings: settings, DefaultEndpointSettings: des, CreatedAt: t, UpdatedAt: t},
		Branch: metastore.Branch{ID: branchID, ProjectID: projectID, Name: in.BranchName, IsDefault: true,
			VolumeID: volumeID, SetupPending: lazy, CreatedAt: t, UpdatedAt: t},
		Endpoint:   ep,
		Role:       metastore.Role{BranchID: branchID, Name: in.RoleName, Verifier: verifier, SealedPassword: sealed, CreatedAt: t, UpdatedAt: t},
		Database:   metastore.Database{BranchID: branchID, Name: in.DatabaseName, OwnerName: in.RoleName, CreatedAt: t, UpdatedAt: t},
		Operations: ops,
	}
	db, err := p.store.CreateProject(ctx, np)
	if err != nil {
		return CreatedProject{}, p.abandon(ctx, endpointID, volumeID, err)
	}
	np.Database = db
	p.log.Debug("project created", "project", projectID, "lazy", lazy, "setup", tookSetup, "total", time.Since(begin))
	return CreatedProject{
		Project: np.Project, Branch: np.Branch, Endpoint: p.view(ep, !lazy), Role: np.Role, Password: password,
		Database: db, Operations: np.Operations, SizeLimit: pl.StorageQuotaBytes,
		URI: p.Hosts().URI(connuri.Params{Role: in.RoleName, Password: password, Database: in.DatabaseName,
			EndpointID: endpointID, RegionID: in.RegionID}),
	}, nil
}

// abandon undoes a create cut short before its metadata commit.
func (p *Platform) abandon(ctx context.Context, endpointID, volumeID string, cause error) error {
	cctx := context.WithoutCancel(ctx)
	if err := p.cfg.Computes.Suspend(cctx, endpointID); err != nil {
		p.log.Warn("stop abandoned compute", "endpoint", endpointID, "err", err)
	}
	if err := p.cfg.Volumes.Delete(cctx, volumeID); err != nil {
		p.log.Warn("delete abandoned volume", "volume", volumeID, "err", err)
	}
	return cause
}

func (p *Platform) view(e metastore.Endpoint, active bool) EndpointView {
	v := EndpointView{Endpoint: e, Host: p.Hosts().EndpointHost(e.ID, e.RegionID), ProxyHost: p.Hosts().ProxyHost(e.RegionID),
		CurrentState: "idle"}
	if active {
		v.CurrentState = "active"
	} else if e.LastActive == nil && e.Disabled {
		// Never started and cannot be: Neon's state of a new endpoint. One
		// a connection would wake (a project created without a warm
		// instance) is idle, as a suspended one.
		v.CurrentState = "init"
	}
	return v
}

func (p *Platform) endpointView(e metastore.Endpoint) EndpointView {
	inst, running := p.cfg.Computes.Get(e.ID)
	if !running {
		return p.view(e, false)
	}
	// Between states, Neon reports where the endpoint is and where it goes.
	switch inst.State() {
	case compute.StateActive:
		v := p.view(e, true)
		v.StartedAt, v.CurrentCU = inst.StartedAt(), inst.CU()
		return v
	case compute.StateSuspending:
		v := p.view(e, true)
		v.PendingState = "idle"
		return v
	case compute.StateFailed:
		return p.view(e, false)
	default: // starting, restarting
		v := p.view(e, false)
		v.PendingState = "active"
		return v
	}
}

// GetProject returns a project the caller reaches.
func (p *Platform) GetProject(ctx context.Context, pr accounts.Principal, id string) (metastore.Project, error) {
	if !ids.ValidResource(id) {
		return metastore.Project{}, notFound("project")
	}
	proj, err := p.store.GetProject(ctx, id)
	if err != nil {
		return metastore.Project{}, wrapStore("project", err)
	}
	if !pr.CanProject(proj) {
		return metastore.Project{}, notFound("project")
	}
	return proj, nil
}

// ListProjectsInput selects a page of projects.
type ListProjectsInput struct {
	OrgID  string
	Search string
	Cursor string
	Limit  int // 1..400; the API's default is 10
}

// ListProjects returns one page of the caller's projects, ordered by id.
func (p *Platform) ListProjects(ctx context.Context, pr accounts.Principal, in ListProjectsInput) ([]metastore.Project, error) {
	if in.Limit < 1 || in.Limit > 400 {
		return nil, newErr(errkind.Invalid, "limit must be between 1 and 400")
	}
	orgs, err := pr.Orgs(in.OrgID)
	if err != nil {
		return nil, err
	}
	projects, err := p.store.ListProjects(ctx, metastore.ProjectFilter{OrgIDs: orgs, ProjectID: pr.ProjectID,
		Search: in.Search, After: in.Cursor, Limit: in.Limit})
	return projects, err
}

// DeleteProject stops the project's computes, deletes its volumes and its
// metadata. It is first marked deleted so that a crash midway is finished
// by reconciliation.
func (p *Platform) DeleteProject(ctx context.Context, pr accounts.Principal, id string) (metastore.Project, error) {
	if _, err := p.GetProject(ctx, pr, id); err != nil {
		return metastore.Project{}, err
	}
	if err := pr.CanDeleteProject(); err != nil {
		return metastore.Project{}, err
	}
	branches, err := p.store.ProjectBranches(ctx, id)
	if err != nil {
		return metastore.Project{}, err
	}
	for _, b := range branches {
		if b.Protected {
			return metastore.Project{}, newErr(errkind.Invalid, "cannot delete project %s: its branch %s is protected", id, b.ID)
		}
	}
	proj, err := p.store.MarkProjectDeleted(ctx, id, now())
	if err != nil {
		return metastore.Project{}, wrapStore("project", err)
	}
	if err := p.purge(context.WithoutCancel(ctx), id); err != nil {
		p.log.Error("purge deleted project; reconciliation will retry", "project", id, "err", err)
	}
	return proj, nil
}

// purge removes a deleted project's computes, volumes and rows.
func (p *Platform) purge(ctx context.Context, projectID string) error {
	eps, err := p.store.ProjectEndpoints(ctx, projectID)
	if err != nil {
		return err
	}
	for _, e := range eps {
		if err := p.cfg.Computes.Suspend(ctx, e.ID); err != nil {
			return fmt.Errorf("stop endpoint %s: %w", e.ID, err)
		}
	}
	branches, err := p.store.ProjectBranches(ctx, projectID)
	if err != nil {
		return err
	}
	for _, b := range branches {
		if err := p.cfg.Volumes.Delete(ctx, b.VolumeID); err != nil && !isNotFound(err) {
			return fmt.Errorf("delete volume %s: %w", b.VolumeID, err)
		}
		p.forgetHistory(ctx, b.VolumeID)
	}
	if err := p.purgeSnapshots(ctx, projectID); err != nil {
		return err
	}
	return p.store.PurgeProject(ctx, projectID)
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

// ProjectEndpoints returns a project's endpoints with runtime state.
func (p *Platform) ProjectEndpoints(ctx context.Context, projectID string) ([]EndpointView, error) {
	eps, err := p.store.ProjectEndpoints(ctx, projectID)
	if err != nil {
		return nil, err
	}
	out := make([]EndpointView, len(eps))
	for i, e := range eps {
		out[i] = p.endpointView(e)
	}
	return out, nil
}

// ProjectUpdate is a project PATCH; nil fields stay as they are. Settings
// and DefaultEndpointSettings are JSON objects whose keys replace the
// stored ones.
type ProjectUpdate struct {
	Name                    *string
	Settings                json.RawMessage
	DefaultEndpointSettings json.RawMessage
	HistoryRetentionSeconds *int
}

// UpdateProject changes a project's name, settings, default endpoint
// settings or history retention. A retention change is Neon's
// apply_storage_config operation; the others run none.
func (p *Platform) UpdateProject(ctx context.Context, pr accounts.Principal, id string, in ProjectUpdate) (metastore.Project, []metastore.Operation, error) {
	proj, err := p.GetProject(ctx, pr, id)
	if err != nil {
		return metastore.Project{}, nil, err
	}
	if in.Name != nil {
		if *in.Name == "" || len(*in.Name) > maxName {
			return metastore.Project{}, nil, newErr(errkind.Invalid, "project.name must be 1 to %d characters", maxName)
		}
		proj.Name = *in.Name
	}
	var ops []metastore.Operation
	if h := in.HistoryRetentionSeconds; h != nil {
		if *h < 0 || *h > plans.MaxHistorySeconds {
			return metastore.Project{}, nil, newErr(errkind.Invalid, "project.history_retention_seconds must be between 0 and %d, got %d", plans.MaxHistorySeconds, *h)
		}
		if *h != proj.HistoryRetentionSeconds {
			if err := p.checkProjectPlan(ctx, proj, func(pl plans.Plan) error { return plans.CheckHistory(pl, *h) }); err != nil {
				return metastore.Project{}, nil, err
			}
			ops = append(ops, newOp(proj.ID, "", "", "apply_storage_config"))
		}
		proj.HistoryRetentionSeconds = *h
	}
	if len(in.Settings) > 0 {
		if err := settings.ValidProject(in.Settings); err != nil {
			return metastore.Project{}, nil, err
		}
		if proj.Settings, err = settings.Merge(proj.Settings, in.Settings); err != nil {
			return metastore.Project{}, nil, newErr(errkind.Invalid, "project.settings must be an object")
		}
	}
	if len(in.DefaultEndpointSettings) > 0 {
		merged, err := settings.Merge(proj.DefaultEndpointSettings, in.DefaultEndpointSettings)
		if err != nil {
			return metastore.Project{}, nil, newErr(errkind.Invalid, "project.default_endpoint_settings must be an object")
		}
		if err := plans.ValidEndpointDefaults(merged); err != nil {
			return metastore.Project{}, nil, err
		}
		if err := p.checkProjectPlan(ctx, proj, func(pl plans.Plan) error { return plans.CheckDefaults(pl, plans.ParseEndpointDefaults(merged)) }); err != nil {
			return metastore.Project{}, nil, err
		}
		proj.DefaultEndpointSettings = merged
	}
	proj.UpdatedAt = now()
	out := proj
	ops, err = p.mutate(ctx, proj.ID, ops, func(ctx context.Context) error {
		var err error
		out, err = p.store.UpdateProject(ctx, proj)
		return wrapStore("project", err)
	})
	if err != nil {
		return metastore.Project{}, nil, err
	}
	return out, ops, nil
}

// ProjectOwner returns the user who owns a project's org.
func (p *Platform) ProjectOwner(ctx context.Context, proj metastore.Project) (metastore.User, metastore.Org, error) {
	u, err := p.store.OrgOwner(ctx, proj.OrgID)
	if err != nil {
		return metastore.User{}, metastore.Org{}, err
	}
	o, err := p.store.GetOrg(ctx, proj.OrgID)
	return u, o, err
}

// ProjectLastActive is the latest activity of any of a project's endpoints.
func (p *Platform) ProjectLastActive(ctx context.Context, projectID string) (*time.Time, error) {
	return p.store.ProjectLastActive(ctx, projectID)
}
