package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sync"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/dataapispec"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/reserved"
	"github.com/grovedb/grove/internal/rolesecret"
	"github.com/jackc/pgx/v5"
)

// The Data API of a branch database is a row of the metadata store (its
// provider and settings) plus what enabling it provisions in the database
// (dataapispec.Provision). Its three roles are roles of the branch like
// those the API makes, so that they are listed, inherited, restored and
// converged as any other; the authenticator's password is always kept
// sealed, as the data plane logs in with it. A compute that converges a
// branch's config provisions its Data API databases again when their data
// predates the Data API (a restore to an earlier point).

// DataAPI is a database's Data API as GET shows it.
type DataAPI struct {
	URL              string
	Settings         dataapispec.Settings // effective, defaults filled in
	AvailableSchemas []string             // nil when the compute could not be read
}

// dataAPILocks serialises the enabling and provisioning of one branch's
// Data APIs: their role statements change shared catalogs.
var dataAPILocks sync.Map // branch id → *sync.Mutex

func lockDataAPI(branchID string) func() {
	mu, _ := dataAPILocks.LoadOrStore(branchID, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock
}

func notEnabled(database string) error {
	return &errkind.Error{Kind: errkind.NotFound, Msg: fmt.Sprintf("the Data API is not enabled for database %q", database),
		Err: dataapispec.ErrNotEnabled}
}

// EnableDataAPI provisions a branch database for the Data API and records
// it; it returns the Data API's URL.
func (p *Platform) EnableDataAPI(ctx context.Context, pr accounts.Principal, projectID, branchID, database string, req dataapispec.CreateRequest) (string, error) {
	if err := req.Normalize(); err != nil {
		return "", err
	}
	if err := reserved.CheckDatabase("database_name", database); err != nil {
		return "", err
	}
	t, err := p.forChange(ctx, pr, projectID, branchID, "the Data API")
	if err != nil {
		return "", err
	}
	if _, err := p.store.GetDataAPI(ctx, t.branch.ID, database); err == nil {
		return "", newErr(errkind.Conflict, "the Data API is already enabled for database %q", database)
	} else if !errors.Is(err, metastore.ErrNotFound) {
		return "", err
	}
	inst, err := p.wakeEndpoint(ctx, t.ep.ID)
	if err != nil {
		return "", err
	}
	// A database made in SQL is served too: the compute says what exists.
	var exists bool
	if err := inst.Admin(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datallowconn)`, database).Scan(&exists)
	}); err != nil {
		return "", unavailable("could not read the branch's databases", err)
	}
	if !exists {
		return "", notFound("database")
	}
	if _, err := p.configChange(ctx, t, func(ctx context.Context) error { return p.ensureDataAPIRoles(ctx, t.branch.ID) }); err != nil {
		return "", err
	}
	if inst, err = p.wakeEndpoint(ctx, t.ep.ID); err != nil { // converges the roles if the apply did not
		return "", err
	}
	// Locked past the wakes only: a wake may converge, which locks too.
	unlock := lockDataAPI(t.branch.ID)
	defer unlock()
	opts := dataapispec.Options{AuthProvider: req.AuthProvider, AddDefaultGrants: req.AddDefaultGrants, SkipAuthSchema: req.SkipAuthSchema}
	if err := provision(ctx, inst, database, opts, true); err != nil {
		return "", unavailable("could not provision the database for the Data API", err)
	}
	settings := []byte(`{}`)
	if req.Settings != nil {
		if settings, err = json.Marshal(req.Settings); err != nil {
			return "", err
		}
	}
	at := now()
	_, err = p.store.InsertDataAPI(ctx, metastore.DataAPI{BranchID: t.branch.ID, Database: database, AuthProvider: req.AuthProvider,
		JWKSURL: req.JWKSURL, ProviderName: req.ProviderName, JWTAudience: req.JWTAudience, AddDefaultGrants: req.AddDefaultGrants,
		SkipAuthSchema: req.SkipAuthSchema, Settings: settings, CreatedAt: at, UpdatedAt: at})
	if err != nil {
		return "", wrapStore("Data API", err)
	}
	return p.dataAPIURL(t.ep.ID, t.ep.RegionID, database), nil
}

func unavailable(msg string, err error) error {
	return &errkind.Error{Kind: errkind.Unavailable, Msg: msg, Err: err}
}

// wakeEndpoint starts an endpoint's compute if needed, with its branch's
// config applied.
func (p *Platform) wakeEndpoint(ctx context.Context, endpointID string) (*compute.Instance, error) {
	r, err := p.store.GetEndpointRoute(ctx, endpointID)
	if err != nil {
		return nil, wrapStore("endpoint", err)
	}
	inst, err := p.wake(ctx, r)
	if err != nil {
		return nil, unavailable("could not start the branch's compute", err)
	}
	return inst, nil
}

// ensureDataAPIRoles records the Data API's roles of a branch that it
// lacks, and a sealed password for an authenticator without one.
func (p *Platform) ensureDataAPIRoles(ctx context.Context, branchID string) error {
	roles, err := p.store.BranchRoles(ctx, branchID)
	if err != nil {
		return err
	}
	have := map[string]metastore.Role{}
	for _, r := range roles {
		have[r.Name] = r
	}
	for _, name := range dataapispec.Roles {
		r, ok := have[name]
		if name != dataapispec.AuthenticatorRole {
			if !ok {
				at := now()
				if err := p.store.InsertRole(ctx, metastore.Role{BranchID: branchID, Name: name, CreatedAt: at, UpdatedAt: at}); err != nil {
					return storeErr("role", err)
				}
			}
			continue
		}
		if ok && r.Verifier != "" && len(r.SealedPassword) > 0 {
			continue
		}
		_, verifier, sealed, err := rolesecret.New(p.cfg.Sealer, true)
		if err != nil {
			return err
		}
		at := now()
		if ok {
			_, err = p.store.SetRolePassword(ctx, branchID, name, verifier, sealed, at)
		} else {
			err = p.store.InsertRole(ctx, metastore.Role{BranchID: branchID, Name: name, Verifier: verifier, SealedPassword: sealed,
				CreatedAt: at, UpdatedAt: at})
		}
		if err != nil {
			return storeErr("role", err)
		}
	}
	return nil
}

// dataAPIRoleInUse refuses the delete of a role the Data API of one of the
// branch's databases serves with (409).
func (p *Platform) dataAPIRoleInUse(ctx context.Context, branchID, role string) error {
	if !slices.Contains(dataapispec.Roles, role) {
		return nil
	}
	apis, err := p.store.BranchDataAPIs(ctx, branchID)
	if err != nil || len(apis) == 0 {
		return err
	}
	return newErr(errkind.Conflict, "role %q serves the Data API of database %q; disable the Data API first", role, apis[0].Database)
}

// provision runs the Data API's provisioning in a database, in one
// transaction. Unless always, a database already provisioned only has its
// roles' attributes set again.
func provision(ctx context.Context, inst *compute.Instance, database string, o dataapispec.Options, always bool) error {
	conn, err := inst.Conn(ctx, database)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := provisionConn(ctx, conn, o, always); err != nil {
		return fmt.Errorf("database %q: %w", database, err)
	}
	return nil
}

func provisionConn(ctx context.Context, conn *pgx.Conn, o dataapispec.Options, always bool) error {
	st := dataapispec.RoleStatements()
	if !always {
		var done bool
		if err := conn.QueryRow(ctx, dataapispec.ProvisionedQuery).Scan(&done); err != nil {
			return err
		}
		always = !done
	}
	if always {
		var err error
		if st, err = dataapispec.Provision(o); err != nil {
			return err
		}
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, s := range st {
			var err error
			if len(s.Args) == 0 {
				_, err = tx.Exec(ctx, s.SQL, pgx.QueryExecModeSimpleProtocol)
			} else {
				_, err = tx.Exec(ctx, s.SQL, s.Args...)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// convergeDataAPIRoles is converge's part for the Data API, before the
// branch's config is read: the Data API's roles are recorded (a restore
// from a branch without them dropped them).
func (p *Platform) convergeDataAPIRoles(ctx context.Context, branchID string) error {
	apis, err := p.store.BranchDataAPIs(ctx, branchID)
	if err != nil || len(apis) == 0 {
		return err
	}
	return p.ensureDataAPIRoles(ctx, branchID)
}

// convergeDataAPIs is converge's part for the Data API, after the roles
// are applied: databases whose data predates their Data API are
// provisioned, and the data plane reloads its schema caches. A failure is
// logged; the compute serves SQL regardless.
func (p *Platform) convergeDataAPIs(ctx context.Context, inst *compute.Instance, branchID string) {
	apis, err := p.store.BranchDataAPIs(ctx, branchID)
	if err != nil || len(apis) == 0 {
		return
	}
	unlock := lockDataAPI(branchID)
	defer unlock()
	for _, a := range apis {
		o := dataapispec.Options{AuthProvider: a.AuthProvider, AddDefaultGrants: a.AddDefaultGrants, SkipAuthSchema: a.SkipAuthSchema}
		if err := provision(ctx, inst, a.Database, o, false); err != nil {
			p.log.Warn("provision the Data API", "branch", branchID, "database", a.Database, "err", err)
		}
	}
	if err := p.store.TouchDataAPIs(ctx, branchID); err != nil {
		p.log.Warn("touch the Data APIs", "branch", branchID, "err", err)
	}
}

// dataAPITarget is the branch of a Data API request and the database's
// Data API (nil when not enabled).
func (p *Platform) dataAPITarget(ctx context.Context, pr accounts.Principal, projectID, branchID, database string) (roleTarget, metastore.DataAPI, error) {
	t, err := p.roleTarget(ctx, pr, projectID, branchID)
	if err != nil {
		return t, metastore.DataAPI{}, err
	}
	a, err := p.store.GetDataAPI(ctx, t.branch.ID, database)
	if errors.Is(err, metastore.ErrNotFound) {
		if _, derr := p.store.GetDatabase(ctx, t.branch.ID, database); errors.Is(derr, metastore.ErrNotFound) {
			return t, a, notFound("database")
		}
		return t, a, notEnabled(database)
	}
	return t, a, err
}

func storedSettings(a metastore.DataAPI) (dataapispec.Settings, error) {
	var s dataapispec.Settings
	if err := json.Unmarshal(a.Settings, &s); err != nil {
		return s, fmt.Errorf("settings of the Data API of database %q: %w", a.Database, err)
	}
	return s, nil
}

// GetDataAPI returns a database's Data API with the database's schemas,
// read from its compute (woken).
func (p *Platform) GetDataAPI(ctx context.Context, pr accounts.Principal, projectID, branchID, database string) (DataAPI, error) {
	t, a, err := p.dataAPITarget(ctx, pr, projectID, branchID, database)
	if err != nil {
		return DataAPI{}, err
	}
	if t.ep == nil {
		return DataAPI{}, newErr(errkind.Precondition, "the branch has no read-write endpoint to serve the Data API on")
	}
	s, err := storedSettings(a)
	if err != nil {
		return DataAPI{}, err
	}
	out := DataAPI{URL: p.dataAPIURL(t.ep.ID, t.ep.RegionID, database), Settings: s.Effective()}
	inst, err := p.wakeEndpoint(ctx, t.ep.ID)
	if err == nil {
		out.AvailableSchemas, err = schemas(ctx, inst, database)
	}
	if err != nil {
		p.log.Warn("read the schemas of a Data API database", "branch", t.branch.ID, "database", database, "err", err)
	}
	return out, nil
}

func schemas(ctx context.Context, inst *compute.Instance, database string) ([]string, error) {
	conn, err := inst.Conn(ctx, database)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, dataapispec.SchemasQuery)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if out == nil {
		out = []string{}
	}
	return out, err
}

// UpdateDataAPI merges settings into a database's Data API; the data plane
// reloads its schema cache even when nothing changed.
func (p *Platform) UpdateDataAPI(ctx context.Context, pr accounts.Principal, projectID, branchID, database string, patch *dataapispec.Settings) error {
	if patch != nil {
		if err := patch.Validate(); err != nil {
			return err
		}
	}
	t, a, err := p.dataAPITarget(ctx, pr, projectID, branchID, database)
	if err != nil {
		return err
	}
	s, err := storedSettings(a)
	if err != nil {
		return err
	}
	if patch != nil {
		s = dataapispec.Merge(s, *patch)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = p.store.SetDataAPISettings(ctx, t.branch.ID, database, raw, now())
	if errors.Is(err, metastore.ErrNotFound) {
		return notEnabled(database)
	}
	return err
}

// DisableDataAPI stops a database's Data API at once. What enabling it
// provisioned (roles, the auth schema, grants) stays, as the data's.
func (p *Platform) DisableDataAPI(ctx context.Context, pr accounts.Principal, projectID, branchID, database string) error {
	t, _, err := p.dataAPITarget(ctx, pr, projectID, branchID, database)
	if err != nil {
		return err
	}
	if err := p.store.DeleteDataAPI(ctx, t.branch.ID, database); errors.Is(err, metastore.ErrNotFound) {
		return notEnabled(database)
	} else if err != nil {
		return err
	}
	return nil
}

// DataAPIKeysChanged tells the Data API's lookup that a database's signing
// keys (neon_auth.jwks) changed.
func (p *Platform) DataAPIKeysChanged() { p.store.DataAPIChanged() }

// dataAPIURL is the Data API's URL: on the data plane's address by path
// without a domain; with one, on the endpoint's apirest host as Neon names
// it (the proxy's host with "apirest" after the endpoint label).
func (p *Platform) dataAPIURL(endpointID, regionID, database string) string {
	return p.dataPlaneOrigin(endpointID, regionID, "apirest") + "/" + url.PathEscape(database) + "/rest/v1"
}

// AuthOrigin is the origin of a branch's Auth URL, the issuer and audience
// of the tokens its Auth signs: with a domain Neon's
// https://<endpoint>.neonauth.<region host>; without one the data plane's
// address followed by the endpoint, http://<http-addr>/<endpoint>, so that
// tokens of one branch still name another issuer than those of another.
func (p *Platform) AuthOrigin(endpointID, regionID string) string {
	return p.dataPlaneOrigin(endpointID, regionID, "neonauth")
}

func (p *Platform) dataPlaneOrigin(endpointID, regionID, service string) string {
	if p.cfg.Domain == "" {
		return "http://" + p.cfg.DataPlaneAddr + "/" + endpointID
	}
	host := endpointID + "." + service + "." + p.Hosts().ProxyHost(regionID)
	if _, port, err := net.SplitHostPort(p.cfg.DataPlaneAddr); err == nil && port != "443" {
		host = net.JoinHostPort(host, port)
	}
	return "https://" + host
}

// dataAPICache keeps DataAPIFor's answers (and its not-enabled answers),
// stamped as the verifier cache is, with both the roles and the Data API
// generations read before the lookup.
type dataAPICache struct {
	mu sync.Mutex
	m  map[dataAPIKey]cachedDataAPI
}

type dataAPIKey struct{ endpoint, database string }

type dataAPIGen struct{ roles, dataAPI uint64 }

type cachedDataAPI struct {
	sv  dataapispec.Served
	err error
	gen dataAPIGen
}

const maxCachedDataAPIs = 100_000

func (c *dataAPICache) get(k dataAPIKey, gen dataAPIGen) (cachedDataAPI, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	return e, ok && e.gen == gen
}

func (c *dataAPICache) put(k dataAPIKey, e cachedDataAPI) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedDataAPIs {
		c.m = map[dataAPIKey]cachedDataAPI{}
	}
	c.m[k] = e
}

// DataAPIFor returns what the data plane needs to serve a database's Data
// API on an endpoint; it is asked on every request and answers from memory
// while nothing it depends on changed. The answer is shared: callers must
// not modify it. Errors: ErrUnknownEndpoint, ErrEndpointDisabled, one
// wrapping dataapispec.ErrNotEnabled (also for a read-only endpoint), or
// the compute's when reading the signing keys fails.
func (p *Platform) DataAPIFor(ctx context.Context, endpointID, database string) (dataapispec.Served, error) {
	k := dataAPIKey{endpointID, database}
	gen := dataAPIGen{p.store.RolesGeneration(), p.store.DataAPIGeneration()}
	if e, ok := p.dataAPIs.get(k, gen); ok {
		return e.sv, e.err
	}
	sv, err := p.lookupDataAPI(ctx, endpointID, database)
	// An unknown endpoint is not kept: making one moves neither generation.
	if err == nil || errors.Is(err, dataapispec.ErrNotEnabled) {
		p.dataAPIs.put(k, cachedDataAPI{sv: sv, err: err, gen: gen})
	}
	return sv, err
}

func (p *Platform) lookupDataAPI(ctx context.Context, endpointID, database string) (dataapispec.Served, error) {
	e, err := p.store.GetEndpointDataAPI(ctx, endpointID, database, dataapispec.AuthenticatorRole)
	if errors.Is(err, metastore.ErrNotFound) {
		return dataapispec.Served{}, ErrUnknownEndpoint
	}
	if err != nil {
		return dataapispec.Served{}, err
	}
	ep := e.Route.Endpoint
	if ep.Disabled {
		return dataapispec.Served{}, ErrEndpointDisabled
	}
	if e.DataAPI == nil || ep.Type != "read_write" {
		return dataapispec.Served{}, dataapispec.NotEnabled(database)
	}
	a := e.DataAPI
	s, err := storedSettings(*a)
	if err != nil {
		return dataapispec.Served{}, err
	}
	sv := dataapispec.Served{ProjectID: ep.ProjectID, BranchID: ep.BranchID, EndpointID: ep.ID, Database: database,
		AuthProvider: a.AuthProvider, Generation: uint64(a.Generation)}
	sv.SetSettings(s)
	if len(e.SealedPassword) == 0 {
		return dataapispec.Served{}, fmt.Errorf("the password of role %q of branch %s is not stored", dataapispec.AuthenticatorRole, ep.BranchID)
	}
	if sv.AuthenticatorPassword, err = p.cfg.Sealer.Open(e.SealedPassword); err != nil {
		return dataapispec.Served{}, fmt.Errorf("open the password of role %q: %w", dataapispec.AuthenticatorRole, err)
	}
	switch a.AuthProvider {
	case dataapispec.ProviderExternal:
		sv.JWKSURL, sv.Audience = a.JWKSURL, a.JWTAudience
	case dataapispec.ProviderNeonAuth:
		sv.Issuer = p.AuthOrigin(ep.ID, ep.RegionID)
		sv.Audience = sv.Issuer
		inst, err := p.wake(ctx, e.Route)
		if err != nil {
			return dataapispec.Served{}, err
		}
		if sv.JWKS, err = signingKeys(ctx, inst, database); err != nil {
			return dataapispec.Served{}, err
		}
	}
	return sv, nil
}

// signingKeys reads the public keys of a database's neon_auth.jwks as a
// JWK set (empty when the table is gone).
func signingKeys(ctx context.Context, inst *compute.Instance, database string) ([]byte, error) {
	conn, err := inst.Conn(ctx, database)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	set, err := signingKeysConn(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("read the signing keys of database %q: %w", database, err)
	}
	return set, nil
}

func signingKeysConn(ctx context.Context, conn *pgx.Conn) ([]byte, error) {
	var exists bool
	if err := conn.QueryRow(ctx, dataapispec.KeysTableQuery).Scan(&exists); err != nil || !exists {
		return dataapispec.JWKS(nil), err
	}
	rows, err := conn.Query(ctx, dataapispec.KeysQuery)
	if err != nil {
		return nil, err
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dataapispec.StoredKey, error) {
		var k dataapispec.StoredKey
		err := r.Scan(&k.ID, &k.Public)
		return k, err
	})
	if err != nil {
		return nil, err
	}
	return dataapispec.JWKS(keys), nil
}
