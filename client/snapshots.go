package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/grovedb/grove/apitypes"
)

// SnapshotParams are the query parameters of [Client.CreateSnapshot]; zero
// fields are not sent.
type SnapshotParams struct {
	LSN       string
	Timestamp time.Time
	Name      string
	ExpiresAt time.Time
}

// CreateSnapshot snapshots a root branch (POST
// …/branches/{branch_id}/snapshot), now or at p's LSN or time.
func (c *Client) CreateSnapshot(ctx context.Context, projectID, branchID string, p SnapshotParams) (*apitypes.SnapshotOperations, error) {
	q := url.Values{}
	if p.LSN != "" {
		q.Set("lsn", p.LSN)
	}
	if p.Name != "" {
		q.Set("name", p.Name)
	}
	if !p.Timestamp.IsZero() {
		q.Set("timestamp", p.Timestamp.UTC().Format(time.RFC3339Nano))
	}
	if !p.ExpiresAt.IsZero() {
		q.Set("expires_at", p.ExpiresAt.UTC().Format(time.RFC3339))
	}
	var out apitypes.SnapshotOperations
	if err := c.do(ctx, http.MethodPost, branchPath(projectID, branchID)+"/snapshot", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func snapshotPath(projectID, snapshotID string) string {
	return "/projects/" + seg(projectID) + "/snapshots/" + seg(snapshotID)
}

// ListSnapshots lists a project's snapshots (GET /projects/{project_id}/snapshots).
func (c *Client) ListSnapshots(ctx context.Context, projectID string) ([]apitypes.Snapshot, error) {
	var out apitypes.SnapshotsResponse
	if err := c.do(ctx, http.MethodGet, "/projects/"+seg(projectID)+"/snapshots", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Snapshots, nil
}

// RenameSnapshot renames a snapshot (PATCH /projects/{project_id}/snapshots/{snapshot_id}).
func (c *Client) RenameSnapshot(ctx context.Context, projectID, snapshotID, name string) (*apitypes.Snapshot, error) {
	var out apitypes.SnapshotResponse
	if err := c.do(ctx, http.MethodPatch, snapshotPath(projectID, snapshotID), nil,
		apitypes.SnapshotUpdateRequest{Snapshot: apitypes.SnapshotUpdate{Name: name}}, &out); err != nil {
		return nil, err
	}
	return &out.Snapshot, nil
}

// DeleteSnapshot deletes a snapshot (DELETE /projects/{project_id}/snapshots/{snapshot_id}).
func (c *Client) DeleteSnapshot(ctx context.Context, projectID, snapshotID string) ([]apitypes.Operation, error) {
	var out apitypes.OperationsResponse
	if err := c.do(ctx, http.MethodDelete, snapshotPath(projectID, snapshotID), nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Operations, nil
}

// RestoreSnapshot restores a snapshot into a new branch (POST
// /projects/{project_id}/snapshots/{snapshot_id}/restore).
func (c *Client) RestoreSnapshot(ctx context.Context, projectID, snapshotID string, req apitypes.SnapshotRestoreRequest) (*apitypes.RestoredSnapshot, error) {
	var out apitypes.RestoredSnapshot
	if err := c.do(ctx, http.MethodPost, snapshotPath(projectID, snapshotID)+"/restore", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
