package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgversion"
	"github.com/grovedb/grove/internal/scram"
	"github.com/grovedb/grove/internal/storage"
)

// ProjectInput is a project create request, with nil meaning "not given".
type ProjectInput struct {
	Name                    string
	OrgID                   string
	RegionID                string
	PGVersion               int
	Provisioner             string
	BranchName              string
	RoleName                string
	DatabaseName            string
	MinCU, MaxCU            *float64
	SuspendTimeoutSeconds   *int64
	StorePasswords          *bool
	HistoryRetentionSeconds *int
	Settings                json.RawMessage
}

// EndpointView is an endpoint with its runtime state.
type EndpointView struct {
	metastore.Endpoint
	Host, ProxyHost string
	CurrentState    string // init | active | idle
	PendingState    string
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
}

// reservedRoles are the platform's own; users cannot create or log in as them.
var reservedRoles = map[string]bool{
	pgrun.AdminRole: true, "neon_superuser": true, "neon_service": true, "zenith_admin": true,
	"postgres": true, "public": true, "none": true, "current_user": true, "session_user": true,
}

// IsReservedRole reports whether a role name belongs to the platform.
func IsReservedRole(name string) bool { return reservedRoles[name] || strings.HasPrefix(name, "pg_") }

func validPGName(field, v string) error {
	if v == "" || len(v) > 63 || strings.ContainsRune(v, 0) {
		return newErr(KindInvalid, "%s must be 1 to 63 bytes without NUL characters", field)
	}
	return nil
}

// validCU checks Neon's compute size rules for an autoscaling range.
func validCU(min, max float64) error {
	allowed := func(v float64) bool {
		return v == 0.25 || v == 0.5 || (v >= 1 && v <= 56 && v == math.Trunc(v) && (v <= 16 || math.Mod(v, 2) == 0))
	}
	switch {
	case !allowed(min):
		return newErr(KindInvalid, "autoscaling_limit_min_cu %v is not a valid compute size (0.25, 0.5, or a whole number of CU)", min)
	case !allowed(max):
		return newErr(KindInvalid, "autoscaling_limit_max_cu %v is not a valid compute size (0.25, 0.5, or a whole number of CU)", max)
	case max < min:
		return newErr(KindInvalid, "autoscaling_limit_max_cu must be greater than or equal to autoscaling_limit_min_cu")
	case min != max && max-min > 8:
		return newErr(KindInvalid, "autoscaling_limit_max_cu - autoscaling_limit_min_cu must not exceed 8")
	case min != max && max > 16:
		return newErr(KindInvalid, "autoscaling_limit_max_cu must not exceed 16 when autoscaling")
	case min != max && max > 10 && min < max/8:
		return newErr(KindInvalid, "autoscaling_limit_min_cu must be at least autoscaling_limit_max_cu/8 when autoscaling_limit_max_cu exceeds 10")
	}
	return nil
}

func validSuspend(sec int64) error {
	if sec == 0 || sec == -1 || (sec >= 60 && sec <= 604800) {
		return nil
	}
	return newErr(KindInvalid, "suspend_timeout_seconds must be -1 (never), 0 (default) or between 60 and 604800, got %d", sec)
}

// CreateProject makes a project with its default branch, a read-write
// endpoint already running, an owner role and a database. The compute work
// happens first on a warm instance; one metadata transaction then makes the
// project exist. A crash before that commit leaves only an unreferenced
// volume, which reconciliation deletes; after it, the project is whole.
func (p *Platform) CreateProject(ctx context.Context, pr Principal, in ProjectInput) (CreatedProject, error) {
	orgID, err := resolveOrg(pr, in.OrgID)
	if err != nil {
		return CreatedProject{}, err
	}
	if in.PGVersion == 0 {
		in.PGVersion = pgversion.DefaultMajor
	}
	if _, ok := pgversion.Pick(p.cfg.Installs, in.PGVersion); !ok {
		return CreatedProject{}, newErr(KindInvalid, "pg_version %d is not supported; installed versions: %s", in.PGVersion, p.installedMajors())
	}
	if in.RegionID == "" {
		in.RegionID = defaultRegion()
	} else if !knownRegion(in.RegionID) {
		return CreatedProject{}, newErr(KindInvalid, "region_id %q is not supported", in.RegionID)
	}
	switch in.Provisioner {
	case "":
		in.Provisioner = "k8s-neonvm"
	case "k8s-neonvm", "k8s-pod", "serverless-platform":
	default:
		return CreatedProject{}, newErr(KindInvalid, "provisioner %q is not one of k8s-pod, k8s-neonvm, serverless-platform", in.Provisioner)
	}
	if len(in.Name) > 256 {
		return CreatedProject{}, newErr(KindInvalid, "name must be at most 256 characters")
	}
	if in.BranchName == "" {
		in.BranchName = "main"
	} else if len(in.BranchName) > 256 {
		return CreatedProject{}, newErr(KindInvalid, "branch.name must be at most 256 characters")
	}
	if in.DatabaseName == "" {
		in.DatabaseName = "neondb"
	}
	if in.RoleName == "" {
		in.RoleName = in.DatabaseName + "_owner"
	}
	if err := validPGName("branch.database_name", in.DatabaseName); err != nil {
		return CreatedProject{}, err
	}
	if err := validPGName("branch.role_name", in.RoleName); err != nil {
		return CreatedProject{}, err
	}
	if IsReservedRole(in.RoleName) {
		return CreatedProject{}, newErr(KindInvalid, "branch.role_name %q is reserved", in.RoleName)
	}
	switch in.DatabaseName {
	case "postgres", "template0", "template1", "grove_spare":
		return CreatedProject{}, newErr(KindInvalid, "branch.database_name %q is reserved", in.DatabaseName)
	}
	minCU, maxCU := 0.25, 0.25
	if in.MinCU != nil {
		minCU = *in.MinCU
		if in.MaxCU == nil && maxCU < minCU {
			maxCU = minCU
		}
	}
	if in.MaxCU != nil {
		maxCU = *in.MaxCU
	}
	if err := validCU(minCU, maxCU); err != nil {
		return CreatedProject{}, err
	}
	var suspend int64
	if in.SuspendTimeoutSeconds != nil {
		suspend = *in.SuspendTimeoutSeconds
		if err := validSuspend(suspend); err != nil {
			return CreatedProject{}, err
		}
	}
	history := 86400
	if in.HistoryRetentionSeconds != nil {
		history = *in.HistoryRetentionSeconds
		if history < 0 || history > 2592000 {
			return CreatedProject{}, newErr(KindInvalid, "history_retention_seconds must be between 0 and 2592000")
		}
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
	projectID, branchID, endpointID := NewProjectID(), NewBranchID(), NewEndpointID()
	if in.Name == "" {
		in.Name = projectID
	}
	password := NewPassword()
	verifier, err := scram.NewVerifier(password)
	if err != nil {
		return CreatedProject{}, fmt.Errorf("create project: %w", err)
	}
	ep := metastore.Endpoint{
		ID: endpointID, ProjectID: projectID, BranchID: branchID, Type: "read_write", RegionID: in.RegionID,
		MinCU: minCU, MaxCU: maxCU, SuspendTimeoutSeconds: suspend, Settings: json.RawMessage(`{}`),
		CreatedAt: t, UpdatedAt: t,
	}

	// With a warm instance ready, the project's compute runs at once; with
	// none (a burst of creates), the volume is cloned and the role and
	// database are made at the compute's first start, so that creates are
	// never held up by starting servers.
	var volumeID string
	lazy := p.cfg.Computes.PoolLen(in.PGVersion) == 0
	if lazy {
		if volumeID, err = p.cfg.Computes.NewVolume(ctx, in.PGVersion); err != nil {
			return CreatedProject{}, &Error{Kind: KindUnavailable, Msg: "could not make the project's storage", Err: err}
		}
	} else {
		inst, err := p.cfg.Computes.Take(ctx, p.spec(ep, "", in.PGVersion))
		if err != nil {
			return CreatedProject{}, &Error{Kind: KindUnavailable, Msg: "could not start a compute for the project", Err: err}
		}
		volumeID = inst.VolumeID()
		if err := inst.Exec(ctx, "postgres", setupSQL(in.RoleName, verifier.String(), in.DatabaseName)); err != nil {
			return CreatedProject{}, p.abandon(ctx, endpointID, volumeID, fmt.Errorf("create project %s: set up role and database: %w", projectID, err))
		}
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
		Role:       metastore.Role{BranchID: branchID, Name: in.RoleName, Verifier: verifier.String(), CreatedAt: t, UpdatedAt: t},
		Database:   metastore.Database{BranchID: branchID, Name: in.DatabaseName, OwnerName: in.RoleName, CreatedAt: t, UpdatedAt: t},
		Operations: ops,
	}
	if storePasswords {
		np.Role.SealedPassword = p.cfg.Sealer.Seal(password)
	}
	db, err := p.store.CreateProject(ctx, np)
	if err != nil {
		return CreatedProject{}, p.abandon(ctx, endpointID, volumeID, err)
	}
	np.Database = db
	p.log.Debug("project created", "project", projectID, "lazy", lazy, "setup", tookSetup, "total", time.Since(begin))
	return CreatedProject{
		Project: np.Project, Branch: np.Branch, Endpoint: p.view(ep, !lazy), Role: np.Role, Password: password,
		Database: db, Operations: np.Operations,
		URI: p.ConnectionURI(ConnParams{Role: in.RoleName, Password: password, Database: in.DatabaseName,
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

// setupSQL makes a project's owner role and database from the warm
// cluster's spare database, idempotently (a first start after a crash may
// run it again). It is one statement, so one commit. The dollar-quote tag is
// random so that no name can end the block.
func setupSQL(role, verifier, db string) string {
	tag := "$g" + randString(lowerAlnum, 16) + "$"
	return `DO ` + tag + ` BEGIN
IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ` + quoteLiteral(role) + `) THEN
  EXECUTE format('CREATE ROLE %I WITH LOGIN CREATEDB CREATEROLE PASSWORD %L', ` + quoteLiteral(role) + `, ` + quoteLiteral(verifier) + `);
END IF;
IF NOT EXISTS (SELECT FROM pg_database WHERE datname = ` + quoteLiteral(db) + `) THEN
  EXECUTE format('ALTER DATABASE grove_spare RENAME TO %I', ` + quoteLiteral(db) + `);
END IF;
EXECUTE format('ALTER DATABASE %I OWNER TO %I', ` + quoteLiteral(db) + `, ` + quoteLiteral(role) + `);
END ` + tag
}

func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

func (p *Platform) view(e metastore.Endpoint, active bool) EndpointView {
	v := EndpointView{Endpoint: e, Host: p.EndpointHost(e.ID, e.RegionID), ProxyHost: p.ProxyHost(e.RegionID),
		CurrentState: "idle"}
	if active {
		v.CurrentState = "active"
	}
	return v
}

func (p *Platform) endpointView(e metastore.Endpoint) EndpointView {
	_, running := p.cfg.Computes.Get(e.ID)
	return p.view(e, running)
}

// GetProject returns a project the caller reaches.
func (p *Platform) GetProject(ctx context.Context, pr Principal, id string) (metastore.Project, error) {
	if !ResourceIDRe.MatchString(id) {
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
	Limit  int
}

// ListProjects returns one page of the caller's projects, ordered by id.
func (p *Platform) ListProjects(ctx context.Context, pr Principal, in ListProjectsInput) ([]metastore.Project, error) {
	if in.Limit == 0 {
		in.Limit = 10
	}
	if in.Limit < 1 || in.Limit > 400 {
		return nil, newErr(KindInvalid, "limit must be between 1 and 400")
	}
	orgs := pr.OrgIDs
	if in.OrgID != "" {
		if !pr.CanOrg(in.OrgID) {
			return nil, newErr(KindNotFound, "organization %s not found", in.OrgID)
		}
		orgs = []string{in.OrgID}
	}
	projects, err := p.store.ListProjects(ctx, metastore.ProjectFilter{OrgIDs: orgs, ProjectID: pr.ProjectID,
		Search: in.Search, After: in.Cursor, Limit: in.Limit})
	return projects, err
}

// DeleteProject stops the project's computes, deletes its volumes and its
// metadata. It is first marked deleted so that a crash midway is finished
// by reconciliation.
func (p *Platform) DeleteProject(ctx context.Context, pr Principal, id string) (metastore.Project, error) {
	if _, err := p.GetProject(ctx, pr, id); err != nil {
		return metastore.Project{}, err
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
