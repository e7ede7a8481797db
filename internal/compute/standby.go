package compute

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/pgrun"
)

// Standby makes a compute a hot standby (a read replica) of a primary.
//
// Its volume is a disposable copy of the primary's volume made by the
// caller just before Start (a storage clone of the stopped volume, or
// CloneRunning of the running primary): the manager writes standby.signal
// and the standby settings into it before launch, and Suspend deletes it,
// so that a suspended replica holds no disk and every start begins from
// the primary's present (a branch restored meanwhile included).
//
// While it runs, the standby streams from the primary's Unix socket
// (a replication connection as pgrun.ReplicationRole, which the socket
// directory, the project's identity's, keeps to it and Grove) and, when
// it cannot (the primary suspended, or WAL it missed while disconnected),
// restores finished segments from the primary volume's WAL archive. No
// replication slot is made on the primary: an abandoned replica never
// retains the primary's WAL, and the archive serves what a slot would have
// kept.
type Standby struct {
	// PrimaryID is the compute id of the primary, whose socket directory is
	// <RunDir>/<PrimaryID>; "" when there is no primary to stream from.
	PrimaryID string
	// ArchiveVolume is the volume whose WAL archive restore_command reads
	// (the primary's); "" or an Archiver without ArchiveReader: none.
	ArchiveVolume string
}

// standbySignal is the file that makes Postgres start in standby mode.
const standbySignal = "standby.signal"

func (s Standby) validate(id string) error {
	if s.PrimaryID != "" && !idPattern.MatchString(s.PrimaryID) {
		return fmt.Errorf("compute %s: invalid primary id %q", id, s.PrimaryID)
	}
	if s.PrimaryID == id {
		return fmt.Errorf("compute %s: a standby cannot be its own primary", id)
	}
	if s.ArchiveVolume != "" && !volumePattern.MatchString(s.ArchiveVolume) {
		return fmt.Errorf("compute %s: invalid archive volume %q", id, s.ArchiveVolume)
	}
	return nil
}

// standbySettings turns s into the settings of spec's standby: no
// archiving of its own (its volume is not the branch's history), streaming
// from the primary's socket, restoring from the primary's archive.
func (m *Manager) standbySettings(s *pgconf.Settings, spec Spec) {
	sb := spec.Standby
	s.ArchiveMode, s.ArchiveDir, s.ArchiveTimeoutSeconds = false, "", 0
	s.Standby = true
	s.PrimaryConnInfo, s.RestoreCommand = "", ""
	if sb.PrimaryID != "" {
		s.PrimaryConnInfo = "host=" + connValue(m.sockDir(sb.PrimaryID)) + " user=" + pgrun.ReplicationRole +
			" application_name=" + connValue(spec.ID) + " connect_timeout=5"
	}
	if m.cfg.Archive != nil && sb.ArchiveVolume != "" {
		s.RestoreCommand = restoreCommand
	}
}

// restoreCommand copies a finished segment (or a timeline history file)
// from the archive archiveLink points to (prepareStandby links it to the
// primary's); a missing one fails quietly, which tells the standby to wait
// and try streaming. It names no host path: a tenant reads it.
const restoreCommand = "cp --reflink=auto " + archiveLink + "/%f %p 2>/dev/null"

// connValue quotes a libpq connection-string value.
func connValue(v string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), "'", `\'`) + "'"
}

// prepareStandby readies a standby's data directory before its server
// starts (every launch, restarts after a crash included): standby.signal,
// the archive link, and replay limits at least the primary's. A hot
// standby stops replaying at WAL written with a limit above its own; its
// copy's control file and grove.conf hold the primary's at the copy (or,
// after a first launch, the standby's own raised ones), and the running
// primary's settings what it runs with now.
func (m *Manager) prepareStandby(in *Instance) error {
	sb := in.Spec().Standby
	if sb == nil {
		return nil
	}
	var primary pgconf.ReplayLimits
	if p, ok := m.Get(sb.PrimaryID); ok && sb.PrimaryID != "" {
		primary = p.Settings().ReplayLimits()
	}
	conf, err := confLimits(filepath.Join(in.dataDir, confFile))
	if err != nil {
		return fmt.Errorf("standby %s: %w", in.id, err)
	}
	m.raiseReplay(in, primary.Max(conf)) // replay.go
	_ = os.Remove(filepath.Join(in.dataDir, "recovery.signal"))
	if err := m.writeOwned(filepath.Join(in.dataDir, standbySignal), nil); err != nil {
		return fmt.Errorf("standby %s: %w", in.id, err)
	}
	if m.cfg.Archive != nil && sb.ArchiveVolume != "" {
		if err := linkArchive(in.dataDir, m.cfg.Archive.WALDir(sb.ArchiveVolume), in.User()); err != nil {
			return fmt.Errorf("standby %s: %w", in.id, err)
		}
	}
	return nil
}

// confLimits reads the replay limits from a grove.conf; a missing file or
// setting reads as 0.
func confLimits(path string) (pgconf.ReplayLimits, error) {
	var l pgconf.ReplayLimits
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return l, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		v, _, _ := strings.Cut(strings.TrimSpace(rest), "#")
		n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(v), "'"))
		if err != nil {
			continue
		}
		l.Set(strings.TrimSpace(name), n)
	}
	return l, sc.Err()
}

// dropStandbyVolume deletes a suspended standby's volume: the next start
// makes a fresh copy of its primary's.
func (m *Manager) dropStandbyVolume(ctx context.Context, in *Instance) error {
	if in.Spec().Standby == nil || !m.cfg.Volumes.Exists(in.volumeID) {
		return nil
	}
	if err := m.cfg.Volumes.Delete(context.WithoutCancel(ctx), in.volumeID); err != nil {
		return fmt.Errorf("delete standby volume %s: %w", in.volumeID, err)
	}
	return nil
}
