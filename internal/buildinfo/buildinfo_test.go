package buildinfo

import (
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFromBuildInfo(t *testing.T) {
	t.Parallel()
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "4802ae5abcdef0123456789"}, {Key: "vcs.time", Value: "2026-12-01T11:44:40Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name     string
		bi       *debug.BuildInfo
		override string
		want     Info
		str      string
	}{
		{"stamped", stamped, "", Info{Version: "v1.2.3", Commit: "4802ae5abcdef0123456789+dirty", Time: "2026-12-01T11:44:40Z", GoVersion: "go1.26.8"},
			"v1.2.3 (commit 4802ae5abcde+dirty, 2026-12-01T11:44:40Z, go1.26.8)"},
		{"override wins", stamped, "v9.9.9", Info{Version: "v9.9.9", Commit: "4802ae5abcdef0123456789+dirty", Time: "2026-12-01T11:44:40Z", GoVersion: "go1.26.8"},
			"v9.9.9 (commit 4802ae5abcde+dirty, 2026-12-01T11:44:40Z, go1.26.8)"},
		{"devel is unversioned, never dev", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "",
			Info{Version: Unversioned, GoVersion: "go1.26.8"}, "unversioned (go1.26.8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromBuildInfo(tt.bi, tt.override)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if s := got.String(); s != tt.str {
				t.Errorf("String() = %q, want %q", s, tt.str)
			}
		})
	}
	if got := FromBuildInfo(nil, ""); got.Version != Unversioned || got.GoVersion == "" {
		t.Errorf("no build info = %+v", got)
	}
}
