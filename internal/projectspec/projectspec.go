// Package projectspec checks project create requests before any store is
// read and fills Neon's defaults: the Postgres version among those
// installed, the region, the provisioner, the names of the project, its
// branch, role and database, the endpoint's sizes and suspend timeout, and
// the history retention once the org's plan gives its default. The plan's
// limits are package plans'. Errors are *errkind.Error with the messages
// the API returns.
package projectspec

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/grovedb/grove/internal/connuri"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/pgversion"
	"github.com/grovedb/grove/internal/plans"
	"github.com/grovedb/grove/internal/reserved"
)

// MaxName is the longest project or branch name (in bytes) Neon accepts.
const MaxName = 256

// Input is a project create request, with nil meaning "not given".
type Input struct {
	Name                    string
	OrgID                   string
	RegionID                string
	PGVersion               int
	Provisioner             string
	BranchName              string
	RoleName                string
	DatabaseName            string
	MinCU, MaxCU            *float64
	SuspendTimeoutSeconds   *int64
	StorePasswords          *bool
	HistoryRetentionSeconds *int
	Settings                json.RawMessage
}

// Sizes are the sizes and suspend timeout of a new project's endpoint.
type Sizes struct {
	MinCU, MaxCU          float64
	SuspendTimeoutSeconds int64
}

func invalid(format string, args ...any) error { return errkind.New(errkind.Invalid, format, args...) }

// Resolve checks a create request against the installed Postgres versions
// and returns it with Neon's defaults filled (pg_version, region,
// provisioner, branch, database and role names) and its endpoint's sizes.
// The org and the history retention are the caller's (History).
func Resolve(in Input, installs []pgversion.Install) (Input, Sizes, error) {
	if in.PGVersion == 0 {
		in.PGVersion = pgversion.DefaultMajor
	}
	if _, ok := pgversion.Pick(installs, in.PGVersion); !ok {
		return in, Sizes{}, invalid("pg_version %d is not supported; installed versions: %s", in.PGVersion, majors(installs))
	}
	if in.RegionID == "" {
		in.RegionID = connuri.DefaultRegion()
	} else if !connuri.KnownRegion(in.RegionID) {
		return in, Sizes{}, invalid("region_id %q is not supported", in.RegionID)
	}
	switch in.Provisioner {
	case "":
		in.Provisioner = "k8s-neonvm"
	case "k8s-neonvm", "k8s-pod", "serverless-platform":
	default:
		return in, Sizes{}, invalid("provisioner %q is not one of k8s-pod, k8s-neonvm, serverless-platform", in.Provisioner)
	}
	if len(in.Name) > MaxName {
		return in, Sizes{}, invalid("name must be at most %d characters", MaxName)
	}
	if in.BranchName == "" {
		in.BranchName = "main"
	} else if len(in.BranchName) > MaxName {
		return in, Sizes{}, invalid("branch.name must be at most %d characters", MaxName)
	}
	if in.DatabaseName == "" {
		in.DatabaseName = "neondb"
	}
	if in.RoleName == "" {
		in.RoleName = in.DatabaseName + "_owner"
	}
	if err := reserved.CheckName("branch.database_name", in.DatabaseName); err != nil {
		return in, Sizes{}, err
	}
	if err := reserved.CheckRole("branch.role_name", in.RoleName); err != nil {
		return in, Sizes{}, err
	}
	if err := reserved.CheckDatabase("branch.database_name", in.DatabaseName); err != nil {
		return in, Sizes{}, err
	}
	var s Sizes
	var err error
	if s.MinCU, s.MaxCU, err = plans.ResolveCU(0.25, 0.25, in.MinCU, in.MaxCU); err != nil {
		return in, Sizes{}, err
	}
	if in.SuspendTimeoutSeconds != nil {
		s.SuspendTimeoutSeconds = *in.SuspendTimeoutSeconds
		if err := plans.ValidSuspend(s.SuspendTimeoutSeconds); err != nil {
			return in, Sizes{}, err
		}
	}
	return in, s, nil
}

// History is the history retention a create asks for, the plan's default
// when not given, checked against the longest any plan keeps.
func History(requested *int, planDefault int) (int, error) {
	if requested == nil {
		return planDefault, nil
	}
	if *requested < 0 || *requested > plans.MaxHistorySeconds {
		return 0, invalid("history_retention_seconds must be between 0 and %d", plans.MaxHistorySeconds)
	}
	return *requested, nil
}

// majors lists the installed major versions for an error message.
func majors(installs []pgversion.Install) string {
	ms := pgversion.Majors(installs)
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = strconv.Itoa(m)
	}
	return strings.Join(s, ", ")
}
