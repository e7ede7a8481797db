// Drives @neondatabase/api-client (axios, Neon's generated client) against
// Grove: GROVE_API is the base URL, GROVE_KEY the API key, GROVE_ORG an org.
// Prints {"steps":[{name, value|error}]} for TestAPIClient.
import { api, key, org, load, step, finish } from "./steps.mjs";

const { createApiClient } = await load("@neondatabase/api-client");
const c = createApiClient({ apiKey: key, baseURL: api });

await step("getCurrentUserInfo", async () => (await c.getCurrentUserInfo()).data);
await step("getCurrentUserOrganizations", async () => (await c.getCurrentUserOrganizations()).data);

// Three projects, then a walk over them one page at a time.
const ids = [];
for (const name of ["ac-1", "ac-2", "ac-3"]) {
  const created = await step(`createProject ${name}`, async () => {
    const { data } = await c.createProject({
      project: {
        name,
        org_id: org,
        pg_version: 17,
        branch: { name: "main", role_name: "app_user", database_name: "app_db" },
      },
    });
    return data;
  });
  if (created) ids.push(created.project.id);
}
await step("listProjects pages", async () => {
  const pages = [];
  let cursor;
  for (let i = 0; i < 10; i++) {
    const { data } = await c.listProjects({ org_id: org, limit: 1, cursor });
    pages.push(data.projects.map((p) => p.id));
    if (data.projects.length === 0 || !data.pagination?.cursor) break;
    cursor = data.pagination.cursor;
  }
  return pages;
});
await step("listProjects search", async () => {
  const { data } = await c.listProjects({ org_id: org, search: "ac-2" });
  return data.projects.map((p) => p.name);
});

const p = ids[0];
if (p) {
  await step("getProject", async () => (await c.getProject(p)).data);
  await step("updateProject", async () => (await c.updateProject(p, { project: { name: "ac-1-renamed" } })).data);
  const branches = await step("listProjectBranches", async () => (await c.listProjectBranches({ projectId: p })).data);
  const b = branches?.branches?.find((x) => x.default)?.id;
  if (b) {
    await step("getProjectBranch", async () => (await c.getProjectBranch(p, b)).data);
    await step("listProjectEndpoints", async () => (await c.listProjectEndpoints(p)).data);
    await step("createProjectBranchDatabase", async () =>
      (await c.createProjectBranchDatabase(p, b, { database: { name: "extra_db", owner_name: "app_user" } })).data);
    await step("listProjectBranchDatabases", async () => (await c.listProjectBranchDatabases(p, b)).data);
    await step("createProjectBranchRole", async () =>
      (await c.createProjectBranchRole(p, b, { role: { name: "reader" } })).data);
    await step("listProjectBranchRoles", async () => (await c.listProjectBranchRoles(p, b)).data);
    await step("getProjectBranchRolePassword", async () =>
      (await c.getProjectBranchRolePassword(p, b, "reader")).data);
    await step("getConnectionUri", async () =>
      (await c.getConnectionUri({ projectId: p, database_name: "extra_db", role_name: "reader" })).data);
    await step("getConnectionUri pooled", async () =>
      (await c.getConnectionUri({ projectId: p, database_name: "app_db", role_name: "app_user", pooled: true })).data);
  }
  await step("listProjectOperations pages", async () => {
    const pages = [];
    let cursor;
    for (let i = 0; i < 50; i++) {
      const { data } = await c.listProjectOperations({ projectId: p, limit: 2, cursor });
      pages.push(data.operations.map((o) => o.id));
      if (data.operations.length === 0 || !data.pagination?.cursor) break;
      cursor = data.pagination.cursor;
    }
    return pages;
  });
  await step("getProjectOperation", async () => {
    const { data } = await c.listProjectOperations({ projectId: p });
    return (await c.getProjectOperation(p, data.operations[0].id)).data;
  });
}

await step("listApiKeys", async () => (await c.listApiKeys()).data);
const made = await step("createApiKey", async () => (await c.createApiKey({ key_name: "ac-key" })).data);
if (made) {
  await step("new key works", async () => {
    const other = createApiClient({ apiKey: made.key, baseURL: api });
    return (await other.getCurrentUserInfo()).data.email;
  });
  await step("revokeApiKey", async () => (await c.revokeApiKey(made.id)).data);
}

// The first project stays, for the test to connect to its URIs.
for (const id of ids.slice(1)) {
  await step(`deleteProject ${id}`, async () => (await c.deleteProject(id)).data.project.id);
}
await step("getProject after delete", async () => {
  try {
    await c.getProject(ids[1]);
  } catch (err) {
    return err.response?.status;
  }
  return 200;
});

finish();
