// Shared by the serverless-driver scripts: loads @neondatabase/serverless
// (and ws, drizzle-orm) from the folder `make setup` installs them into,
// points the driver at Grove's data-plane listener, and prints one JSON line
// per case for TestServerless to check:
//
//	{"case": name, "value": tagged value}   or   {"case": name, "error": {...}}
//
// An "error" line is a case that threw where it should not have; cases that
// expect an error catch it and return describeError(err) as their value.
//
// Environment: NPM_CLIENTS (the install folder), GROVE_HTTP (host:port of
// the data-plane listener), DATABASE_URL (a role's connection string).
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";
import path from "node:path";

export const url = process.env.DATABASE_URL;
export const httpAddr = process.env.GROVE_HTTP;

// load imports a package (or one of its subpaths) installed under
// $NPM_CLIENTS/node_modules as an ES module, so that this script and
// drizzle-orm share one instance of the driver (and one neonConfig).
export async function load(spec) {
  const parts = spec.split("/");
  const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  const sub = "." + spec.slice(name.length);
  const dir = path.join(process.env.NPM_CLIENTS, "node_modules", name);
  const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
  const exp = pkg.exports;
  // "exports": {"import": …} is the sugar for {".": {"import": …}}.
  const sugar = exp && typeof exp === "object" && !Object.keys(exp).some((k) => k.startsWith("."));
  let entry = sugar ? (sub === "." ? exp : undefined) : exp?.[sub];
  for (const cond of ["import", "default"]) {
    if (entry && typeof entry === "object" && entry[cond]) entry = entry[cond];
  }
  if (typeof entry === "string") return import(pathToFileURL(path.join(dir, entry)).href);
  const require = createRequire(path.join(process.env.NPM_CLIENTS, "package.json"));
  return import(pathToFileURL(require.resolve(spec)).href);
}

export const driver = await load("@neondatabase/serverless");
export const { default: WebSocket } = await load("ws");

// Grove has no domain here: both protocols are on the data-plane listener,
// in the clear; the endpoint comes from the connection string's options.
export const { neonConfig } = driver;
neonConfig.fetchEndpoint = () => `http://${httpAddr}/sql`;
neonConfig.wsProxy = () => `${httpAddr}/v2`;
neonConfig.useSecureWebSocket = false;
neonConfig.webSocketConstructor = WebSocket;

const caseTimeoutMs = Number(process.env.CASE_TIMEOUT_MS || 30_000);

// run runs one case and prints its line; a case that does not settle in
// time is reported as failed, so one hang does not hide the cases after it.
export async function run(name, fn) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`case did not finish in ${caseTimeoutMs} ms`)), caseTimeoutMs);
  });
  let line;
  try {
    const value = await Promise.race([fn(), timeout]);
    line = { case: name, value: tag(value) ?? null };
  } catch (err) {
    line = { case: name, error: describeError(err) };
  } finally {
    clearTimeout(timer);
  }
  process.stdout.write(JSON.stringify(line) + "\n");
}

// fail runs fn, which should throw, and returns the error it threw.
export async function fail(fn) {
  let value;
  try {
    value = await fn();
  } catch (err) {
    return describeError(err);
  }
  throw new Error(`expected an error, got ${JSON.stringify(tag(value))}`);
}

const errorFields = ["severity", "code", "detail", "hint", "position", "internalPosition", "internalQuery",
  "where", "schema", "table", "column", "dataType", "constraint", "file", "line", "routine"];

// describeError keeps what the driver puts on an error: NeonDbError's
// fields over HTTP, pg's DatabaseError fields over WebSockets.
export function describeError(err) {
  const out = {
    name: err?.name,
    message: String(err?.message ?? err),
    neonDbError: err instanceof driver.NeonDbError,
  };
  for (const f of errorFields) out[f] = err?.[f] ?? null;
  if (err?.sourceError) out.sourceError = String(err.sourceError);
  return out;
}

// tag turns a value the driver returned into JSON that keeps its JS type:
// Dates, bigints, byte arrays and class instances would otherwise become
// indistinguishable from strings and plain objects.
export function tag(v) {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "bigint":
      return { $bigint: String(v) };
    case "number":
      return Number.isFinite(v) ? v : { $number: String(v) };
    case "string":
    case "boolean":
      return v;
    case "function":
      return { $function: v.length };
  }
  if (v instanceof Date) return { $date: Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString() };
  if (ArrayBuffer.isView(v)) return { $bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (Array.isArray(v)) return v.map(tag);
  const out = {};
  const cls = v.constructor?.name;
  if (cls && cls !== "Object") out.$class = cls;
  for (const [k, x] of Object.entries(v)) out[k] = tag(x);
  return out;
}

// result keeps the parts of a query result both protocols share (the
// driver's own test compares them after dropping the rest).
export function result(r) {
  return {
    command: r.command,
    rowCount: r.rowCount,
    rowAsArray: r.rowAsArray ?? false,
    fields: r.fields.map((f) => ({ ...f })),
    rows: r.rows,
  };
}

// wsRows runs one query on a new WebSocket Client (connection string u,
// per-client neonConfig opts) and returns its rows.
export async function wsRows(u, query, params = [], opts = {}) {
  const client = new driver.Client(u);
  Object.assign(client.neonConfig, opts);
  try {
    await client.connect();
    return (await client.query(query, params)).rows;
  } finally {
    // end() of a client whose start-up failed may never settle (the
    // driver's tests/cli/connectFailure.test.ts).
    await Promise.race([client.end().catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
  }
}

// done ends the process once every case has printed, whatever sockets
// a failed case left open.
export function done() {
  process.exit(0);
}
