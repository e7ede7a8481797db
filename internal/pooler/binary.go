package pooler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// Binary is a PgBouncer executable and its version.
type Binary struct {
	Path    string
	Version string // e.g. "1.24.1"
	major   int
	minor   int
}

// ErrNotFound means no PgBouncer executable was found.
var ErrNotFound = errors.New("pgbouncer not found")

// atLeast reports whether the version is major.minor or later.
func (b Binary) atLeast(major, minor int) bool {
	return b.major > major || (b.major == major && b.minor >= minor)
}

// PreparedStatements reports whether this PgBouncer supports protocol-level
// prepared statements in transaction mode (max_prepared_statements, 1.21+).
func (b Binary) PreparedStatements() bool { return b.atLeast(1, 21) }

// authDBName reports support for auth_dbname (1.20+).
func (b Binary) authDBName() bool { return b.atLeast(1, 20) }

// immediateShutdownSignalIsQuit: since 1.23 SIGTERM waits for every client
// to leave and SIGQUIT is the immediate shutdown; before, SIGTERM was.
func (b Binary) quitIsImmediate() bool { return b.atLeast(1, 23) }

// DefaultCandidates returns where Find looks, in order: the nearest
// ./.pgbouncer/bin/pgbouncer walking up from the working directory (built by
// scripts/setup.sh; tests run from a package folder find the repository's),
// the one beside the running executable's parent (a grove built into ./bin),
// Debian's /usr/sbin/pgbouncer and pgbouncer in PATH.
func DefaultCandidates() []string {
	const local = ".pgbouncer/bin/pgbouncer"
	var out []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if p := filepath.Join(d, local); isExecutable(p) {
				out = append(out, p)
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		out = append(out, filepath.Join(filepath.Dir(filepath.Dir(exe)), local))
	}
	out = append(out, "/usr/sbin/pgbouncer")
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		out = append(out, p)
	}
	return out
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

var versionRe = regexp.MustCompile(`(?m)^PgBouncer (\d+)\.(\d+)(?:\.(\d+))?`)

// Find returns the first candidate (DefaultCandidates when none are given)
// that is an executable PgBouncer answering --version.
func Find(ctx context.Context, candidates ...string) (Binary, error) {
	if len(candidates) == 0 {
		candidates = DefaultCandidates()
	}
	var errs []error
	for _, p := range candidates {
		if !isExecutable(p) {
			continue
		}
		b, err := probe(ctx, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return b, nil
	}
	return Binary{}, fmt.Errorf("%w (looked in %v): %w", ErrNotFound, candidates, errors.Join(errs...))
}

func probe(ctx context.Context, path string) (Binary, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return Binary{}, fmt.Errorf("%s --version: %w", path, err)
	}
	m := versionRe.FindSubmatch(out)
	if m == nil {
		return Binary{}, fmt.Errorf("%s --version: unexpected output %q", path, out)
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))
	v := string(m[1]) + "." + string(m[2])
	if len(m[3]) > 0 {
		v += "." + string(m[3])
	}
	return Binary{Path: path, Version: v, major: major, minor: minor}, nil
}
