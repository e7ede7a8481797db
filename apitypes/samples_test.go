package apitypes_test

import (
	"time"

	"github.com/grovedb/grove/apitypes"
)

// Realistic samples, shaped like Neon's recorded responses.

var (
	created  = apitypes.NewTime(time.Date(2025, 9, 10, 7, 58, 16, 123456789, time.UTC))
	updated  = apitypes.NewTime(time.Date(2025, 9, 10, 7, 58, 17, 0, time.UTC))
	zeroTime apitypes.Time
)

func ptr[T any](v T) *T { return &v }

func sampleProject() apitypes.Project {
	return apitypes.Project{
		ID:          "cold-bonus-61650555",
		PlatformID:  "aws",
		RegionID:    "aws-us-east-2",
		Name:        "myproject",
		Provisioner: apitypes.ProvisionerK8sNeonVM,
		DefaultEndpointSettings: &apitypes.DefaultEndpointSettings{
			AutoscalingLimitMinCU: ptr(0.25),
			AutoscalingLimitMaxCU: ptr(2.0),
			SuspendTimeoutSeconds: ptr[int64](0),
		},
		Settings: &apitypes.ProjectSettings{
			AllowedIPs:               &apitypes.AllowedIPs{IPs: []string{}, ProtectedBranchesOnly: ptr(false)},
			EnableLogicalReplication: ptr(false),
			MaintenanceWindow:        &apitypes.MaintenanceWindow{Weekdays: []int{5}, StartTime: "07:00", EndTime: "08:00"},
			BlockPublicConnections:   ptr(false),
			BlockVPCConnections:      ptr(false),
			HIPAA:                    ptr(false),
		},
		PgVersion:                   17,
		ProxyHost:                   "c-2.us-east-2.aws.neon.tech",
		BranchLogicalSizeLimit:      512,
		BranchLogicalSizeLimitBytes: 536870912,
		StorePasswords:              true,
		CreationSource:              "console",
		HistoryRetentionSeconds:     86400,
		CreatedAt:                   created,
		UpdatedAt:                   updated,
		ConsumptionPeriodStart:      zeroTime,
		ConsumptionPeriodEnd:        zeroTime,
		OwnerID:                     "9a7ad2c4-8c4c-4e0f-a0d5-23a4c4f0c2a1",
		OrgID:                       "org-royal-sun-91776391",
	}
}

func sampleProjectWithOwner() apitypes.Project {
	p := sampleProject()
	p.ConsumptionPeriodStart = apitypes.NewTime(time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC))
	p.ConsumptionPeriodEnd = apitypes.NewTime(time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC))
	p.ComputeTimeSeconds = 120
	p.ActiveTimeSeconds = 480
	p.SyntheticStorageSize = ptr[int64](31457280)
	p.ComputeLastActiveAt = updated
	p.Owner = &apitypes.ProjectOwner{
		Email:            "admin@example.com",
		Name:             "Admin",
		BranchesLimit:    10,
		SubscriptionType: apitypes.SubscriptionFreeV3,
	}
	return p
}

func sampleListItem() apitypes.ProjectListItem {
	return apitypes.ProjectListItem{
		ID:                          "cold-bonus-61650555",
		PlatformID:                  "aws",
		RegionID:                    "aws-us-east-2",
		Name:                        "myproject",
		Provisioner:                 apitypes.ProvisionerK8sNeonVM,
		DefaultEndpointSettings:     &apitypes.DefaultEndpointSettings{AutoscalingLimitMinCU: ptr(0.25), AutoscalingLimitMaxCU: ptr(0.25)},
		PgVersion:                   17,
		ProxyHost:                   "c-2.us-east-2.aws.neon.tech",
		BranchLogicalSizeLimit:      512,
		BranchLogicalSizeLimitBytes: 536870912,
		StorePasswords:              true,
		CreationSource:              "console",
		CreatedAt:                   created,
		UpdatedAt:                   updated,
		OwnerID:                     "9a7ad2c4-8c4c-4e0f-a0d5-23a4c4f0c2a1",
		OrgID:                       "org-royal-sun-91776391",
		OrgName:                     "Personal",
		HistoryRetentionSeconds:     ptr[int32](86400),
	}
}

func sampleBranch() apitypes.Branch {
	return apitypes.Branch{
		ID:             "br-raspy-sound-a54diuwm",
		ProjectID:      "cold-bonus-61650555",
		Name:           "main",
		CurrentState:   apitypes.BranchStateInit,
		PendingState:   apitypes.BranchStateReady,
		StateChangedAt: created,
		CreationSource: "console",
		Primary:        ptr(true),
		Default:        true,
		CreatedAt:      created,
		UpdatedAt:      updated,
		InitSource:     "parent-data",
	}
}

func sampleEndpoint() apitypes.Endpoint {
	return apitypes.Endpoint{
		Host:                  "ep-delicate-glitter-a53ow19g.c-2.us-east-2.aws.neon.tech",
		ID:                    "ep-delicate-glitter-a53ow19g",
		ProjectID:             "cold-bonus-61650555",
		BranchID:              "br-raspy-sound-a54diuwm",
		AutoscalingLimitMinCU: 0.25,
		AutoscalingLimitMaxCU: 2,
		RegionID:              "aws-us-east-2",
		Type:                  apitypes.EndpointTypeReadWrite,
		CurrentState:          apitypes.EndpointStateInit,
		PendingState:          apitypes.EndpointStateActive,
		PoolerMode:            apitypes.PoolerModeTransaction,
		PasswordlessAccess:    true,
		LastActive:            apitypes.NewTime(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)),
		CreationSource:        "console",
		CreatedAt:             created,
		UpdatedAt:             updated,
		ProxyHost:             "c-2.us-east-2.aws.neon.tech",
		Provisioner:           apitypes.ProvisionerK8sNeonVM,
	}
}

func sampleOperation(action apitypes.OperationAction, status apitypes.OperationStatus) apitypes.Operation {
	return apitypes.Operation{
		ID:         "d8ac46eb-a757-42b1-9907-f78322ee394e",
		ProjectID:  "cold-bonus-61650555",
		BranchID:   "br-raspy-sound-a54diuwm",
		EndpointID: "ep-delicate-glitter-a53ow19g",
		Action:     action,
		Status:     status,
		CreatedAt:  created,
		UpdatedAt:  updated,
	}
}

func sampleRole(password string) apitypes.Role {
	return apitypes.Role{
		BranchID:  "br-raspy-sound-a54diuwm",
		Name:      "neondb_owner",
		Password:  password,
		Protected: ptr(false),
		CreatedAt: created,
		UpdatedAt: updated,
	}
}

func sampleDatabase() apitypes.Database {
	return apitypes.Database{
		ID:        39724308,
		BranchID:  "br-raspy-sound-a54diuwm",
		Name:      "neondb",
		OwnerName: "neondb_owner",
		CreatedAt: created,
		UpdatedAt: updated,
	}
}

func sampleCreatedProject() apitypes.CreatedProject {
	return apitypes.CreatedProject{
		Project: sampleProject(),
		ConnectionURIs: []apitypes.ConnectionDetails{{
			ConnectionURI: "postgresql://neondb_owner:npg_N67FDMtGvJke@ep-delicate-glitter-a53ow19g.c-2.us-east-2.aws.neon.tech/neondb?sslmode=require",
			ConnectionParameters: apitypes.ConnectionParameters{
				Database:   "neondb",
				Password:   "npg_N67FDMtGvJke",
				Role:       "neondb_owner",
				Host:       "ep-delicate-glitter-a53ow19g.c-2.us-east-2.aws.neon.tech",
				PoolerHost: "ep-delicate-glitter-a53ow19g-pooler.c-2.us-east-2.aws.neon.tech",
			},
		}},
		Roles:     []apitypes.Role{sampleRole("npg_N67FDMtGvJke")},
		Databases: []apitypes.Database{sampleDatabase()},
		Operations: []apitypes.Operation{
			sampleOperation(apitypes.OperationActionCreateTimeline, apitypes.OperationStatusRunning),
			sampleOperation(apitypes.OperationActionStartCompute, apitypes.OperationStatusScheduling),
		},
		Branch:    sampleBranch(),
		Endpoints: []apitypes.Endpoint{sampleEndpoint()},
	}
}

func sampleOrganization() apitypes.Organization {
	return apitypes.Organization{
		ID:        "org-royal-sun-91776391",
		Name:      "Personal",
		Handle:    "personal-org-royal-sun-91776391",
		Plan:      "free_v3",
		CreatedAt: created,
		ManagedBy: "console",
		UpdatedAt: updated,
	}
}

func sampleCurrentUser() apitypes.CurrentUserInfoResponse {
	return apitypes.CurrentUserInfoResponse{
		AuthAccounts: []apitypes.CurrentUserAuthAccount{{
			Email:    "admin@example.com",
			Name:     "Admin",
			Provider: apitypes.IdentityProviderKeycloak,
		}},
		Email:               "admin@example.com",
		ID:                  "9a7ad2c4-8c4c-4e0f-a0d5-23a4c4f0c2a1",
		Name:                "Admin",
		ProjectsLimit:       100,
		BranchesLimit:       10,
		MaxAutoscalingLimit: 2,
		Plan:                "free_v3",
	}
}
