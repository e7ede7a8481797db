// Package deptest enforces the direction of dependencies between Grove's
// packages (STYLE.md): components know nothing of the platform or of HTTP,
// and the platform knows nothing of HTTP or the wire.
package deptest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/grovedb/grove/"

// forbidden maps a package to imports it must not have, directly or not.
var forbidden = map[string][]string{
	"internal/storage":     {mod + "internal/platform", mod + "internal/compute", mod + "internal/apiserver", "net/http"},
	"internal/compute":     {mod + "internal/platform", mod + "internal/apiserver", mod + "internal/proxy", "net/http"},
	"internal/pgconf":      {mod + "internal/platform", "net/http"},
	"internal/pooler":      {mod + "internal/platform", mod + "internal/compute", mod + "internal/proxy", "net/http"},
	"internal/pgrun":       {mod + "internal/platform", "net/http"},
	"internal/pgversion":   {mod + "internal/platform", "net/http"},
	"internal/scram":       {mod + "internal/platform", "net/http"},
	"internal/proxy":       {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver", "net/http"},
	"internal/proxy/route": {mod + "internal/platform", mod + "internal/proxy", "net/http", "net"},
	// Pure: a limiter any front door (proxy, HTTP data plane) shares.
	"internal/proxy/authlimit": {mod + "internal/platform", mod + "internal/proxy", "net/http"},
	"internal/osid":            {mod + "internal/platform", mod + "internal/compute", mod + "internal/pgrun", "net/http"},
	"internal/metastore":       {mod + "internal/platform", mod + "internal/apiserver", "net/http"},
	"internal/platform":        {mod + "internal/apiserver", mod + "internal/proxy", "net/http"},
	"internal/metrics":         {mod + "internal/platform", mod + "internal/metastore", mod + "internal/apiserver"},
	"apitypes":                 {mod + "internal/"},
}

func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; skipped with -short")
	}
	for pkg, bad := range forbidden {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-json=ImportPath", mod+pkg).Output()
			if err != nil {
				t.Fatalf("go list %s: %v", pkg, err)
			}
			dec := json.NewDecoder(strings.NewReader(string(out)))
			for dec.More() {
				var p struct{ ImportPath string }
				if err := dec.Decode(&p); err != nil {
					t.Fatal(err)
				}
				for _, b := range bad {
					if p.ImportPath == b || (strings.HasSuffix(b, "/") && strings.HasPrefix(p.ImportPath, b)) {
						t.Errorf("%s depends on %s", pkg, p.ImportPath)
					}
				}
			}
		})
	}
}
