package apitypes

// EndpointType is the kind of compute endpoint (spec: EndpointType).
type EndpointType string

// Endpoint types.
const (
	EndpointTypeReadWrite EndpointType = "read_write"
	EndpointTypeReadOnly  EndpointType = "read_only"
)

// EndpointState is the state of a compute endpoint (spec: EndpointState).
type EndpointState string

// Endpoint states.
const (
	EndpointStateInit   EndpointState = "init"
	EndpointStateActive EndpointState = "active"
	EndpointStateIdle   EndpointState = "idle"
)

// EndpointPoolerMode is the connection pooler mode of an endpoint (spec:
// EndpointPoolerMode, deprecated). Its only value is "transaction".
type EndpointPoolerMode string

// PoolerModeTransaction is the only pooler mode.
const PoolerModeTransaction EndpointPoolerMode = "transaction"

// Provisioner is the compute provisioner (spec: Provisioner). Clients must
// accept values not listed here.
type Provisioner string

// Provisioners.
const (
	ProvisionerK8sPod             Provisioner = "k8s-pod"
	ProvisionerK8sNeonVM          Provisioner = "k8s-neonvm"
	ProvisionerServerlessPlatform Provisioner = "serverless-platform"
)

// BranchState is the state of a branch (spec: BranchState).
type BranchState string

// Branch states. BranchStateStorageDeleted appears as pending_state of a
// branch being deleted.
const (
	BranchStateInit           BranchState = "init"
	BranchStateResetting      BranchState = "resetting"
	BranchStateReady          BranchState = "ready"
	BranchStateArchived       BranchState = "archived"
	BranchStateStorageDeleted BranchState = "storage_deleted"
)

// BranchRestoreStatus is the restore state of a branch restored from a
// snapshot (spec: BranchRestoreStatus).
type BranchRestoreStatus string

// Branch restore statuses.
const (
	BranchRestoreStatusRestored  BranchRestoreStatus = "restored"
	BranchRestoreStatusFinalized BranchRestoreStatus = "finalized"
	BranchRestoreStatusDetaching BranchRestoreStatus = "detaching"
)

// OperationAction is what an operation does (spec: OperationAction).
type OperationAction string

// Operation actions, in spec order.
const (
	OperationActionCreateCompute                 OperationAction = "create_compute"
	OperationActionCreateTimeline                OperationAction = "create_timeline"
	OperationActionStartCompute                  OperationAction = "start_compute"
	OperationActionSuspendCompute                OperationAction = "suspend_compute"
	OperationActionApplyConfig                   OperationAction = "apply_config"
	OperationActionCheckAvailability             OperationAction = "check_availability"
	OperationActionDeleteTimeline                OperationAction = "delete_timeline"
	OperationActionCreateBranch                  OperationAction = "create_branch"
	OperationActionImportData                    OperationAction = "import_data"
	OperationActionTenantIgnore                  OperationAction = "tenant_ignore"
	OperationActionTenantAttach                  OperationAction = "tenant_attach"
	OperationActionTenantDetach                  OperationAction = "tenant_detach"
	OperationActionTenantReattach                OperationAction = "tenant_reattach"
	OperationActionReplaceSafekeeper             OperationAction = "replace_safekeeper"
	OperationActionDisableMaintenance            OperationAction = "disable_maintenance"
	OperationActionApplyStorageConfig            OperationAction = "apply_storage_config"
	OperationActionPrepareSecondaryPageserver    OperationAction = "prepare_secondary_pageserver"
	OperationActionSwitchPageserver              OperationAction = "switch_pageserver"
	OperationActionDetachParentBranch            OperationAction = "detach_parent_branch"
	OperationActionTimelineArchive               OperationAction = "timeline_archive"
	OperationActionTimelineUnarchive             OperationAction = "timeline_unarchive"
	OperationActionStartReservedCompute          OperationAction = "start_reserved_compute"
	OperationActionSyncDBsAndRolesFromCompute    OperationAction = "sync_dbs_and_roles_from_compute"
	OperationActionApplySchemaFromBranch         OperationAction = "apply_schema_from_branch"
	OperationActionTimelineMarkInvisible         OperationAction = "timeline_mark_invisible"
	OperationActionTimelineUpdateProtectedConfig OperationAction = "timeline_update_protected_config"
	OperationActionPrewarmReplica                OperationAction = "prewarm_replica"
	OperationActionPromoteReplica                OperationAction = "promote_replica"
	OperationActionSetStorageNonDirty            OperationAction = "set_storage_non_dirty"
	OperationActionSwapBindingID                 OperationAction = "swap_binding_id"
	OperationActionFinalizeMigration             OperationAction = "finalize_migration"
	OperationActionMarkMigrationPrepared         OperationAction = "mark_migration_prepared"
	OperationActionUpdateCatalog                 OperationAction = "update_catalog"
)

// OperationStatus is the status of an operation (spec: OperationStatus).
type OperationStatus string

// Operation statuses.
const (
	OperationStatusScheduling OperationStatus = "scheduling"
	OperationStatusRunning    OperationStatus = "running"
	OperationStatusFinished   OperationStatus = "finished"
	OperationStatusFailed     OperationStatus = "failed"
	OperationStatusError      OperationStatus = "error"
	OperationStatusCancelling OperationStatus = "cancelling"
	OperationStatusCancelled  OperationStatus = "cancelled"
	OperationStatusSkipped    OperationStatus = "skipped"
)

// Terminal reports whether s is a final status: finished, failed, error,
// cancelled or skipped. Operations in any other status block conflicting
// mutations of their project (HTTP 423).
func (s OperationStatus) Terminal() bool {
	switch s {
	case OperationStatusFinished, OperationStatusFailed, OperationStatusError,
		OperationStatusCancelled, OperationStatusSkipped:
		return true
	}
	return false
}

// ApplicationType names an application or integration connected to a
// project (spec: ApplicationType).
type ApplicationType string

// Application types.
const (
	ApplicationTypeVercel        ApplicationType = "vercel"
	ApplicationTypeGitHub        ApplicationType = "github"
	ApplicationTypeDatadog       ApplicationType = "datadog"
	ApplicationTypeOpenTelemetry ApplicationType = "opentelemetry"
)

// ProjectPermissionLevel is the caller's effective permission on a project
// (spec: ProjectPermissionLevel).
type ProjectPermissionLevel string

// Project permission levels.
const (
	ProjectPermissionView   ProjectPermissionLevel = "CAN_VIEW"
	ProjectPermissionEdit   ProjectPermissionLevel = "CAN_EDIT"
	ProjectPermissionManage ProjectPermissionLevel = "CAN_MANAGE"
)

// ProjectAuditLogLevel is a project's audit log level (spec:
// ProjectAuditLogLevel).
type ProjectAuditLogLevel string

// Audit log levels.
const (
	AuditLogLevelBase     ProjectAuditLogLevel = "base"
	AuditLogLevelExtended ProjectAuditLogLevel = "extended"
	AuditLogLevelFull     ProjectAuditLogLevel = "full"
)

// BillingSubscriptionType is a billing plan (spec: BillingSubscriptionType).
type BillingSubscriptionType string

// Subscription types used by Grove. The spec lists more (direct_sales,
// aws_marketplace, launch_v3, …); clients must accept any string.
const (
	SubscriptionUnknown  BillingSubscriptionType = "UNKNOWN"
	SubscriptionFreeV3   BillingSubscriptionType = "free_v3"
	SubscriptionLaunch   BillingSubscriptionType = "launch"
	SubscriptionScale    BillingSubscriptionType = "scale"
	SubscriptionBusiness BillingSubscriptionType = "business"
)

// IdentityProviderID is the identity provider of a user's login (spec:
// IdentityProviderId).
type IdentityProviderID string

// Identity providers. Grove's own logins use IdentityProviderKeycloak, the
// provider Neon reports for email/password accounts.
const (
	IdentityProviderGitHub      IdentityProviderID = "github"
	IdentityProviderGoogle      IdentityProviderID = "google"
	IdentityProviderHasura      IdentityProviderID = "hasura"
	IdentityProviderMicrosoft   IdentityProviderID = "microsoft"
	IdentityProviderMicrosoftV2 IdentityProviderID = "microsoftv2"
	IdentityProviderVercelMP    IdentityProviderID = "vercelmp"
	IdentityProviderKeycloak    IdentityProviderID = "keycloak"
)

// MemberRole is a member's role in an organization (spec: MemberRole).
type MemberRole string

// Member roles.
const (
	MemberRoleAdmin        MemberRole = "admin"
	MemberRoleMember       MemberRole = "member"
	MemberRoleEditor       MemberRole = "editor"
	MemberRoleViewer       MemberRole = "viewer"
	MemberRoleCollaborator MemberRole = "collaborator"
)
