// Package deptest enforces the direction of dependencies between Grove's
// packages (STYLE.md): components know nothing of the platform or of HTTP,
// the platform knows nothing of HTTP or the wire, and the API layer reaches
// storage only through the platform. Every package of the module has a rule,
// so a new package must say where it sits. It needs only the go command, so
// it runs in the fast tier.
package deptest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/grovedb/grove/"

// forbidden maps a package to packages it must not depend on, directly or
// not. An entry ending in "/" forbids everything under it. An empty list
// records that the package was placed and may depend on anything below it.
var forbidden = map[string][]string{
	"internal/storage":     {mod + "internal/platform", mod + "internal/compute", mod + "internal/apiserver", "net/http"},
	"internal/compute":     {mod + "internal/platform", mod + "internal/apiserver", mod + "internal/proxy", "net/http"},
	"internal/pgconf":      {mod + "internal/platform", "net/http"},
	"internal/pooler":      {mod + "internal/platform", mod + "internal/compute", mod + "internal/proxy", "net/http"},
	"internal/pgrun":       {mod + "internal/platform", "net/http"},
	"internal/pgversion":   {mod + "internal/platform", "net/http"},
	"internal/scram":       {mod + "internal/platform", "net/http"},
	"internal/proxy":       {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver"},
	"internal/proxy/route": {mod + "internal/platform", mod + "internal/proxy", "net/http", "net"},
	// Pure: a limiter any front door (proxy, HTTP data plane) shares.
	"internal/proxy/authlimit": {mod + "internal/platform", mod + "internal/proxy", "net/http"},
	// SQL over HTTP: a front door beside the proxy, reaching computes through
	// the same Backend; it knows nothing of the platform or its store.
	"internal/sqlhttp": {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute"},
	// Logged-in connections to computes kept between data-plane requests.
	"internal/computepool": {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute", "net/http"},
	// Bytes sent to clients per endpoint, counted by the data plane's doors.
	"internal/egress":    {mod + "internal/", "net/http"},
	"internal/osid":      {mod + "internal/platform", mod + "internal/compute", mod + "internal/pgrun", "net/http"},
	"internal/metastore": {mod + "internal/platform", mod + "internal/apiserver", "net/http"},
	"internal/platform":  {mod + "internal/apiserver", mod + "internal/proxy", "net/http"},
	"internal/metrics":   {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver"},
	"apitypes":           {mod + "internal/", mod + "client", "net/http"},

	// Components below the platform.
	"internal/history":            {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/proxy", "net/http"},
	"internal/autoscale":          {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/proxy", "net/http"},
	"internal/metering":           {mod + "internal/platform", mod + "internal/metastore", mod + "internal/compute", mod + "internal/apiserver", "net/http"},
	"internal/cgroup":             {mod + "internal/platform", mod + "internal/compute", mod + "internal/apiserver", "net/http"},
	"internal/loopdev":            {mod + "internal/platform", mod + "internal/storage", mod + "internal/apiserver", "net/http"},
	"internal/reserve":            {mod + "internal/platform", mod + "internal/compute", mod + "internal/apiserver"},
	"internal/sizelimit":          {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", "net/http"},
	"internal/proxy/proxymetrics": {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver"},

	// Pure rules beside the platform, shared by the platform and the API layer.
	"internal/errkind": {mod + "internal/", "net/http"},
	"internal/ids":     {mod + "internal/", "net/http"},
	// Encrypts role passwords at rest for the platform.
	"internal/sealer":     {mod + "internal/", "net/http"},
	"internal/plans":      {mod + "internal/platform", mod + "internal/apiserver", mod + "internal/compute", mod + "internal/storage", "net/http"},
	"internal/usage":      {mod + "internal/platform", mod + "internal/apiserver", mod + "internal/compute", mod + "internal/storage", "net/http"},
	"internal/computesql": {mod + "internal/platform", mod + "internal/apiserver", mod + "internal/compute", mod + "internal/metastore", "net/http"},
	// Applies a branch's roles and databases to a compute for the platform.
	"internal/rolesync": {mod + "internal/platform", mod + "internal/apiserver", mod + "internal/compute", mod + "internal/proxy", "net/http"},
	// Shared by the platform and the proxy, so it knows neither.
	"internal/reserved": {mod + "internal/platform", mod + "internal/proxy", mod + "internal/apiserver", mod + "internal/compute", "net/http"},
	// Checks and merges projects' JSON settings for the platform.
	"internal/settings": {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute", "net/http"},
	// API keys, principals, orgs and members: below the platform, which
	// asks it what a caller reaches and hands it to the API layer.
	"internal/accounts": {mod + "internal/platform", mod + "internal/apiserver", mod + "internal/compute", mod + "internal/storage", mod + "internal/proxy", "net/http"},
	// Turns endpoint requests into endpoints, shared by the platform and the API layer.
	"internal/endpointspec": {mod + "internal/platform", mod + "internal/apiserver", mod + "internal/compute", mod + "internal/storage", "net/http"},
	// Regions, hosts and connection strings, shared by the platform and the API layer.
	"internal/connuri": {mod + "internal/", "net/http"},
	// Checks branch requests, shared by the platform and the API layer.
	"internal/branchspec": {mod + "internal/platform", mod + "internal/apiserver", mod + "internal/compute", mod + "internal/storage", "net/http"},
	// Checks project create requests, shared by the platform and the API layer.
	"internal/projectspec": {mod + "internal/platform", mod + "internal/apiserver", mod + "internal/compute", mod + "internal/storage", "net/http"},
	// Makes and carries roles' secrets for the platform.
	"internal/rolesecret": {mod + "internal/platform", mod + "internal/apiserver", mod + "internal/compute", mod + "internal/storage", mod + "internal/proxy", "net/http"},
	// The arithmetic of backup schedules, shared by the platform and the API layer.
	"internal/schedule": {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute", "net/http"},
	// Checks requested points in a branch's history for the platform.
	"internal/pitr": {mod + "internal/platform", mod + "internal/apiserver", mod + "internal/proxy", "net/http"},

	// The Data API's parts: PostgREST's errors, the schema cache read from a
	// database, and the configuration of a branch database shared by the
	// platform and the data plane.
	"internal/dataapi/apierr":      {mod + "internal/", "net/http"},
	"internal/dataapi/schemacache": {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute", "net/http"},
	// Verifies the Data API's bearer tokens; fetches JWKS over HTTP itself.
	"internal/dataapi/jwtauth": {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute"},
	// PostgREST's URL grammar and the SQL it becomes: pure, below the handler.
	"internal/dataapi/query":  {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute"},
	"internal/dataapi/sqlgen": {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute"},
	// The Data API's front door: beside SQL over HTTP on the data plane,
	// reaching computes through the same Backend.
	"internal/dataapi":     {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute"},
	"internal/dataapispec": {mod + "internal/platform", mod + "internal/apiserver", mod + "internal/compute", mod + "internal/proxy", "net/http"},

	// The API layer: HTTP above the platform, never below the wire or the CLI.
	"internal/apiserver": {mod + "cmd/", mod + "client", mod + "internal/pooler"},
	"internal/apispec":   {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver"},

	// The public client speaks HTTP with wire types only.
	"client": {mod + "internal/"},

	// Test harnesses start the grove binary and real servers; they know
	// nothing of the platform's insides.
	"internal/pgtest":              {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute"},
	"internal/grovetest":           {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute"},
	"internal/storage/storagetest": {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute"},

	// Test-only packages (no non-test files): their imports are checked by
	// forbiddenImports.
	"internal/e2e":        {},
	"internal/clienttest": {},
	"internal/deptest":    {},
	"bench":               {},

	// The composition root builds every component.
	"cmd/grove": {},
}

// forbiddenImports maps a package to packages it must not import itself,
// tests included, even where it may depend on them through another package.
var forbiddenImports = map[string][]string{
	// Storage, computes and metadata are the platform's to orchestrate.
	"internal/apiserver": {
		mod + "internal/metastore", mod + "internal/storage", mod + "internal/compute",
		mod + "internal/history", mod + "internal/metering", mod + "internal/pgrun", mod + "internal/proxy",
	},
	// Whole-system tests drive the binary through the API and Postgres clients.
	"internal/e2e":        {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute"},
	"internal/clienttest": {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", mod + "internal/compute"},
	"bench":               {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver"},
}

type pkg struct {
	ImportPath                         string
	Imports, TestImports, XTestImports []string
	Deps                               []string
}

// listPackages returns every package of the module, keyed by its path
// relative to the module, from one go list run.
func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports,Deps", mod+"...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, mod)] = p
	}
	return pkgs
}

// matches reports whether path is one of the forbidden entries.
func matches(path string, bad []string) bool {
	return slices.ContainsFunc(bad, func(b string) bool {
		return path == b || (strings.HasSuffix(b, "/") && strings.HasPrefix(path, b))
	})
}

func TestDependencies(t *testing.T) {
	pkgs := listPackages(t)
	for name := range pkgs {
		if _, ok := forbidden[name]; !ok {
			t.Errorf("%s has no rule in forbidden: add one saying what it must not depend on", name)
		}
	}
	for name, bad := range forbidden {
		t.Run(name, func(t *testing.T) {
			p, ok := pkgs[name]
			if !ok {
				t.Fatalf("rule for %s, which is not a package of the module", name)
			}
			for _, d := range append(slices.Clone(p.Imports), p.Deps...) {
				if matches(d, bad) {
					t.Errorf("%s depends on %s", name, d)
				}
			}
		})
	}
	for name, bad := range forbiddenImports {
		t.Run(name+"/imports", func(t *testing.T) {
			p, ok := pkgs[name]
			if !ok {
				t.Fatalf("rule for %s, which is not a package of the module", name)
			}
			for _, list := range [][]string{p.Imports, p.TestImports, p.XTestImports} {
				for _, imp := range list {
					if matches(imp, bad) {
						t.Errorf("%s imports %s", name, imp)
					}
				}
			}
		})
	}
}

func TestMatches(t *testing.T) {
	bad := []string{mod + "internal/", "net"}
	tests := []struct {
		path string
		want bool
	}{
		{mod + "internal/platform", true}, // under a prefix ending in "/"
		{mod + "internal", false},         // the prefix's own parent
		{"net", true},                     // exact
		{"net/http", false},               // an exact entry forbids no sub-package
		{mod + "apitypes", false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got := matches(tc.path, bad); got != tc.want {
				t.Errorf("matches(%q) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}
