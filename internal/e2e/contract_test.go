package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/grovedb/grove/internal/apispec"
	"github.com/grovedb/grove/internal/grovetest"
)

// TestContract is the contract test: one grove, every registered
// operation driven with a valid request (2xx), a malformed body (400), an
// unknown id (404), no key (401) and strings Postgres cannot store in each
// parameter and body string (400), each response validated against
// Neon's spec. The registered routes are read from the API description
// Grove serves; at the end every one of them must have had a 2xx response
// that passed validation.
func TestContract(t *testing.T) {
	apispec.Load(t) // skips without the spec: the test is about the contract
	g := start(t)
	mark := len(apispec.Hits())
	c := &contract{t: t, g: g, ids: map[string]string{}}
	c.routes, c.own, c.served = servedRoutes(t, g)

	// Happy path, in an order that creates what later steps need; deletes
	// come after the error sweeps, which need live ids.
	c.ids["org_id"] = g.OrgID("paid")
	c.ids["source_org_id"], c.ids["free_org_id"] = c.ids["org_id"], g.OrgID("sponsored") // project transfer
	c.ids["new_db"], c.ids["renamed_db"], c.ids["new_role"] = "contract_db", "contract_db2", "contract_role"
	c.ids["gone_db"], c.ids["gone_role"] = "never_made_db", "never_made_role"
	for _, s := range []step{
		{"GET", "/users/me", nil, 200, nil},
		{"GET", "/users/me/organizations", nil, 200, nil},
		{"GET", "/regions", nil, 200, nil},
		{"GET", "/organizations/{org_id}", nil, 200, nil},
		{"GET", "/auth", nil, 200, nil},
		{"GET", "/organizations/{org_id}/members", nil, 200, c.captureMember},
		{"GET", "/organizations/{org_id}/members/{member_id}", nil, 200, nil},
		{"POST", "/api_keys", `{"key_name":"contract"}`, 200, c.capture("key_id", "id")},
		{"GET", "/api_keys", nil, 200, nil},
		{"POST", "/organizations/{org_id}/api_keys", `{"key_name":"contract-org"}`, 200, c.capture("org_key_id", "id")},
		{"GET", "/organizations/{org_id}/api_keys", nil, 200, nil},
		{"POST", "/projects", `{"project":{"name":"contract","org_id":"{org_id}"}}`, 201, c.captureProject},
		{"GET", "/projects", nil, 200, nil},
		{"GET", "/projects/shared", nil, 200, nil},
		{"GET", "/projects/{project_id}", nil, 200, nil},
		{"PATCH", "/projects/{project_id}", `{"project":{"name":"contract-renamed"}}`, 200, nil},
		{"GET", "/projects/{project_id}/connection_uri?database_name={database_name}&role_name={role_name}", nil, 200, nil},
		{"GET", "/projects/{project_id}/operations", nil, 200, nil},
		{"GET", "/projects/{project_id}/operations/{operation_id}", nil, 200, nil},
		{"GET", "/projects/{project_id}/branches", nil, 200, nil},
		{"GET", "/projects/{project_id}/branches/count", nil, 200, nil},
		{"GET", "/projects/{project_id}/branches/{branch_id}", nil, 200, nil},
		{"PATCH", "/projects/{project_id}/branches/{branch_id}", `{"branch":{"name":"trunk"}}`, 200, nil},
		{"POST", "/projects/{project_id}/branches/{branch_id}/set_as_default", nil, 200, nil},
		{"GET", "/projects/{project_id}/branches/{branch_id}/endpoints", nil, 200, nil},
		{"GET", "/projects/{project_id}/branches/{branch_id}/databases", nil, 200, nil},
		{"POST", "/projects/{project_id}/branches/{branch_id}/databases", `{"database":{"name":"{new_db}","owner_name":"{role_name}"}}`, 201, nil},
		{"GET", "/projects/{project_id}/branches/{branch_id}/databases/{new_db}", nil, 200, nil},
		{"PATCH", "/projects/{project_id}/branches/{branch_id}/databases/{new_db}", `{"database":{"name":"{renamed_db}"}}`, 200, nil},
		{"GET", "/projects/{project_id}/branches/{branch_id}/roles", nil, 200, nil},
		{"POST", "/projects/{project_id}/branches/{branch_id}/roles", `{"role":{"name":"{new_role}"}}`, 201, nil},
		{"GET", "/projects/{project_id}/branches/{branch_id}/roles/{new_role}", nil, 200, nil},
		{"GET", "/projects/{project_id}/branches/{branch_id}/roles/{new_role}/reveal_password", nil, 200, nil},
		{"POST", "/projects/{project_id}/branches/{branch_id}/roles/{new_role}/reset_password", nil, 200, nil},
		{"POST", "/projects/{project_id}/branches/{branch_id}/data-api/{database_name}", `{"auth_provider":"neon_auth"}`, 201, nil},
		{"GET", "/projects/{project_id}/branches/{branch_id}/data-api/{database_name}", nil, 200, nil},
		{"PATCH", "/projects/{project_id}/branches/{branch_id}/data-api/{database_name}", `{"settings":{"db_max_rows":10}}`, 201, nil},
		{"GET", "/projects/{project_id}/endpoints", nil, 200, nil},
		{"GET", "/projects/{project_id}/endpoints/{endpoint_id}", nil, 200, nil},
		{"PATCH", "/projects/{project_id}/endpoints/{endpoint_id}", `{"endpoint":{"suspend_timeout_seconds":600}}`, 200, nil},
		{"POST", "/projects/{project_id}/endpoints/{endpoint_id}/suspend", nil, 200, nil},
		{"POST", "/projects/{project_id}/endpoints/{endpoint_id}/start", nil, 200, nil},
		{"POST", "/projects/{project_id}/endpoints/{endpoint_id}/restart", nil, 200, nil},
		{"POST", "/projects/{project_id}/branches", `{"branch":{"name":"contract-dev"},"endpoints":[{"type":"read_write"}]}`, 201, c.captureIn("dev_branch_id", "branch", "id")},
		{"POST", "/projects/{project_id}/branches/{dev_branch_id}/restore", `{"source_branch_id":"{branch_id}"}`, 200, nil},
		{"POST", "/projects/{project_id}/branches", `{"branch":{"name":"contract-root","init_source":"schema-only"},"endpoints":[{"type":"read_write"}]}`, 201, c.captureIn("root_branch_id", "branch", "id")},
		{"POST", "/projects/{project_id}/branches/{root_branch_id}/snapshot?name=contract", nil, 200, c.captureIn("snapshot_id", "snapshot", "id")},
		{"GET", "/projects/{project_id}/snapshots", nil, 200, nil},
		{"PUT", "/projects/{project_id}/branches/{root_branch_id}/backup_schedule", `{"schedule":[{"frequency":"daily","hour":3,"retention_seconds":86400}]}`, 200, nil},
		{"GET", "/projects/{project_id}/branches/{root_branch_id}/backup_schedule", nil, 200, nil},
		{"PATCH", "/projects/{project_id}/snapshots/{snapshot_id}", `{"snapshot":{"name":"contract-renamed"}}`, 200, nil},
		{"POST", "/projects/{project_id}/snapshots/{snapshot_id}/restore", `{"name":"contract-preview"}`, 200, c.captureIn("preview_branch_id", "branch", "id")},
		{"POST", "/projects/{project_id}/branches/{preview_branch_id}/finalize_restore", `{"name":"contract-root-old"}`, 200, nil},
		// Project transfer: a second project goes to the free org and back.
		{"POST", "/projects", `{"project":{"name":"contract-moved","org_id":"{org_id}"}}`, 201, c.captureIn("moved_project_id", "project", "id")},
		{"POST", "/organizations/{source_org_id}/projects/transfer", `{"destination_org_id":"{free_org_id}","project_ids":["{moved_project_id}"]}`, 200, nil},
		{"POST", "/users/me/projects/transfer", `{"destination_org_id":"{org_id}","project_ids":["{moved_project_id}"]}`, 200, nil},
		// Consumption history (consumption_test.go tests the figures).
		{"GET", "/consumption_history/projects?" + consumptionRange() + "&org_id={org_id}", nil, 200, nil},
		{"GET", "/consumption_history/v2/projects?" + consumptionRange() + "&org_id={org_id}&metrics=compute_unit_seconds", nil, 200, nil},
		{"GET", "/consumption_history/v2/branches?" + consumptionRange() + "&org_id={org_id}&project_ids={project_id}&metrics=compute_unit_seconds", nil, 200, nil},
	} {
		c.run(s)
	}

	// Errors, for every registered route: no key → 401; an unknown id →
	// 404; a malformed body → 400.
	for _, route := range c.routes {
		method, path, _ := strings.Cut(route, " ")
		c.expect(method, c.fill(path, nil), "", nil, 401)
		if pathParamRE.MatchString(path) {
			c.expect(method, c.fill(path, unknownIDs), c.key(), validBodies[route], 404)
		}
		if _, ok := validBodies[route]; ok {
			c.expect(method, c.fill(path, nil), c.key(), `{"x":`, 400)
		}
	}

	// Strings Postgres cannot store as text (holding U+0000, or not UTF-8),
	// for every registered route: in each path parameter, in each query
	// parameter the route describes and in each string its request body
	// can hold → 400 with Neon's error body naming the place, never a 500.
	for _, route := range c.routes {
		c.badTextSweep(route)
	}

	// Deletes; a database or role that is gone is 204 without a body, as
	// Neon's spec says ("Returned if the … doesn't exist or has already
	// been deleted").
	for _, s := range []step{
		{"DELETE", "/projects/{project_id}/branches/{branch_id}/data-api/{database_name}", nil, 200, nil},
		{"DELETE", "/projects/{project_id}/snapshots/{snapshot_id}", nil, 202, nil},
		{"DELETE", "/projects/{project_id}/branches/{dev_branch_id}", nil, 200, nil},
		{"DELETE", "/projects/{project_id}/branches/{branch_id}/databases/{renamed_db}", nil, 200, nil},
		{"DELETE", "/projects/{project_id}/branches/{branch_id}/databases/{renamed_db}", nil, 204, c.noBody},
		{"DELETE", "/projects/{project_id}/branches/{branch_id}/databases/{gone_db}", nil, 204, c.noBody},
		{"DELETE", "/projects/{project_id}/branches/{branch_id}/roles/{new_role}", nil, 200, nil},
		{"DELETE", "/projects/{project_id}/branches/{branch_id}/roles/{new_role}", nil, 204, c.noBody},
		{"DELETE", "/projects/{project_id}/branches/{branch_id}/roles/{gone_role}", nil, 204, c.noBody},
		{"DELETE", "/projects/{project_id}/endpoints/{endpoint_id}", nil, 200, nil},
		{"POST", "/projects/{project_id}/endpoints", `{"endpoint":{"branch_id":"{branch_id}","type":"read_write"}}`, 201, nil},
		{"POST", "/projects/{project_id}/endpoints", `{"endpoint":{"branch_id":"{branch_id}","type":"read_only"}}`, 201, nil},
		{"DELETE", "/projects/{project_id}", nil, 200, nil},
		{"DELETE", "/projects/{moved_project_id}", nil, 200, nil},
		{"DELETE", "/organizations/{org_id}/api_keys/{org_key_id}", nil, 200, nil},
		{"DELETE", "/api_keys/{key_id}", nil, 200, nil},
	} {
		c.run(s)
	}

	// Coverage: every registered route answered 2xx at least once, valid.
	covered := map[string][]int{}
	for _, h := range apispec.Hits()[mark:] {
		k := h.Method + " " + pathParamRE.ReplaceAllString(h.Path, "{}")
		covered[k] = append(covered[k], h.Status)
	}
	for _, route := range c.routes {
		method, path, _ := strings.Cut(route, " ")
		statuses := covered[method+" "+pathParamRE.ReplaceAllString(path, "{}")]
		if !slices.ContainsFunc(statuses, func(s int) bool { return s >= 200 && s < 300 }) {
			t.Errorf("%s: no validated 2xx response (validated statuses: %v)", route, statuses)
		}
	}
	t.Logf("%d responses validated for %d routes", len(apispec.Hits())-mark, len(c.routes))
	if len(c.notLanded) > 0 {
		t.Logf("steps for routes Grove does not register (yet): %s", strings.Join(c.notLanded, "; "))
	}
}

// pathParamRE matches a {placeholder} in a route or a step's template.
var pathParamRE = regexp.MustCompile(`\{[A-Za-z_][A-Za-z0-9_]*\}`)

// unknownIDs fill path parameters with ids no resource has.
var unknownIDs = map[string]string{
	"project_id":    "nope-nope-12345678",
	"branch_id":     "br-nope-nope-12345678",
	"endpoint_id":   "ep-nope-nope-12345678",
	"operation_id":  "00000000-0000-4000-8000-000000000000",
	"org_id":        "org-nope-nope-12345678",
	"source_org_id": "org-nope-nope-12345678",
	"key_id":        "999999999",
	"member_id":     "00000000-0000-4000-8000-000000000000",
	"snapshot_id":   "snap-nope-nope-12345678",
	"database_name": "nope_db",
	"role_name":     "nope_role",
}

// validBodies are well-formed request bodies, sent with unknown ids so that
// the 404 is about the id and not the body. A route listed here takes a
// body, so a malformed one must be a 400.
var validBodies = map[string]string{
	"POST /projects":                                                              `{"project":{}}`,
	"PATCH /projects/{project_id}":                                                `{"project":{"name":"x"}}`,
	"POST /api_keys":                                                              `{"key_name":"x"}`,
	"POST /organizations/{org_id}/api_keys":                                       `{"key_name":"x"}`,
	"PATCH /projects/{project_id}/branches/{branch_id}":                           `{"branch":{"name":"x"}}`,
	"POST /projects/{project_id}/branches":                                        `{"branch":{"name":"x"}}`,
	"POST /projects/{project_id}/branches/{branch_id}/restore":                    `{"source_branch_id":"br-nope-nope-12345678"}`,
	"POST /projects/{project_id}/branches/{branch_id}/finalize_restore":           `{}`,
	"POST /projects/{project_id}/branches/{branch_id}/snapshot":                   `{}`,
	"PATCH /projects/{project_id}/snapshots/{snapshot_id}":                        `{"snapshot":{"name":"x"}}`,
	"PUT /projects/{project_id}/branches/{branch_id}/backup_schedule":             `{"schedule":[]}`,
	"POST /projects/{project_id}/snapshots/{snapshot_id}/restore":                 `{}`,
	"POST /projects/{project_id}/branches/{branch_id}/databases":                  `{"database":{"name":"x","owner_name":"x"}}`,
	"PATCH /projects/{project_id}/branches/{branch_id}/databases/{database_name}": `{"database":{"name":"y"}}`,
	"POST /projects/{project_id}/branches/{branch_id}/data-api/{database_name}":   `{"auth_provider":"neon_auth"}`,
	"PATCH /projects/{project_id}/branches/{branch_id}/data-api/{database_name}":  `{"settings":{}}`,
	"POST /projects/{project_id}/branches/{branch_id}/roles":                      `{"role":{"name":"x"}}`,
	"POST /projects/{project_id}/endpoints":                                       `{"endpoint":{"branch_id":"br-nope-nope-12345678","type":"read_write"}}`,
	"PATCH /projects/{project_id}/endpoints/{endpoint_id}":                        `{"endpoint":{"suspend_timeout_seconds":600}}`,
	"POST /organizations/{source_org_id}/projects/transfer":                       `{"destination_org_id":"org-nope-nope-12345678","project_ids":["nope-nope-12345678"]}`,
	"POST /users/me/projects/transfer":                                            `{"destination_org_id":"org-nope-nope-12345678","project_ids":["nope-nope-12345678"]}`,
}

type step struct {
	method, path string
	body         any // nil or a string with {id} placeholders
	want         int
	after        func(raw []byte)
}

type contract struct {
	t         *testing.T
	g         *grovetest.Grove
	routes    []string
	own       *apispec.Doc // the description Grove serves
	served    *openapi3.T  // the same, for the parameters and bodies of each route
	ids       map[string]string
	notLanded []string
}

func (c *contract) key() string { return c.g.Key }

// registered reports whether Grove registers the route of a step's path
// template, whose variable segments are all {placeholders}.
func (c *contract) registered(method, path string) bool {
	path, _, _ = strings.Cut(path, "?")
	want := method + " " + pathParamRE.ReplaceAllString(path, "{}")
	return slices.ContainsFunc(c.routes, func(r string) bool { return pathParamRE.ReplaceAllString(r, "{}") == want })
}

// run performs a happy-path step and waits for the operations it started.
func (c *contract) run(s step) {
	c.t.Helper()
	if !c.registered(s.method, s.path) {
		c.notLanded = append(c.notLanded, s.method+" "+s.path)
		return
	}
	var body any
	if b, ok := s.body.(string); ok {
		body = c.fill(b, nil)
	}
	raw := c.expect(s.method, c.fill(s.path, nil), c.key(), body, s.want)
	if raw != nil && s.after != nil {
		s.after(raw)
	}
	if s.method != "GET" && c.ids["project_id"] != "" {
		c.settle()
	}
}

// fill replaces {name} placeholders with ids (or with the given ones).
func (c *contract) fill(s string, with map[string]string) string {
	ids := c.ids
	if with != nil {
		ids = maps.Clone(c.ids)
		maps.Copy(ids, with)
	}
	return pathParamRE.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := ids[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// expect sends a request, validates the response against the spec and
// checks its status; it returns the body when the status is the wanted one.
func (c *contract) expect(method, path, key string, body any, want int) []byte {
	c.t.Helper()
	status, header, raw := c.send(method, path, key, body)
	apispec.ValidateResponse(c.t, method, "/api/v2"+path, status, header, raw)
	if err := c.own.CheckResponse(method, "/api/v2"+path, status, header, raw); err != nil {
		c.t.Errorf("%s %s → %d does not match the description Grove serves:\n%v\nbody: %s", method, path, status, err, raw)
	}
	if header.Get("X-Neon-Ret-Request-Id") == "" {
		c.t.Errorf("%s %s: no X-Neon-Ret-Request-Id header", method, path)
	}
	if status != want {
		c.t.Errorf("%s %s: %d, want %d: %s", method, path, status, want, raw)
		return nil
	}
	return raw
}

func (c *contract) send(method, path, key string, body any) (int, http.Header, []byte) {
	c.t.Helper()
	var rd io.Reader
	if b, ok := body.(string); ok {
		rd = strings.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, "http://"+c.g.APIAddr+"/api/v2"+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, raw
}

// settle waits until no operation of the project is running, so that the
// next mutation does not meet a 423.
func (c *contract) settle() {
	c.t.Helper()
	grovetest.WaitFor(c.t, "operations to finish", func() bool {
		status, _, raw := c.send("GET", c.fill("/projects/{project_id}/operations", nil), c.key(), nil)
		if status == 404 {
			return true // the project is gone
		}
		var out struct {
			Operations []struct {
				Status string `json:"status"`
			} `json:"operations"`
		}
		if status != 200 || json.Unmarshal(raw, &out) != nil {
			return false
		}
		for _, op := range out.Operations {
			switch op.Status {
			case "scheduling", "running", "cancelling":
				return false
			}
		}
		return true
	})
}

// capture returns a step hook storing the JSON field of the response as id.
func (c *contract) capture(id, field string) func([]byte) {
	return func(raw []byte) {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			c.t.Fatalf("capture %s: %v: %s", id, err, raw)
		}
		switch v := m[field].(type) {
		case float64:
			c.ids[id] = fmt.Sprint(int64(v))
		case string:
			c.ids[id] = v
		default:
			c.t.Fatalf("capture %s: no %s in %s", id, field, raw)
		}
	}
}

func (c *contract) captureMember(raw []byte) {
	var out struct {
		Members []struct {
			Member struct{ ID string } `json:"member"`
		} `json:"members"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Members) == 0 {
		c.t.Fatalf("members (%v): %s", err, raw)
	}
	c.ids["member_id"] = out.Members[0].Member.ID
}

func (c *contract) captureProject(raw []byte) {
	var cp struct {
		Project    struct{ ID string }     `json:"project"`
		Branch     struct{ ID string }     `json:"branch"`
		Endpoints  []struct{ ID string }   `json:"endpoints"`
		Roles      []struct{ Name string } `json:"roles"`
		Databases  []struct{ Name string } `json:"databases"`
		Operations []struct{ ID string }   `json:"operations"`
	}
	if err := json.Unmarshal(raw, &cp); err != nil || len(cp.Endpoints) == 0 || len(cp.Roles) == 0 ||
		len(cp.Databases) == 0 || len(cp.Operations) == 0 {
		c.t.Fatalf("created project lacks parts (%v): %s", err, raw)
	}
	c.ids["project_id"] = cp.Project.ID
	c.ids["branch_id"] = cp.Branch.ID
	c.ids["endpoint_id"] = cp.Endpoints[0].ID
	c.ids["role_name"] = cp.Roles[0].Name
	c.ids["database_name"] = cp.Databases[0].Name
	c.ids["operation_id"] = cp.Operations[0].ID
}

// servedRoutes reads the routes Grove registers from the API description
// it serves (which a test of apiserver holds equal to the registered
// routes), checks that its YAML form loads too, and returns the parsed
// description for validating responses against it as well.
func servedRoutes(t *testing.T, g *grovetest.Grove) ([]string, *apispec.Doc, *openapi3.T) {
	t.Helper()
	var routes []string
	var own *apispec.Doc
	var served *openapi3.T
	for _, form := range []string{"json", "yaml"} {
		resp, err := http.Get("http://" + g.APIAddr + "/api/v2/openapi." + form)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /api/v2/openapi.%s: %d %v", form, resp.StatusCode, err)
		}
		d, err := apispec.ParseDoc(t.Context(), raw)
		if err != nil {
			t.Fatalf("served openapi.%s: %v", form, err)
		}
		if form != "json" {
			continue
		}
		own = d
		doc, err := openapi3.NewLoader().LoadFromData(raw)
		if err != nil {
			t.Fatal(err)
		}
		served = doc
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				routes = append(routes, method+" "+path)
			}
		}
	}
	slices.Sort(routes)
	if len(routes) == 0 {
		t.Fatal("the served description lists no routes")
	}
	return routes, own, served
}

// captureIn records field of the response's object obj as id.
func (c *contract) captureIn(id, obj, field string) func([]byte) {
	return func(raw []byte) {
		var m map[string]json.RawMessage
		var o map[string]any
		if err := json.Unmarshal(raw, &m); err != nil || json.Unmarshal(m[obj], &o) != nil {
			c.t.Fatalf("capture %s: %v: %s", id, err, raw)
		}
		v, ok := o[field].(string)
		if !ok {
			c.t.Fatalf("capture %s: no %s.%s in %s", id, obj, field, raw)
		}
		c.ids[id] = v
	}
}

// consumptionRange is a valid daily consumption history range ending now.
func consumptionRange() string {
	now := time.Now().UTC()
	return "granularity=daily&from=" + now.AddDate(0, 0, -2).Format(time.RFC3339) + "&to=" + now.Format(time.RFC3339)
}

// noBody is a step hook checking that the response has no body.
func (c *contract) noBody(raw []byte) {
	if len(raw) != 0 {
		c.t.Errorf("body %s, want none", raw)
	}
}

// badTexts are strings Postgres cannot store as text: each value, as a
// JSON body carries it and the end of the message refusing it. A body not
// UTF-8 is refused whole, without the path of the string.
var badTexts = []struct {
	value, json, problem string
	wholeBody            bool
}{
	{"nul\x00x", `"nul\u0000x"`, "the NUL character (U+0000) is not allowed", false},
	{"bad\xffx", "\"bad\xffx\"", "not valid UTF-8", true},
}

// badTextSweep sends route each bad text in each of its path parameters,
// in each query parameter its description lists and in each string its
// described body can hold, one place at a time, the rest filled with live
// ids, and expects 400 with a message naming that place.
func (c *contract) badTextSweep(route string) {
	c.t.Helper()
	method, path, _ := strings.Cut(route, " ")
	op := c.served.Paths.Value(path).GetOperation(method)
	if op == nil {
		c.t.Fatalf("%s: not in the served description", route)
	}
	var bodies []textBody
	if op.RequestBody != nil {
		mt := op.RequestBody.Value.Content.Get("application/json")
		if mt == nil || mt.Schema == nil {
			c.t.Fatalf("%s: request body without a JSON schema", route)
		}
		bodies = textBodies(mt.Schema.Value)
	}
	for _, bad := range badTexts {
		for _, m := range pathParamRE.FindAllString(path, -1) {
			name := m[1 : len(m)-1]
			c.expectBadText(method, c.fill(path, map[string]string{name: url.PathEscape(bad.value)}), nil, "path parameter "+name, bad.problem)
		}
		for _, p := range op.Parameters {
			if p.Value.In == "query" {
				q := url.Values{p.Value.Name: {bad.value}}.Encode()
				c.expectBadText(method, c.fill(path, nil)+"?"+q, nil, "query parameter "+p.Value.Name, bad.problem)
			}
		}
		for _, b := range bodies {
			where := "decode application/json"
			if !bad.wholeBody {
				where += ": " + b.at
			}
			c.expectBadText(method, c.fill(path, nil), strings.Replace(b.body, textSlot, bad.json, 1), where, bad.problem)
		}
	}
}

// expectBadText sends a request holding a bad text and expects Neon's 400
// with the message "invalid request: <where>: <problem>".
func (c *contract) expectBadText(method, path string, body any, where, problem string) {
	c.t.Helper()
	raw := c.expect(method, path, c.key(), body, 400)
	if raw == nil {
		return
	}
	var e struct {
		Message string `json:"message"`
	}
	want := "invalid request: " + where + ": " + problem
	if err := json.Unmarshal(raw, &e); err != nil || e.Message != want {
		c.t.Errorf("%s %s: message %q, want %q", method, path, e.Message, want)
	}
}

// textBody is a request body with one string replaced by textSlot, at its
// JSON path.
type textBody struct{ at, body string }

// textSlot marks the string of a textBody that a bad text replaces.
const textSlot = `"TEXT-SLOT"`

// textBodies returns a body for each string a body of schema can hold:
// properties, array items (the first) and map values, through allOf.
func textBodies(schema *openapi3.Schema) []textBody {
	var out []textBody
	var walk func(s *openapi3.Schema, at string, wrap func(any) any, depth int)
	walk = func(s *openapi3.Schema, at string, wrap func(any) any, depth int) {
		if s == nil || depth > 10 {
			return
		}
		for _, m := range s.AllOf {
			walk(m.Value, at, wrap, depth+1)
		}
		member := func(name string) string {
			if at == "" {
				return name
			}
			return at + "." + name
		}
		switch {
		case s.Type.Is("string"):
			b, err := json.Marshal(wrap(json.RawMessage(textSlot)))
			if err != nil {
				panic(err) // only maps, slices and a valid raw message
			}
			out = append(out, textBody{at: at, body: string(b)})
		case s.Type.Is("array") && s.Items != nil:
			walk(s.Items.Value, at+"[0]", func(v any) any { return wrap([]any{v}) }, depth+1)
		case s.Type.Is("object"):
			for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
				walk(s.Properties[name].Value, member(name), func(v any) any { return wrap(map[string]any{name: v}) }, depth+1)
			}
			if ap := s.AdditionalProperties.Schema; ap != nil {
				walk(ap.Value, member("k"), func(v any) any { return wrap(map[string]any{"k": v}) }, depth+1)
			}
		}
	}
	walk(schema, "", func(v any) any { return v }, 0)
	return out
}
