package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/limit"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// Config is an instance's configuration: what `switchboard serve` reads from
// its flags and environment, validated once by Validate, and a few fields
// that only tests and embedders set.
type Config struct {
	Addr                 string
	Data                 string
	Dev                  bool
	AllowPrivateNetworks bool
	UpstreamTimeout      time.Duration
	MaxResponseBytes     int64
	LogFormat            string
	LogLevel             string
	ShutdownTimeout      time.Duration
	CacheBytes           int64
	// CompiledCacheBytes bounds the compiled definitions an instance keeps
	// beyond the versions installed by the orgs it serves (New takes 0 as
	// registry.DefaultCompiledCacheBytes).
	CompiledCacheBytes int64
	// ReadTimeout bounds the reading of a whole request, its body included:
	// a client that claims a body and never sends it is cut off.
	ReadTimeout time.Duration
	// MaxBodies and MaxBodiesPerKey cap the request bodies being read at
	// once, in total and per API key (0: httpapi's defaults).
	MaxBodies, MaxBodiesPerKey int
	// DatabaseURL selects PostgreSQL (scale-out); empty means SQLite in
	// the data directory.
	DatabaseURL string
	// RedisURL selects the shared Redis cache; empty means the in-process
	// cache.
	RedisURL string
	// PublicURL is the address browsers reach the server at, for OAuth
	// 2.0 redirect URIs; empty means http://<addr>.
	PublicURL string
	// OAuthReturnURLs are the prefixes that an account's returnUrl may
	// start with.
	OAuthReturnURLs []string
	// DebugAddr, when set, serves net/http/pprof there (keep it private).
	DebugAddr string
	// AuditRetention is how long audit entries are kept: older ones are
	// deleted in the background, in small batches. 0 keeps them forever
	// (serve's default is DefaultAuditRetention).
	AuditRetention time.Duration
	// OperatorKey and SecretKey come from the environment only, never from
	// flags, which other users of the machine can read in the process list.
	OperatorKey string
	SecretKey   string
	// Version is reported in the OpenAPI document and the start-up line.
	Version string
	// LogOutput receives the log lines (os.Stderr for serve); nil discards
	// them unless Log is set.
	LogOutput io.Writer
	// MaxInflightPerUpstream caps the runs of one org in flight to one
	// upstream host (SPEC 13; New takes 0 as limit.DefaultMaxInflight).
	MaxInflightPerUpstream int

	// The fields below are for tests and embedders; their zero values are
	// what serve uses.

	// Listener, when set, is served instead of listening on Addr.
	Listener net.Listener
	// Store, when set, is used instead of opening one; the caller closes it.
	Store switchboard.Store
	// Cache, when set, replaces the cache that RedisURL or CacheBytes
	// would make; the caller closes it.
	Cache switchboard.Cache
	// SecretKeys, when set, are the AES keys (current first) instead of
	// SecretKey or the key file.
	SecretKeys [][]byte
	// Outbound, when set, configures the upstream client instead of
	// AllowPrivateNetworks, UpstreamTimeout and MaxResponseBytes (tests use
	// it to remap hosts to local servers and trust test CAs).
	Outbound *outbound.Config
	// Workflows tunes the workflow engine (--workflow-run-timeout and the
	// engine's timing).
	Workflows WorkflowConfig
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// AuditPruneEvery is how often the audit retention runs (10 minutes
	// when 0; the first pass comes a minute after start, or after
	// AuditPruneEvery when that is shorter).
	AuditPruneEvery time.Duration
	// RedisPrefix namespaces the keys this instance keeps in Redis ("sb:"
	// when empty), so that tests or deployments can share one Redis.
	RedisPrefix string
	// Log, when set, is the logger instead of one made from LogFormat,
	// LogLevel and LogOutput; request lines then go through it too.
	Log *slog.Logger
}

// errNoSecretKey refuses to start on PostgreSQL without a key: a key file
// made by each instance would give each its own key.
var errNoSecretKey = errors.New("SWITCHBOARD_SECRET_KEY is not set: with --database-url every instance needs the same key (no key file is made); generate one with: openssl rand -hex 32")

// Validate checks the configuration once, before anything starts, and
// reports every problem at once.
func (c *Config) Validate() error {
	var problems []string
	if c.OperatorKey != "" && len(c.OperatorKey) < 32 {
		problems = append(problems, "SWITCHBOARD_OPERATOR_KEY is shorter than 32 characters; generate one with: openssl rand -hex 32")
	}
	if c.OperatorKey == "" && !c.Dev {
		problems = append(problems, "SWITCHBOARD_OPERATOR_KEY is not set: it is the key that creates orgs and registers public apps (generate one with: openssl rand -hex 32), or start with --dev to generate one")
	}
	if c.DatabaseURL != "" && c.SecretKey == "" && len(c.SecretKeys) == 0 {
		problems = append(problems, errNoSecretKey.Error())
	}
	if c.UpstreamTimeout <= 0 {
		problems = append(problems, "--upstream-timeout must be positive")
	}
	if c.ReadTimeout < 0 {
		problems = append(problems, "--read-timeout must not be negative")
	}
	if c.MaxBodies < 0 || c.MaxBodiesPerKey < 0 {
		problems = append(problems, "--max-bodies and --max-bodies-per-key must not be negative")
	}
	if c.AuditRetention < 0 || (c.AuditRetention > 0 && c.AuditRetention < MinAuditRetention) {
		problems = append(problems, fmt.Sprintf("--audit-retention must be 0 (keep the audit log forever) or at least 1h, such as 2160h for 90 days, not %s", c.AuditRetention))
	}
	if c.MaxInflightPerUpstream < 0 {
		problems = append(problems, fmt.Sprintf("--max-inflight-per-upstream must be at least 1 (0 is the default, %d), not %d", limit.DefaultMaxInflight, c.MaxInflightPerUpstream))
	}
	if c.CacheBytes <= 0 {
		problems = append(problems, "--cache-bytes must be positive")
	}
	if c.CompiledCacheBytes <= 0 {
		problems = append(problems, "--compiled-cache-bytes must be positive")
	}
	if c.MaxResponseBytes <= 0 {
		problems = append(problems, "--max-response-bytes must be positive")
	}
	switch c.LogFormat {
	case "json", "text", "":
	default:
		problems = append(problems, fmt.Sprintf("--log-format must be json or text, not %q", c.LogFormat))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		problems = append(problems, fmt.Sprintf("--log-level must be debug, info, warn or error, not %q", c.LogLevel))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n       "))
	}
	return nil
}

// NewLogger returns the logger that cfg's LogFormat and LogLevel describe,
// writing to w.
func NewLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func (c *Config) storeName() string {
	switch {
	case c.Store != nil:
		return "given"
	case c.DatabaseURL != "":
		return "postgres"
	}
	return "sqlite"
}

func (c *Config) cacheName() string {
	switch {
	case c.Cache != nil:
		return "given"
	case c.RedisURL != "":
		return "redis"
	}
	return "memory"
}
