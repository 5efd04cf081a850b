package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dropfeed/dropfeed/feed"
)

// Config is everything `dropfeed serve` and `dropfeed build` can be told,
// from flags, DROPFEED_* environment variables or a config file (a flag
// wins over its variable, which wins over the file).
type Config struct {
	ConfigFile  string
	Dir         string
	Addr        string
	BaseURL     string
	Title       string
	Description string
	Author      string
	Language    string
	Limit       int
	State       string
	MaxAge      time.Duration
	MaxFileSize byteSize
	MemoryLimit byteSize // the Go runtime's soft memory limit; 0 leaves it unset
	LogFormat   string
	LogLevel    string

	Poll           time.Duration // walk the folder this often instead of using inotify; 0 uses inotify
	Rescan         time.Duration // full reconciliation scan this often; 0 never
	FollowSymlinks bool

	Hubs         hubList       // WebSub hubs to announce and notify
	MaxFeedBytes byteSize      // cap on the main and tag feeds; 0 means no cap
	TombstoneTTL time.Duration // how long deleted articles are announced; 0 means not at all
	RateLimit    time.Duration // least time between unconditional polls by one client; 0 is off

	Out   string // build: the output folder
	Watch bool   // build: keep the output up to date
	Ping  bool   // build: notify the hubs after each output swap
}

// siteFlags registers the settings that serve and build share, with their
// defaults: what is published, and how the folder is read and watched.
func (c *Config) siteFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.ConfigFile, "config", "", "settings file, TOML (.toml) or YAML (.yaml, .yml), keys named like the flags")
	fs.StringVar(&c.Dir, "dir", ".", "content folder to publish")
	fs.StringVar(&c.BaseURL, "base-url", "http://localhost:8080/", "public URL of the site, used in links")
	fs.StringVar(&c.Title, "title", "dropfeed", "feed title")
	fs.StringVar(&c.Description, "description", "", "feed description (default: the title)")
	fs.StringVar(&c.Author, "author", "", "feed author (default: the title)")
	fs.StringVar(&c.Language, "language", "", "feed language, a BCP 47 tag such as en or pt-BR")
	fs.IntVar(&c.Limit, "limit", 50, "items per feed")
	fs.StringVar(&c.State, "state", "", "state file (default <dir>/.dropfeed/state.db)")
	c.MaxFileSize = 10 << 20
	fs.Var(&c.MaxFileSize, "max-file-size", "largest article file read, e.g. 10MB")
	c.MaxFeedBytes = 1 << 20
	fs.Var(&c.MaxFeedBytes, "max-feed-bytes", "largest feed document, e.g. 1MB: the oldest items move to the archives\nuntil it fits (one item at least); 0 means no cap")
	fs.DurationVar(&c.TombstoneTTL, "tombstone-ttl", 30*24*time.Hour, "how long a deleted article stays in the Atom feed as a deleted entry; 0 never")
	fs.Var(&c.Hubs, "hub", "WebSub hub URL, announced in the feeds and notified of every change\n(repeat the flag, or give a comma-separated list)")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&c.Poll, "poll", 0, "look for changes by walking the folder this often, e.g. 2s, instead of inotify\n(for NFS, SMB, FUSE and Docker Desktop mounts, which send no events); 0 uses inotify")
	fs.DurationVar(&c.Rescan, "rescan", 5*time.Minute, "scan the whole folder this often to repair anything events missed\n(unchanged files are not re-read); 0 never")
	c.MemoryLimit = defaultMemoryLimit
	fs.Var(&c.MemoryLimit, "memory-limit", "soft memory limit, e.g. 250MB: the Go collector works harder as the process nears it\n(raised with the folder, to stay half the live heap above it); 0 means none.\nGOMEMLIMIT, when set, replaces it")
	fs.BoolVar(&c.FollowSymlinks, "follow-symlinks", false, "enter symlinked folders, and read symlinks that lead outside the folder")
}

// serveFlags registers every setting of `dropfeed serve`, with its default.
func (c *Config) serveFlags(fs *flag.FlagSet) {
	c.siteFlags(fs)
	fs.StringVar(&c.Addr, "addr", ":8080", "address to listen on")
	fs.DurationVar(&c.MaxAge, "max-age", 5*time.Minute, "Cache-Control max-age for feeds and pages")
	fs.DurationVar(&c.RateLimit, "rate-limit", 0, "answer 429 to a client that polls one feed unconditionally more often than this,\ne.g. 1m; conditional requests are never limited; 0 is off")
}

// buildFlags registers every setting of `dropfeed build`, with its default.
func (c *Config) buildFlags(fs *flag.FlagSet) {
	c.siteFlags(fs)
	fs.StringVar(&c.Out, "out", "", "output folder, replaced as a whole on every build")
	fs.BoolVar(&c.Watch, "watch", false, "keep the output up to date as files change, until interrupted")
	fs.BoolVar(&c.Ping, "ping", true, "notify the --hub hubs once new output is in place; turn off when the output\nis uploaded elsewhere afterwards, and notify them after the upload")
}

// configKeys are the names a config file may set: every flag of serve and
// build but --config itself. A command ignores the keys it has no flag for,
// so that one file can serve both.
func configKeys() map[string]bool {
	keys := map[string]bool{}
	for _, register := range []func(*Config, *flag.FlagSet){(*Config).serveFlags, (*Config).buildFlags} {
		var c Config
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		register(&c, fs)
		fs.VisitAll(func(f *flag.Flag) { keys[f.Name] = true })
	}
	delete(keys, "config")
	return keys
}

// load registers a command's flags, fills them from the command line,
// DROPFEED_* variables and --config, and validates the result once.
func (c *Config) load(name string, register func(*flag.FlagSet), args []string, getenv func(string) string, stderr io.Writer) (*url.URL, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	register(fs)
	if err := parseFlags(fs, args, getenv); err != nil {
		return nil, err
	}
	return c.validate()
}

// parseFlags parses args into fs, then fills every flag not given on the
// command line from its DROPFEED_<NAME> variable or, failing that, from
// the config file named by --config (or DROPFEED_CONFIG) when fs has that
// flag.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	file, err := readConfigFile(fs, given, getenv)
	if err != nil {
		return err
	}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		env := envName(f.Name)
		if v := getenv(env); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
			return
		}
		values, ok := file.values[f.Name]
		if !ok {
			return
		}
		if _, list := f.Value.(*hubList); !list && len(values) != 1 {
			errs = append(errs, fmt.Errorf("%s: %s: a list; want one value", file.path, file.keys[f.Name]))
			return
		}
		for _, v := range values {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", file.path, file.keys[f.Name], err))
			}
		}
	})
	return errors.Join(errs...)
}

// envName is the environment variable for a flag: DROPFEED_BASE_URL for base-url.
func envName(flagName string) string {
	return "DROPFEED_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// validate checks the settings once, naming the one that is wrong, and
// fills in the defaults that depend on others.
func (c *Config) validate() (*url.URL, error) {
	if c.Dir == "" {
		return nil, errors.New("--dir: a content folder is required")
	}
	if fi, err := os.Stat(c.Dir); err != nil {
		return nil, fmt.Errorf("--dir: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("--dir: %s is not a folder", c.Dir)
	}
	if abs, err := filepath.Abs(c.Dir); err == nil {
		c.Dir = abs
	}
	base, err := url.Parse(c.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("--base-url: %q is not an absolute http(s) URL", c.BaseURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	base.RawQuery, base.Fragment = "", ""
	if c.Limit < 1 {
		return nil, fmt.Errorf("--limit: %d; must be at least 1", c.Limit)
	}
	if c.MaxAge < 0 {
		return nil, fmt.Errorf("--max-age: %s; must not be negative", c.MaxAge)
	}
	if c.MaxFileSize <= 0 {
		return nil, errors.New("--max-file-size: must be positive")
	}
	if c.TombstoneTTL < 0 {
		return nil, fmt.Errorf("--tombstone-ttl: %s; must not be negative (0 disables tombstones)", c.TombstoneTTL)
	}
	if c.RateLimit < 0 {
		return nil, fmt.Errorf("--rate-limit: %s; must not be negative (0 is off)", c.RateLimit)
	}
	for _, hub := range c.Hubs {
		if u, err := url.Parse(hub); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--hub: %q is not an absolute http(s) URL", hub)
		}
	}
	if c.Poll < 0 {
		return nil, fmt.Errorf("--poll: %s; must not be negative", c.Poll)
	}
	if c.Poll > 0 && c.Poll < 10*time.Millisecond {
		return nil, fmt.Errorf("--poll: %s; walking the folder more than 100 times a second is too often", c.Poll)
	}
	if c.Rescan < 0 {
		return nil, fmt.Errorf("--rescan: %s; must not be negative (0 disables it)", c.Rescan)
	}
	if c.State == "" {
		c.State = filepath.Join(c.Dir, ".dropfeed", "state.db")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return nil, fmt.Errorf("--log-format: %q; want text or json", c.LogFormat)
	}
	if _, err := logLevel(c.LogLevel); err != nil {
		return nil, err
	}
	return base, nil
}

func logLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level: %q; want debug, info, warn or error", s)
	}
	return l, nil
}

// logger builds the logger the settings ask for.
func (c *Config) logger(w io.Writer) *slog.Logger {
	level, _ := logLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// byteSize is a flag value in bytes that accepts KB, MB and GB suffixes
// (powers of 1024).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	s = strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a size such as 10MB", s)
	}
	*b = byteSize(n * mult)
	return nil
}

// hubList is a flag value collecting URLs: the flag may be repeated, and
// each value may be a comma-separated list (as DROPFEED_HUB is).
type hubList []string

func (h *hubList) String() string { return strings.Join(*h, ",") }

func (h *hubList) Set(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*h = append(*h, part)
		}
	}
	return nil
}

// feedOptions are the feed.Options the settings ask for.
func (c *Config) feedOptions(log *slog.Logger) feed.Options {
	opts := feed.Options{
		Limit:        c.Limit,
		MaxAge:       c.MaxAge,
		Logger:       log,
		MaxFeedBytes: int(c.MaxFeedBytes),
		Hubs:         c.Hubs,
		TombstoneTTL: c.TombstoneTTL,
		RateLimit:    c.RateLimit,
	}
	// Our flags say 0 for "none"; feed.Options says 0 for "the default".
	if opts.MaxFeedBytes == 0 {
		opts.MaxFeedBytes = -1
	}
	if opts.TombstoneTTL == 0 {
		opts.TombstoneTTL = -1
	}
	return opts
}
