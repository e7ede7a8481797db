package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/grovedb/grove/internal/plans"
	"github.com/grovedb/grove/internal/platform"
)

// readPlans parses a --plans file: a JSON object of plan name → limits to
// set, e.g. {"free": {"projects_per_org": 30000, "max_cu": 2}}. Unknown
// fields are refused, so that a misspelt limit is not silently ignored.
func readPlans(path string) (map[string]plans.Patch, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--plans: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var patches map[string]plans.Patch
	if err := dec.Decode(&patches); err != nil {
		return nil, fmt.Errorf("--plans %s: %w", path, err)
	}
	return patches, nil
}

// applyPlans upserts the --plans file, if any, and logs the plans in force.
func applyPlans(ctx context.Context, plat *platform.Platform, path string, log *slog.Logger) error {
	if path != "" {
		patches, err := readPlans(path)
		if err != nil {
			return err
		}
		if err := plat.ApplyPlans(ctx, patches); err != nil {
			return fmt.Errorf("--plans %s: %w", path, err)
		}
	}
	all, err := plat.Plans(ctx)
	if err != nil {
		return err
	}
	var desc []string
	for _, p := range all {
		desc = append(desc, fmt.Sprintf("%s: %d projects/org, %d branches/project, %v-%v CU, suspend >= %ds, %d snapshots, %d protected branches, history <= %ds",
			p.Name, p.ProjectsPerOrg, p.BranchesPerProject, p.MinCU, p.MaxCU, p.MinSuspendTimeoutSeconds, p.ManualSnapshots,
			p.ProtectedBranches, p.HistoryRetentionMaxSeconds))
	}
	log.Info("plans", "file", path, "plans", strings.Join(desc, "; "))
	return nil
}
