package apiserver

import (
	"net/http"
	"reflect"

	"github.com/grovedb/grove/apitypes"
)

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// Query parameters shared by several operations.
var (
	qCursor = q("cursor", "string", "Cursor from the previous page's pagination.")
	qLimit  = q("limit", "integer", "Page size.")
	qSearch = q("search", "string", "Search by name or id (partial match).")
)

// opDocs describes each route Grove may register, keyed by its handle
// pattern. The operation ids are Neon's, so that clients generated from
// Neon's document recognise the operations; a test checks that every
// registered route has an entry.
var opDocs = map[string]opDoc{
	// Consumption (consumption.go).
	"GET /consumption_history/projects": {id: "getConsumptionHistoryPerProject", tag: "Consumption",
		summary: "Consumption per project and timeframe (active time, CU-seconds, written data, storage); does not wake computes",
		query: []queryParam{qCursor, q("limit", "integer", "Projects per page, 1 to 100 (10)."),
			q("project_ids", "array", "Projects to report (at most 100)."),
			qRequired("from", "string", "Start (RFC 3339), rounded down to the granularity."),
			qRequired("to", "string", "End (RFC 3339), rounded up to the granularity."),
			qRequired("granularity", "string", "hourly (last 168 hours), daily (60 days) or monthly (a year)."),
			q("org_id", "string", "Organization whose projects to report."),
			q("include_v1_metrics", "boolean", "Deprecated: adds data_storage_bytes_hour."),
			q("metrics", "array", "Extra metrics: data_storage_bytes_hour, logical_size_bytes, logical_size_bytes_hour.")},
		response: typeOf[apitypes.ConsumptionHistoryPerProjectResponse]()},
	"GET /consumption_history/v2/projects": {id: "getConsumptionHistoryPerProjectV2", tag: "Consumption",
		summary: "Usage-based consumption metrics per project and timeframe; does not wake computes",
		query: []queryParam{qCursor, q("limit", "integer", "Projects per page, 1 to 100 (10)."),
			q("project_ids", "array", "Projects to report (at most 100)."),
			qRequired("from", "string", "Start (RFC 3339)."), qRequired("to", "string", "End (RFC 3339)."),
			qRequired("granularity", "string", "hourly, daily or monthly."),
			qRequired("org_id", "string", "Organization whose projects to report."),
			qRequired("metrics", "array", "compute_unit_seconds, root_branch_bytes_month, child_branch_bytes_month, public_network_transfer_bytes, …")},
		response: typeOf[apitypes.ConsumptionHistoryPerProjectV2Response]()},
	"GET /consumption_history/v2/branches": {id: "getConsumptionHistoryPerBranchV2", tag: "Consumption",
		summary: "Usage-based consumption metrics per branch and timeframe; does not wake computes",
		query: []queryParam{qCursor, q("limit", "integer", "Branches per page, 1 to 1000 (100)."),
			qRequired("project_ids", "array", "Projects whose branches to report (1 to 100)."),
			q("branch_ids", "array", "Branches to report (at most 100)."),
			qRequired("from", "string", "Start (RFC 3339)."), qRequired("to", "string", "End (RFC 3339)."),
			qRequired("granularity", "string", "hourly, daily or monthly."),
			qRequired("org_id", "string", "Organization of the projects."),
			qRequired("metrics", "array", "compute_unit_seconds, root_branch_bytes_month, child_branch_bytes_month, public_network_transfer_bytes, …")},
		response: typeOf[apitypes.ConsumptionHistoryPerBranchV2Response]()},

	// The Data API (dataapi.go).
	"POST /projects/{project_id}/branches/{branch_id}/data-api/{database_name}": {id: "createProjectBranchDataAPI", tag: "DataAPI",
		summary: "Enable the Data API of a branch database: provisions its roles, auth schema and schema-reload trigger",
		request: typeOf[apitypes.DataAPICreateRequest](), status: http.StatusCreated, response: typeOf[apitypes.DataAPICreateResponse]()},
	"GET /projects/{project_id}/branches/{branch_id}/data-api/{database_name}": {id: "getProjectBranchDataAPI", tag: "DataAPI",
		summary:  "Get a branch database's Data API: URL, effective settings and the database's schemas (wakes the compute)",
		response: typeOf[apitypes.DataAPIResponse]()},
	"PATCH /projects/{project_id}/branches/{branch_id}/data-api/{database_name}": {id: "updateProjectBranchDataAPI", tag: "DataAPI",
		summary: "Change a Data API's settings; the schema cache is always refreshed",
		request: typeOf[apitypes.DataAPIUpdateRequest](), status: http.StatusCreated, response: typeOf[apitypes.EmptyResponse]()},
	"DELETE /projects/{project_id}/branches/{branch_id}/data-api/{database_name}": {id: "deleteProjectBranchDataAPI", tag: "DataAPI",
		summary:  "Disable a database's Data API at once (what it provisioned in the database stays)",
		response: typeOf[apitypes.EmptyResponse]()},

	// Projects.
	"GET /projects": {id: "listProjects", tag: "Project", summary: "List projects",
		query: []queryParam{qCursor, qLimit, qSearch,
			q("org_id", "string", "Organization whose projects to list."),
			q("timeout", "integer", "Milliseconds to wait before answering with what is ready."),
			q("recoverable", "boolean", "List deleted projects that can still be recovered.")},
		response: typeOf[apitypes.ProjectsResponse]()},
	"GET /projects/shared": {id: "listSharedProjects", tag: "Project", summary: "List projects shared with the caller (none: Grove shares projects through organizations)",
		query:    []queryParam{qCursor, qLimit, qSearch, q("timeout", "integer", "Milliseconds to wait before answering with what is ready.")},
		response: typeOf[apitypes.SharedProjectsResponse]()},
	"POST /projects": {id: "createProject", tag: "Project", summary: "Create a project with its default branch, endpoint, role and database",
		request: typeOf[apitypes.ProjectCreateRequest](), status: http.StatusCreated, response: typeOf[apitypes.CreatedProject]()},
	"GET /projects/{project_id}": {id: "getProject", tag: "Project", summary: "Get a project",
		response: typeOf[apitypes.ProjectResponse]()},
	"PATCH /projects/{project_id}": {id: "updateProject", tag: "Project", summary: "Update a project",
		request: typeOf[apitypes.ProjectUpdateRequest](), response: typeOf[apitypes.ProjectOperations]()},
	"DELETE /projects/{project_id}": {id: "deleteProject", tag: "Project", summary: "Delete a project",
		response: typeOf[apitypes.ProjectResponse]()},
	"GET /projects/{project_id}/connection_uri": {id: "getConnectionURI", tag: "Project", summary: "Get a connection URI",
		query: []queryParam{
			q("branch_id", "string", "Branch; the default branch when absent."),
			q("endpoint_id", "string", "Endpoint; the branch's read-write endpoint when absent."),
			qRequired("database_name", "string", "Database name."),
			qRequired("role_name", "string", "Role name."),
			q("pooled", "boolean", "Use the pooler host.")},
		response: typeOf[apitypes.ConnectionURIResponse]()},

	// Operations.
	"GET /projects/{project_id}/operations": {id: "listProjectOperations", tag: "Operation", summary: "List a project's operations",
		query: []queryParam{qCursor, qLimit}, response: typeOf[apitypes.OperationsResponse]()},
	"GET /projects/{project_id}/operations/{operation_id}": {id: "getProjectOperation", tag: "Operation", summary: "Get an operation",
		response: typeOf[apitypes.OperationResponse]()},

	// Branches.
	"GET /projects/{project_id}/branches": {id: "listProjectBranches", tag: "Branch", summary: "List branches",
		query: []queryParam{qSearch,
			q("sort_by", "string", "updated_at (default), created_at or name."),
			qCursor,
			q("sort_order", "string", "asc or desc (default)."),
			qLimit,
			q("include_deleted", "boolean", "Include deleted branches that can still be recovered.")},
		response: typeOf[apitypes.BranchesResponse]()},
	"GET /projects/{project_id}/branches/count": {id: "countProjectBranches", tag: "Branch", summary: "Count branches",
		query: []queryParam{qSearch}, response: typeOf[apitypes.BranchesCountResponse]()},
	"GET /projects/{project_id}/branches/{branch_id}": {id: "getProjectBranch", tag: "Branch", summary: "Get a branch",
		response: typeOf[apitypes.BranchGetResponse]()},
	"PATCH /projects/{project_id}/branches/{branch_id}": {id: "updateProjectBranch", tag: "Branch", summary: "Rename or protect a branch",
		request: typeOf[apitypes.BranchUpdateRequest](), response: typeOf[apitypes.BranchOperations]()},
	"POST /projects/{project_id}/branches/{branch_id}/set_as_default": {id: "setDefaultProjectBranch", tag: "Branch", summary: "Make a branch the project's default",
		response: typeOf[apitypes.BranchOperations]()},
	"GET /projects/{project_id}/branches/{branch_id}/endpoints": {id: "listProjectBranchEndpoints", tag: "Branch", summary: "List a branch's endpoints",
		response: typeOf[apitypes.EndpointsResponse]()},
	"POST /projects/{project_id}/branches": {id: "createProjectBranch", tag: "Branch", summary: "Create a branch (at the parent's head or a point in its history; parent-data or schema-only), with endpoints",
		request: typeOf[apitypes.BranchCreateRequest](), optionalBody: true, status: http.StatusCreated, response: typeOf[apitypes.CreatedBranch]()},
	"DELETE /projects/{project_id}/branches/{branch_id}": {id: "deleteProjectBranch", tag: "Branch", summary: "Delete a branch (not the default, a protected one or one with children)",
		query: []queryParam{q("hard_delete", "boolean", "Accepted; Grove always deletes at once.")}, response: typeOf[apitypes.BranchOperations](), goneNoContent: true},
	"POST /projects/{project_id}/branches/{branch_id}/restore": {id: "restoreProjectBranch", tag: "Branch", summary: "Restore a branch from another branch's head or a point in history",
		request: typeOf[apitypes.BranchRestoreRequest](), response: typeOf[apitypes.BranchOperations]()},
	"POST /projects/{project_id}/branches/{branch_id}/finalize_restore": {id: "finalizeRestoreBranch", tag: "Branch", summary: "Finalize a snapshot restore: the restored branch takes the target's name and endpoints",
		request: typeOf[apitypes.FinalizeRestoreRequest](), optionalBody: true, response: typeOf[apitypes.OperationsResponse]()},

	// Snapshots.
	"POST /projects/{project_id}/branches/{branch_id}/snapshot": {id: "createSnapshot", tag: "Snapshot", summary: "Snapshot a root branch now or at a point in its history (query parameters or a JSON body)",
		query: []queryParam{q("lsn", "string", "LSN to snapshot at."), q("timestamp", "string", "Time to snapshot at (RFC 3339)."),
			q("name", "string", "Snapshot name."), q("expires_at", "string", "When the snapshot is deleted (RFC 3339).")},
		request: typeOf[apitypes.SnapshotCreateRequest](), optionalBody: true, response: typeOf[apitypes.SnapshotOperations]()},
	"GET /projects/{project_id}/branches/{branch_id}/backup_schedule": {id: "getSnapshotSchedule", tag: "Snapshot",
		summary: "A root branch's backup schedule", response: typeOf[apitypes.BackupSchedule]()},
	"PUT /projects/{project_id}/branches/{branch_id}/backup_schedule": {id: "setSnapshotSchedule", tag: "Snapshot",
		summary: "Set a root branch's backup schedule (paid plans; an empty schedule turns it off)",
		request: typeOf[apitypes.BackupSchedule](), response: typeOf[apitypes.EmptyResponse]()},
	"GET /projects/{project_id}/snapshots": {id: "listSnapshots", tag: "Snapshot", summary: "List a project's snapshots",
		response: typeOf[apitypes.SnapshotsResponse]()},
	"PATCH /projects/{project_id}/snapshots/{snapshot_id}": {id: "updateSnapshot", tag: "Snapshot", summary: "Rename a snapshot",
		request: typeOf[apitypes.SnapshotUpdateRequest](), response: typeOf[apitypes.SnapshotResponse]()},
	"DELETE /projects/{project_id}/snapshots/{snapshot_id}": {id: "deleteSnapshot", tag: "Snapshot", summary: "Delete a snapshot",
		status: http.StatusAccepted, response: typeOf[apitypes.OperationsResponse]()},
	"POST /projects/{project_id}/snapshots/{snapshot_id}/restore": {id: "restoreSnapshot", tag: "Snapshot", summary: "Restore a snapshot into a new branch, as a preview or finalized onto the target",
		query:   []queryParam{q("name", "string", "Deprecated: name of the new branch.")},
		request: typeOf[apitypes.SnapshotRestoreRequest](), optionalBody: true, response: typeOf[apitypes.RestoredSnapshot]()},

	// Databases.
	"GET /projects/{project_id}/branches/{branch_id}/databases": {id: "listProjectBranchDatabases", tag: "Branch", summary: "List databases",
		response: typeOf[apitypes.DatabasesResponse]()},
	"POST /projects/{project_id}/branches/{branch_id}/databases": {id: "createProjectBranchDatabase", tag: "Branch", summary: "Create a database",
		request: typeOf[apitypes.DatabaseCreateRequest](), status: http.StatusCreated, response: typeOf[apitypes.DatabaseOperations]()},
	"GET /projects/{project_id}/branches/{branch_id}/databases/{database_name}": {id: "getProjectBranchDatabase", tag: "Branch", summary: "Get a database",
		response: typeOf[apitypes.DatabaseResponse]()},
	"PATCH /projects/{project_id}/branches/{branch_id}/databases/{database_name}": {id: "updateProjectBranchDatabase", tag: "Branch", summary: "Rename a database or change its owner",
		request: typeOf[apitypes.DatabaseUpdateRequest](), response: typeOf[apitypes.DatabaseOperations]()},
	"DELETE /projects/{project_id}/branches/{branch_id}/databases/{database_name}": {id: "deleteProjectBranchDatabase", tag: "Branch", summary: "Delete a database",
		response: typeOf[apitypes.DatabaseOperations](), goneNoContent: true},

	// Roles.
	"GET /projects/{project_id}/branches/{branch_id}/roles": {id: "listProjectBranchRoles", tag: "Branch", summary: "List roles",
		response: typeOf[apitypes.RolesResponse]()},
	"POST /projects/{project_id}/branches/{branch_id}/roles": {id: "createProjectBranchRole", tag: "Branch", summary: "Create a role",
		request: typeOf[apitypes.RoleCreateRequest](), status: http.StatusCreated, response: typeOf[apitypes.RoleOperations]()},
	"GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}": {id: "getProjectBranchRole", tag: "Branch", summary: "Get a role",
		response: typeOf[apitypes.RoleResponse]()},
	"DELETE /projects/{project_id}/branches/{branch_id}/roles/{role_name}": {id: "deleteProjectBranchRole", tag: "Branch", summary: "Delete a role",
		response: typeOf[apitypes.RoleOperations](), goneNoContent: true},
	"GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password": {id: "getProjectBranchRolePassword", tag: "Branch", summary: "Reveal a role's password (projects that store passwords)",
		response: typeOf[apitypes.RolePasswordResponse]()},
	"POST /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reset_password": {id: "resetProjectBranchRolePassword", tag: "Branch", summary: "Reset a role's password",
		response: typeOf[apitypes.RoleOperations]()},

	// Endpoints.
	"POST /projects/{project_id}/endpoints": {id: "createProjectEndpoint", tag: "Endpoint", summary: "Create an endpoint",
		request: typeOf[apitypes.EndpointCreateRequest](), status: http.StatusCreated, response: typeOf[apitypes.EndpointOperations]()},
	"GET /projects/{project_id}/endpoints": {id: "listProjectEndpoints", tag: "Endpoint", summary: "List endpoints",
		response: typeOf[apitypes.EndpointsResponse]()},
	"GET /projects/{project_id}/endpoints/{endpoint_id}": {id: "getProjectEndpoint", tag: "Endpoint", summary: "Get an endpoint",
		response: typeOf[apitypes.EndpointResponse]()},
	"PATCH /projects/{project_id}/endpoints/{endpoint_id}": {id: "updateProjectEndpoint", tag: "Endpoint", summary: "Update an endpoint",
		request: typeOf[apitypes.EndpointUpdateRequest](), response: typeOf[apitypes.EndpointOperations]()},
	"DELETE /projects/{project_id}/endpoints/{endpoint_id}": {id: "deleteProjectEndpoint", tag: "Endpoint", summary: "Delete an endpoint",
		response: typeOf[apitypes.EndpointOperations](), goneNoContent: true},
	"POST /projects/{project_id}/endpoints/{endpoint_id}/start": {id: "startProjectEndpoint", tag: "Endpoint", summary: "Start an endpoint",
		response: typeOf[apitypes.EndpointOperations]()},
	"POST /projects/{project_id}/endpoints/{endpoint_id}/suspend": {id: "suspendProjectEndpoint", tag: "Endpoint", summary: "Suspend an endpoint",
		response: typeOf[apitypes.EndpointOperations]()},
	"POST /projects/{project_id}/endpoints/{endpoint_id}/restart": {id: "restartProjectEndpoint", tag: "Endpoint", summary: "Restart an endpoint",
		response: typeOf[apitypes.EndpointOperations]()},

	// Users, organizations, keys, regions.
	"GET /users/me": {id: "getCurrentUserInfo", tag: "Users", summary: "Get the current user",
		response: typeOf[apitypes.CurrentUserInfoResponse]()},
	"GET /users/me/organizations": {id: "getCurrentUserOrganizations", tag: "Users", summary: "List the current user's organizations",
		response: typeOf[apitypes.OrganizationsResponse]()},
	"GET /organizations/{org_id}": {id: "getOrganization", tag: "Organizations", summary: "Get an organization",
		response: typeOf[apitypes.Organization]()},
	"GET /organizations/{org_id}/members": {id: "getOrganizationMembers", tag: "Organizations", summary: "List an organization's members",
		query:    []queryParam{q("sort_by", "string", "Sort key."), qCursor, q("sort_order", "string", "asc or desc."), qLimit},
		response: typeOf[apitypes.OrganizationMembersResponse]()},
	"GET /organizations/{org_id}/members/{member_id}": {id: "getOrganizationMember", tag: "Organizations", summary: "Get a member of an organization",
		response: typeOf[apitypes.Member]()},
	"GET /organizations/{org_id}/api_keys": {id: "listOrgApiKeys", tag: "Organizations", summary: "List an organization's API keys",
		response: typeOf[[]apitypes.OrgApiKeysListResponseItem]()},
	"POST /organizations/{org_id}/api_keys": {id: "createOrgApiKey", tag: "Organizations", summary: "Create an organization API key, optionally scoped to one project",
		request: typeOf[apitypes.OrgApiKeyCreateRequest](), response: typeOf[apitypes.OrgApiKeyCreateResponse]()},
	"DELETE /organizations/{org_id}/api_keys/{key_id}": {id: "revokeOrgApiKey", tag: "Organizations", summary: "Revoke an organization API key",
		response: typeOf[apitypes.OrgApiKeyRevokeResponse]()},
	// Project transfer (transfer.go).
	"POST /organizations/{source_org_id}/projects/transfer": {id: "transferProjectsFromOrgToOrg", tag: "Organizations", summary: "Move up to 400 projects to another organization, all or none (personal API key of a member of both; 406 with limits[] when the destination's plan cannot take them)",
		request: typeOf[apitypes.TransferProjectsToOrganizationRequest](), response: typeOf[apitypes.EmptyResponse]()},
	"POST /users/me/projects/transfer": {id: "transferProjectsFromUserToOrg", tag: "Users", summary: "Deprecated: move projects of one of the caller's organizations to another (as transferProjectsFromOrgToOrg)",
		request: typeOf[apitypes.TransferProjectsToOrganizationRequest](), response: typeOf[apitypes.EmptyResponse]()},
	"GET /auth": {id: "getAuthDetails", tag: "Users", summary: "Describe the API key of the request",
		response: typeOf[apitypes.AuthDetailsResponse]()},
	"GET /api_keys": {id: "listApiKeys", tag: "API Key", summary: "List the user's API keys",
		response: typeOf[[]apitypes.ApiKeysListResponseItem]()},
	"POST /api_keys": {id: "createApiKey", tag: "API Key", summary: "Create a personal API key",
		request: typeOf[apitypes.ApiKeyCreateRequest](), response: typeOf[apitypes.ApiKeyCreateResponse]()},
	"DELETE /api_keys/{key_id}": {id: "revokeApiKey", tag: "API Key", summary: "Revoke a personal API key",
		response: typeOf[apitypes.ApiKeyRevokeResponse]()},
	"GET /regions": {id: "getActiveRegions", tag: "Region", summary: "List regions",
		query:    []queryParam{q("org_id", "string", "Organization to list the regions of.")},
		response: typeOf[apitypes.ActiveRegionsResponse]()},
}
