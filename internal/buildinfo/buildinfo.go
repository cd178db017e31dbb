// Package buildinfo says which build of Switchboard is running: the module
// version, the commit and the time it was built, read from what the Go
// toolchain stamps into the binary (runtime/debug.ReadBuildInfo), so that
// the CLI's version command, the server's /v1/version and its start-up line
// agree.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Info describes a build.
type Info struct {
	// Version is the module version (v1.2.3, or a pseudo-version such as
	// v0.0.0-20261201114440-4802ae5abcde+dirty for a build from a
	// checkout), or "unversioned" when the toolchain stamped none (go run,
	// go test).
	Version string `json:"version"`
	// Commit is the VCS revision, when known, with "+dirty" when the tree
	// had changes.
	Commit string `json:"commit,omitempty"`
	// Time is the commit's time (RFC 3339), when known: builds from one
	// commit are alike.
	Time      string `json:"buildTime,omitempty"`
	GoVersion string `json:"goVersion"`
}

// Unversioned is the Version of a build that the toolchain did not stamp.
const Unversioned = "unversioned"

// Read returns the running binary's Info. override, when not empty, is the
// version given at link time (-ldflags "-X ...cli.Version=v1.2.3"), which
// wins over the module's.
func Read(override string) Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return FromBuildInfo(nil, override)
	}
	return FromBuildInfo(bi, override)
}

// FromBuildInfo is Read for a given build info (nil when there is none).
func FromBuildInfo(bi *debug.BuildInfo, override string) Info {
	info := Info{Version: Unversioned, GoVersion: runtime.Version()}
	if bi != nil {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			info.Version = v
		}
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if dirty && info.Commit != "" {
			info.Commit += "+dirty"
		}
	}
	if o := strings.TrimSpace(override); o != "" {
		info.Version = o
	}
	return info
}

// Short is the commit shortened to 12 characters (and its +dirty mark).
func (i Info) Short() string {
	c, dirty := strings.CutSuffix(i.Commit, "+dirty")
	if len(c) > 12 {
		c = c[:12]
	}
	if dirty {
		c += "+dirty"
	}
	return c
}

// String is the one-line form: "v1.2.3 (commit 4802ae5abcde, 2026-12-01T11:44:40Z, go1.26.8)".
func (i Info) String() string {
	var parts []string
	if i.Commit != "" {
		parts = append(parts, "commit "+i.Short())
	}
	if i.Time != "" {
		parts = append(parts, i.Time)
	}
	if i.GoVersion != "" {
		parts = append(parts, i.GoVersion)
	}
	if len(parts) == 0 {
		return i.Version
	}
	return i.Version + " (" + strings.Join(parts, ", ") + ")"
}
