package apitypes

// DataAPISettings configures a branch database's Data API (spec:
// DataAPISettings). Fields left out keep their value (PATCH) or default.
type DataAPISettings struct {
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

// DataAPICreateRequest enables a database's Data API (spec:
// DataAPICreateRequest). AuthProvider is neon_auth (the default) or
// external, which needs JWKSURL.
type DataAPICreateRequest struct {
	AuthProvider     string           `json:"auth_provider,omitempty"`
	JWKSURL          string           `json:"jwks_url,omitempty"`
	ProviderName     string           `json:"provider_name,omitempty"`
	JWTAudience      string           `json:"jwt_audience,omitempty"`
	AddDefaultGrants bool             `json:"add_default_grants,omitempty"`
	SkipAuthSchema   bool             `json:"skip_auth_schema,omitempty"`
	Settings         *DataAPISettings `json:"settings,omitempty"`
}

// DataAPICreateResponse is the Data API's URL (spec: DataAPICreateResponse).
type DataAPICreateResponse struct {
	URL string `json:"url"`
}

// DataAPIResponse is a database's Data API (spec: DataAPIReponse): its
// URL, status "active", effective settings and the database's schemas.
type DataAPIResponse struct {
	URL              string           `json:"url"`
	Status           string           `json:"status"`
	Settings         *DataAPISettings `json:"settings,omitempty"`
	AvailableSchemas []string         `json:"available_schemas,omitempty"`
}

// DataAPIUpdateRequest changes a Data API's settings (spec:
// DataAPIUpdateRequest); the schema cache is refreshed even without any.
type DataAPIUpdateRequest struct {
	Settings *DataAPISettings `json:"settings,omitempty"`
}
