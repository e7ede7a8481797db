package dataapispec

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/grovedb/grove/internal/errkind"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, body string
		wantErr    string // substring; "" = valid
		provider   string
	}{
		{"neon_auth", `{"auth_provider":"neon_auth"}`, "", ProviderNeonAuth},
		{"default provider", `{}`, "", ProviderNeonAuth},
		{"external", `{"auth_provider":"external","jwks_url":"https://example.com/.well-known/jwks.json","jwt_audience":"app"}`, "", ProviderExternal},
		{"unknown provider", `{"auth_provider":"clerk"}`, `auth_provider "clerk" is not supported`, ""},
		{"external without jwks", `{"auth_provider":"external"}`, "jwks_url is required", ""},
		{"bad jwks url", `{"auth_provider":"external","jwks_url":"ftp://x/y"}`, "must be an absolute http or https URL", ""},
		{"relative jwks url", `{"auth_provider":"external","jwks_url":"/jwks.json"}`, "must be an absolute", ""},
		{"jwks with neon_auth", `{"auth_provider":"neon_auth","jwks_url":"https://x/y"}`, "jwks_url is only for", ""},
		{"negative max rows", `{"settings":{"db_max_rows":-1}}`, "db_max_rows must not be negative", ""},
		{"negative jwt cache", `{"settings":{"jwt_cache_max_lifetime":-5}}`, "jwt_cache_max_lifetime", ""},
		{"empty schemas", `{"settings":{"db_schemas":[]}}`, "at least one schema", ""},
		{"system schema", `{"settings":{"db_schemas":["pg_catalog"]}}`, `schema "pg_catalog" cannot be exposed`, ""},
		{"information_schema", `{"settings":{"db_schemas":["public","information_schema"]}}`, "cannot be exposed", ""},
		{"duplicate schema", `{"settings":{"db_schemas":["a","a"]}}`, "twice", ""},
		{"empty schema name", `{"settings":{"db_schemas":[""]}}`, "1 to 63 bytes", ""},
		{"extra search path", `{"settings":{"db_extra_search_path":"public, extensions"}}`, "", ProviderNeonAuth},
		{"extra search path system", `{"settings":{"db_extra_search_path":"pg_toast"}}`, "cannot be exposed", ""},
		{"anon role reserved", `{"settings":{"db_anon_role":"cloud_admin"}}`, "reserved", ""},
		{"anon role authenticator", `{"settings":{"db_anon_role":"authenticator"}}`, "cannot be", ""},
		{"anon role off", `{"settings":{"db_anon_role":""}}`, "", ProviderNeonAuth},
		{"openapi mode", `{"settings":{"openapi_mode":"follow-privileges"}}`, "", ProviderNeonAuth},
		{"bad openapi mode", `{"settings":{"openapi_mode":"on"}}`, "openapi_mode", ""},
		{"role claim key", `{"settings":{"jwt_role_claim_key":"role"}}`, "JSPath", ""},
		{"cors", `{"settings":{"server_cors_allowed_origins":"https://a.example, http://localhost:3000"}}`, "", ProviderNeonAuth},
		{"bad cors", `{"settings":{"server_cors_allowed_origins":"a.example"}}`, "not an origin", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r CreateRequest
			if err := json.Unmarshal([]byte(tt.body), &r); err != nil {
				t.Fatal(err)
			}
			err := r.Normalize()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Normalize: %v", err)
				}
				if r.AuthProvider != tt.provider {
					t.Errorf("provider %q, want %q", r.AuthProvider, tt.provider)
				}
				return
			}
			var e *errkind.Error
			if !errors.As(err, &e) || e.Kind != errkind.Invalid || !strings.Contains(e.Msg, tt.wantErr) {
				t.Fatalf("Normalize = %v, want a 400 containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestEffectiveAndMerge(t *testing.T) {
	var stored Settings
	if err := json.Unmarshal([]byte(`{"db_schemas":["api"],"db_max_rows":100}`), &stored); err != nil {
		t.Fatal(err)
	}
	var patch Settings
	if err := json.Unmarshal([]byte(`{"db_max_rows":5,"db_anon_role":"","server_timing_enabled":true}`), &patch); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(Merge(stored, patch).Effective())
	want := `{"db_aggregates_enabled":true,"db_anon_role":"","db_max_rows":5,"db_schemas":["api"],"jwt_role_claim_key":".role","openapi_mode":"disabled","server_timing_enabled":true}`
	if string(got) != want {
		t.Errorf("merged effective:\n got %s\nwant %s", got, want)
	}
	def, _ := json.Marshal(Settings{}.Effective())
	if want := `{"db_aggregates_enabled":true,"db_anon_role":"anonymous","db_schemas":["public"],"jwt_role_claim_key":".role","openapi_mode":"disabled","server_timing_enabled":false}`; string(def) != want {
		t.Errorf("defaults:\n got %s\nwant %s", def, want)
	}
	var sv Served
	sv.SetSettings(Merge(stored, Settings{DBExtraSearchPath: ptr("extensions, util"), ServerCORSAllowedOrigins: ptr("https://a.example")}))
	want2 := Served{Schemas: []string{"api"}, AnonRole: "anonymous", ExtraSearchPath: []string{"extensions", "util"}, MaxRows: 100,
		RoleClaimKey: ".role", AggregatesEnabled: true, CORSOrigins: []string{"https://a.example"}, OpenAPIMode: "disabled"}
	if !reflect.DeepEqual(sv, want2) {
		t.Errorf("SetSettings:\n got %+v\nwant %+v", sv, want2)
	}
}

// TestJWTCacheSeconds: jwt_cache_max_lifetime reaches the verifier as
// PostgREST reads it, 0 turning the cache off.
func TestJWTCacheSeconds(t *testing.T) {
	for _, tt := range []struct {
		setting *int
		want    int
	}{{nil, 0}, {ptr(0), -1}, {ptr(30), 30}} {
		var sv Served
		sv.SetSettings(Settings{JWTCacheMaxLifetime: tt.setting})
		if sv.JWTCacheSeconds != tt.want {
			t.Errorf("jwt_cache_max_lifetime %v: %d, want %d", tt.setting, sv.JWTCacheSeconds, tt.want)
		}
	}
}

func TestSigningKeyAndJWKS(t *testing.T) {
	k, err := NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	var pub, priv map[string]string
	if err := json.Unmarshal([]byte(k.Public), &pub); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(k.Private), &priv); err != nil {
		t.Fatal(err)
	}
	if pub["kid"] != k.ID || pub["d"] != "" || priv["d"] == "" || pub["kty"] != "OKP" || pub["crv"] != "Ed25519" || pub["x"] != priv["x"] {
		t.Fatalf("key: public %v private %v", pub, priv)
	}
	set := JWKS([]StoredKey{
		{ID: k.ID, Public: k.Public},
		{ID: "row-2", Public: `{"kty":"OKP","crv":"Ed25519","x":"abc","d":"secret"}`},
		{ID: "row-3", Public: `not json`},
		{ID: "row-4", Public: `{"kty":"RSA","n":"x","e":"AQAB"}`},
	})
	var got struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(set, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Keys) != 2 || got.Keys[0]["kid"] != k.ID || got.Keys[1]["kid"] != "row-2" || got.Keys[1]["d"] != "" || got.Keys[1]["alg"] != "EdDSA" {
		t.Errorf("JWKS = %s", set)
	}
	if string(JWKS(nil)) != `{"keys":[]}` {
		t.Errorf("empty JWKS = %s", JWKS(nil))
	}
}

func TestProvision(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		has  []string
		not  []string
	}{
		{"neon_auth", Options{AuthProvider: ProviderNeonAuth}, []string{"auth.user_id()", "neon_auth.jwks", "ddl_command_end", "sql_drop", "GRANT anonymous, authenticated TO authenticator"}, []string{"ALL TABLES IN SCHEMA public TO"}},
		{"external, grants, no auth schema", Options{AuthProvider: ProviderExternal, AddDefaultGrants: true, SkipAuthSchema: true}, []string{"ALL TABLES IN SCHEMA public TO authenticated", "ddl_command_end"}, []string{"auth.user_id()", "neon_auth"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := Provision(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			var all strings.Builder
			for _, s := range st {
				all.WriteString(s.SQL + "\n")
			}
			for _, h := range tt.has {
				if !strings.Contains(all.String(), h) {
					t.Errorf("provisioning lacks %q", h)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(all.String(), n) {
					t.Errorf("provisioning has %q", n)
				}
			}
		})
	}
}
