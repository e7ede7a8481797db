package dataapispec

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/reserved"
)

// Defaults of Neon's DataAPISettings.
const (
	DefaultSchema       = "public"
	DefaultAnonRole     = "anonymous"
	DefaultRoleClaimKey = ".role"
	DefaultOpenAPIMode  = "disabled"
)

// The roles the Data API provisions in a branch: the data plane logs in as
// AuthenticatorRole and switches, per request, to AnonRole or AuthedRole
// (or the role a token names).
const (
	AuthenticatorRole = "authenticator"
	AnonRole          = "anonymous"
	AuthedRole        = "authenticated"
)

// Roles are the roles enabling the Data API adds to a branch, as Neon's
// branches show them.
var Roles = []string{AuthenticatorRole, AnonRole, AuthedRole}

// openAPIModes are the values of openapi_mode PostgREST knows.
var openAPIModes = []string{"disabled", "follow-privileges", "ignore-privileges"}

// CreateRequest is Neon's DataAPICreateRequest.
type CreateRequest struct {
	AuthProvider     string    `json:"auth_provider,omitempty"`
	JWKSURL          string    `json:"jwks_url,omitempty"`
	ProviderName     string    `json:"provider_name,omitempty"`
	JWTAudience      string    `json:"jwt_audience,omitempty"`
	AddDefaultGrants bool      `json:"add_default_grants,omitempty"`
	SkipAuthSchema   bool      `json:"skip_auth_schema,omitempty"`
	Settings         *Settings `json:"settings,omitempty"`
}

// UpdateRequest is Neon's DataAPIUpdateRequest.
type UpdateRequest struct {
	Settings *Settings `json:"settings,omitempty"`
}

func invalid(format string, args ...any) error {
	return errkind.New(errkind.Invalid, "invalid request: "+format, args...)
}

// Normalize checks a create request and fills what it may leave out: the
// provider is neon_auth when absent, as in Neon's console.
func (r *CreateRequest) Normalize() error {
	if r.AuthProvider == "" {
		r.AuthProvider = ProviderNeonAuth
	}
	switch r.AuthProvider {
	case ProviderNeonAuth:
		if r.JWKSURL != "" {
			return invalid("jwks_url is only for auth_provider %q (neon_auth uses the branch's own keys)", ProviderExternal)
		}
	case ProviderExternal:
		if r.JWKSURL == "" {
			return invalid("jwks_url is required with auth_provider %q", ProviderExternal)
		}
		if err := checkJWKSURL(r.JWKSURL); err != nil {
			return err
		}
	default:
		return invalid("auth_provider %q is not supported: use %q or %q", r.AuthProvider, ProviderNeonAuth, ProviderExternal)
	}
	if len(r.ProviderName) > 256 || len(r.JWTAudience) > 1024 {
		return invalid("provider_name or jwt_audience is too long")
	}
	if r.Settings != nil {
		return r.Settings.Validate()
	}
	return nil
}

func checkJWKSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || len(s) > 2048 {
		return invalid("jwks_url %q must be an absolute http or https URL without credentials", s)
	}
	return nil
}

// Validate checks settings as a request gives them; fields left out are
// not checked.
func (s Settings) Validate() error {
	if s.DBSchemas != nil {
		if len(s.DBSchemas) == 0 {
			return invalid("settings.db_schemas must name at least one schema")
		}
		for i, n := range s.DBSchemas {
			if err := checkSchema("settings.db_schemas", n); err != nil {
				return err
			}
			if slices.Contains(s.DBSchemas[:i], n) {
				return invalid("settings.db_schemas names schema %q twice", n)
			}
		}
	}
	if s.DBExtraSearchPath != nil {
		for _, n := range splitList(*s.DBExtraSearchPath) {
			if err := checkSchema("settings.db_extra_search_path", n); err != nil {
				return err
			}
		}
	}
	if s.DBAnonRole != nil && *s.DBAnonRole != "" {
		if err := reserved.CheckRole("settings.db_anon_role", *s.DBAnonRole); err != nil {
			return err
		}
		if *s.DBAnonRole == AuthenticatorRole {
			return invalid("settings.db_anon_role cannot be %q", AuthenticatorRole)
		}
	}
	if s.DBMaxRows != nil && *s.DBMaxRows < 0 {
		return invalid("settings.db_max_rows must not be negative")
	}
	if s.JWTCacheMaxLifetime != nil && *s.JWTCacheMaxLifetime < 0 {
		return invalid("settings.jwt_cache_max_lifetime must not be negative")
	}
	if s.JWTRoleClaimKey != nil {
		k := *s.JWTRoleClaimKey
		if len(k) < 2 || len(k) > 256 || (k[0] != '.' && k[0] != '[') {
			return invalid("settings.jwt_role_claim_key %q must be a JSPath such as \".role\"", k)
		}
	}
	if s.OpenAPIMode != nil && !slices.Contains(openAPIModes, *s.OpenAPIMode) {
		return invalid("settings.openapi_mode %q must be one of %s", *s.OpenAPIMode, strings.Join(openAPIModes, ", "))
	}
	if s.ServerCORSAllowedOrigins != nil {
		for _, o := range splitList(*s.ServerCORSAllowedOrigins) {
			if o == "*" {
				continue
			}
			u, err := url.Parse(o)
			if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
				return invalid("settings.server_cors_allowed_origins: %q is not an origin such as https://example.com", o)
			}
		}
	}
	return nil
}

// checkSchema refuses names Postgres could not hold and the system's
// schemas, which the Data API must never expose.
func checkSchema(field, n string) error {
	if err := reserved.CheckName(field, n); err != nil {
		return err
	}
	if SystemSchema(n) {
		return invalid("%s: schema %q cannot be exposed", field, n)
	}
	return nil
}

// SystemSchema reports whether a schema is Postgres's or the platform's.
func SystemSchema(n string) bool {
	return strings.HasPrefix(n, "pg_") || n == "information_schema" || n == PlatformSchema
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Merge returns stored with the fields patch gives replaced.
func Merge(stored, patch Settings) Settings {
	out := stored
	set := func(dst **string, src *string) {
		if src != nil {
			*dst = src
		}
	}
	set(&out.DBAnonRole, patch.DBAnonRole)
	set(&out.DBExtraSearchPath, patch.DBExtraSearchPath)
	set(&out.JWTRoleClaimKey, patch.JWTRoleClaimKey)
	set(&out.OpenAPIMode, patch.OpenAPIMode)
	set(&out.ServerCORSAllowedOrigins, patch.ServerCORSAllowedOrigins)
	if patch.DBAggregatesEnabled != nil {
		out.DBAggregatesEnabled = patch.DBAggregatesEnabled
	}
	if patch.ServerTimingEnabled != nil {
		out.ServerTimingEnabled = patch.ServerTimingEnabled
	}
	if patch.DBMaxRows != nil {
		out.DBMaxRows = patch.DBMaxRows
	}
	if patch.JWTCacheMaxLifetime != nil {
		out.JWTCacheMaxLifetime = patch.JWTCacheMaxLifetime
	}
	if patch.DBSchemas != nil {
		out.DBSchemas = slices.Clone(patch.DBSchemas)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// Effective returns s with Neon's defaults filled in, as GET shows them.
func (s Settings) Effective() Settings {
	out := s
	if out.DBAggregatesEnabled == nil {
		out.DBAggregatesEnabled = ptr(true)
	}
	if out.DBAnonRole == nil {
		out.DBAnonRole = ptr(DefaultAnonRole)
	}
	if len(out.DBSchemas) == 0 {
		out.DBSchemas = []string{DefaultSchema}
	}
	if out.JWTRoleClaimKey == nil {
		out.JWTRoleClaimKey = ptr(DefaultRoleClaimKey)
	}
	if out.OpenAPIMode == nil {
		out.OpenAPIMode = ptr(DefaultOpenAPIMode)
	}
	if out.ServerTimingEnabled == nil {
		out.ServerTimingEnabled = ptr(false)
	}
	return out
}

// SetSettings fills the settings fields of sv from s (defaults applied).
func (sv *Served) SetSettings(s Settings) {
	e := s.Effective()
	sv.Schemas = slices.Clone(e.DBSchemas)
	sv.AnonRole = *e.DBAnonRole
	sv.ExtraSearchPath = nil
	if e.DBExtraSearchPath != nil {
		sv.ExtraSearchPath = splitList(*e.DBExtraSearchPath)
	}
	sv.MaxRows = 0
	if e.DBMaxRows != nil {
		sv.MaxRows = *e.DBMaxRows
	}
	sv.RoleClaimKey = *e.JWTRoleClaimKey
	sv.AggregatesEnabled = *e.DBAggregatesEnabled
	sv.JWTCacheSeconds = 0
	if c := e.JWTCacheMaxLifetime; c != nil {
		sv.JWTCacheSeconds = *c
		if *c == 0 {
			sv.JWTCacheSeconds = -1 // PostgREST's 0: no cache
		}
	}
	sv.CORSOrigins = nil
	if e.ServerCORSAllowedOrigins != nil {
		sv.CORSOrigins = splitList(*e.ServerCORSAllowedOrigins)
	}
	sv.OpenAPIMode = *e.OpenAPIMode
	sv.ServerTiming = *e.ServerTimingEnabled
}

// NotEnabled returns an error wrapping ErrNotEnabled that names the database.
func NotEnabled(database string) error {
	return fmt.Errorf("%w for database %q", ErrNotEnabled, database)
}
