package appdef

import (
	"fmt"
	"regexp"
	"strings"
)

// The canonical name of every command and action is
// kustomer.app.<appId>.<local>, where <appId> is the namespaced app id.
const namePrefix = "kustomer.app."

// MaxNameLength bounds a canonical component name.
const MaxNameLength = 128

var (
	appIDPattern     = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
	localNamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	// An app-like prefix followed by ".app.": the <app>.app.<local> spelling
	// of some app.
	foreignAppPrefix = regexp.MustCompile(`^([a-z][a-z0-9_-]{0,127})\.app\.`)
)

// ValidAppID reports whether id is 1 to 64 of [a-z0-9_-] starting with a
// letter.
func ValidAppID(id string) bool { return appIDPattern.MatchString(id) }

// reservedAppIDs are the app ids that are segments of the API's own paths
// (GET /v1/apps/available/{app} beside GET /v1/apps/{app}/settings): an app
// of one of these ids would be unreachable through some routes.
var reservedAppIDs = map[string]bool{"available": true, "installed": true}

// Namespace returns the stored id of an app: private apps get "_<org>"
// appended; public apps (org "") keep their id.
func Namespace(bare, orgID string) string {
	if orgID == "" {
		return bare
	}
	return bare + "_" + orgID
}

// Bare strips the namespace of org from an app id, so that the namespaced
// spelling of an id means the same as the bare one.
func Bare(id, orgID string) string {
	if orgID != "" {
		if b, ok := strings.CutSuffix(id, "_"+orgID); ok && b != "" {
			return b
		}
	}
	return id
}

// CanonicalName returns kustomer.app.<ns>.<local> for a component name
// spelled in any of the accepted ways: <local>, <app>.<local>,
// <app>.app.<local> or kustomer.app.<app>.<local>, with the bare (bare) or
// namespaced (ns) app id. It returns the local part too.
func CanonicalName(name, bare, ns string) (canonical, local string, err error) {
	local, err = localName(name, bare, ns)
	if err != nil {
		return "", "", err
	}
	if local == "" {
		return "", "", fmt.Errorf("the name %q has no component name after the app prefix", name)
	}
	if !localNamePattern.MatchString(local) {
		return "", "", fmt.Errorf("the name %q may only use letters, digits, '.', '-' and '_'", name)
	}
	canonical = namePrefix + ns + "." + local
	if len(canonical) > MaxNameLength {
		return "", "", fmt.Errorf("the name %q is %d characters once namespaced (%s), more than %d", name, len(canonical), canonical, MaxNameLength)
	}
	return canonical, local, nil
}

func localName(name, bare, ns string) (string, error) {
	ids := []string{ns}
	if bare != ns {
		ids = append(ids, bare)
	}
	if rest, ok := strings.CutPrefix(name, namePrefix); ok {
		app, local, _ := strings.Cut(rest, ".")
		for _, id := range ids {
			if app == id {
				return local, nil
			}
		}
		return "", fmt.Errorf("the name %q belongs to app %q, not to this app (%s); spell it kustomer.app.%s.<name> or just <name>", name, app, bare, bare)
	}
	for _, id := range ids {
		if rest, ok := strings.CutPrefix(name, id+".app."); ok {
			return rest, nil
		}
	}
	for _, id := range ids {
		if rest, ok := strings.CutPrefix(name, id+"."); ok {
			return rest, nil
		}
	}
	if m := foreignAppPrefix.FindStringSubmatch(name); m != nil {
		return "", fmt.Errorf("the name %q belongs to app %q, not to this app (%s); spell it %s.app.<name> or just <name>", name, m[1], bare, bare)
	}
	return name, nil
}

// RunName is one way to read a name given at run time: the app id as the
// caller spelled it and the local component name.
type RunName struct {
	App   string
	Local string
}

// ParseRunName lists the readings of a name given to /v1/commands/{name}/run
// or /v1/actions/{name}/run, most likely first. App ids contain no dots, so
// the app is the first dot-separated part after an optional "kustomer.app."
// prefix; a following "app." may be the <app>.app.<local> spelling or the
// start of a local name, so both readings are returned.
func ParseRunName(name string) []RunName {
	var out []RunName
	if rest, ok := strings.CutPrefix(name, namePrefix); ok {
		out = appendReadings(out, rest)
	}
	// An app may itself be called "kustomer": read the whole name as well.
	return appendReadings(out, name)
}

func appendReadings(out []RunName, name string) []RunName {
	app, local, ok := strings.Cut(name, ".")
	if !ok || app == "" || local == "" {
		return out
	}
	if l, ok := strings.CutPrefix(local, "app."); ok && l != "" {
		out = append(out, RunName{app, l})
	}
	return append(out, RunName{app, local})
}
