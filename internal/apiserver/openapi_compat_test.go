package apiserver

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/grovedb/grove/internal/apispec"
)

var updateCompat = flag.Bool("update", false, "rewrite docs/compat.md from Neon's spec and the registered routes")

// compatFile is docs/compat.md, relative to this package.
const compatFile = "../../docs/compat.md"

// compatNote says why an operation is partial or not there yet. partial
// applies once Grove registers the route; notYet while it does not.
type compatNote struct{ partial, notYet string }

// compatNotes is kept by hand, keyed by Neon's operationId. An operation
// that is not registered and has no note is "being built" when opDocs
// describes it (being built), else it takes its tag's reason from
// compatTagNotes.
var compatNotes = map[string]compatNote{
	// Consumption (consumption.go).
	"getConsumptionHistoryPerProject":   {partial: "synthetic_storage_size_bytes is the branches' logical size (WAL history not counted) and is sampled only in timeframes with compute or proxy activity; pages follow project ids; no plan gate (403)"},
	"getConsumptionHistoryPerProjectV2": {partial: "compute_unit_seconds, root/child_branch_bytes_month (from logical sizes) and public_network_transfer_bytes are metered; instant_restore_bytes_month, private_network_transfer_bytes, extra_branches_month and snapshot_storage_bytes_month are never reported; pages follow project ids, not creation order"},
	"getConsumptionHistoryPerBranchV2":  {partial: "compute_unit_seconds, root/child_branch_bytes_month (from logical sizes) and public_network_transfer_bytes are metered; instant_restore_bytes_month and private_network_transfer_bytes are never reported"},

	// Projects.
	"listProjects":                    {partial: "`timeout` is accepted and ignored (lists answer in full at once); `recoverable=true` lists none, as deleted projects are purged at once"},
	"recoverProject":                  {notYet: "deleted-project recovery: not planned yet"},
	"listProjectPermissions":          {notYet: "project sharing: not planned yet"},
	"grantPermissionToProject":        {notYet: "project sharing: not planned yet"},
	"revokePermissionFromProject":     {notYet: "project sharing: not planned yet"},
	"getAvailablePreloadLibraries":    {notYet: "preload libraries: not planned yet"},
	"createProjectTransferRequest":    {notYet: "transfer requests between accounts: not planned yet (org-to-org transfer is supported)"},
	"acceptProjectTransferRequest":    {notYet: "transfer requests between accounts: not planned yet (org-to-org transfer is supported)"},
	"getProjectJWKS":                  {notYet: "JWKS for Neon RLS: not planned yet"},
	"addProjectJWKS":                  {notYet: "JWKS for Neon RLS: not planned yet"},
	"deleteProjectJWKS":               {notYet: "JWKS for Neon RLS: not planned yet"},
	"getProjectAdvisorSecurityIssues": {notYet: "advisors: not planned yet"},
	"listProjectVPCEndpoints":         {notYet: "VPC endpoints (AWS PrivateLink): out of scope"},
	"assignProjectVPCEndpoint":        {notYet: "VPC endpoints (AWS PrivateLink): out of scope"},
	"deleteProjectVPCEndpoint":        {notYet: "VPC endpoints (AWS PrivateLink): out of scope"},

	// Branches.
	"listProjectBranches":              {partial: "`include_deleted` is accepted; deleted branches are purged at once, so none is listed"},
	"recoverProjectBranch":             {notYet: "deleted-branch recovery: not planned yet"},
	"createProjectBranchAnonymized":    {notYet: "anonymized branches: not planned yet"},
	"getMaskingRules":                  {notYet: "anonymized branches: not planned yet"},
	"updateMaskingRules":               {notYet: "anonymized branches: not planned yet"},
	"getAnonymizedBranchStatus":        {notYet: "anonymized branches: not planned yet"},
	"startAnonymization":               {notYet: "anonymized branches: not planned yet"},
	"getProjectBranchSchema":           {notYet: "schema dump: not planned yet"},
	"getProjectBranchSchemaComparison": {notYet: "schema diff: not planned yet"},

	// Snapshots.
	"setSnapshotSchedule": {partial: "slots are in UTC, weekly `day` 1 is Monday; scheduled snapshots after a branch's first report no `diff_size` (not measured)"},

	// Organizations and users.
	"updateOrganizationMember":               {notYet: "member management: not planned yet (members are the org's owner)"},
	"removeOrganizationMember":               {notYet: "member management: not planned yet (members are the org's owner)"},
	"getOrganizationInvitations":             {notYet: "invitations: not planned yet (members are the org's owner)"},
	"createOrganizationInvitations":          {notYet: "invitations: not planned yet (members are the org's owner)"},
	"transferProjectsFromUserToOrg":          {partial: "Grove has no personal accounts: the projects move from the caller's organization that holds them"},
	"getOrganizationSpendingLimit":           {notYet: "billing: out of scope"},
	"setOrganizationSpendingLimit":           {notYet: "billing: out of scope"},
	"deleteOrganizationSpendingLimit":        {notYet: "billing: out of scope"},
	"listOrganizationVPCEndpointsAllRegions": {notYet: "VPC endpoints (AWS PrivateLink): out of scope"},
	"listOrganizationVPCEndpoints":           {notYet: "VPC endpoints (AWS PrivateLink): out of scope"},
	"getOrganizationVPCEndpointDetails":      {notYet: "VPC endpoints (AWS PrivateLink): out of scope"},
	"assignOrganizationVPCEndpoint":          {notYet: "VPC endpoints (AWS PrivateLink): out of scope"},
	"deleteOrganizationVPCEndpoint":          {notYet: "VPC endpoints (AWS PrivateLink): out of scope"},
}

// compatTagNotes gives the reason for every operation of a tag that has no
// note of its own and is not registered.
var compatTagNotes = map[string]string{
	"Auth":          "Neon Auth: out of scope",
	"Auth (legacy)": "Neon Auth: out of scope",
	"Storage":       "Neon storage (preview): out of scope",
	"Buckets":       "Neon storage buckets (preview): out of scope",
	"Functions":     "Neon functions (preview): out of scope",
	"AI Gateway":    "Neon AI Gateway (preview): out of scope",
	"Credentials":   "Neon credentials (preview): out of scope",
}

type compatRow struct {
	tag, method, path, id, status, note string
}

// compatRows lists every operation of Neon's spec with its status in
// Grove, given the routes Grove registers.
func compatRows(neon *openapi3.T, routes []string) ([]compatRow, error) {
	registered := map[string]bool{}
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		registered[method+" "+paramRE.ReplaceAllString(path, "{}")] = true
	}
	inOpDocs := map[string]bool{}
	for _, d := range opDocs {
		inOpDocs[d.id] = true
	}
	var rows []compatRow
	var missing, dead []string
	tagOpen := map[string]bool{} // a tag with an operation not registered
	for path, item := range neon.Paths.Map() {
		for method, op := range item.Operations() {
			row := compatRow{method: method, path: path, id: op.OperationID}
			if len(op.Tags) > 0 {
				row.tag = op.Tags[0]
			}
			n := compatNotes[op.OperationID]
			isRegistered := registered[method+" "+paramRE.ReplaceAllString(path, "{}")]
			if isRegistered && n.notYet != "" {
				dead = append(dead, op.OperationID)
			}
			if !isRegistered {
				tagOpen[row.tag] = true
			}
			switch {
			case registered[method+" "+paramRE.ReplaceAllString(path, "{}")] && n.partial != "":
				row.status, row.note = "partial", n.partial
			case registered[method+" "+paramRE.ReplaceAllString(path, "{}")]:
				row.status = "supported"
			default:
				row.status, row.note = "not yet", n.notYet
				if row.note == "" && inOpDocs[op.OperationID] {
					row.note = "being built"
				}
				if row.note == "" {
					row.note = compatTagNotes[row.tag]
				}
				if row.note == "" {
					missing = append(missing, op.OperationID)
				}
			}
			rows = append(rows, row)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("operations neither registered nor explained in compatNotes: %s", strings.Join(missing, ", "))
	}
	// A note saying why an operation is not there yet must go once it is.
	for tag := range compatTagNotes {
		if !tagOpen[tag] {
			dead = append(dead, "tag "+tag)
		}
	}
	if len(dead) > 0 {
		slices.Sort(dead)
		return nil, fmt.Errorf("notYet notes on registered operations (remove them): %s", strings.Join(dead, ", "))
	}
	return rows, nil
}

var methodOrder = map[string]int{"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}

// renderCompat writes docs/compat.md: one table per tag, in the spec's tag
// order.
func renderCompat(neon *openapi3.T, rows []compatRow) []byte {
	var tags []string
	for _, t := range neon.Tags {
		tags = append(tags, t.Name)
	}
	for _, r := range rows {
		if !slices.Contains(tags, r.tag) {
			tags = append(tags, r.tag)
		}
	}
	slices.SortStableFunc(rows, func(a, b compatRow) int {
		if c := slices.Index(tags, a.tag) - slices.Index(tags, b.tag); c != 0 {
			return c
		}
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return methodOrder[a.method] - methodOrder[b.method]
	})
	count := map[string]int{}
	for _, r := range rows {
		count[r.status]++
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Compatibility with Neon's API\n\n")
	fmt.Fprintf(&b, "<!-- Generated by `go test ./internal/apiserver -run TestCompatDoc -update` from Neon's spec\n")
	fmt.Fprintf(&b, "     (../shared/reference/neon-openapi-v2.yaml), the routes Grove registers and the notes in\n")
	fmt.Fprintf(&b, "     internal/apiserver/openapi_compat_test.go. Do not edit by hand. -->\n\n")
	fmt.Fprintf(&b, "Every operation of Neon's api/v2 (version %s), with its status in Grove: **supported**\n", neon.Info.Version)
	fmt.Fprintf(&b, "(served with Neon's request and response shapes), **partial** (served, with the gap noted) or\n")
	fmt.Fprintf(&b, "**not yet** (answered 404, with the reason). Grove serves the description of what it implements at\n")
	fmt.Fprintf(&b, "`GET /api/v2/openapi.yaml` and `GET /api/v2/openapi.json`.\n\n")
	fmt.Fprintf(&b, "%d operations: %d supported, %d partial, %d not yet.\n", len(rows), count["supported"], count["partial"], count["not yet"])
	for _, tag := range tags {
		first := true
		for _, r := range rows {
			if r.tag != tag {
				continue
			}
			if first {
				fmt.Fprintf(&b, "\n## %s\n\n| Method | Path | operationId | Status | Notes |\n|---|---|---|---|---|\n", tag)
				first = false
			}
			fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s | %s |\n", r.method, r.path, r.id, r.status, strings.ReplaceAll(r.note, "|", `\|`))
		}
	}
	return b.Bytes()
}

// TestCompatDoc fails when docs/compat.md is out of date with Neon's spec,
// the registered routes or the notes; -update rewrites it.
func TestCompatDoc(t *testing.T) {
	neon := apispec.Load(t)
	rows, err := compatRows(neon, New(Config{}).Routes())
	if err != nil {
		t.Fatal(err)
	}
	want := renderCompat(neon, rows)
	if *updateCompat {
		if err := os.WriteFile(compatFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(compatFile)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/apiserver -run TestCompatDoc -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/compat.md is out of date; run go test ./internal/apiserver -run TestCompatDoc -update")
	}
}

// TestCompatNotes: every note names an operation of Neon's spec, so that a
// misspelt id does not silently lose its reason.
func TestCompatNotes(t *testing.T) {
	neon := apispec.Load(t)
	ids := map[string]bool{}
	for _, item := range neon.Paths.Map() {
		for _, op := range item.Operations() {
			ids[op.OperationID] = true
		}
	}
	for id := range compatNotes {
		if !ids[id] {
			t.Errorf("compatNotes has %q, which is not an operation of Neon's spec", id)
		}
	}
	for _, d := range opDocs {
		if !ids[d.id] {
			t.Errorf("opDocs has %q, which is not an operation of Neon's spec", d.id)
		}
	}
}
