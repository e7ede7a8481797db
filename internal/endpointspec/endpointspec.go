// Package endpointspec turns endpoint create and update requests into the
// endpoint they ask for, before any store is read: the type, the
// provisioner, the name, the sizes and suspend timeout (from the project's
// default endpoint settings when not given) and the settings object. The
// plan's limits on them are package plans'. Errors are *errkind.Error with
// the messages the API returns.
package endpointspec

import (
	"encoding/json"

	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/plans"
)

// MaxName is the longest endpoint name Neon accepts.
const MaxName = 64

// Input is an endpoint create request; nil means "not given".
type Input struct {
	BranchID, Type, RegionID, Provisioner, Name string
	MinCU, MaxCU                                *float64
	SuspendTimeoutSeconds                       *int64
	Disabled, PasswordlessAccess                *bool
	Settings                                    json.RawMessage
}

// Update is an endpoint PATCH; nil fields stay as they are.
type Update struct {
	BranchID                     string
	MinCU, MaxCU                 *float64
	SuspendTimeoutSeconds        *int64
	Disabled, PasswordlessAccess *bool
	Provisioner, Name            *string
	Settings                     json.RawMessage
}

func invalid(format string, args ...any) error { return errkind.New(errkind.Invalid, format, args...) }

// CheckType checks a requested endpoint type; field names the request's
// endpoint in errors ("endpoint", "endpoints[0]").
func CheckType(typ, field string) error {
	switch typ {
	case "":
		return invalid("%s.type is required: read_write or read_only", field)
	case "read_write", "read_only":
		return nil
	}
	return invalid("%s.type %q is not one of read_write, read_only", field, typ)
}

// ValidProvisioner checks a provisioner name.
func ValidProvisioner(p string) error {
	switch p {
	case "k8s-neonvm", "k8s-pod", "serverless-platform", "docker":
		return nil
	}
	return invalid("provisioner %q is not one of k8s-pod, k8s-neonvm, serverless-platform", p)
}

func validName(name string) error {
	if len(name) > MaxName {
		return invalid("endpoint.name must be at most %d characters", MaxName)
	}
	return nil
}

// Resolve returns the endpoint a create request asks for in a project of
// the given provisioner and default endpoint settings: its type,
// provisioner, name, sizes, suspend timeout and flags, checked in that
// order. Its settings (Settings), ids, region and times are the caller's.
func Resolve(in Input, provisioner string, d plans.EndpointDefaults) (metastore.Endpoint, error) {
	if in.Provisioner == "" {
		in.Provisioner = provisioner
	}
	if err := ValidProvisioner(in.Provisioner); err != nil {
		return metastore.Endpoint{}, err
	}
	if err := validName(in.Name); err != nil {
		return metastore.Endpoint{}, err
	}
	minCU, maxCU := 0.25, 0.25
	if d.MinCU != nil {
		minCU, maxCU = *d.MinCU, *d.MinCU
	}
	if d.MaxCU != nil {
		maxCU = *d.MaxCU
	}
	minCU, maxCU, err := plans.ResolveCU(minCU, maxCU, in.MinCU, in.MaxCU)
	if err != nil {
		return metastore.Endpoint{}, err
	}
	var suspend int64
	if d.Suspend != nil {
		suspend = *d.Suspend
	}
	if in.SuspendTimeoutSeconds != nil {
		suspend = *in.SuspendTimeoutSeconds
	}
	if err := plans.ValidSuspend(suspend); err != nil {
		return metastore.Endpoint{}, err
	}
	return metastore.Endpoint{Type: in.Type, Name: in.Name, Provisioner: in.Provisioner,
		MinCU: minCU, MaxCU: maxCU, SuspendTimeoutSeconds: suspend,
		Disabled:           in.Disabled != nil && *in.Disabled,
		PasswordlessAccess: in.PasswordlessAccess == nil || *in.PasswordlessAccess,
	}, nil
}

// Settings checks an endpoint's settings object and fills pg_settings from
// the project's defaults when it has none.
func Settings(raw json.RawMessage, defaults map[string]string) (json.RawMessage, error) {
	var st struct {
		PgSettings map[string]string `json:"pg_settings"`
	}
	m := map[string]json.RawMessage{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, invalid("endpoint.settings must be an object")
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, invalid("endpoint.settings.pg_settings must map names to string values")
		}
	}
	if _, ok := m["pg_settings"]; !ok && len(defaults) > 0 {
		b, _ := json.Marshal(defaults)
		m["pg_settings"] = b
	}
	return json.Marshal(m)
}

// ApplySize returns e with an update's sizes and suspend timeout, checked.
// The plan's check of them comes next, before ApplyRest.
func ApplySize(e metastore.Endpoint, in Update) (metastore.Endpoint, error) {
	if in.MinCU != nil {
		e.MinCU = *in.MinCU
	}
	if in.MaxCU != nil {
		e.MaxCU = *in.MaxCU
	}
	if err := plans.ValidCU(e.MinCU, e.MaxCU); err != nil {
		return e, err
	}
	if in.SuspendTimeoutSeconds != nil {
		if err := plans.ValidSuspend(*in.SuspendTimeoutSeconds); err != nil {
			return e, err
		}
		e.SuspendTimeoutSeconds = *in.SuspendTimeoutSeconds
	}
	return e, nil
}

// ApplyRest returns e with the rest of an update but its branch, checked:
// the provisioner, the name, the flags and the settings.
func ApplyRest(e metastore.Endpoint, in Update) (metastore.Endpoint, error) {
	if in.Provisioner != nil && *in.Provisioner != "" {
		if err := ValidProvisioner(*in.Provisioner); err != nil {
			return e, err
		}
		e.Provisioner = *in.Provisioner
	}
	if in.Name != nil {
		if err := validName(*in.Name); err != nil {
			return e, err
		}
		e.Name = *in.Name
	}
	if in.Disabled != nil {
		e.Disabled = *in.Disabled
	}
	if in.PasswordlessAccess != nil {
		e.PasswordlessAccess = *in.PasswordlessAccess
	}
	if len(in.Settings) > 0 {
		s, err := Settings(in.Settings, nil)
		if err != nil {
			return e, err
		}
		e.Settings = s
	}
	return e, nil
}
