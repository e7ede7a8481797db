package metastore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DataAPI is the Data API's configuration of one branch database.
type DataAPI struct {
	BranchID, Database string
	AuthProvider       string
	JWKSURL            string
	ProviderName       string
	JWTAudience        string
	AddDefaultGrants   bool
	SkipAuthSchema     bool
	Settings           json.RawMessage // dataapispec.Settings as the requests left them
	Generation         int64
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

const dataAPICols = `branch_id, database_name, auth_provider, coalesce(jwks_url, ''), coalesce(provider_name, ''),
	coalesce(jwt_audience, ''), add_default_grants, skip_auth_schema, settings, generation, created_at, updated_at`

func scanDataAPI(row pgx.Row) (DataAPI, error) {
	var d DataAPI
	err := row.Scan(&d.BranchID, &d.Database, &d.AuthProvider, &d.JWKSURL, &d.ProviderName, &d.JWTAudience,
		&d.AddDefaultGrants, &d.SkipAuthSchema, &d.Settings, &d.Generation, &d.CreatedAt, &d.UpdatedAt)
	return d, err
}

// DataAPIGeneration counts the writes that may change what the Data API
// serves (its configurations and the keys it verifies tokens with); with
// RolesGeneration (endpoints, branches, roles) it stamps cached answers as
// RolesGeneration alone stamps verifiers.
func (s *Store) DataAPIGeneration() uint64 { return s.dataAPI.Load() }

// DataAPIChanged moves DataAPIGeneration: deferred by this file's writes,
// and called by those who change what a database's Data API serves
// outside the store (its signing keys).
func (s *Store) DataAPIChanged() { s.dataAPI.Add(1) }

// InsertDataAPI records a database's Data API; ErrConflict when it has one.
func (s *Store) InsertDataAPI(ctx context.Context, d DataAPI) (DataAPI, error) {
	defer s.DataAPIChanged()
	if len(d.Settings) == 0 {
		d.Settings = json.RawMessage(`{}`)
	}
	out, err := scanDataAPI(s.pool.QueryRow(ctx, `INSERT INTO data_apis (branch_id, database_name, auth_provider, jwks_url,
		provider_name, jwt_audience, add_default_grants, skip_auth_schema, settings, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING `+dataAPICols,
		d.BranchID, d.Database, d.AuthProvider, nullable(d.JWKSURL), nullable(d.ProviderName), nullable(d.JWTAudience),
		d.AddDefaultGrants, d.SkipAuthSchema, d.Settings, d.CreatedAt))
	return out, mapErr(fmt.Sprintf("enable the Data API of database %q", d.Database), err)
}

// GetDataAPI returns a database's Data API.
func (s *Store) GetDataAPI(ctx context.Context, branchID, database string) (DataAPI, error) {
	d, err := scanDataAPI(s.pool.QueryRow(ctx, `SELECT `+dataAPICols+` FROM data_apis WHERE branch_id = $1 AND database_name = $2`,
		branchID, database))
	return d, mapErr(fmt.Sprintf("get the Data API of database %q", database), err)
}

// BranchDataAPIs returns the Data APIs of a branch's databases.
func (s *Store) BranchDataAPIs(ctx context.Context, branchID string) ([]DataAPI, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+dataAPICols+` FROM data_apis WHERE branch_id = $1 ORDER BY database_name`, branchID)
	if err != nil {
		return nil, mapErr("branch Data APIs", err)
	}
	return collect(rows, scanDataAPI)
}

// SetDataAPISettings replaces a Data API's settings and moves its
// generation, even when they are the same: the data plane then reloads its
// schema cache, as Neon's PATCH always does.
func (s *Store) SetDataAPISettings(ctx context.Context, branchID, database string, settings json.RawMessage, at time.Time) (DataAPI, error) {
	defer s.DataAPIChanged()
	d, err := scanDataAPI(s.pool.QueryRow(ctx, `UPDATE data_apis SET settings = $3, updated_at = $4,
		generation = nextval('data_api_generation') WHERE branch_id = $1 AND database_name = $2 RETURNING `+dataAPICols,
		branchID, database, settings, at))
	return d, mapErr(fmt.Sprintf("update the Data API of database %q", database), err)
}

// TouchDataAPIs moves the generation of a branch's Data APIs: their
// databases were provisioned again (after a restore, say) and the data
// plane's schema caches are stale.
func (s *Store) TouchDataAPIs(ctx context.Context, branchID string) error {
	defer s.DataAPIChanged()
	_, err := s.pool.Exec(ctx, `UPDATE data_apis SET generation = nextval('data_api_generation') WHERE branch_id = $1`, branchID)
	return mapErr("touch branch Data APIs", err)
}

// DeleteDataAPI removes a database's Data API.
func (s *Store) DeleteDataAPI(ctx context.Context, branchID, database string) error {
	defer s.DataAPIChanged()
	tag, err := s.pool.Exec(ctx, `DELETE FROM data_apis WHERE branch_id = $1 AND database_name = $2`, branchID, database)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapErr(fmt.Sprintf("disable the Data API of database %q", database), err)
}

// copyDataAPIsTx gives branch to the Data APIs of from, within tx: a
// child inherits its parent's, a restore's backup keeps the old ones.
func copyDataAPIsTx(ctx context.Context, tx pgx.Tx, from, to string, at time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO data_apis (branch_id, database_name, auth_provider, jwks_url, provider_name,
		jwt_audience, add_default_grants, skip_auth_schema, settings, created_at, updated_at)
		SELECT $2, database_name, auth_provider, jwks_url, provider_name, jwt_audience, add_default_grants,
		skip_auth_schema, settings, $3, $3 FROM data_apis WHERE branch_id = $1
		ON CONFLICT (branch_id, database_name) DO NOTHING`, from, to, at)
	return err
}

// databaseGoneTx follows a database's drop or rename within tx.
func databaseGoneTx(ctx context.Context, tx pgx.Tx, branchID, name, newName string) error {
	if newName != "" {
		_, err := tx.Exec(ctx, `UPDATE data_apis SET database_name = $3, generation = nextval('data_api_generation')
			WHERE branch_id = $1 AND database_name = $2`, branchID, name, newName)
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM data_apis WHERE branch_id = $1 AND database_name = $2`, branchID, name)
	return err
}

// EndpointDataAPI is what serving a database's Data API on an endpoint
// needs from the metadata, read in one query.
type EndpointDataAPI struct {
	Route   EndpointRoute
	DataAPI *DataAPI // nil: not enabled
	// Authenticator's sealed password, nil when not stored.
	SealedPassword []byte
}

// GetEndpointDataAPI returns an endpoint's route and the Data API of one
// of its branch's databases; ErrNotFound when the endpoint is not live.
func (s *Store) GetEndpointDataAPI(ctx context.Context, endpointID, database, authenticator string) (EndpointDataAPI, error) {
	var out EndpointDataAPI
	r, err := s.GetEndpointRoute(ctx, endpointID)
	if err != nil {
		return out, err
	}
	out.Route = r
	d, err := scanDataAPI(s.pool.QueryRow(ctx, `SELECT `+dataAPICols+` FROM data_apis WHERE branch_id = $1 AND database_name = $2`,
		r.Endpoint.BranchID, database))
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return out, mapErr("get endpoint Data API", err)
	}
	out.DataAPI = &d
	err = s.pool.QueryRow(ctx, `SELECT sealed_password FROM roles WHERE branch_id = $1 AND name = $2`,
		r.Endpoint.BranchID, authenticator).Scan(&out.SealedPassword)
	if errors.Is(err, pgx.ErrNoRows) {
		err = nil
	}
	return out, mapErr("get endpoint Data API", err)
}
