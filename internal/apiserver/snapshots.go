package apiserver

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/platform"
	"github.com/grovedb/grove/internal/schedule"
)

// snapshotRoutes registers snapshots and their restore.
func (s *Server) snapshotRoutes() {
	s.handle("POST /projects/{project_id}/branches/{branch_id}/snapshot", s.createSnapshot)
	s.handle("GET /projects/{project_id}/snapshots", s.listSnapshots)
	s.handle("PATCH /projects/{project_id}/snapshots/{snapshot_id}", s.updateSnapshot)
	s.handle("DELETE /projects/{project_id}/snapshots/{snapshot_id}", s.deleteSnapshot)
	s.handle("POST /projects/{project_id}/snapshots/{snapshot_id}/restore", s.restoreSnapshot)
	s.handle("GET /projects/{project_id}/branches/{branch_id}/backup_schedule", s.getBackupSchedule)
	s.handle("PUT /projects/{project_id}/branches/{branch_id}/backup_schedule", s.setBackupSchedule)
}

func (s *Server) getBackupSchedule(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	items, err := s.p.BackupSchedule(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"))
	if err != nil {
		return err
	}
	out := apitypes.BackupSchedule{Schedule: []apitypes.BackupScheduleItem{}}
	for _, it := range items {
		out.Schedule = append(out.Schedule, apitypes.BackupScheduleItem(it))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) setBackupSchedule(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var body struct {
		Schedule *[]apitypes.BackupScheduleItem `json:"schedule"`
	}
	if err := decode(r, &body, false); err != nil {
		return err
	}
	if body.Schedule == nil {
		return badRequest("invalid request: decode application/json: invalid: schedule (field required)")
	}
	items := make([]schedule.Item, 0, len(*body.Schedule))
	for _, it := range *body.Schedule {
		items = append(items, schedule.Item(it))
	}
	if err := s.p.SetBackupSchedule(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), items); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.EmptyResponse{})
	return nil
}

func snapshot(sn platform.Snapshot) apitypes.Snapshot {
	out := apitypes.Snapshot{ID: sn.ID, Name: sn.Name, CreatedAt: at(sn.CreatedAt), LSN: sn.LSN,
		SourceBranchID: sn.SourceBranchID, Manual: sn.Manual, FullSize: sn.FullSize}
	if sn.Timestamp != nil {
		out.Timestamp = at(*sn.Timestamp)
	}
	if sn.ExpiresAt != nil {
		out.ExpiresAt = at(*sn.ExpiresAt)
	}
	return out
}

// queryTime parses an RFC 3339 query parameter; nil when absent.
func queryTime(r *http.Request, name string) (*time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, badRequest("invalid request: query parameter %s: %q is not an RFC 3339 time", name, v)
	}
	return &t, nil
}

func (s *Server) createSnapshot(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var body apitypes.SnapshotCreateRequest
	if err := decode(r, &body, true); err != nil {
		return err
	}
	in := platform.SnapshotInput{LSN: body.LSN, Name: body.Name}
	if body.Timestamp != nil {
		in.Timestamp = &body.Timestamp.Time
	}
	if body.ExpiresAt != nil {
		in.ExpiresAt = &body.ExpiresAt.Time
	}
	q := r.URL.Query()
	if q.Has("lsn") {
		in.LSN = q.Get("lsn")
	}
	if q.Has("name") {
		in.Name = q.Get("name")
	}
	for name, dst := range map[string]**time.Time{"timestamp": &in.Timestamp, "expires_at": &in.ExpiresAt} {
		t, err := queryTime(r, name)
		if err != nil {
			return err
		}
		if t != nil {
			*dst = t
		}
	}
	sn, ops, err := s.p.CreateSnapshot(r.Context(), pr, r.PathValue("project_id"), r.PathValue("branch_id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.SnapshotOperations{Snapshot: snapshot(sn), Operations: operations(ops)})
	return nil
}

func (s *Server) listSnapshots(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	snaps, err := s.p.ListSnapshots(r.Context(), pr, r.PathValue("project_id"))
	if err != nil {
		return err
	}
	out := apitypes.SnapshotsResponse{Snapshots: make(apitypes.List[apitypes.Snapshot], len(snaps))}
	for i, sn := range snaps {
		out.Snapshots[i] = snapshot(sn)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) updateSnapshot(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req struct {
		Snapshot *struct {
			Name      *string         `json:"name"`
			ExpiresAt json.RawMessage `json:"expires_at"`
		} `json:"snapshot"`
	}
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if req.Snapshot == nil {
		return badRequest("invalid request: decode application/json: invalid: snapshot (field required)")
	}
	in := platform.SnapshotUpdate{Name: req.Snapshot.Name}
	switch raw := req.Snapshot.ExpiresAt; {
	case len(raw) == 0:
	case string(raw) == "null":
		in.ClearExpiry = true
	default:
		var t apitypes.Time
		if err := json.Unmarshal(raw, &t); err != nil {
			return badRequest("invalid request: decode application/json: snapshot.expires_at: must be an RFC 3339 time")
		}
		in.ExpiresAt = &t.Time
	}
	sn, err := s.p.UpdateSnapshot(r.Context(), pr, r.PathValue("project_id"), r.PathValue("snapshot_id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.SnapshotResponse{Snapshot: snapshot(sn)})
	return nil
}

func (s *Server) deleteSnapshot(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	ops, err := s.p.DeleteSnapshot(r.Context(), pr, r.PathValue("project_id"), r.PathValue("snapshot_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, apitypes.OperationsResponse{Operations: operations(ops)})
	return nil
}

func (s *Server) restoreSnapshot(w http.ResponseWriter, r *http.Request, pr accounts.Principal) error {
	var req apitypes.SnapshotRestoreRequest
	if err := decode(r, &req, true); err != nil {
		return err
	}
	if req.Name == "" {
		req.Name = r.URL.Query().Get("name") // deprecated query form
	}
	res, err := s.p.RestoreSnapshot(r.Context(), pr, r.PathValue("project_id"), r.PathValue("snapshot_id"),
		platform.SnapshotRestoreInput{Name: req.Name, TargetBranchID: req.TargetBranchID, Finalize: req.FinalizeRestore})
	if err != nil {
		return err
	}
	out := apitypes.RestoredSnapshot{Branch: fullBranch(res.Branch, "ready", ""), Operations: operations(res.Operations)}
	for _, e := range res.Endpoints {
		out.Endpoints = append(out.Endpoints, endpoint(e))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
