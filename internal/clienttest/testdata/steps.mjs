// Shared by the client scripts: loads a client package from the folder that
// `make setup` installs them into, and records each step's value or error as
// JSON for the Go test to check.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import path from "node:path";

export const api = process.env.GROVE_API;
export const key = process.env.GROVE_KEY;
export const org = process.env.GROVE_ORG;

// load imports a package installed under $NPM_CLIENTS/node_modules.
export async function load(name) {
  const require = createRequire(path.join(process.env.NPM_CLIENTS, "package.json"));
  return import(pathToFileURL(require.resolve(name)).href);
}

const steps = [];

// step runs fn and records what it returns, or the error it throws, under
// name. It returns the value, or undefined when the step failed.
export async function step(name, fn) {
  try {
    const value = await fn();
    steps.push({ name, value: value === undefined ? null : value });
    return value;
  } catch (err) {
    steps.push({ name, error: describe(err) });
    return undefined;
  }
}

function describe(err) {
  // axios errors (api-client) and NeonApiError (sdk) both carry the status and body.
  const status = err?.response?.status ?? err?.status;
  const body = err?.response?.data ?? err?.body;
  let s = String(err?.message ?? err);
  if (status) s += ` (status ${status})`;
  if (body) s += ` body: ${JSON.stringify(body)}`;
  if (err?.config?.url) s += ` url: ${err.config.method} ${err.config.url}`;
  return s;
}

export function finish() {
  process.stdout.write(JSON.stringify({ steps }) + "\n");
}
