package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/term"

	"github.com/switchboardhq/switchboard/client"
)

// defaultServer is where the CLI looks for a server when nothing says.
const defaultServer = "http://127.0.0.1:8080"

// clientConfig is where a client command finds its server and key: the
// flags, then the environment, then the profile that login stored.
type clientConfig struct {
	flagServer, flagKey, flagProfile string // the root's flags

	resolved bool
	err      error
	server   string // the resolved server URL
	key      string // the resolved key ("" when none)
	keyFrom  string // where key came from, for messages: "--key", "SWITCHBOARD_KEY", "profile \"x\""
	profile  string // the profile's name
}

// profileFile is the CLI's configuration: profiles of a server and a key.
type profileFile struct {
	Current  string             `json:"current,omitempty"`
	Profiles map[string]profile `json:"profiles"`
}

type profile struct {
	Server string `json:"server"`
	Key    string `json:"key,omitempty"`
}

// configPath is the profiles file in the user's configuration directory,
// as os.UserConfigDir finds it but from the given environment:
// $XDG_CONFIG_HOME/switchboard/config.json, else
// ~/.config/switchboard/config.json (on macOS ~/Library/Application
// Support, on Windows %AppData%). SWITCHBOARD_CONFIG names another file.
func configPath(getenv func(string) string) (string, error) {
	if p := getenv("SWITCHBOARD_CONFIG"); p != "" {
		return p, nil
	}
	var dir string
	switch runtime.GOOS {
	case "windows":
		dir = getenv("AppData")
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			dir = filepath.Join(h, "Library", "Application Support")
		}
	default:
		dir = getenv("XDG_CONFIG_HOME")
		if dir == "" || !filepath.IsAbs(dir) {
			dir = ""
			if h := getenv("HOME"); h != "" {
				dir = filepath.Join(h, ".config")
			}
		}
	}
	if dir == "" {
		return "", errors.New("no configuration directory: set HOME (or XDG_CONFIG_HOME), or SWITCHBOARD_CONFIG to a file")
	}
	return filepath.Join(dir, "switchboard", "config.json"), nil
}

// openProfiles finds the profiles file and reads it, for the commands that
// read or change the profiles: its path, and what it holds.
func openProfiles(getenv func(string) string) (string, *profileFile, error) {
	path, err := configPath(getenv)
	if err != nil {
		return "", nil, err
	}
	pf, err := loadProfiles(path)
	return path, pf, err
}

// loadProfiles reads the profiles file; a missing one is empty.
func loadProfiles(path string) (*profileFile, error) {
	pf := &profileFile{Profiles: map[string]profile{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return pf, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the profiles: %w", err)
	}
	if err := json.Unmarshal(data, pf); err != nil {
		return nil, fmt.Errorf("%s is not a profiles file (%v): fix it, or remove it and sign in again with 'switchboard login'", path, err)
	}
	if pf.Profiles == nil {
		pf.Profiles = map[string]profile{}
	}
	return pf, nil
}

// save writes the profiles file readable by its owner only (it holds keys),
// replacing it whole so that a crash leaves the old one or the new one.
func (pf *profileFile) save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save the profiles: %w", err)
	}
	data, err := json.MarshalIndent(pf, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json")
	if err != nil {
		return fmt.Errorf("save the profiles: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save the profiles: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save the profiles: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save the profiles: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save the profiles: %w", err)
	}
	return nil
}

// profileName is the profile a command uses: --profile, SWITCHBOARD_PROFILE,
// the one login made current, or "default". explicit is true when a flag or
// the environment chose it.
func (cc *clientConfig) profileName(e *env, pf *profileFile) (name string, explicit bool) {
	if cc.flagProfile != "" {
		return cc.flagProfile, true
	}
	if p := e.getenv("SWITCHBOARD_PROFILE"); p != "" {
		return p, true
	}
	if pf != nil && pf.Current != "" {
		return pf.Current, false
	}
	return "default", false
}

// resolve finds the server and key once.
func (cc *clientConfig) resolve(e *env) error {
	if cc.resolved {
		return cc.err
	}
	cc.resolved = true
	cc.err = cc.doResolve(e)
	return cc.err
}

func (cc *clientConfig) doResolve(e *env) error {
	var pf *profileFile
	path, perr := configPath(e.getenv)
	if perr == nil {
		var err error
		if pf, err = loadProfiles(path); err != nil {
			return err
		}
	}
	name, explicit := cc.profileName(e, pf)
	cc.profile = name
	var prof profile
	found := false
	if pf != nil {
		prof, found = pf.Profiles[name]
	}
	if explicit && !found {
		where := "the profiles file"
		if perr == nil {
			where = path
		}
		return fmt.Errorf("no profile %q in %s: sign in with 'switchboard login --profile %s --server URL'", name, where, name)
	}
	server := firstNonEmpty(cc.flagServer, e.getenv("SWITCHBOARD_SERVER"), prof.Server, defaultServer)
	norm, err := normalizeServer(server)
	if err != nil {
		return err
	}
	cc.server = norm
	switch {
	case cc.flagKey != "":
		cc.key, cc.keyFrom = cc.flagKey, "--key"
	case e.getenv("SWITCHBOARD_KEY") != "":
		cc.key, cc.keyFrom = e.getenv("SWITCHBOARD_KEY"), "SWITCHBOARD_KEY"
	case found && prof.Key != "":
		// A profile's key goes only to the profile's own server: a
		// --server pointing elsewhere must not receive it.
		if ps, err := normalizeServer(prof.Server); err == nil && ps == norm {
			cc.key, cc.keyFrom = prof.Key, fmt.Sprintf("profile %q", name)
		}
	}
	return nil
}

// client returns an API client from the flags, environment and profile. A
// configuration that cannot be read makes every call of the client fail
// with the reason.
func (cc *clientConfig) client(e *env) *client.Client {
	if err := cc.resolve(e); err != nil {
		return client.New(defaultServer, "", &http.Client{Transport: failing{err}})
	}
	return client.New(cc.server, cc.key, nil)
}

// failing is a transport that fails every request with err.
type failing struct{ err error }

func (f failing) RoundTrip(*http.Request) (*http.Response, error) { return nil, &configError{f.err} }

// configError is a client configuration that cannot be used.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// normalizeServer checks a server URL and returns it without a trailing
// slash. A URL without a scheme is taken as http:// for a loopback host
// and explained otherwise.
func normalizeServer(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		if scheme, rest, _ := strings.Cut(s, "://"); strings.TrimRight(rest, "/") != "" {
			s = scheme + "://" + strings.TrimRight(rest, "/")
		}
	} else {
		s = strings.TrimRight(s, "/")
		host := s
		if i := strings.IndexByte(host, '/'); i >= 0 {
			host = host[:i]
		}
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		ip := net.ParseIP(host)
		if host == "localhost" || (ip != nil && ip.IsLoopback()) {
			s = "http://" + s
		} else {
			return "", usageErrorf("the server URL %q has no scheme: write https://%s (or http://%s for a server without TLS) in --server or SWITCHBOARD_SERVER", s, s, s)
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", usageErrorf("the server URL %q does not parse (%v): write it as https://host[:port]", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", usageErrorf("the server URL %q is not http or https: write it as https://host[:port]", s)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", usageErrorf("the server URL %q should be only a scheme, a host and a port, such as https://switchboard.example.com", s)
	}
	return s, nil
}

// readSecret reads a secret: from a prompt without echo when stdin is a
// terminal, else the first line of stdin (a pipe, a file).
func readSecret(e *env, prompt string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read from the terminal: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if e.lines == nil {
		e.lines = bufio.NewReader(e.stdin)
	}
	line, err := e.lines.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// sortedNames returns a profiles file's names in order.
func (pf *profileFile) sortedNames() []string {
	names := make([]string, 0, len(pf.Profiles))
	for n := range pf.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
