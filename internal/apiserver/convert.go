package apiserver

import (
	"context"
	"encoding/json"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/platform"
	"github.com/grovedb/grove/internal/usage"
)

func at(t time.Time) apitypes.Time { return apitypes.NewTime(t) }

// neverActive is what Neon reports as last_active of a never-used endpoint.
var neverActive = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func (s *Server) project(p platform.Project) apitypes.Project {
	out := apitypes.Project{
		ID: p.ID, PlatformID: "aws", RegionID: p.RegionID, Name: p.Name,
		Provisioner: apitypes.Provisioner(p.Provisioner), PgVersion: p.PGVersion,
		ProxyHost: s.p.Hosts().ProxyHost(p.RegionID), StorePasswords: p.StorePasswords,
		BranchLogicalSizeLimit: -1, BranchLogicalSizeLimitBytes: -1,
		CreationSource: "console", HistoryRetentionSeconds: int32(p.HistoryRetentionSeconds),
		CreatedAt: at(p.CreatedAt), UpdatedAt: at(p.UpdatedAt), OrgID: p.OrgID,
		DefaultEndpointSettings: defaultEndpointSettings(p.DefaultEndpointSettings),
		Settings:                projectSettings(p.Settings),
	}
	// Neon's create, update and delete answers carry the zero time here;
	// the period is known from creation on, so every answer carries it.
	start, end := usage.BillingPeriod(time.Now())
	out.ConsumptionPeriodStart, out.ConsumptionPeriodEnd = at(start), at(end)
	return out
}

func (s *Server) projectListItem(p platform.Project) apitypes.ProjectListItem {
	h := int32(p.HistoryRetentionSeconds)
	return apitypes.ProjectListItem{
		ID: p.ID, PlatformID: "aws", RegionID: p.RegionID, Name: p.Name,
		Provisioner: apitypes.Provisioner(p.Provisioner), PgVersion: p.PGVersion,
		ProxyHost: s.p.Hosts().ProxyHost(p.RegionID), StorePasswords: p.StorePasswords,
		BranchLogicalSizeLimit: -1, BranchLogicalSizeLimitBytes: -1, CreationSource: "console",
		CreatedAt: at(p.CreatedAt), UpdatedAt: at(p.UpdatedAt), OrgID: p.OrgID, HistoryRetentionSeconds: &h,
		DefaultEndpointSettings: defaultEndpointSettings(p.DefaultEndpointSettings),
		Settings:                projectSettings(p.Settings),
	}
}

func defaultEndpointSettings(raw json.RawMessage) *apitypes.DefaultEndpointSettings {
	var d apitypes.DefaultEndpointSettings
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &d)
	}
	return &d
}

// projectSettings fills what Neon always returns around what the user set.
func projectSettings(raw json.RawMessage) *apitypes.ProjectSettings {
	var st apitypes.ProjectSettings
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &st)
	}
	f := false
	if st.AllowedIPs == nil {
		st.AllowedIPs = &apitypes.AllowedIPs{IPs: []string{}, ProtectedBranchesOnly: &f}
	}
	for _, b := range []**bool{&st.EnableLogicalReplication, &st.BlockPublicConnections, &st.BlockVPCConnections, &st.HIPAA} {
		if *b == nil {
			v := false
			*b = &v
		}
	}
	if st.MaintenanceWindow == nil {
		st.MaintenanceWindow = &apitypes.MaintenanceWindow{Weekdays: []int{7}, StartTime: "01:00", EndTime: "02:00"}
	}
	return &st
}

func branch(b platform.Branch, state string) apitypes.Branch {
	primary := b.IsDefault
	out := apitypes.Branch{
		ID: b.ID, ProjectID: b.ProjectID, Name: b.Name, CurrentState: apitypes.BranchState(state),
		StateChangedAt: at(b.CreatedAt), CreationSource: "console", Primary: &primary, Default: b.IsDefault,
		Protected: b.Protected, CreatedAt: at(b.CreatedAt), UpdatedAt: at(b.UpdatedAt),
		InitSource: "parent-data", LogicalSize: b.LogicalSize,
	}
	if b.ParentID != nil {
		out.ParentID = *b.ParentID
	}
	return out
}

// branchAnnotation is the annotation GET branch carries; Grove keeps none
// yet, so its value is empty.
func branchAnnotation(b platform.Branch) apitypes.AnnotationData {
	return apitypes.AnnotationData{Object: apitypes.AnnotationObject{Type: "console/branch", ID: b.ID},
		Value: map[string]string{}}
}

// subscription maps an org's plan to Neon's subscription type.
func subscription(plan string) (apitypes.BillingSubscriptionType, int) {
	switch plan {
	case "free":
		return apitypes.SubscriptionFreeV3, 10
	case "":
		return apitypes.SubscriptionUnknown, 10
	default:
		return apitypes.SubscriptionScale, 5000
	}
}

func endpoint(e platform.EndpointView) apitypes.Endpoint {
	out := apitypes.Endpoint{
		Host: e.Host, ID: e.ID, ProjectID: e.ProjectID, BranchID: e.BranchID,
		AutoscalingLimitMinCU: e.MinCU, AutoscalingLimitMaxCU: e.MaxCU, RegionID: e.RegionID,
		Type: apitypes.EndpointType(e.Type), CurrentState: apitypes.EndpointState(e.CurrentState),
		PendingState: apitypes.EndpointState(e.PendingState), PoolerMode: "transaction", Disabled: e.Disabled,
		LastActive: at(neverActive), CreationSource: "console",
		CreatedAt: at(e.CreatedAt), UpdatedAt: at(e.UpdatedAt), ProxyHost: e.ProxyHost,
		SuspendTimeoutSeconds: e.SuspendTimeoutSeconds, Provisioner: apitypes.Provisioner(e.Provisioner),
		Name: e.Name, PasswordlessAccess: e.PasswordlessAccess,
	}
	if out.Provisioner == "" {
		out.Provisioner = "k8s-neonvm"
	}
	if !e.StartedAt.IsZero() {
		out.StartedAt = at(e.StartedAt)
	}
	if len(e.Settings) > 0 {
		_ = json.Unmarshal(e.Settings, &out.Settings)
	}
	if e.LastActive != nil {
		out.LastActive = at(*e.LastActive)
	}
	return out
}

func role(r platform.Role, password string) apitypes.Role {
	f := r.Protected
	return apitypes.Role{BranchID: r.BranchID, Name: r.Name, Password: password, Protected: &f,
		AuthenticationMethod: "password", CreatedAt: at(r.CreatedAt), UpdatedAt: at(r.UpdatedAt)}
}

func database(d platform.Database) apitypes.Database {
	return apitypes.Database{ID: d.ID, BranchID: d.BranchID, Name: d.Name, OwnerName: d.OwnerName,
		CreatedAt: at(d.CreatedAt), UpdatedAt: at(d.UpdatedAt)}
}

func operation(o platform.Operation) apitypes.Operation {
	return apitypes.Operation{
		ID: o.ID.String(), ProjectID: o.ProjectID, BranchID: o.BranchID, EndpointID: o.EndpointID,
		Action: apitypes.OperationAction(o.Action), Status: apitypes.OperationStatus(o.Status), Error: o.Error,
		FailuresCount: int32(o.FailuresCount), CreatedAt: at(o.CreatedAt), UpdatedAt: at(o.UpdatedAt),
		TotalDurationMs: int32(o.TotalDurationMS),
	}
}

func operations(ops []platform.Operation) apitypes.List[apitypes.Operation] {
	out := make(apitypes.List[apitypes.Operation], len(ops))
	for i, o := range ops {
		out[i] = operation(o)
	}
	return out
}

func organization(o platform.Org) apitypes.Organization {
	return apitypes.Organization{ID: o.ID, Name: o.Name, Handle: o.Handle, Plan: o.Plan,
		CreatedAt: at(o.CreatedAt), ManagedBy: "console", UpdatedAt: at(o.UpdatedAt)}
}

// Running consumption totals of the current billing period
// (platform/consumption.go): read from stored usage, never from a compute.

// setProjectUsage puts the period's totals and bounds on a project.
func (s *Server) setProjectUsage(ctx context.Context, out *apitypes.Project) error {
	us, err := s.p.ProjectUsage(ctx, []string{out.ID})
	if err != nil {
		return err
	}
	u := us[out.ID]
	out.ActiveTimeSeconds, out.ComputeTimeSeconds = u.ActiveSeconds, u.ComputeSeconds
	out.CPUUsedSec = u.ComputeSeconds
	out.WrittenDataBytes, out.DataTransferBytes = u.WrittenBytes, u.TransferBytes
	out.DataStorageBytesHour = u.StorageByteHours
	out.ConsumptionPeriodStart, out.ConsumptionPeriodEnd = at(u.PeriodStart), at(u.PeriodEnd)
	return nil
}

// setListUsage puts the period's active time and CPU seconds on list items.
func (s *Server) setListUsage(ctx context.Context, items []apitypes.ProjectListItem) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	us, err := s.p.ProjectUsage(ctx, ids)
	if err != nil {
		return err
	}
	for i := range items {
		u := us[items[i].ID]
		items[i].ActiveTime, items[i].CPUUsedSec = u.ActiveSeconds, u.ComputeSeconds
	}
	return nil
}

// setBranchUsage puts the period's totals on branches of one project.
func (s *Server) setBranchUsage(ctx context.Context, projectID string, bs []apitypes.Branch) error {
	if len(bs) == 0 {
		return nil
	}
	us, err := s.p.BranchUsage(ctx, projectID)
	if err != nil {
		return err
	}
	for i := range bs {
		u := us[bs[i].ID]
		bs[i].ActiveTimeSeconds, bs[i].ComputeTimeSeconds, bs[i].CPUUsedSec = u.ActiveSeconds, u.ComputeSeconds, u.ComputeSeconds
		bs[i].WrittenDataBytes, bs[i].DataTransferBytes = u.WrittenBytes, u.TransferBytes
	}
	return nil
}
