package dataapispec

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/computesql"
)

// PlatformSchema holds the platform's own objects in a Data API database
// (the DDL watch); it belongs to the superuser and is never exposed.
const PlatformSchema = "grove_data_api"

// ReloadChannel and ReloadPayload are PostgREST's schema cache reload
// notification, which the DDL watch sends and users may send themselves.
const (
	ReloadChannel = "pgrst"
	ReloadPayload = "reload schema"
)

// ddlWatch names the event triggers; their presence in a database says
// the database was provisioned (ProvisionedQuery).
const ddlWatch = "grove_data_api_ddl_watch"

// DDLCounter counts DDL statements in a provisioned database.
const DDLCounter = PlatformSchema + ".ddl_count"

// DDLCountQuery reads DDLCounter: the number of DDL statements run since
// the database was provisioned.
const DDLCountQuery = `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM ` + DDLCounter

// ProvisionedQuery answers whether a database has been provisioned for the
// Data API: a copy of its data from before the Data API was enabled has not.
const ProvisionedQuery = `SELECT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = '` + ddlWatch + `')`

// SchemasQuery lists a database's schemas that the Data API could expose,
// for GET's available_schemas.
const SchemasQuery = `SELECT nspname::text FROM pg_namespace
	WHERE nspname NOT LIKE 'pg\_%' AND nspname NOT IN ('information_schema', '` + PlatformSchema + `') ORDER BY nspname`

// Statement is one SQL statement with its parameters.
type Statement struct {
	SQL  string
	Args []any
}

// Options say what to provision in a database.
type Options struct {
	AuthProvider     string
	AddDefaultGrants bool
	SkipAuthSchema   bool
}

// RoleStatements give the Data API's roles the attributes PostgREST needs,
// making them if missing (without a password: the platform records the
// authenticator's and its compute gets the verifier as for any role). The
// roles get nothing a tenant role has by default: anonymous web requests
// run as them.
func RoleStatements() []Statement {
	var sql string
	for _, r := range Roles {
		sql += `IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ` + computesql.Literal(r) + `) THEN CREATE ROLE ` +
			computesql.Ident(r) + ` NOLOGIN; END IF;` + "\n"
	}
	no := ` NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`
	return []Statement{
		{SQL: "DO $grove$ BEGIN\n" + sql + "END $grove$"},
		{SQL: `ALTER ROLE ` + AuthenticatorRole + ` LOGIN NOINHERIT` + no},
		{SQL: `ALTER ROLE ` + AnonRole + ` NOLOGIN` + no},
		{SQL: `ALTER ROLE ` + AuthedRole + ` NOLOGIN` + no},
		{SQL: `GRANT ` + AnonRole + `, ` + AuthedRole + ` TO ` + AuthenticatorRole},
	}
}

// authSchema is pg_session_jwt's no-JWK mode in SQL: the claims the data
// plane puts in request.jwt.claims. Missing, empty or invalid JSON gives a
// JSON null session and a NULL user, never an error.
const authSchema = `CREATE SCHEMA IF NOT EXISTS auth;
CREATE OR REPLACE FUNCTION auth.session() RETURNS jsonb LANGUAGE plpgsql STABLE AS $f$
DECLARE c text := current_setting('request.jwt.claims', true);
BEGIN
  IF c IS NULL OR c = '' THEN RETURN 'null'::jsonb; END IF;
  RETURN c::jsonb;
EXCEPTION WHEN invalid_text_representation THEN
  RETURN 'null'::jsonb;
END $f$;
CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $f$ SELECT auth.session() $f$;
CREATE OR REPLACE FUNCTION auth.user_id() RETURNS text LANGUAGE sql STABLE AS $f$
  SELECT CASE WHEN jsonb_typeof(s) = 'object' THEN s ->> 'sub' END FROM auth.session() AS s $f$;
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $f$
  SELECT CASE WHEN u ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' THEN u::uuid END
  FROM auth.user_id() AS u $f$;
GRANT EXECUTE ON FUNCTION auth.session(), auth.jwt(), auth.user_id(), auth.uid() TO PUBLIC;
GRANT USAGE ON SCHEMA auth TO PUBLIC`

// defaultGrants are Neon's recommended grants (add_default_grants): the
// public schema's tables to authenticated users, now and for the tables
// the database's owner makes later.
const defaultGrants = `GRANT USAGE ON SCHEMA public TO ` + AuthedRole + `;
GRANT SELECT, UPDATE, INSERT, DELETE ON ALL TABLES IN SCHEMA public TO ` + AuthedRole + `;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ` + AuthedRole + `;
DO $grove$ DECLARE o text; BEGIN
  SELECT pg_get_userbyid(datdba) INTO o FROM pg_database WHERE datname = current_database();
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT SELECT, UPDATE, INSERT, DELETE ON TABLES TO ` + AuthedRole + `', o);
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ` + AuthedRole + `', o);
END $grove$`

// watchDDL makes the event triggers that ask the data plane to reload its
// schema cache after DDL. They belong to the superuser (only it can make
// event triggers) and fire for every role. Each also counts the DDL in a
// sequence (no lock, so concurrent DDL never waits on it), which the data
// plane reads to learn whether DDL happened while it was not listening:
// it keeps a database's schema cache while the compute sleeps.
const watchDDL = `CREATE SCHEMA IF NOT EXISTS ` + PlatformSchema + `;
REVOKE ALL ON SCHEMA ` + PlatformSchema + ` FROM PUBLIC;
CREATE SEQUENCE IF NOT EXISTS ` + DDLCounter + `;
GRANT USAGE ON SCHEMA ` + PlatformSchema + ` TO ` + AuthenticatorRole + `;
GRANT SELECT ON SEQUENCE ` + DDLCounter + ` TO ` + AuthenticatorRole + `;
CREATE OR REPLACE FUNCTION ` + PlatformSchema + `.reload_schema() RETURNS event_trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
  PERFORM nextval('` + DDLCounter + `');
  PERFORM pg_notify('` + ReloadChannel + `', '` + ReloadPayload + `');
END $f$;
REVOKE ALL ON FUNCTION ` + PlatformSchema + `.reload_schema() FROM PUBLIC;
DO $grove$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = '` + ddlWatch + `') THEN
    CREATE EVENT TRIGGER ` + ddlWatch + ` ON ddl_command_end EXECUTE FUNCTION ` + PlatformSchema + `.reload_schema();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = '` + ddlWatch + `_drop') THEN
    CREATE EVENT TRIGGER ` + ddlWatch + `_drop ON sql_drop EXECUTE FUNCTION ` + PlatformSchema + `.reload_schema();
  END IF;
END $grove$`

// neonAuthKeys makes neon_auth.jwks as Better Auth keeps it (so that Auth,
// enabled later, takes the key over) and closes the schema to the Data
// API's roles: it holds private keys and, with Auth, users' secrets. What
// it makes belongs to the database's owner, as Neon's neon_auth does.
const neonAuthKeys = `DO $grove$ DECLARE o text; BEGIN
  SELECT pg_get_userbyid(datdba) INTO o FROM pg_database WHERE datname = current_database();
  IF to_regnamespace('neon_auth') IS NULL THEN
    CREATE SCHEMA neon_auth;
    EXECUTE format('ALTER SCHEMA neon_auth OWNER TO %I', o);
  END IF;
  IF to_regclass('neon_auth.jwks') IS NULL THEN
    CREATE TABLE neon_auth.jwks (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      "publicKey" text NOT NULL,
      "privateKey" text NOT NULL,
      "createdAt" timestamptz NOT NULL DEFAULT now(),
      "expiresAt" timestamptz);
    EXECUTE format('ALTER TABLE neon_auth.jwks OWNER TO %I', o);
  END IF;
END $grove$;
REVOKE ALL ON SCHEMA neon_auth FROM PUBLIC, ` + AuthenticatorRole + `, ` + AnonRole + `, ` + AuthedRole + `;
REVOKE ALL ON ALL TABLES IN SCHEMA neon_auth FROM PUBLIC, ` + AuthenticatorRole + `, ` + AnonRole + `, ` + AuthedRole

// insertKey adds a signing key when the table has none.
const insertKey = `INSERT INTO neon_auth.jwks (id, "publicKey", "privateKey", "createdAt")
	SELECT $1, $2, $3, now() WHERE NOT EXISTS (SELECT 1 FROM neon_auth.jwks)`

// KeysQuery reads the public keys tokens may be signed with.
const KeysQuery = `SELECT id::text, "publicKey" FROM neon_auth.jwks
	WHERE "expiresAt" IS NULL OR "expiresAt" > now() ORDER BY "createdAt" DESC, id`

// KeysTableQuery says whether neon_auth.jwks exists.
const KeysTableQuery = `SELECT to_regclass('neon_auth.jwks') IS NOT NULL`

// Provision returns the statements that provision a database for the Data
// API, in order, each safe to run again. Roles come first (RoleStatements).
func Provision(o Options) ([]Statement, error) {
	st := RoleStatements()
	if !o.SkipAuthSchema {
		st = append(st, Statement{SQL: authSchema})
	}
	if o.AddDefaultGrants {
		st = append(st, Statement{SQL: defaultGrants})
	}
	st = append(st, Statement{SQL: watchDDL})
	if o.AuthProvider == ProviderNeonAuth {
		k, err := NewSigningKey()
		if err != nil {
			return nil, err
		}
		st = append(st, Statement{SQL: neonAuthKeys}, Statement{SQL: insertKey, Args: []any{k.ID, k.Public, k.Private}})
	}
	return st, nil
}

// SigningKey is an Ed25519 key as neon_auth.jwks keeps it: public and
// private JWKs (JSON) whose kid is the row's id, as Better Auth names them.
type SigningKey struct {
	ID              string
	Public, Private string
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	D   string `json:"d,omitempty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

// NewSigningKey makes an Ed25519 signing key.
func NewSigningKey() (SigningKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return SigningKey{}, fmt.Errorf("make signing key: %w", err)
	}
	id := uuid.NewString()
	enc := base64.RawURLEncoding.EncodeToString
	k := jwk{Kty: "OKP", Crv: "Ed25519", X: enc(pub), Kid: id, Alg: "EdDSA"}
	p, _ := json.Marshal(k)
	k.D = enc(priv.Seed())
	s, _ := json.Marshal(k)
	return SigningKey{ID: id, Public: string(p), Private: string(s)}, nil
}

// StoredKey is a row of neon_auth.jwks: its id and public key JSON.
type StoredKey struct{ ID, Public string }

// JWKS builds a JWK set from stored public keys; a key without kid takes
// its row's id, and private members are dropped should a row carry them.
// Rows that are not Ed25519 JWKs are skipped.
func JWKS(keys []StoredKey) []byte {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	for _, k := range keys {
		var j jwk
		if err := json.Unmarshal([]byte(k.Public), &j); err != nil || j.Kty != "OKP" || j.Crv != "Ed25519" || j.X == "" {
			continue
		}
		j.D = ""
		if j.Kid == "" {
			j.Kid = k.ID
		}
		if j.Alg == "" {
			j.Alg = "EdDSA"
		}
		set.Keys = append(set.Keys, j)
	}
	out, _ := json.Marshal(set)
	return out
}
