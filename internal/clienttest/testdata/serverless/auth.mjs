// Passwords over both protocols: after Grove's API resets a role's
// password the old one stops working at once and the new one works, and
// wrong credentials are refused (the driver's tests/cli/http.test.ts
// "database URL with wrong user/password/project to `neon()`").
//
// Grove lets one address fail 10 times on an endpoint before it refuses
// even right passwords for a while (authlimit.DefaultPerAddress), so the
// script fails 9 times in all, the last of them before "right password
// after failures"; TestServerless runs it last.
//
// Environment beyond lib.mjs: RESET_URL (connection string of a role this
// script may reset), GROVE_API, GROVE_KEY, GROVE_PROJECT, GROVE_BRANCH.
import { driver, url, run, fail, wsRows, done } from "./lib.mjs";

const { neon, Client } = driver;
const { GROVE_API: api, GROVE_KEY: key, GROVE_PROJECT: project, GROVE_BRANCH: branch } = process.env;

const withPassword = (u, pw) => {
  const x = new URL(u);
  x.password = pw;
  return x.toString();
};
const badPassword = url.replace("@", "x@");
const badUser = url.replace("//", "//x");
const noPassword = withPassword(url, "");
const badEndpoint = url.replace(/endpoint%3D/, "endpoint%3Dx");
const noDatabase = (() => {
  const x = new URL(url);
  x.pathname = "/sls_no_such_db";
  return x.toString();
})();

const wsQuery = (u, opts) => wsRows(u, "SELECT current_user AS u", [], opts);
const httpQuery = (u) => neon(u)`SELECT current_user AS u`;

// Password reset through Grove's API.
const resetURL = process.env.RESET_URL;
const role = decodeURIComponent(new URL(resetURL).username);
const callAPI = async (method, path) => {
  const res = await fetch(api + path, { method, headers: { Authorization: `Bearer ${key}`, Accept: "application/json" } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
};

// The old password is used over both protocols before the reset, so that
// Grove holds a pooled HTTP connection made with it.
await run("reset/old password before (http)", () => httpQuery(resetURL));
await run("reset/old password before (ws)", () => wsQuery(resetURL));
const reset = await (async () => {
  let out;
  await run("reset/reset_password", async () => {
    out = await callAPI("POST", `/projects/${project}/branches/${branch}/roles/${encodeURIComponent(role)}/reset_password`);
    return { role: out.role?.name, password: typeof out.role?.password === "string" && out.role.password.length > 0,
      operations: out.operations?.length ?? 0 };
  });
  return out;
})();
if (reset) {
  const newURL = withPassword(resetURL, reset.role.password);
  await run("reset/old password after (http)", () => fail(() => httpQuery(resetURL)));
  await run("reset/old password after (ws)", () => fail(() => wsQuery(resetURL)));
  // Neon's clients wait for the operations before using a new password;
  // whether it already works is recorded, not required.
  await run("reset/new password at once (http)", async () => {
    try {
      return { ok: true, rows: await httpQuery(newURL) };
    } catch (err) {
      return { ok: false, message: err.message };
    }
  });
  await run("reset/operations finish", async () => {
    const deadline = Date.now() + 25_000;
    for (const op of reset.operations ?? []) {
      for (;;) {
        const { operation } = await callAPI("GET", `/projects/${project}/operations/${op.id}`);
        if (operation.status === "finished") break;
        if (["failed", "error", "cancelled", "skipped"].includes(operation.status) || Date.now() > deadline) {
          throw new Error(`operation ${op.id} (${op.action}) is ${operation.status}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return (reset.operations ?? []).map((op) => op.action);
  });
  await run("reset/new password (http)", () => httpQuery(newURL));
  await run("reset/new password (ws)", () => wsQuery(newURL));
  await run("reset/new password (ws pipelineConnect=false)", () => wsQuery(newURL, { pipelineConnect: false }));
  await run("reset/old password still refused (http)", () => fail(() => httpQuery(resetURL)));
}


await run("wrong password/http", () => fail(() => httpQuery(badPassword)));
await run("wrong password/ws pipelined", () => fail(() => wsQuery(badPassword)));
await run("wrong password/ws pipelineConnect=false", () => fail(() => wsQuery(badPassword, { pipelineConnect: false })));
await run("wrong user/http", () => fail(() => httpQuery(badUser)));
await run("wrong user/ws", () => fail(() => wsQuery(badUser)));
await run("wrong endpoint/http", () => fail(() => httpQuery(badEndpoint)));
await run("wrong endpoint/ws", () => fail(() => wsQuery(badEndpoint)));
await run("no password/http", () => fail(() => httpQuery(noPassword)));
await run("unknown database/http", () => fail(() => httpQuery(noDatabase)));
await run("unknown database/ws", () => fail(() => wsQuery(noDatabase)));
// The pipelined start-up sends the first query right behind the password;
// with a wrong password it must not run.
// (The pipelined connect() resolves before the server answers; the
// refusal comes back as the query's error.)
await run("wrong password/ws pipelined query does not run", async () => {
  const client = new Client(badPassword);
  client.on("error", () => {});
  const connecting = client.connect().catch(() => {});
  const err = await fail(() => client.query("INSERT INTO sls_items (name) VALUES ('pipelined past a wrong password')"));
  await connecting;
  await Promise.race([client.end().catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
  const [{ count }] = await neon(url)`SELECT count(*) AS count FROM sls_items WHERE name = 'pipelined past a wrong password'`;
  return { code: err.code, count };
});
await run("right password/ws pipelined query runs", async () => {
  const client = new Client(url);
  const connecting = client.connect();
  const inserting = client.query("INSERT INTO sls_items (name) VALUES ('pipelined behind the password')");
  await connecting;
  await inserting;
  await client.end();
  const [{ count }] = await neon(url)`SELECT count(*) AS count FROM sls_items WHERE name = 'pipelined behind the password'`;
  return { count };
});

// The password hack (endpoint=<id>;<password>) names the endpoint when
// neither the host nor options do.
const hack = (() => {
  const x = new URL(url);
  const endpoint = new URLSearchParams(x.search).get("options").replace(/^endpoint=/, "");
  x.password = encodeURIComponent(`endpoint=${endpoint};${decodeURIComponent(x.password)}`);
  x.searchParams.delete("options");
  return x.toString();
})();
await run("password hack/ws pipelined", () => wsQuery(hack));
await run("password hack/ws pipelineConnect=false", () => wsQuery(hack, { pipelineConnect: false }));

// The right password still works after those failures (fewer than the
// address's budget).
await run("right password after failures/http", () => httpQuery(url));
await run("right password after failures/ws", () => wsQuery(url));

done();
