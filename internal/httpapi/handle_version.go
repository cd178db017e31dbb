package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/switchboardhq/switchboard/internal/buildinfo"
)

// buildResponse is GET /v1/version's answer: the server's build.
type buildResponse struct {
	Version   string `json:"version" required:"true" description:"The module version (v1.2.3, or a pseudo-version for a build from a checkout; unversioned when none was stamped)"`
	Commit    string `json:"commit,omitempty" description:"The VCS revision the server was built from, with +dirty when the tree had changes"`
	BuildTime string `json:"buildTime,omitempty" description:"The time of that revision (RFC 3339)"`
	GoVersion string `json:"goVersion" required:"true" description:"The Go toolchain that built it"`
}

// handleVersion answers the server's build, read once: it needs no key, so
// that a client can say which server it talks to before signing in.
func handleVersion(version string) http.Handler {
	info := buildinfo.Read(version)
	body, _ := json.Marshal(buildResponse{Version: info.Version, Commit: info.Commit, BuildTime: info.Time, GoVersion: info.GoVersion})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, body)
	})
}
