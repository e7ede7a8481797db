// SQL over HTTP as the driver's neon() function speaks it: result shapes,
// parameters, statements, transactions and the size limits. Each case names
// the upstream test it mirrors (neondatabase/serverless tests/cli/*.test.ts)
// where there is one.
import { driver, url, run, fail, result, wsRows, done } from "./lib.mjs";

const { neon } = driver;
const sql = neon(url);

// tests/cli/http.test.ts "options to `neon()` and options on queries"
const sqlff = neon(url, { arrayMode: false, fullResults: false });
const sqlft = neon(url, { arrayMode: false, fullResults: true });
const sqltf = neon(url, { arrayMode: true, fullResults: false });
const sqltt = neon(url, { arrayMode: true, fullResults: true });
await run("options/default", () => sql`SELECT 'xyz' AS str`);
await run("options/arrayMode=false,fullResults=false", () => sqlff`SELECT 'xyz' AS str`);
await run("options/arrayMode=false,fullResults=true", async () => {
  const r = await sqlft`SELECT 'xyz' AS str`;
  return { ...result(r), viaNeonFetch: r.viaNeonFetch };
});
await run("options/arrayMode=true,fullResults=false", () => sqltf`SELECT 'xyz' AS str`);
await run("options/arrayMode=true,fullResults=true", async () => result(await sqltt`SELECT 'xyz' AS str`));
await run("options/per-query override to arrayMode,fullResults", async () =>
  result(await sqlff.query("SELECT 'xyz' AS str", [], { arrayMode: true, fullResults: true })));
await run("options/per-query override from arrayMode,fullResults", () =>
  sqltt.query("SELECT 'xyz' AS str", [], { arrayMode: false, fullResults: false }));
// Two columns of one name: only arrayMode keeps both.
await run("options/arrayMode keeps duplicate column names", () =>
  sqltf`SELECT 1 AS a, 2 AS a`);

// Parameters.
await run("params/template", () => sql`SELECT ${1}::int + ${2}::int AS sum, ${"a"} || ${"b"} AS cat`);
await run("params/query", () => sql.query("SELECT $1::int AS n, $2::text AS s", [7, "x"]));
await run("params/reused placeholder", () => sql.query("SELECT $1::int AS a, $1::int * 2 AS b", [21]));
await run("params/injection stays a value", () =>
  sql`SELECT ${"'); DROP TABLE sls_items; --"}::text AS v, (SELECT count(*) FROM sls_items) >= 0 AS table_kept`);
await run("params/null", () => sql`SELECT ${null}::text IS NULL AS isnull`);
await run("params/unicode", () => sql`SELECT ${"😀 ünï"}::text AS v, length(${"😀 ünï"}::text) AS len`);
// tests/cli/http.test.ts "http queries with too few or too many parameters"
await run("params/too few", () => fail(() => sql.query("SELECT $1", [])));
await run("params/too many", () => fail(() => sql.query("SELECT $1", [1, 2])));
// Neon runs each query as one extended-protocol statement.
await run("params/multiple statements", () => fail(() => sql.query("SELECT 1; SELECT 2")));

// Statements and their command tags (fullResults).
const full = neon(url, { fullResults: true });
await run("dml/create", async () => result(await full`CREATE TABLE sls_http (id int PRIMARY KEY, name text)`));
await run("dml/insert", async () =>
  result(await full`INSERT INTO sls_http VALUES (1, 'a'), (2, 'b'), (3, 'c')`));
await run("dml/insert returning", async () =>
  result(await full`INSERT INTO sls_http VALUES (4, 'd') RETURNING id, name`));
await run("dml/update", async () => result(await full`UPDATE sls_http SET name = upper(name) WHERE id <= 2`));
await run("dml/delete", async () => result(await full`DELETE FROM sls_http WHERE id = 3`));
await run("dml/select from a table", async () => result(await full`SELECT id, name FROM sls_http ORDER BY id`));
await run("dml/drop", async () => result(await full`DROP TABLE sls_http`));
await run("dml/set", async () => result(await full`SET statement_timeout = 0`));

// Transactions. tests/cli/httpTransaction.test.ts
await run("transaction/array of queries", () =>
  sql.transaction([sql`SELECT ${1}::int AS "batchInt"`, sql`SELECT ${"hello"} AS "batchStr"`]));
await run("transaction/function", () =>
  sql.transaction((txn) => [txn`SELECT ${2}::int AS "batchInt"`, txn`SELECT ${"goodbye"} AS "batchStr"`]));
await run("transaction/empty array", () => sql.transaction([]));
await run("transaction/empty function", () => sql.transaction(() => []));
await run("transaction/options on transaction()", () =>
  sql.transaction(
    (txn) => [txn`SELECT ${1}::int AS "batchInt"`, txn`SELECT ${"hello"} AS "batchStr"`],
    { arrayMode: true, isolationLevel: "Serializable", readOnly: true },
  ));
await run("transaction/options on neon()", () =>
  neon(url, { arrayMode: true, isolationLevel: "RepeatableRead" }).transaction((txn) => [
    txn`SELECT ${1}::int AS "batchInt"`,
    txn`SELECT ${"hello"} AS "batchStr"`,
  ]));
await run("transaction/transaction() overrides neon() (a)", () =>
  neon(url, { arrayMode: true }).transaction(
    (txn) => [txn`SELECT ${1}::int AS "batchInt"`, txn`SELECT ${"hello"} AS "batchStr"`],
    { arrayMode: false },
  ));
await run("transaction/transaction() overrides neon() (b)", async () => {
  const [a, b] = await sql.transaction(
    (txn) => [txn`SELECT ${1}::int AS "batchInt"`, txn`SELECT ${"hello"} AS "batchStr"`],
    { fullResults: true },
  );
  return [result(a), result(b)];
});
await run("transaction/options on one query", () =>
  sql.transaction((txn) => [
    txn`SELECT ${1}::int AS "batchInt"`,
    txn.query('SELECT $1 AS "batchStr"', ["hello"], { arrayMode: true }),
  ]));

// What the transaction really was, read back inside it.
const settings = (txn) => [
  txn`SELECT current_setting('transaction_isolation') AS isolation`,
  txn`SELECT current_setting('transaction_read_only') AS read_only`,
  txn`SELECT current_setting('transaction_deferrable') AS deferrable`,
  txn`SELECT pg_current_xact_id()::text AS xid1`,
  txn`SELECT pg_current_xact_id()::text AS xid2`,
];
const flat = (results) => Object.assign({}, ...results.map((rows) => rows[0]));
await run("transaction/default settings", async () => flat(await sql.transaction(settings)));
for (const level of ["ReadUncommitted", "ReadCommitted", "RepeatableRead", "Serializable"]) {
  await run(`transaction/isolationLevel ${level}`, async () =>
    flat(await sql.transaction(settings, { isolationLevel: level })));
}
await run("transaction/readOnly", async () => flat(await sql.transaction(settings, { readOnly: true })));
await run("transaction/readOnly refuses a write", () =>
  fail(() => sql.transaction([sql`INSERT INTO sls_items (name) VALUES ('ro')`], { readOnly: true })));
await run("transaction/deferrable", async () =>
  flat(await sql.transaction(settings, { isolationLevel: "Serializable", readOnly: true, deferrable: true })));
await run("transaction/readOnly false", async () => flat(await sql.transaction(settings, { readOnly: false })));

// A failing query rolls back what came before it in the batch.
await run("transaction/rollback on error", async () => {
  const err = await fail(() =>
    sql.transaction([
      sql`INSERT INTO sls_items (name) VALUES ('rolled back')`,
      sql`SELECT 1 / 0`,
    ]));
  const [{ count }] = await sql`SELECT count(*) AS count FROM sls_items WHERE name = 'rolled back'`;
  return { error: err, count };
});
await run("transaction/commit", async () => {
  await sql.transaction([
    sql`INSERT INTO sls_items (name) VALUES ('committed')`,
    sql`INSERT INTO sls_items (name) VALUES ('committed')`,
  ]);
  const [{ count }] = await sql`SELECT count(*) AS count FROM sls_items WHERE name = 'committed'`;
  return { count };
});
// A single query runs outside any transaction block (autocommit).
await run("transaction/single query autocommits", () =>
  sql`SELECT current_setting('transaction_isolation') AS isolation`);

// Limits (10 MiB each way), as the driver reports them.
const MiB = 1024 * 1024;
await run("limits/request over 10 MiB", () => fail(() => sql.query("SELECT length($1) AS n", ["x".repeat(10 * MiB + 1)])));
await run("limits/request under 10 MiB", () => sql.query("SELECT length($1) AS n", ["x".repeat(9 * MiB)]));
await run("limits/response over 10 MiB", () =>
  fail(() => sql`SELECT repeat('x', ${MiB}) AS v FROM generate_series(1, 11)`));
await run("limits/response under 10 MiB", async () =>
  (await sql`SELECT repeat('x', ${MiB}) AS v FROM generate_series(1, 9)`).map((r) => r.v.length));
await run("limits/batch response over 10 MiB", () =>
  fail(() => sql.transaction([
    sql`SELECT repeat('x', ${6 * MiB}) AS v`,
    sql`SELECT repeat('x', ${6 * MiB}) AS v`,
  ])));
// Neon counts the rows' bytes as Postgres sends them, not the JSON made of
// them: 6 MiB of quotes is 12 MiB of JSON and still within the limit.
await run("limits/response limit counts row bytes, not JSON", async () =>
  (await sql`SELECT repeat('"', ${6 * MiB}) AS v`).map((r) => r.v.length));
// A batch cut short by the limit is rolled back.
await run("limits/batch over the limit rolls back", async () => {
  const err = await fail(() => sql.transaction([
    sql`INSERT INTO sls_items (name) VALUES ('big batch')`,
    sql`SELECT repeat('x', ${MiB}) AS v FROM generate_series(1, 11)`,
  ]));
  const [{ count }] = await sql`SELECT count(*) AS count FROM sls_items WHERE name = 'big batch'`;
  return { status507: err.message.startsWith("Server error (HTTP status 507)"), count };
});
// The connection the limit cut short still serves the next request.
await run("limits/after the limits", () => sql`SELECT 1 AS one`);

// tests/cli/http.test.ts "timeout aborting an http query" / "not aborting"
await run("abort/timeout aborts", () =>
  fail(() => sql.query("SELECT pg_sleep(2)", [], { fetchOptions: { signal: AbortSignal.timeout(250) } })));
await run("abort/timeout not reached", () =>
  sql.query("SELECT pg_sleep(.25)", [], { fetchOptions: { signal: AbortSignal.timeout(2500) } }));
await run("abort/next query", () => sql`SELECT 2 AS two`);
// Neon's proxy cancels the query on the compute when the client goes away.
await run("abort/the query stops on the compute", async () => {
  const marker = `sls_abort_${Date.now()}`;
  await fail(() => sql.query(`SELECT pg_sleep(5) AS "${marker}"`, [], { fetchOptions: { signal: AbortSignal.timeout(300) } }));
  const deadline = Date.now() + 3000;
  let active;
  do {
    await new Promise((r) => setTimeout(r, 100));
    [{ active }] = await sql.query(
      "SELECT count(*)::int AS active FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND strpos(query, $1) > 0",
      [marker]);
  } while (active > 0 && Date.now() < deadline);
  return { active };
});

// The pool behind /sql: a connection a request leaves inside a transaction
// block must not serve the next request (Neon's proxy discards one that is
// not idle), and many requests at once all get an answer.
await run("pool/BEGIN alone leaks no transaction", async () => {
  await sql`BEGIN`;
  await sql`INSERT INTO sls_items (name) VALUES ('after a lone BEGIN')`;
  // Read from another session: a WebSocket Client.
  return wsRows(url, "SELECT count(*)::int AS n FROM sls_items WHERE name = 'after a lone BEGIN'");
});
await run("pool/failed statement in a lone BEGIN leaks no aborted transaction", async () => {
  await sql`BEGIN`;
  await fail(() => sql`SELECT 1/0`);
  return sql`SELECT 'usable' AS v`;
});
await run("pool/50 requests at once", async () => {
  const rs = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => sql`SELECT ${i}::int AS i, pg_sleep(0.2)`));
  const failed = rs.filter((r) => r.status === "rejected").map((r) => r.reason.message);
  const wrong = rs.filter((r, i) => r.status === "fulfilled" && r.value[0].i !== i).length;
  return { ok: rs.length - failed.length, wrong, failed: [...new Set(failed)] };
});

done();
