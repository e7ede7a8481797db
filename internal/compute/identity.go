package compute

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/grovedb/grove/internal/pgrun"
)

// Identities hands out the OS identities of computes (internal/osid).
type Identities interface {
	Next() (uint32, error)
	Contains(uid uint32) bool
}

// templateMarker is a file every template holds with other-read-write
// modes: clones carrying it need only their top directory handed over.
const templateMarker = "PG_VERSION"

// openTemplate gives read and write access inside a template's data
// directory to every OS identity, its top directory staying 0700 and the
// template user's. A clone's top directory is handed to the compute's own
// identity (0700): only that identity and Grove can enter it, so the files
// it shares with the template need no owner of their own — a recursive
// chown would make every inode of every clone exclusive on a copy-on-write
// file system. Files Postgres creates later are its identity's, 0600.
func openTemplate(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		mode := os.FileMode(0o666)
		if d.IsDir() {
			mode = 0o777
		}
		return os.Chmod(path, mode)
	})
}

// templateOpened reports whether openTemplate ran on dir (or dir is a clone of such a template).
func templateOpened(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, templateMarker))
	return err == nil && fi.Mode().Perm()&0o006 == 0o006
}

// identity returns the OS identity a server on dataDir runs as: the owner
// of the volume when it has one of the computes' identities, else (a clone
// of the template, or a volume made before identities) a new one, to which
// the volume is handed. legacy reports a volume whose files all belonged to
// the shared Postgres user: it was handed over whole, and its cluster needs
// Grove's helper roles (adoptLegacy). Without Config.Identities every
// compute runs as Config.User.
func (m *Manager) identity(dataDir string) (u pgrun.User, legacy bool, err error) {
	if m.cfg.Identities == nil {
		return m.cfg.User, false, nil
	}
	owner, err := pgrun.OwnerOf(dataDir)
	if err != nil {
		return pgrun.User{}, false, fmt.Errorf("identity of %s: %w", dataDir, err)
	}
	if m.cfg.Identities.Contains(owner.UID) {
		return owner, false, nil
	}
	uid, err := m.cfg.Identities.Next()
	if err != nil {
		return pgrun.User{}, false, err
	}
	u = pgrun.IDUser(uid)
	legacy = !templateOpened(dataDir)
	if legacy {
		err = u.OwnTree(dataDir)
		if err == nil {
			err = pgrun.WriteHBA(dataDir, u, nil)
		}
	} else {
		err = u.Own(dataDir, 0o700)
	}
	if err != nil {
		return pgrun.User{}, false, fmt.Errorf("hand %s to its identity: %w", dataDir, err)
	}
	return u, legacy, nil
}

// adoptLegacy makes Grove's helper roles in the running cluster of a
// volume made before computes had identities of their own, and takes back
// what its roles could give themselves then (pgrun.HardenSQL).
func (m *Manager) adoptLegacy(ctx context.Context, in *Instance) error {
	if err := pgrun.InstallHelpers(ctx, in.Exec); err != nil {
		return fmt.Errorf("compute %s: %w", in.ID(), err)
	}
	if sql := pgrun.HardenSQL(in.Major()); sql != "" && !in.Spec().ReadOnly {
		if err := in.Exec(ctx, "postgres", sql); err != nil {
			return fmt.Errorf("compute %s: harden roles: %w", in.ID(), err)
		}
	}
	return nil
}

// User is the OS identity the compute's server runs as (known once it launched).
func (in *Instance) User() pgrun.User {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.user
}
