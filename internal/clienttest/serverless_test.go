package clienttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/jackc/pgx/v5"
)

// The serverless driver and what its scripts load with it, installed by
// `make setup` beside the other clients.
var serverlessPackages = []string{"@neondatabase/serverless", "ws", "drizzle-orm"}

// maxPayload is Neon's limit on a request body and on the rows of a
// response (sql_over_http_max_request_size_bytes / …response…).
const maxPayload = 10 << 20

// serverless is a grove with one project, and the connection string of its
// role, for the scripts in testdata/serverless.
type serverless struct {
	*env
	project apitypes.CreatedProject
	uri     string
}

// TestServerless drives Neon's serverless driver (@neondatabase/serverless)
// against grove's data-plane listener: SQL over HTTP through neon() and the
// Postgres protocol over WebSockets through Pool and Client, with Drizzle on
// top of both. The scripts print one JSON line per case; each case is a
// subtest here, so a failure names it.
func TestServerless(t *testing.T) {
	npm := npmClients(t) // skips with -short, or without node
	for _, p := range serverlessPackages {
		if _, err := os.Stat(filepath.Join(npm, "node_modules", p, "package.json")); err != nil {
			t.Skipf("%s not installed in %s; run `make setup`", p, npm)
		}
	}
	e := start(t)
	cp := e.g.CreateSeed()
	s := &serverless{env: e, project: cp, uri: cp.ConnectionURIs[0].ConnectionURI}
	s.fixtures(t)

	t.Run("protocol", s.testProtocol)
	t.Run("types", func(t *testing.T) { s.checkCases(t, s.runScript(t, "types.mjs"), typeCases()) })
	t.Run("http", func(t *testing.T) { s.checkCases(t, s.runScript(t, "http.mjs"), httpCases) })
	t.Run("ws", func(t *testing.T) {
		s.checkCases(t, s.runScript(t, "ws.mjs"), wsCases)
		s.noWebSocketSessions(t)
	})
	t.Run("hostname", s.testHostname)
	t.Run("escaped credentials", s.testEscapedCredentials)
	t.Run("drizzle", func(t *testing.T) { s.checkCases(t, s.runScript(t, "drizzle.mjs"), drizzleCases) })
	t.Run("sequential", s.testSequential)
	t.Run("wake", s.testWake)
	// Last: its failed logins spend most of the address's budget.
	t.Run("auth", s.testAuth)
}

// fixtures makes the tables, domain and function the scripts use, over a
// direct connection through the proxy (which also wakes the compute).
func (s *serverless) fixtures(t *testing.T) {
	t.Helper()
	conn := s.pgConn(t)
	_, err := conn.Exec(t.Context(), `
		CREATE TABLE sls_items (id serial PRIMARY KEY, name text NOT NULL);
		CREATE TABLE sls_err (id int PRIMARY KEY, n int NOT NULL CHECK (n > 0));
		CREATE TABLE sls_err_child (parent int REFERENCES sls_err (id));
		CREATE DOMAIN sls_posint AS int CHECK (VALUE > 0);
		CREATE FUNCTION sls_raise() RETURNS void LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'a detail', HINT = 'a hint', ERRCODE = 'P0001'; END $$;
		CREATE TABLE sls_drizzle (id serial PRIMARY KEY, name text NOT NULL, qty int NOT NULL,
			created timestamptz NOT NULL DEFAULT now());`)
	if err != nil {
		t.Fatalf("fixtures: %v", err)
	}
}

// pgConn opens a direct connection to the project through the proxy,
// closed when t ends.
func (s *serverless) pgConn(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.uri)
	if err != nil {
		t.Fatalf("connect %s: %v", s.uri, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// caseLine is one line a script prints: a case's value, or the error it
// threw where it should not have.
type caseLine struct {
	Case  string          `json:"case"`
	Value json.RawMessage `json:"value"`
	Error json.RawMessage `json:"error"`
}

// runScript runs testdata/serverless/<script> against the grove and returns
// its lines by case. A script that dies still returns the lines it printed.
func (s *serverless) runScript(t *testing.T, script string, extra ...string) map[string]caseLine {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", "serverless", script))
	if err != nil {
		t.Fatal(err)
	}
	// The 10,000 requests of sequential.mjs take longer than env.node allows.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", path)
	cmd.Dir = t.TempDir()
	cmd.Env = append(cleanEnv(), "HOME="+cmd.Dir, "NPM_CLIENTS="+s.npm, "TZ=UTC",
		"GROVE_HTTP="+s.g.HTTPAddr, "DATABASE_URL="+s.uri)
	cmd.Env = append(cmd.Env, extra...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("node %s: %v\nstderr: %s", script, err, stderr.String())
	}
	lines := map[string]caseLine{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var l caseLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Case == "" {
			t.Logf("%s printed a line that is not a case: %.500s", script, sc.Text())
			continue
		}
		lines[l.Case] = l
	}
	return lines
}

// check asserts one case's value.
type check func(t *testing.T, v json.RawMessage)

type caseCheck struct {
	name  string
	check check
	// derived cases compare cases checked before them and have no line
	// of their own; check gets a nil value.
	derived bool
}

// checkCases runs one subtest per case, in order, and fails for cases the
// script printed that no check covers.
func (s *serverless) checkCases(t *testing.T, lines map[string]caseLine, cases []caseCheck) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			if c.derived {
				c.check(t, nil)
				return
			}
			l, ok := lines[c.name]
			switch {
			case !ok:
				t.Fatal("the script printed nothing for this case (it ended early or skipped it)")
			case l.Error != nil:
				t.Fatalf("threw: %s", l.Error)
			}
			c.check(t, l.Value)
		})
	}
	for name, l := range lines {
		if !seen[name] {
			t.Errorf("case %q has no check: %.300s%.300s", name, l.Value, l.Error)
		}
	}
}

// equal checks a value against JSON.
func equal(want string) check {
	return func(t *testing.T, v json.RawMessage) {
		t.Helper()
		if !jsonEqual(t, v, want) {
			t.Errorf("got  %.2000s\nwant %s", v, want)
		}
	}
}

func jsonEqual(t *testing.T, got json.RawMessage, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("value %.500s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

// jsError is what lib.mjs's describeError prints.
type jsError struct {
	Name             string  `json:"name"`
	Message          string  `json:"message"`
	NeonDbError      bool    `json:"neonDbError"`
	Severity         *string `json:"severity"`
	Code             *string `json:"code"`
	Detail           *string `json:"detail"`
	Hint             *string `json:"hint"`
	Position         *string `json:"position"`
	InternalPosition *string `json:"internalPosition"`
	InternalQuery    *string `json:"internalQuery"`
	Where            *string `json:"where"`
	Schema           *string `json:"schema"`
	Table            *string `json:"table"`
	Column           *string `json:"column"`
	DataType         *string `json:"dataType"`
	Constraint       *string `json:"constraint"`
	File             *string `json:"file"`
	Line             *string `json:"line"`
	Routine          *string `json:"routine"`
	SourceError      string  `json:"sourceError"`
}

// field returns an error field by its JS name ("" when absent).
func (e jsError) field(name string) string {
	p := map[string]*string{"severity": e.Severity, "code": e.Code, "detail": e.Detail, "hint": e.Hint,
		"position": e.Position, "internalPosition": e.InternalPosition, "internalQuery": e.InternalQuery,
		"where": e.Where, "schema": e.Schema, "table": e.Table, "column": e.Column, "dataType": e.DataType,
		"constraint": e.Constraint, "file": e.File, "line": e.Line, "routine": e.Routine}[name]
	if p == nil {
		return ""
	}
	return *p
}

var errorFieldNames = []string{"severity", "code", "detail", "hint", "position", "internalPosition", "internalQuery",
	"where", "schema", "table", "column", "dataType", "constraint", "file", "line", "routine"}

func decodeError(t *testing.T, v json.RawMessage) jsError {
	t.Helper()
	var e jsError
	if err := json.Unmarshal(v, &e); err != nil {
		t.Fatalf("not an error: %.500s: %v", v, err)
	}
	return e
}

// dbError checks an error's message (a substring) and fields (exact; a
// field's "~" prefix asks for a substring, "*" for any value but none);
// over HTTP it must also be the driver's NeonDbError, which it makes only
// from a 400 with a JSON body.
func dbError(http bool, message string, fields map[string]string) check {
	return func(t *testing.T, v json.RawMessage) {
		t.Helper()
		e := decodeError(t, v)
		if !strings.Contains(e.Message, message) {
			t.Errorf("message %q, want it to contain %q", e.Message, message)
		}
		if http && (!e.NeonDbError || e.Name != "NeonDbError") {
			t.Errorf("error is %s (NeonDbError: %v), want a NeonDbError: %s", e.Name, e.NeonDbError, v)
		}
		for k, want := range fields {
			got := e.field(k)
			if want == "*" && got != "" {
				continue
			}
			if sub, ok := strings.CutPrefix(want, "~"); ok && !strings.Contains(got, sub) || !ok && got != want {
				t.Errorf("%s = %q, want %q (error: %s)", k, got, want, v)
			}
		}
	}
}

// serverError checks an error the driver made from a status other than 400.
func serverError(status int, body string) check {
	return func(t *testing.T, v json.RawMessage) {
		t.Helper()
		e := decodeError(t, v)
		if prefix := fmt.Sprintf("Server error (HTTP status %d): ", status); !strings.HasPrefix(e.Message, prefix) ||
			!strings.Contains(e.Message, body) {
			t.Errorf("message %q, want %q…%q", e.Message, prefix, body)
		}
	}
}

// typeCase is one query of types.mjs: the rows both protocols must return
// (JSON as lib.mjs tags it; "" to compare the protocols only) and the type
// of the first column.
type typeCase struct {
	name string
	rows string
	oid  uint32
}

var typeSamples = []typeCase{
	{"int2", `[{"v":-32768}]`, 21},
	{"int4", `[{"v":2147483647}]`, 23},
	{"int8", `[{"v":"9223372036854775807"}]`, 20},
	{"int8_bigint", `[{"v":"9007199254740993"}]`, 20},
	{"numeric", `[{"v":"-12345678901234567890.123456789"}]`, 1700},
	{"float4", `[{"v":3.1415927}]`, 700},
	{"float8", `[{"v":3.141592653589793}]`, 701},
	{"float8_nan", `[{"v":{"$number":"NaN"}}]`, 701},
	{"float8_inf", `[{"v":{"$number":"-Infinity"}}]`, 701},
	{"bool_true", `[{"v":true}]`, 16},
	{"bool_false", `[{"v":false}]`, 16},
	{"text", `[{"v":"héllo, 世界 'q' \"dq\" \\ \n tab\t"}]`, 25},
	{"text_empty", `[{"v":""}]`, 25},
	{"timestamptz", `[{"v":{"$date":"2024-02-29T12:34:56.789Z"}}]`, 1184},
	{"timestamp", `[{"v":{"$date":"2024-02-29T12:34:56.789Z"}}]`, 1114},
	{"date", `[{"v":{"$date":"2024-02-29T00:00:00.000Z"}}]`, 1082},
	{"time", `[{"v":"17:18:19.5"}]`, 1083},
	{"timetz", `[{"v":"16:17:18+01"}]`, 1266},
	{"interval", `[{"v":{"$class":"PostgresInterval","years":1,"months":2,"days":3,"hours":4,"minutes":5,"seconds":6,"milliseconds":789}}]`, 1186},
	{"uuid", `[{"v":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}]`, 2950},
	{"jsonb", `[{"v":{"a":[1,2.5,{"b":null}],"c":"d","e":true}}]`, 3802},
	{"json", `[{"v":{"x":"y"}}]`, 114},
	{"jsonb_scalar", `[{"v":42}]`, 3802},
	{"int4_array", `[{"v":[1,2,3]}]`, 1007},
	{"int4_array_nested", `[{"v":[[1,2],[3,4]]}]`, 1007},
	{"int8_array", `[{"v":["1","9223372036854775807"]}]`, 1016},
	{"text_array", `[{"v":["a","b,c","\"q\"","",null]}]`, 1009},
	{"bool_array", `[{"v":[true,false,null]}]`, 1000},
	{"float8_array", `[{"v":[1.5,-2.25]}]`, 1022},
	{"numeric_array", `[{"v":[1.1,-2]}]`, 1231}, // the driver's parser makes numbers of numeric[]
	{"uuid_array", `[{"v":["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]}]`, 2951},
	{"timestamptz_array", `[{"v":[{"$date":"2024-02-29T12:34:56.789Z"}]}]`, 1185},
	{"jsonb_array", `[{"v":[{"a":1},[2]]}]`, 3807},
	{"empty_array", `[{"v":[]}]`, 1007},
	{"bytea", `[{"v":{"$bytes":"000102feff"}}]`, 17},
	{"bytea_hex_text", `[{"v":{"$bytes":"deadbeef"}}]`, 17},
	{"bytea_empty", `[{"v":{"$bytes":""}}]`, 17},
	{"bytea_array", `[{"v":[{"$bytes":"deadbeef"},{"$bytes":"00"}]}]`, 1001},
	{"null_literal", `[{"v":null}]`, 25},
	{"null_param", `[{"v":null}]`, 25},
	{"null_string", `[{"v":"NULL"}]`, 25},
	{"several_columns", `[{"a":1,"b":"two","c":null,"d":3.5}]`, 23},
	{"several_rows", `[{"v":1},{"v":2},{"v":3}]`, 23},
	{"no_rows", `[]`, 23},
	// The rest of the upstream sampleQueries: the protocols must agree.
	{"up_int_uncast", "", 0}, {"up_decimal", "", 0}, {"up_bigint_uncast", "", 0}, {"up_bigint_big_uncast", "", 0},
	{"up_pi_uncast", "", 0}, {"up_int4range", "", 0}, {"up_arrstr_uncast", "", 0}, {"up_obj_uncast", "", 0},
	{"up_macaddr", "", 0}, {"up_point", "", 0}, {"up_circle", "", 0}, {"up_cidr", "", 0}, {"up_inet", "", 0},
	{"up_bool_uncast", "", 0}, {"up_greeting", "", 0}, {"up_arrmacaddr", "", 0}, {"up_arrcidr", "", 0},
	{"up_arrpoint", "", 0}, {"up_arrcircle", "", 0}, {"up_arrnum_uncast", "", 0}, {"up_arrnumnested_uncast", "", 0},
	{"up_time_uncast", "", 0}, {"up_bytea_64k", "", 0}, {"up_bytea_buffer", "", 0}, {"up_timestamp_query", "", 0},
	{"up_greeting_query", "", 0}, {"up_no_params", "", 0}, {"up_empty_params", "", 0},
}

// errorSamples are types.mjs's errors, with the fields both protocols must carry.
var errorSamples = []struct {
	name, message string
	fields        map[string]string
}{
	{"undefined_column", `column "x" does not exist`, map[string]string{"code": "42703", "position": "18", "severity": "ERROR", "routine": "~"}},
	{"syntax", `syntax error at or near "SELEC"`, map[string]string{"code": "42601", "position": "1"}},
	{"division_by_zero", "division by zero", map[string]string{"code": "22012"}},
	{"unique_violation", "duplicate key value violates unique constraint", map[string]string{"code": "23505",
		"detail": "Key (id)=(1) already exists.", "schema": "public", "table": "sls_err", "constraint": "sls_err_pkey"}},
	{"check_violation", "violates check constraint", map[string]string{"code": "23514",
		"detail": "Failing row contains (2, -1).", "schema": "public", "table": "sls_err", "constraint": "sls_err_n_check"}},
	{"not_null_violation", `null value in column "id"`, map[string]string{"code": "23502",
		"schema": "public", "table": "sls_err", "column": "id"}},
	{"foreign_key_violation", "violates foreign key constraint", map[string]string{"code": "23503",
		"detail": `Key (parent)=(999) is not present in table "sls_err".`, "table": "sls_err_child", "constraint": "sls_err_child_parent_fkey"}},
	{"domain_check", "violates check constraint", map[string]string{"code": "23514",
		"schema": "public", "dataType": "sls_posint", "constraint": "sls_posint_check"}},
	{"raise_with_hint", "boom", map[string]string{"code": "P0001", "detail": "a detail", "hint": "a hint",
		"where": "~PL/pgSQL function sls_raise() line 2 at RAISE"}},
	{"internal_query", `column "nope" does not exist`, map[string]string{"code": "42703",
		"internalQuery": "SELECT nope FROM sls_err", "internalPosition": "8", "position": "", "where": "~PL/pgSQL function inline_code_block"}},
	{"bind_too_many", "bind message supplies 2 parameters", map[string]string{"code": "08P01"}},
}

// typeCases checks each sample's result over HTTP and over a WebSocket,
// and that the two agree — as the driver's own test does, less the
// differences it accepts (its HTTP results are plain objects with
// viaNeonFetch; its HTTP errors are NeonDbErrors with a sourceError).
func typeCases() []caseCheck {
	var cases []caseCheck
	results := map[string]json.RawMessage{}
	for _, c := range typeSamples {
		for _, proto := range []string{"http", "ws"} {
			cases = append(cases, caseCheck{name: c.name + "/" + proto, check: func(t *testing.T, v json.RawMessage) {
				results[c.name+"/"+proto] = v
				var r struct {
					Command  string
					RowCount *int
					Fields   []struct{ DataTypeID uint32 }
					Rows     json.RawMessage
				}
				if err := json.Unmarshal(v, &r); err != nil {
					t.Fatalf("%.500s: %v", v, err)
				}
				if r.Command != "SELECT" || r.RowCount == nil {
					t.Errorf("command %q, rowCount %v, want SELECT and a count", r.Command, r.RowCount)
				}
				if c.oid != 0 && (len(r.Fields) == 0 || r.Fields[0].DataTypeID != c.oid) {
					t.Errorf("fields %+v, want the first of type %d", r.Fields, c.oid)
				}
				if c.rows != "" && !jsonEqual(t, r.Rows, c.rows) {
					t.Errorf("rows %.2000s\nwant %s", r.Rows, c.rows)
				}
			}})
		}
		// tests/cli/http.test.ts "http query results match WebSocket query results"
		cases = append(cases, caseCheck{name: c.name + "/http=ws", derived: true, check: func(t *testing.T, _ json.RawMessage) {
			h, w := results[c.name+"/http"], results[c.name+"/ws"]
			if h == nil || w == nil {
				t.Skip("one of the protocols failed (see above)")
			}
			if !jsonEqual(t, h, string(w)) {
				t.Errorf("HTTP and WebSocket results differ:\nhttp %.2000s\nws   %.2000s", h, w)
			}
		}})
	}
	for _, c := range errorSamples {
		name := "error/" + c.name
		errs := map[string]jsError{}
		cases = append(cases,
			caseCheck{name: name + "/http", check: func(t *testing.T, v json.RawMessage) {
				errs["http"] = decodeError(t, v)
				dbError(true, c.message, c.fields)(t, v)
			}},
			caseCheck{name: name + "/ws", check: func(t *testing.T, v json.RawMessage) {
				errs["ws"] = decodeError(t, v)
				dbError(false, c.message, c.fields)(t, v)
			}},
			// tests/cli/http.test.ts "errors match WebSocket query errors"
			caseCheck{name: name + "/http=ws", derived: true, check: func(t *testing.T, _ json.RawMessage) {
				h, w := errs["http"], errs["ws"]
				if h.Code == nil || w.Code == nil {
					t.Skip("one of the protocols failed (see above)")
				}
				if h.Message != w.Message {
					t.Errorf("message: http %q, ws %q", h.Message, w.Message)
				}
				for _, f := range errorFieldNames {
					if h.field(f) != w.field(f) {
						t.Errorf("%s: http %q, ws %q", f, h.field(f), w.field(f))
					}
				}
			}})
	}
	return cases
}

const xyzField = `{"name":"str","dataTypeID":25,"tableID":0,"columnID":0,"dataTypeSize":-1,"dataTypeModifier":-1,"format":"text"}`

// txSettings checks what transaction/… cases read inside their transaction.
func txSettings(isolation, readOnly, deferrable string) check {
	return func(t *testing.T, v json.RawMessage) {
		t.Helper()
		var s struct{ Isolation, Read_only, Deferrable, Xid1, Xid2 string }
		if err := json.Unmarshal(v, &s); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if s.Isolation != isolation || s.Read_only != readOnly || s.Deferrable != deferrable {
			t.Errorf("isolation %q, read_only %q, deferrable %q; want %q, %q, %q", s.Isolation, s.Read_only, s.Deferrable,
				isolation, readOnly, deferrable)
		}
		if s.Xid1 == "" || s.Xid1 != s.Xid2 {
			t.Errorf("transaction ids %q and %q: the batch did not run in one transaction", s.Xid1, s.Xid2)
		}
	}
}

// tableResult checks a full result of a query on sls_http: its command,
// count and rows, and that its fields name the table's columns.
func tableResult(command string, rowCount int, columns []string, rows string) check {
	return func(t *testing.T, v json.RawMessage) {
		t.Helper()
		var r struct {
			Command  string
			RowCount *int
			Fields   []struct {
				Name              string
				TableID, ColumnID int
			}
			Rows json.RawMessage
		}
		if err := json.Unmarshal(v, &r); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if r.Command != command || r.RowCount == nil || *r.RowCount != rowCount {
			t.Errorf("command %q rowCount %v, want %q %d", r.Command, r.RowCount, command, rowCount)
		}
		if len(r.Fields) != len(columns) {
			t.Fatalf("fields %+v, want %v", r.Fields, columns)
		}
		for i, f := range r.Fields {
			if f.Name != columns[i] || f.TableID == 0 || f.ColumnID != i+1 {
				t.Errorf("field %d: %+v, want %s with the table's oid and column number %d", i, f, columns[i], i+1)
			}
		}
		if !jsonEqual(t, r.Rows, rows) {
			t.Errorf("rows %s, want %s", r.Rows, rows)
		}
	}
}

func statement(command string, rowCount string) check {
	return equal(fmt.Sprintf(`{"command":%q,"rowCount":%s,"rowAsArray":false,"fields":[],"rows":[]}`, command, rowCount))
}

var httpCases = []caseCheck{
	{name: "options/default", check: equal(`[{"str":"xyz"}]`)},
	{name: "options/arrayMode=false,fullResults=false", check: equal(`[{"str":"xyz"}]`)},
	{name: "options/arrayMode=false,fullResults=true", check: equal(`{"command":"SELECT","rowCount":1,"rowAsArray":false,"fields":[` + xyzField + `],"rows":[{"str":"xyz"}],"viaNeonFetch":true}`)},
	{name: "options/arrayMode=true,fullResults=false", check: equal(`[["xyz"]]`)},
	{name: "options/arrayMode=true,fullResults=true", check: equal(`{"command":"SELECT","rowCount":1,"rowAsArray":true,"fields":[` + xyzField + `],"rows":[["xyz"]]}`)},
	{name: "options/per-query override to arrayMode,fullResults", check: equal(`{"command":"SELECT","rowCount":1,"rowAsArray":true,"fields":[` + xyzField + `],"rows":[["xyz"]]}`)},
	{name: "options/per-query override from arrayMode,fullResults", check: equal(`[{"str":"xyz"}]`)},
	{name: "options/arrayMode keeps duplicate column names", check: equal(`[[1,2]]`)},

	{name: "params/template", check: equal(`[{"sum":3,"cat":"ab"}]`)},
	{name: "params/query", check: equal(`[{"n":7,"s":"x"}]`)},
	{name: "params/reused placeholder", check: equal(`[{"a":21,"b":42}]`)},
	{name: "params/injection stays a value", check: equal(`[{"v":"'); DROP TABLE sls_items; --","table_kept":true}]`)},
	{name: "params/null", check: equal(`[{"isnull":true}]`)},
	{name: "params/unicode", check: equal(`[{"v":"😀 ünï","len":5}]`)},
	{name: "params/too few", check: dbError(true, "bind message supplies 0 parameters", map[string]string{"code": "08P01"})},
	{name: "params/too many", check: dbError(true, "bind message supplies 2 parameters", map[string]string{"code": "08P01"})},
	{name: "params/multiple statements", check: dbError(true, "cannot insert multiple commands into a prepared statement", map[string]string{"code": "42601"})},

	{name: "dml/create", check: statement("CREATE", "null")},
	{name: "dml/insert", check: statement("INSERT", "3")},
	{name: "dml/insert returning", check: tableResult("INSERT", 1, []string{"id", "name"}, `[{"id":4,"name":"d"}]`)},
	{name: "dml/update", check: statement("UPDATE", "2")},
	{name: "dml/delete", check: statement("DELETE", "1")},
	{name: "dml/select from a table", check: tableResult("SELECT", 3, []string{"id", "name"}, `[{"id":1,"name":"A"},{"id":2,"name":"B"},{"id":4,"name":"d"}]`)},
	{name: "dml/drop", check: statement("DROP", "null")},
	{name: "dml/set", check: statement("SET", "null")},

	{name: "transaction/array of queries", check: equal(`[[{"batchInt":1}],[{"batchStr":"hello"}]]`)},
	{name: "transaction/function", check: equal(`[[{"batchInt":2}],[{"batchStr":"goodbye"}]]`)},
	{name: "transaction/empty array", check: equal(`[]`)},
	{name: "transaction/empty function", check: equal(`[]`)},
	{name: "transaction/options on transaction()", check: equal(`[[[1]],[["hello"]]]`)},
	{name: "transaction/options on neon()", check: equal(`[[[1]],[["hello"]]]`)},
	{name: "transaction/transaction() overrides neon() (a)", check: equal(`[[{"batchInt":1}],[{"batchStr":"hello"}]]`)},
	{name: "transaction/transaction() overrides neon() (b)", check: equal(`[
		{"command":"SELECT","rowCount":1,"rowAsArray":false,"rows":[{"batchInt":1}],
		 "fields":[{"name":"batchInt","dataTypeID":23,"tableID":0,"columnID":0,"dataTypeSize":4,"dataTypeModifier":-1,"format":"text"}]},
		{"command":"SELECT","rowCount":1,"rowAsArray":false,"rows":[{"batchStr":"hello"}],
		 "fields":[{"name":"batchStr","dataTypeID":25,"tableID":0,"columnID":0,"dataTypeSize":-1,"dataTypeModifier":-1,"format":"text"}]}]`)},
	{name: "transaction/options on one query", check: equal(`[[{"batchInt":1}],[["hello"]]]`)},
	{name: "transaction/default settings", check: txSettings("read committed", "off", "off")},
	{name: "transaction/isolationLevel ReadUncommitted", check: txSettings("read uncommitted", "off", "off")},
	{name: "transaction/isolationLevel ReadCommitted", check: txSettings("read committed", "off", "off")},
	{name: "transaction/isolationLevel RepeatableRead", check: txSettings("repeatable read", "off", "off")},
	{name: "transaction/isolationLevel Serializable", check: txSettings("serializable", "off", "off")},
	{name: "transaction/readOnly", check: txSettings("read committed", "on", "off")},
	{name: "transaction/readOnly refuses a write", check: dbError(true, "cannot execute INSERT in a read-only transaction", map[string]string{"code": "25006"})},
	{name: "transaction/deferrable", check: txSettings("serializable", "on", "on")},
	{name: "transaction/readOnly false", check: txSettings("read committed", "off", "off")},
	{name: "transaction/rollback on error", check: func(t *testing.T, v json.RawMessage) {
		var r struct {
			Error json.RawMessage
			Count string
		}
		if err := json.Unmarshal(v, &r); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		dbError(true, "division by zero", map[string]string{"code": "22012"})(t, r.Error)
		if r.Count != "0" {
			t.Errorf("%s rows of the failed batch were kept", r.Count)
		}
	}},
	{name: "transaction/commit", check: equal(`{"count":"2"}`)},
	{name: "transaction/single query autocommits", check: equal(`[{"isolation":"read committed"}]`)},

	{name: "limits/request over 10 MiB", check: serverError(413, fmt.Sprintf("request is too large (max is %d bytes)", maxPayload))},
	{name: "limits/request under 10 MiB", check: equal(`[{"n":9437184}]`)},
	{name: "limits/response over 10 MiB", check: serverError(507, fmt.Sprintf("response is too large (max is %d bytes)", maxPayload))},
	{name: "limits/response under 10 MiB", check: equal(`[1048576,1048576,1048576,1048576,1048576,1048576,1048576,1048576,1048576]`)},
	{name: "limits/batch response over 10 MiB", check: serverError(507, fmt.Sprintf("response is too large (max is %d bytes)", maxPayload))},
	{name: "limits/response limit counts row bytes, not JSON", check: equal(`[6291456]`)},
	{name: "limits/batch over the limit rolls back", check: equal(`{"status507":true,"count":"0"}`)},
	{name: "limits/after the limits", check: equal(`[{"one":1}]`)},

	{name: "abort/timeout aborts", check: func(t *testing.T, v json.RawMessage) {
		if e := decodeError(t, v); !strings.Contains(e.Message, "TimeoutError") && !strings.Contains(e.SourceError, "TimeoutError") {
			t.Errorf("error %s, want the fetch's TimeoutError", v)
		}
	}},
	{name: "abort/timeout not reached", check: equal(`[{"pg_sleep":""}]`)},
	{name: "abort/next query", check: equal(`[{"two":2}]`)},
	{name: "abort/the query stops on the compute", check: equal(`{"active":0}`)},

	{name: "pool/BEGIN alone leaks no transaction", check: equal(`[{"n":1}]`)},
	{name: "pool/failed statement in a lone BEGIN leaks no aborted transaction", check: equal(`[{"v":"usable"}]`)},
	{name: "pool/50 requests at once", check: equal(`{"ok":50,"wrong":0,"failed":[]}`)},
}

// wsLogin checks a Client's query and the authentication messages grove
// sent it. The pipelined start-up sends the cleartext password before it
// is asked, so grove must ask for exactly that; without pipelining either
// flow is fine (Neon's proxy asks WebSocket clients for cleartext; SCRAM
// is Postgres's own).
func wsLogin(pipelined bool) check {
	return func(t *testing.T, v json.RawMessage) {
		t.Helper()
		var r struct {
			Rows         json.RawMessage
			ViaNeonFetch *bool
			Auth         []string
		}
		if err := json.Unmarshal(v, &r); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if !jsonEqual(t, r.Rows, `[{"one":1,"u":"app_user"}]`) || r.ViaNeonFetch != nil {
			t.Errorf("rows %s viaNeonFetch %v", r.Rows, r.ViaNeonFetch)
		}
		cleartext := []string{"authenticationCleartextPassword", "authenticationOk"}
		scram := []string{"authenticationSASL", "authenticationSASLContinue", "authenticationSASLFinal", "authenticationOk"}
		switch {
		case slices.Equal(r.Auth, cleartext):
		case !pipelined && slices.Equal(r.Auth, scram):
		default:
			t.Errorf("authentication messages %v", r.Auth)
		}
		t.Logf("authentication: %v", r.Auth)
	}
}

var wsCases = []caseCheck{
	{name: "pool.query", check: equal(`{"rows":[{"one":1}],"viaNeonFetch":null}`)},
	{name: "pool.query with poolQueryViaFetch (no domain)", check: dbError(true, "missing hostname", nil)},
	{name: "pool.connect", check: equal(`[{"u":"app_user","db":"app_db"}]`)},
	{name: "pool/concurrent queries share at most max connections", check: func(t *testing.T, v json.RawMessage) {
		var r struct{ Queries, Backends int }
		if err := json.Unmarshal(v, &r); err != nil {
			t.Fatal(err)
		}
		if r.Queries != 9 || r.Backends < 1 || r.Backends > 3 {
			t.Errorf("%d queries on %d backends, want 9 on 1–3", r.Queries, r.Backends)
		}
	}},
	{name: "pool/pipelineConnect=false", check: equal(`[{"one":1}]`)},
	{name: "client/pipelineConnect=password,coalesceWrites=true", check: wsLogin(true)},
	{name: "client/pipelineConnect=password,coalesceWrites=false", check: wsLogin(true)},
	{name: "client/pipelineConnect=false,coalesceWrites=true", check: wsLogin(false)},
	{name: "client/pipelineConnect=false,coalesceWrites=false", check: wsLogin(false)},
	{name: "client/session", check: equal(`{"prepared":[43,44],"application_name":"sls-session"}`)},
	{name: "client/application_name", check: equal(`[{"application_name":"pkg:npm/%40neondatabase/serverless@1.2.0"}]`)},
	{name: "client/transaction", check: equal(`{"inside":1,"isolation":"serializable","rolled_back":0,"committed":1}`)},
	{name: "client/error then next query", check: equal(`{"code":"22012","next":[{"two":2}]}`)},
	{name: "client/cancel a running query", check: equal(`{"code":"57014","message":"canceling statement due to user request","fast":true,"next":[{"v":"after cancel"}]}`)},
	{name: "client/many rows", check: equal(`{"rows":100000,"last":100000}`)},
	{name: "client/large parameter", check: equal(`[{"n":4194304,"same":true}]`)},
	{name: "listen/notify from an HTTP query", check: equal(`{"channel":"sls_chan","payload":"over http"}`)},
	{name: "listen/notify from another WebSocket", check: equal(`[{"channel":"sls chan 2","payload":"first"},{"channel":"sls chan 2","payload":"second"}]`)},
	{name: "listen/unlisten stops notifications", check: equal(`["heard"]`)},
}

var drizzleCases = []caseCheck{
	{name: "neon-http/generate_series", check: equal(`[{"x":1},{"x":2},{"x":3}]`)},
	{name: "neon-http/insert returning", check: equal(`[{"name":"a","qty":1,"created":true},{"name":"b","qty":2,"created":true}]`)},
	{name: "neon-http/select where", check: equal(`[{"name":"b","qty":2}]`)},
	{name: "neon-http/update", check: equal(`[{"qty":20}]`)},
	{name: "neon-http/batch", check: equal(`{"ins":[{"name":"c"}],"all":[{"name":"a"},{"name":"b"},{"name":"c"}]}`)},
	{name: "neon-serverless/generate_series", check: equal(`[{"x":1},{"x":2},{"x":3}]`)},
	{name: "neon-serverless/transaction commits", check: equal(`[{"name":"ws","qty":40}]`)},
	{name: "neon-serverless/transaction rolls back", check: equal(`{"err":"TransactionRollbackError","rows":[]}`)},
	{name: "neon-serverless/delete", check: equal(`["a","b","c","ws"]`)},
}

// testHostname runs hostname.mjs with the project's connection string
// rewritten the way Neon writes them: the endpoint in the host name
// (<endpoint>.localhost, which grove routes without a domain), no options.
func (s *serverless) testHostname(t *testing.T) {
	u, err := url.Parse(s.uri)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = s.project.Endpoints[0].ID + ".localhost:" + u.Port()
	q := u.Query()
	q.Del("options")
	u.RawQuery = q.Encode()
	lines := s.runScript(t, "hostname.mjs", "HOST_URL="+u.String())
	s.checkCases(t, lines, []caseCheck{
		{name: "http/endpoint from the host name", check: equal(`[{"u":"app_user","one":1}]`)},
		{name: "http/transaction", check: equal(`[[{"u":"app_user"}]]`)},
		{name: "pool.query with poolQueryViaFetch", check: equal(`{"rows":[{"u":"app_user","one":1}],"viaNeonFetch":true}`)},
		{name: "ws/endpoint from the Host header", check: equal(`[{"u":"app_user","one":1}]`)},
		{name: "ws/endpoint from the Host header, pipelineConnect=false", check: equal(`[{"u":"app_user","one":1}]`)},
	})
}

// waitOps waits until the operations end.
func (s *serverless) waitOps(t *testing.T, ops []apitypes.Operation) {
	t.Helper()
	for _, op := range ops {
		grovetest.WaitFor(t, "operation "+string(op.Action), func() bool {
			var got apitypes.OperationResponse
			st, raw := s.g.API("GET", fmt.Sprintf("/projects/%s/operations/%s", s.project.Project.ID, op.ID), nil, &got)
			if st != 200 {
				t.Fatalf("operation %s: %d %s", op.ID, st, raw)
			}
			return got.Operation.Status.Terminal()
		})
	}
}

// testWake suspends the endpoint and queries it, once per protocol: the
// query wakes the compute.
func (s *serverless) testWake(t *testing.T) {
	ep := s.project.Endpoints[0].ID
	for _, mode := range []string{"ws", "http"} {
		var suspended apitypes.EndpointOperations
		if st, raw := s.g.API("POST", fmt.Sprintf("/projects/%s/endpoints/%s/suspend", s.project.Project.ID, ep), nil, &suspended); st != 200 {
			t.Fatalf("suspend: %d %s", st, raw)
		}
		s.waitOps(t, suspended.Operations)
		var got apitypes.EndpointResponse
		if s.g.API("GET", fmt.Sprintf("/projects/%s/endpoints/%s", s.project.Project.ID, ep), nil, &got); got.Endpoint.CurrentState != apitypes.EndpointStateIdle {
			t.Fatalf("endpoint %s after suspend, want idle", got.Endpoint.CurrentState)
		}
		s.checkCases(t, s.runScript(t, "wake.mjs", "WAKE_MODE="+mode), []caseCheck{
			{name: "wake/" + mode, check: equal(`[{"u":"app_user"}]`)},
		})
	}
}

// testEscapedCredentials logs in as a role made in SQL whose name and
// password hold characters a connection string must percent-encode: Neon's
// proxy decodes both from the URL (urlencoding::decode), node-postgres
// from the WebSocket client's connection string.
func (s *serverless) testEscapedCredentials(t *testing.T) {
	const role, password = "Sls User/ü", "p@ss:w/o rd%?#&=;é"
	conn := s.pgConn(t)
	if _, err := conn.Exec(t.Context(), fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD %s; GRANT ALL ON DATABASE app_db TO %[1]s`,
		pgx.Identifier{role}.Sanitize(), quoteLiteral(password))); err != nil {
		t.Fatalf("create role: %v", err)
	}
	u, err := url.Parse(s.uri)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	want := fmt.Sprintf(`[{"u":%q}]`, role)
	s.checkCases(t, s.runScript(t, "login.mjs", "LOGIN_URL="+u.String()), []caseCheck{
		{name: "http", check: equal(want)},
		{name: "ws pipelined", check: equal(want)},
		{name: "ws pipelineConnect=false", check: equal(want)},
	})
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// testAuth runs auth.mjs with a role of its own to reset, so the other
// scripts' role keeps its password.
func (s *serverless) testAuth(t *testing.T) {
	var created apitypes.RoleOperations
	path := fmt.Sprintf("/projects/%s/branches/%s/roles", s.project.Project.ID, s.project.Branch.ID)
	if st, raw := s.g.API("POST", path, `{"role":{"name":"sls_reset"}}`, &created); st != 201 {
		t.Fatalf("create role: %d %s", st, raw)
	}
	s.waitOps(t, created.Operations)
	u, err := url.Parse(s.uri)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(created.Role.Name, created.Role.Password)
	lines := s.runScript(t, "auth.mjs", "RESET_URL="+u.String(), "GROVE_API="+s.api, "GROVE_KEY="+s.g.Key,
		"GROVE_PROJECT="+s.project.Project.ID, "GROVE_BRANCH="+s.project.Branch.ID)
	refused := func(http bool) check {
		return dbError(http, "password authentication failed", nil)
	}
	s.checkCases(t, lines, []caseCheck{
		{name: "wrong password/http", check: refused(true)},
		{name: "wrong password/ws pipelined", check: dbError(false, "password authentication failed", map[string]string{"code": "28P01"})},
		{name: "wrong password/ws pipelineConnect=false", check: dbError(false, "password authentication failed", map[string]string{"code": "28P01"})},
		{name: "wrong user/http", check: refused(true)},
		{name: "wrong user/ws", check: refused(false)},
		// Neon answers an unknown endpoint like a wrong password; any
		// refusal the driver reports as a database error will do.
		{name: "wrong endpoint/http", check: dbError(true, "", nil)},
		{name: "wrong endpoint/ws", check: dbError(false, "", map[string]string{"code": "*"})},
		{name: "no password/http", check: dbError(true, "password", nil)},
		{name: "unknown database/http", check: dbError(true, `database "sls_no_such_db" does not exist`, map[string]string{"code": "3D000"})},
		{name: "unknown database/ws", check: dbError(false, `database "sls_no_such_db" does not exist`, map[string]string{"code": "3D000"})},
		{name: "wrong password/ws pipelined query does not run", check: equal(`{"code":"28P01","count":"0"}`)},
		{name: "right password/ws pipelined query runs", check: equal(`{"count":"1"}`)},
		{name: "password hack/ws pipelined", check: equal(`[{"u":"app_user"}]`)},
		{name: "password hack/ws pipelineConnect=false", check: equal(`[{"u":"app_user"}]`)},
		{name: "right password after failures/http", check: equal(`[{"u":"app_user"}]`)},
		{name: "right password after failures/ws", check: equal(`[{"u":"app_user"}]`)},
		{name: "reset/old password before (http)", check: equal(`[{"u":"sls_reset"}]`)},
		{name: "reset/old password before (ws)", check: equal(`[{"u":"sls_reset"}]`)},
		{name: "reset/reset_password", check: func(t *testing.T, v json.RawMessage) {
			var r struct {
				Role     string
				Password bool
			}
			if err := json.Unmarshal(v, &r); err != nil || r.Role != "sls_reset" || !r.Password {
				t.Errorf("reset_password answered %s", v)
			}
		}},
		{name: "reset/old password after (http)", check: refused(true)},
		{name: "reset/old password after (ws)", check: refused(false)},
		{name: "reset/new password at once (http)", check: func(t *testing.T, v json.RawMessage) { t.Logf("before the operations finished: %s", v) }},
		{name: "reset/operations finish", check: func(t *testing.T, v json.RawMessage) { t.Logf("operations: %s", v) }},
		{name: "reset/new password (http)", check: equal(`[{"u":"sls_reset"}]`)},
		{name: "reset/new password (ws)", check: equal(`[{"u":"sls_reset"}]`)},
		{name: "reset/new password (ws pipelineConnect=false)", check: equal(`[{"u":"sls_reset"}]`)},
		{name: "reset/old password still refused (http)", check: refused(true)},
	})
}

// noWebSocketSessions checks that the compute keeps no session of the
// WebSocket clients the script ended: node-postgres names its sessions
// after the driver (pkg:npm/…), and one case renames its own sls-…
func (s *serverless) noWebSocketSessions(t *testing.T) {
	t.Helper()
	conn := s.pgConn(t)
	var left []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, err := conn.Query(t.Context(), `SELECT pid || ' ' || application_name || ' ' || coalesce(state, '') FROM pg_stat_activity
			WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
			AND (application_name LIKE 'pkg:npm/%' OR application_name LIKE 'sls-%')`)
		if err == nil {
			left, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil {
			t.Fatalf("list sessions: %v", err)
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("sessions left on the compute after the WebSocket clients ended: %q", left)
	}
}

// clientBackends counts the compute's client backends other than conn's own.
func clientBackends(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var n int
	err := conn.QueryRow(t.Context(),
		`SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`).Scan(&n)
	if err != nil {
		t.Fatalf("count backends: %v", err)
	}
	return n
}

// testSequential makes 10,000 sequential HTTP requests through the driver
// and checks that the compute's backend connections stay bounded: SQL over
// HTTP pools them instead of opening (and leaking) one per request.
func (s *serverless) testSequential(t *testing.T) {
	const n, slack = 10_000, 10
	conn := s.pgConn(t)
	before := clientBackends(t, conn)
	lines := s.runScript(t, "sequential.mjs", fmt.Sprintf("SEQ_N=%d", n), "CASE_TIMEOUT_MS=600000")
	after := clientBackends(t, conn)
	t.Logf("client backends besides the test's own: %d before, %d after", before, after)
	s.checkCases(t, lines, []caseCheck{{name: "sequential", check: func(t *testing.T, v json.RawMessage) {
		var r struct {
			N, Failed  int
			FirstError *string
			Backends   []int
			Ms         int
		}
		if err := json.Unmarshal(v, &r); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		t.Logf("%d requests in %d ms; client backends every 1,000 requests (the driver's own included): %v", r.N, r.Ms, r.Backends)
		if r.Failed > 0 {
			t.Errorf("%d requests failed, the first: %s", r.Failed, *r.FirstError)
		}
		if len(r.Backends) != n/1000 {
			t.Errorf("%d backend counts, want %d", len(r.Backends), n/1000)
		}
		// The count from inside includes the test's own pgx connection.
		if m := slices.Max(append(r.Backends, 0)); m > before+1+slack {
			t.Errorf("%d client backends during the requests, %d before: connections leak", m, before)
		}
		if after > before+slack {
			t.Errorf("%d client backends after the requests, %d before: connections leak", after, before)
		}
	}}})
}

// sqlRequest is one raw request to /sql.
type sqlRequest struct {
	method  string
	body    io.Reader
	headers map[string]string // added to the defaults; "" deletes one
}

// post sends a request to grove's /sql with the project's connection string
// and returns the status, headers and body.
func (s *serverless) post(t *testing.T, r sqlRequest) (int, http.Header, []byte) {
	t.Helper()
	method := r.method
	if method == "" {
		method = "POST"
	}
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+s.g.HTTPAddr+"/sql", r.body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Neon-Connection-String", s.uri)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range r.headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s /sql: %v", method, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read /sql answer: %v", err)
	}
	return resp.StatusCode, resp.Header, body
}

// missingFields returns the keys of Neon's error body that a 400's body lacks.
func missingFields(t *testing.T, status int, body []byte) []string {
	t.Helper()
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); status != 400 || err != nil {
		t.Fatalf("%d %s", status, body)
	}
	var missing []string
	for _, f := range append([]string{"message"}, errorFieldNames...) {
		if _, ok := fields[f]; !ok {
			missing = append(missing, f)
		}
	}
	return missing
}

// sizedBody is a query body of exactly n bytes.
func sizedBody(n int) []byte {
	head, tail := []byte(`{"query":"SELECT length($1) AS n","params":["`), []byte(`"]}`)
	return append(append(head, bytes.Repeat([]byte("x"), n-len(head)-len(tail))...), tail...)
}

// testProtocol sends /sql what the driver never does: garbage, oversized
// bodies, missing or odd headers, and checks grove answers as Neon's proxy
// does (proxy/src/serverless/sql_over_http.rs).
func (s *serverless) testProtocol(t *testing.T) {
	message := func(t *testing.T, body []byte) string {
		t.Helper()
		var m struct{ Message string }
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("answer is not JSON: %.500s", body)
		}
		return m.Message
	}
	str := func(s string) io.Reader { return strings.NewReader(s) }
	bad := []struct {
		name    string
		req     sqlRequest
		status  int
		message string
	}{
		{"GET", sqlRequest{method: "GET"}, 400, "query is not supported"},
		{"garbage body", sqlRequest{body: str("this is not json")}, 400, "could not parse the HTTP request body"},
		{"empty body", sqlRequest{body: str("")}, 400, "could not parse the HTTP request body"},
		{"query not a string", sqlRequest{body: str(`{"query":1}`)}, 400, "could not parse the HTTP request body"},
		{"queries not a list", sqlRequest{body: str(`{"queries":"SELECT 1"}`)}, 400, "could not parse the HTTP request body"},
		{"params not a list", sqlRequest{body: str(`{"query":"SELECT 1","params":{"a":1}}`)}, 400, "could not parse the HTTP request body"},
		{"truncated JSON", sqlRequest{body: str(`{"query":"SELECT 1"`)}, 400, "could not parse the HTTP request body"},
		{"no connection string", sqlRequest{body: str(`{"query":"SELECT 1"}`), headers: map[string]string{"Neon-Connection-String": ""}}, 400, "neon-connection-string"},
		{"connection string of another scheme", sqlRequest{body: str(`{"query":"SELECT 1"}`),
			headers: map[string]string{"Neon-Connection-String": strings.Replace(s.uri, "postgresql:", "mysql:", 1)}}, 400, "incorrect scheme"},
		{"unknown isolation level", sqlRequest{body: str(`{"queries":[{"query":"SELECT 1"}]}`),
			headers: map[string]string{"Neon-Batch-Isolation-Level": "Snapshot"}}, 400, "invalid isolation level"},
		{"request over 10 MiB", sqlRequest{body: bytes.NewReader(sizedBody(maxPayload + 1))}, 413, fmt.Sprintf("request is too large (max is %d bytes)", maxPayload)},
		{"response over 10 MiB", sqlRequest{body: str(`{"query":"SELECT repeat('x', 1048576) FROM generate_series(1, 11)"}`)},
			507, fmt.Sprintf("response is too large (max is %d bytes)", maxPayload)},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			st, h, body := s.post(t, c.req)
			if st != c.status || !strings.Contains(strings.ToLower(message(t, body)), strings.ToLower(c.message)) {
				t.Errorf("%d %.1000s\nwant %d with a message containing %q", st, body, c.status, c.message)
			}
			if h.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("Access-Control-Allow-Origin %q, want *", h.Get("Access-Control-Allow-Origin"))
			}
		})
	}

	t.Run("request of exactly 10 MiB", func(t *testing.T) {
		st, _, body := s.post(t, sqlRequest{body: bytes.NewReader(sizedBody(maxPayload))})
		if st != 200 {
			t.Errorf("%d %.1000s", st, body)
		}
	})
	t.Run("postgres error carries every field", func(t *testing.T) {
		st, _, body := s.post(t, sqlRequest{body: str(`{"query":"SELECT 123 WHERE x"}`)})
		if missing := missingFields(t, st, body); len(missing) > 0 {
			t.Errorf("no %q in %s", missing, body)
		}
		var fields map[string]any
		_ = json.Unmarshal(body, &fields)
		if fields["code"] != "42703" || fields["position"] != "18" {
			t.Errorf("code %v position %v, want 42703 and \"18\"", fields["code"], fields["position"])
		}
	})
	// Neon's proxy writes every key for any error, a Postgres one or not
	// (code and severity "", the others null), so the driver's NeonDbError
	// has code "" rather than undefined for, say, a missing host name.
	t.Run("other errors carry every field too", func(t *testing.T) {
		st, _, body := s.post(t, sqlRequest{body: str(`{"query":"SELECT 1"}`),
			headers: map[string]string{"Neon-Connection-String": "postgresql://app_user:pw@127.0.0.1/app_db"}})
		if missing := missingFields(t, st, body); len(missing) > 0 {
			t.Errorf("no %q in %s", missing, body)
		}
	})
	t.Run("response headers", func(t *testing.T) {
		st, h, body := s.post(t, sqlRequest{body: str(`{"query":"SELECT 1 AS n"}`)})
		if st != 200 {
			t.Fatalf("%d %s", st, body)
		}
		for k, want := range map[string]string{"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"} {
			if got := h.Get(k); !strings.HasPrefix(got, want) {
				t.Errorf("%s %q, want %q", k, got, want)
			}
		}
		if h.Get("Neon-Request-Id") == "" {
			t.Errorf("no Neon-Request-Id in %v", h)
		}
	})
	t.Run("batch options echoed", func(t *testing.T) {
		st, h, body := s.post(t, sqlRequest{body: str(`{"queries":[{"query":"SELECT current_setting('transaction_isolation') AS i"}]}`),
			headers: map[string]string{"Neon-Batch-Isolation-Level": "Serializable", "Neon-Batch-Read-Only": "true", "Neon-Batch-Deferrable": "true"}})
		if st != 200 {
			t.Fatalf("%d %s", st, body)
		}
		for k, want := range map[string]string{"Neon-Batch-Isolation-Level": "Serializable", "Neon-Batch-Read-Only": "true", "Neon-Batch-Deferrable": "true"} {
			if got := h.Get(k); got != want {
				t.Errorf("%s %q, want %q", k, got, want)
			}
		}
	})
	t.Run("header true only when exactly true", func(t *testing.T) {
		st, h, body := s.post(t, sqlRequest{body: str(`{"queries":[{"query":"SELECT current_setting('transaction_read_only') AS ro"}]}`),
			headers: map[string]string{"Neon-Batch-Read-Only": "TRUE"}})
		if st != 200 || !strings.Contains(string(body), `"ro":"off"`) || h.Get("Neon-Batch-Read-Only") != "" {
			t.Errorf("%d %s %v, want a read-write transaction", st, body, h)
		}
	})
	// Without Neon-Raw-Text-Output, Neon's proxy types JSON values itself.
	t.Run("typed JSON output", func(t *testing.T) {
		st, _, body := s.post(t, sqlRequest{body: str(`{"query":"SELECT 1 AS n, true AS b, '{\"a\":1}'::jsonb AS j, NULL::text AS z, 'x' AS s, ARRAY[1,2] AS a"}`),
			headers: map[string]string{"Neon-Raw-Text-Output": "", "Neon-Array-Mode": ""}})
		var r struct{ Rows json.RawMessage }
		if err := json.Unmarshal(body, &r); st != 200 || err != nil || !jsonEqual(t, r.Rows, `[{"n":1,"b":true,"j":{"a":1},"z":null,"s":"x","a":[1,2]}]`) {
			t.Errorf("%d %s", st, body)
		}
	})
	t.Run("raw text output in array mode", func(t *testing.T) {
		st, _, body := s.post(t, sqlRequest{body: str(`{"query":"SELECT 1 AS n, true AS b, ARRAY[1,2] AS a, NULL AS z"}`),
			headers: map[string]string{"Neon-Raw-Text-Output": "true", "Neon-Array-Mode": "true"}})
		var r struct {
			Rows       json.RawMessage
			RowAsArray bool
		}
		if err := json.Unmarshal(body, &r); st != 200 || err != nil || !r.RowAsArray || !jsonEqual(t, r.Rows, `[["1","t","{1,2}",null]]`) {
			t.Errorf("%d %s", st, body)
		}
	})
	t.Run("arrayMode in the body overrides the header", func(t *testing.T) {
		st, _, body := s.post(t, sqlRequest{body: str(`{"query":"SELECT 1 AS n","arrayMode":false}`),
			headers: map[string]string{"Neon-Raw-Text-Output": "true", "Neon-Array-Mode": "true"}})
		if st != 200 || !strings.Contains(string(body), `"rows":[{"n":"1"}]`) {
			t.Errorf("%d %s", st, body)
		}
	})
	// JSON parameters become text as Neon's json_to_pg_text makes them:
	// arrays as Postgres array literals, objects as JSON, null as NULL.
	t.Run("JSON parameters", func(t *testing.T) {
		st, _, body := s.post(t, sqlRequest{body: str(`{"query":"SELECT $1::int, $2::bool, $3::jsonb, $4::int[], $5::text, $6::text, $7::text[], $8::jsonb[]",` +
			`"params":[1,true,{"a":1},[1,2],null,"x",[["a","b\"c"],[null,"NULL"]],[{"b":2}]]}`),
			headers: map[string]string{"Neon-Raw-Text-Output": "true", "Neon-Array-Mode": "true"}})
		var r struct{ Rows json.RawMessage }
		want := `[["1","t","{\"a\": 1}","{1,2}",null,"x","{{a,\"b\\\"c\"},{NULL,\"NULL\"}}","{\"{\\\"b\\\": 2}\"}"]]`
		if err := json.Unmarshal(body, &r); st != 200 || err != nil || !jsonEqual(t, r.Rows, want) {
			t.Errorf("%d %s\nwant rows %s", st, body, want)
		}
	})
	// Neon's pg_text_to_json: int8 and numeric stay strings, NaN a string.
	t.Run("typed JSON output of numbers", func(t *testing.T) {
		st, _, body := s.post(t, sqlRequest{body: str(`{"query":"SELECT 42::int8 AS i8, 'NaN'::float8 AS nan, ARRAY[1,2]::int8[] AS a8, 1.5::float4 AS f4, 12.50::numeric AS num, ARRAY['{\"x\":1}'::jsonb] AS js"}`),
			headers: map[string]string{"Neon-Raw-Text-Output": "", "Neon-Array-Mode": ""}})
		var r struct{ Rows json.RawMessage }
		want := `[{"i8":"42","nan":"NaN","a8":["1","2"],"f4":1.5,"num":"12.50","js":[{"x":1}]}]`
		if err := json.Unmarshal(body, &r); st != 200 || err != nil || !jsonEqual(t, r.Rows, want) {
			t.Errorf("%d %s\nwant rows %s", st, body, want)
		}
	})
	t.Run("OPTIONS preflight", func(t *testing.T) {
		st, h, body := s.post(t, sqlRequest{method: "OPTIONS", headers: map[string]string{"Neon-Connection-String": ""}})
		if st != 200 || h.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "neon-connection-string") {
			t.Errorf("%d %v %s", st, h, body)
		}
	})
}
