// Drives @neon/sdk (fetch-based, polls operations until they finish) against
// Grove: GROVE_API is the base URL, GROVE_KEY the API key, GROVE_ORG an org.
// Prints {"steps":[{name, value|error}]} for TestSDK.
import { api, key, org, load, step, finish } from "./steps.mjs";

const { createNeonClient } = await load("@neon/sdk");
const neon = createNeonClient({
  apiKey: key,
  baseUrl: api,
  orgId: org,
  throwOnError: true,
  retries: 0, // a 423 or 503 is a finding here, not something to ride out
  wait: { pollIntervalMs: 100, timeoutMs: 60_000 },
});

await step("user.me", () => neon.user.me());
await step("user.organizations", () => neon.user.organizations());
await step("regions.list", () => neon.regions.list());

// create polls the operations the project's creation started until they finish.
const project = await step("projects.create", () =>
  neon.projects.create({ name: "sdk-app", pg_version: 17, region_id: "aws-us-east-2" }));
const conn = await step("projects.createAndConnect", () =>
  neon.projects.createAndConnect({ name: "sdk-connect", pooled: false }));

const p = project?.id;
if (p) {
  await step("projects.get", () => neon.projects.get({ projectId: p }));
  await step("projects.update", () => neon.projects.update({ projectId: p, name: "sdk-renamed" }));
  await step("projects.list", async () => (await neon.projects.list({ limit: 1 }).all()).map((x) => x.id));

  await step("branches.list", async () => await neon.branches.list({ projectId: p }).all());
  const main = await step("branches.getDefault", () => neon.branches.getDefault({ projectId: p }));
  const b = main?.id;
  if (b) {
    await step("branches.get", () => neon.branches.get({ projectId: p, branchId: b }));
    await step("databases.create", () =>
      neon.postgres.databases.create({ projectId: p, branchId: b, name: "sdk_db", owner_name: "neondb_owner" }));
    await step("databases.get", () => neon.postgres.databases.get({ projectId: p, branchId: b, databaseName: "sdk_db" }));
    await step("databases.list", () => neon.postgres.databases.list({ projectId: p, branchId: b }));
    await step("databases.delete", () => neon.postgres.databases.delete({ projectId: p, branchId: b, databaseName: "sdk_db" }));
    await step("roles.create", () => neon.postgres.roles.create({ projectId: p, branchId: b, name: "sdk_role" }));
    await step("roles.password", () => neon.postgres.roles.password({ projectId: p, branchId: b, roleName: "sdk_role" }));
    await step("roles.resetPassword", () =>
      neon.postgres.roles.resetPassword({ projectId: p, branchId: b, roleName: "sdk_role" }, { waitForReadiness: true }));
    await step("roles.list", () => neon.postgres.roles.list({ projectId: p, branchId: b }));
    await step("roles.delete", () => neon.postgres.roles.delete({ projectId: p, branchId: b, roleName: "sdk_role" }));
  }
  // One role and one database left: the resolver picks them by itself.
  await step("postgres.connectionString", () => neon.postgres.connectionString({ projectId: p, pooled: false }));

  const eps = await step("endpoints.list", () => neon.postgres.endpoints.list({ projectId: p }));
  const ep = eps?.[0]?.id;
  if (ep) {
    await step("endpoints.suspend", () =>
      neon.postgres.endpoints.suspend({ projectId: p, endpointId: ep }, { waitForReadiness: true }));
    await step("endpoints.start", () =>
      neon.postgres.endpoints.start({ projectId: p, endpointId: ep }, { waitForReadiness: true }));
    await step("endpoints.get", () => neon.postgres.endpoints.get({ projectId: p, endpointId: ep }));
  }

  const ops = await step("operations.list", () => neon.operations.list({ projectId: p }).all());
  if (ops?.length) {
    await step("operations.get", () => neon.operations.get({ projectId: p, operationId: ops[0].id }));
    // Taken as still running, the operations are polled until Grove says they finished.
    await step("operations.waitFor", async () => {
      const running = ops.map((op) => ({ ...op, status: "running" }));
      await neon.operations.waitFor({ operations: running }, { pollIntervalMs: 50 });
      return running.map((op) => op.id);
    });
  }
  await step("apiKeys.list", () => neon.apiKeys.list());
}

// The two projects above stay, for the test to connect to; a third is deleted.
const doomed = await step("projects.create without waiting", () =>
  neon.projects.create({ name: "sdk-doomed" }, { waitForReadiness: false }));
if (doomed?.id) {
  await step("projects.delete", () => neon.projects.delete({ projectId: doomed.id }));
  await step("projects.get after delete", async () => {
    try {
      await neon.projects.get({ projectId: doomed.id });
    } catch (err) {
      return err.kind;
    }
    return "found";
  });
}

finish();
