// Package rolesecret makes and carries the secrets of a branch's roles: a
// new password with its SCRAM verifier, sealed at rest when the project
// stores passwords, and the secrets the roles of a child branch or of a
// restored branch start with.
package rolesecret

import (
	"fmt"

	"github.com/grovedb/grove/internal/ids"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/scram"
	"github.com/grovedb/grove/internal/sealer"
)

// New makes a password in the shape Neon's clients expect and its SCRAM
// verifier, and seals the password when the project stores passwords.
func New(s *sealer.Sealer, store bool) (password, verifier string, sealed []byte, err error) {
	password = ids.NewPassword()
	v, err := scram.NewVerifier(password)
	if err != nil {
		return "", "", nil, fmt.Errorf("make password verifier: %w", err)
	}
	if store {
		sealed = s.Seal(password)
	}
	return password, v.String(), sealed, nil
}

// ForChild turns a parent's roles and databases into a child's: the
// parent's, with the parent's passwords, except that a protected parent's
// login roles get new passwords. It returns the passwords the caller may
// see: stored ones (when the project stores passwords) and new ones.
func ForChild(cfg metastore.BranchConfigRecord, protected, store bool, s *sealer.Sealer) (metastore.BranchConfigRecord, map[string]string, error) {
	passwords := map[string]string{}
	for i := range cfg.Roles {
		r := &cfg.Roles[i]
		if r.Verifier == "" {
			continue
		}
		if protected {
			pw, v, sealed, err := New(s, store)
			if err != nil {
				return cfg, nil, err
			}
			r.Verifier, r.SealedPassword = v, sealed
			passwords[r.Name] = pw
			continue
		}
		if store && len(r.SealedPassword) > 0 {
			if pw, err := s.Open(r.SealedPassword); err == nil {
				passwords[r.Name] = pw
			}
		}
	}
	return cfg, passwords, nil
}

// Keep gives the roles of cfg that target already has target's verifiers
// and passwords: a restored branch keeps its connection strings.
func Keep(cfg *metastore.BranchConfigRecord, target metastore.BranchConfigRecord) {
	own := map[string]metastore.Role{}
	for _, r := range target.Roles {
		own[r.Name] = r
	}
	for i, r := range cfg.Roles {
		if o, ok := own[r.Name]; ok && o.Verifier != "" {
			cfg.Roles[i].Verifier, cfg.Roles[i].SealedPassword = o.Verifier, o.SealedPassword
		}
	}
}
