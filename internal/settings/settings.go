// Package settings checks and merges the JSON settings objects of
// projects: the rules of project.settings beyond their JSON types, and the
// merge of a patch into stored settings. Errors are *errkind.Error with
// the messages the API returns.
package settings

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/grovedb/grove/internal/errkind"
)

func invalid(format string, args ...any) error { return errkind.New(errkind.Invalid, format, args...) }

// Merge returns base with the top-level keys of patch replacing its own.
func Merge(base, patch json.RawMessage) (json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(base) > 0 {
		if err := json.Unmarshal(base, &m); err != nil {
			return nil, err
		}
	}
	var pm map[string]json.RawMessage
	if err := json.Unmarshal(patch, &pm); err != nil || pm == nil {
		return nil, errors.New("not an object")
	}
	for k, v := range pm {
		if string(v) == "null" {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return json.Marshal(m)
}

// ValidProject checks the parts of project.settings (ProjectSettingsData)
// with rules beyond their JSON types.
func ValidProject(raw json.RawMessage) error {
	var st struct {
		Quota      map[string]*int64 `json:"quota"`
		AllowedIPs *struct {
			IPs []string `json:"ips"`
		} `json:"allowed_ips"`
		MaintenanceWindow *struct {
			Weekdays  []int  `json:"weekdays"`
			StartTime string `json:"start_time"`
			EndTime   string `json:"end_time"`
		} `json:"maintenance_window"`
		AuditLogLevel string `json:"audit_log_level"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return invalid("project.settings: %v", err)
	}
	for k, v := range st.Quota {
		if v != nil && *v < 0 {
			return invalid("project.settings.quota.%s must not be negative", k)
		}
	}
	if st.AllowedIPs != nil {
		for _, ip := range st.AllowedIPs.IPs {
			if !validAllowedIP(ip) {
				return invalid("project.settings.allowed_ips: %q is not an IP address, CIDR block or range", ip)
			}
		}
	}
	if w := st.MaintenanceWindow; w != nil {
		if len(w.Weekdays) == 0 {
			return invalid("project.settings.maintenance_window.weekdays must not be empty")
		}
		for _, d := range w.Weekdays {
			if d < 1 || d > 7 {
				return invalid("project.settings.maintenance_window.weekdays must be 1 (Monday) to 7 (Sunday), got %d", d)
			}
		}
		for _, t := range []string{w.StartTime, w.EndTime} {
			if _, err := time.Parse("15:04", t); err != nil || len(t) != 5 {
				return invalid("project.settings.maintenance_window times must be HH:MM in UTC, got %q", t)
			}
		}
	}
	switch st.AuditLogLevel {
	case "", "base", "extended", "full":
	default:
		return invalid("project.settings.audit_log_level must be base, extended or full")
	}
	return nil
}

// validAllowedIP accepts what Neon's allowlist does: an address, a CIDR
// block or a range "first-last".
func validAllowedIP(s string) bool {
	s = strings.TrimSpace(s)
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	from, err1 := netip.ParseAddr(strings.TrimSpace(a))
	to, err2 := netip.ParseAddr(strings.TrimSpace(b))
	return err1 == nil && err2 == nil && from.BitLen() == to.BitLen() && !to.Less(from)
}
