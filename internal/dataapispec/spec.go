// Package dataapispec is the Data API's configuration of one branch
// database: Neon's request and response fields, their defaults, and what
// the data plane needs to serve it.
package dataapispec

import "errors"

// Settings are Neon's DataAPISettings. Pointers are fields a request may
// leave out; Effective fills the defaults.
type Settings struct {
	DBAggregatesEnabled      *bool    `json:"db_aggregates_enabled,omitempty"`
	DBAnonRole               *string  `json:"db_anon_role,omitempty"`
	DBExtraSearchPath        *string  `json:"db_extra_search_path,omitempty"`
	DBMaxRows                *int     `json:"db_max_rows,omitempty"`
	DBSchemas                []string `json:"db_schemas,omitempty"`
	JWTRoleClaimKey          *string  `json:"jwt_role_claim_key,omitempty"`
	JWTCacheMaxLifetime      *int     `json:"jwt_cache_max_lifetime,omitempty"`
	OpenAPIMode              *string  `json:"openapi_mode,omitempty"`
	ServerCORSAllowedOrigins *string  `json:"server_cors_allowed_origins,omitempty"`
	ServerTimingEnabled      *bool    `json:"server_timing_enabled,omitempty"`
}

// Auth providers.
const (
	ProviderNeonAuth = "neon_auth"
	ProviderExternal = "external"
)

// Served is what the data plane needs to serve one branch database.
type Served struct {
	ProjectID, BranchID, EndpointID, Database string

	// Effective settings, defaults filled in.
	Schemas           []string // exposed, in order; the first is the default
	AnonRole          string   // "" = anonymous requests are refused
	ExtraSearchPath   []string
	MaxRows           int // 0 = no cap
	RoleClaimKey      string
	AggregatesEnabled bool
	// JWTCacheSeconds is jwt_cache_max_lifetime as jwtauth.Rules takes it:
	// 0 unset (until the token expires), -1 set to 0 (no cache).
	JWTCacheSeconds int
	CORSOrigins     []string // empty = any origin
	OpenAPIMode     string   // "disabled", "follow-privileges" or "ignore-privileges"
	ServerTiming    bool

	// Auth: the provider, the JWKS to verify tokens with (neon_auth: the
	// public keys of the database's neon_auth.jwks, inline), the audience
	// tokens must not contradict ("" = any) and, for neon_auth, the issuer
	// they must name (the branch's auth URL's origin: a token of another
	// branch, signed with the keys the branch was cloned with, fails it).
	AuthProvider string
	JWKSURL      string // external
	JWKS         []byte // neon_auth
	Audience     string
	Issuer       string

	// AuthenticatorPassword logs the data plane in as "authenticator".
	AuthenticatorPassword string

	// Generation changes whenever anything above changes or the schema
	// cache must be reloaded (PATCH).
	Generation uint64
}

// ErrNotEnabled is returned (wrapped) for a database without the Data API.
var ErrNotEnabled = errors.New("the Data API is not enabled")
