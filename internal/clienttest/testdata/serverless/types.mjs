// Every common type through both of the driver's protocols: each query runs
// over HTTP (neon(), fullResults) and over a WebSocket (Pool.connect()), and
// prints "<name>/http" and "<name>/ws" with the parsed result. Mirrors the
// driver's tests/cli/http.test.ts "http query results match WebSocket query
// results" and tests/cli/ws.test.ts "WebSockets query results match pg/TCP
// query results" over tests/cli/sampleQueries.ts, with fixed values instead
// of `new Date()` so that TestServerless can also check each parsed value.
//
// The node process runs with TZ=UTC, which is how the driver turns date and
// timestamp (no time zone) text into Dates.
import { driver, url, run, fail, result, done } from "./lib.mjs";

const { neon, Pool } = driver;
const sql = neon(url, { fullResults: true });

const when = new Date("2024-02-29T12:34:56.789Z");
const q = sql;

// Each entry: name → a query built with the driver's tagged template or
// sql.query (the driver turns Uint8Array parameters into hex bytea).
const samples = {
  // Grove-side types the driver parses.
  int2: q`SELECT ${-32768}::int2 AS v`,
  int4: q`SELECT ${2147483647}::int4 AS v`,
  int8: q`SELECT ${"9223372036854775807"}::int8 AS v`,
  int8_bigint: q`SELECT ${9007199254740993n}::int8 AS v`,
  numeric: q`SELECT ${"-12345678901234567890.123456789"}::numeric AS v`,
  float4: q`SELECT ${Math.PI}::float4 AS v`,
  float8: q`SELECT ${Math.PI}::float8 AS v`,
  float8_nan: q`SELECT ${"NaN"}::float8 AS v`,
  float8_inf: q`SELECT ${"-Infinity"}::float8 AS v`,
  bool_true: q`SELECT ${true}::bool AS v`,
  bool_false: q`SELECT ${false}::bool AS v`,
  text: q`SELECT ${"héllo, 世界 'q' \"dq\" \\ \n tab\t"}::text AS v`,
  text_empty: q`SELECT ${""}::text AS v`,
  timestamptz: q`SELECT ${when}::timestamptz AS v`,
  timestamp: q`SELECT ${when}::timestamp AS v`,
  date: q`SELECT ${"2024-02-29"}::date AS v`,
  time: q`SELECT ${"17:18:19.5"}::time AS v`,
  timetz: q`SELECT ${"16:17:18+01:00"}::timetz AS v`,
  interval: q`SELECT ${"1 year 2 mons 3 days 04:05:06.789"}::interval AS v`,
  uuid: q`SELECT ${"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}::uuid AS v`,
  jsonb: q`SELECT ${{ a: [1, 2.5, { b: null }], c: "d", e: true }}::jsonb AS v`,
  json: q`SELECT ${{ x: "y" }}::json AS v`,
  jsonb_scalar: q`SELECT ${"42"}::jsonb AS v`,
  int4_array: q`SELECT ${[1, 2, 3]}::int4[] AS v`,
  int4_array_nested: q`SELECT ${[[1, 2], [3, 4]]}::int4[][] AS v`,
  int8_array: q`SELECT ${["1", "9223372036854775807"]}::int8[] AS v`,
  text_array: q`SELECT ${["a", "b,c", '"q"', "", null]}::text[] AS v`,
  bool_array: q`SELECT ${[true, false, null]}::bool[] AS v`,
  float8_array: q`SELECT ${[1.5, -2.25]}::float8[] AS v`,
  numeric_array: q`SELECT ${["1.10", "-2"]}::numeric[] AS v`,
  uuid_array: q`SELECT ${["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]}::uuid[] AS v`,
  timestamptz_array: q`SELECT ${[when]}::timestamptz[] AS v`,
  // A JS array parameter is a Postgres array literal, so JSON arrays go as text.
  jsonb_array: q`SELECT ARRAY[${{ a: 1 }}::jsonb, ${"[2]"}::jsonb] AS v`,
  empty_array: q`SELECT '{}'::int4[] AS v`,
  bytea: q`SELECT ${new Uint8Array([0, 1, 2, 254, 255])} AS v`,
  bytea_hex_text: q`SELECT ${"\\xDEADBEEF"}::bytea AS v`,
  bytea_empty: q`SELECT ''::bytea AS v`,
  bytea_array: q`SELECT ${["\\xDEADBEEF", "\\x00"]}::bytea[] AS v`,
  null_literal: q`SELECT NULL AS v`,
  null_param: q`SELECT ${null}::text AS v`,
  null_string: q`SELECT ${"NULL"}::text AS v`,
  several_columns: sql.query("SELECT $1::int AS a, $2::text AS b, NULL::bool AS c, $3::float8 AS d", [1, "two", 3.5]),
  several_rows: q`SELECT g AS v FROM generate_series(1, 3) AS g`,
  no_rows: q`SELECT 1 AS v WHERE false`,

  // The rest of the upstream sampleQueries, compared between protocols only.
  up_int_uncast: q`SELECT ${1} AS v`,
  up_decimal: q`SELECT ${-1}::decimal AS v`,
  up_bigint_uncast: q`SELECT ${2n} AS v`,
  up_bigint_big_uncast: q`SELECT ${9007199254740993n} AS v`,
  up_pi_uncast: q`SELECT ${Math.PI} AS v`,
  up_int4range: q`SELECT ${"[1,4)"}::int4range AS v`,
  up_arrstr_uncast: q`SELECT ${["a", "b", "c"]} AS v`,
  up_obj_uncast: q`SELECT ${{ x: "y" }} AS v`,
  up_macaddr: q`SELECT ${"11:22:33:44:55:66"}::macaddr AS v`,
  up_point: q`SELECT ${"(2, 3)"}::point AS v`,
  up_circle: q`SELECT ${"<(2, 3), 1>"}::circle AS v`,
  up_cidr: q`SELECT ${"10.10.10.0/24"}::cidr AS v`,
  up_inet: q`SELECT ${"192.168.0.1"}::inet AS v`,
  up_bool_uncast: q`SELECT ${true} AS v`,
  up_greeting: q`SELECT ${"hello"} || ' ' || ${"world"} AS v`,
  up_arrmacaddr: q`SELECT ${["11:22:33:44:55:66"]}::macaddr[] AS v`,
  up_arrcidr: q`SELECT ${["10.10.10.0/24"]}::cidr[] AS v`,
  up_arrpoint: q`SELECT ${["(2, 3)"]}::point[] AS v`,
  up_arrcircle: q`SELECT ${["<(2, 3), 1>"]}::circle[] AS v`,
  up_arrnum_uncast: q`SELECT ${[1, 2, 3]} AS v`,
  up_arrnumnested_uncast: q`SELECT ${[[2], [4]]} AS v`,
  up_time_uncast: q`SELECT ${when} AS v`,
  up_bytea_64k: q`SELECT ${new Uint8Array(65536).fill(128)} AS v`,
  up_bytea_buffer: q`SELECT ${Buffer.from([65, 66, 67])} AS v`,
  up_timestamp_query: sql.query("SELECT $1::timestamp AS v", [when]),
  up_greeting_query: sql.query("SELECT $1 || ' ' || $2 AS v", ["hello", "world"]),
  up_no_params: sql.query("SELECT 123 AS v"),
  up_empty_params: sql.query("SELECT 123 AS v", []),
};

// Errors carrying each of Postgres's error fields, over both protocols.
// Mirrors tests/cli/http.test.ts "errors match WebSocket query errors".
// The tables, domain and function are made by TestServerless beforehand.
const errors = {
  undefined_column: ["SELECT 123 WHERE x", []],
  syntax: ["SELEC 1", []],
  division_by_zero: ["SELECT 1/$1::int", [0]],
  unique_violation: ["INSERT INTO sls_err (id, n) VALUES (1, 1), (1, 1)", []],
  check_violation: ["INSERT INTO sls_err (id, n) VALUES ($1, -1)", [2]],
  not_null_violation: ["INSERT INTO sls_err (id, n) VALUES (NULL, 1)", []],
  foreign_key_violation: ["INSERT INTO sls_err_child (parent) VALUES (999)", []],
  domain_check: ["SELECT (-1)::sls_posint", []],
  raise_with_hint: ["SELECT sls_raise()", []],
  internal_query: ["DO $$ BEGIN PERFORM nope FROM sls_err; END $$", []],
  // (Too few parameters is an HTTP case only: node-postgres sends a query
  // without values by the simple protocol, where $1 is a parse error.)
  bind_too_many: ["SELECT $1::int", [1, 2]],
};

const pool = new Pool({ connectionString: url });
let client;
try {
  client = await pool.connect();
} catch (err) {
  client = { query: () => Promise.reject(err), release() {} };
}

function parameterized(p) {
  const d = p.queryData;
  return typeof d.toParameterizedQuery === "function" ? d.toParameterizedQuery() : d;
}

for (const [name, p] of Object.entries(samples)) {
  const { query, params } = parameterized(p);
  await run(`${name}/http`, async () => result(await p));
  await run(`${name}/ws`, async () => result(await client.query(query, params)));
}
for (const [name, [query, params]] of Object.entries(errors)) {
  await run(`error/${name}/http`, () => fail(() => sql.query(query, params)));
  await run(`error/${name}/ws`, () => fail(() => client.query(query, params)));
}

client.release();
await pool.end().catch(() => {});
done();
