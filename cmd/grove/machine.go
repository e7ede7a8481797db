package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgversion"
)

// machine is what Grove finds on its host: the Postgres installations, the
// OS user owning the template clusters and the host's size.
type machine struct {
	installs       []pgversion.Install
	defaultInstall pgversion.Install
	osUser         pgrun.User
	host           pgconf.Host
}

// newMachine makes the data dir and finds what Grove runs on.
func newMachine(ctx context.Context, cfg serveConfig, log *slog.Logger) (machine, error) {
	// The Postgres user must traverse the data dir to reach its volumes.
	if err := os.MkdirAll(cfg.DataDir, 0o711); err != nil {
		return machine{}, fmt.Errorf("data dir: %w", err)
	}
	if err := os.Chmod(cfg.DataDir, 0o711); err != nil {
		return machine{}, fmt.Errorf("data dir: %w", err)
	}
	installs, err := pgversion.Find(ctx)
	if err != nil {
		return machine{}, err
	}
	var found []string
	for _, in := range installs {
		found = append(found, fmt.Sprintf("%d (%s, %s)", in.Major, in.Version, in.BinDir))
	}
	log.Info("postgres: found versions", "versions", strings.Join(found, "; "), "default", pgversion.DefaultMajor)
	defaultInstall, ok := pgversion.Pick(installs, pgversion.DefaultMajor)
	if !ok {
		defaultInstall = installs[len(installs)-1]
	}
	osUser, err := pgrun.EnsureUser(cfg.OSUser)
	if err != nil {
		return machine{}, err
	}
	return machine{installs: installs, defaultInstall: defaultInstall, osUser: osUser,
		host: pgconf.Host{MemoryBytes: hostMemory(), CPUs: runtime.NumCPU()}}, nil
}
