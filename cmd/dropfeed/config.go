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
)

// Config is everything `dropfeed serve` can be told, from flags or from
// DROPFEED_* environment variables (a flag wins over its variable).
type Config struct {
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
	LogFormat   string
	LogLevel    string

	Poll           time.Duration // walk the folder this often instead of using inotify; 0 uses inotify
	Rescan         time.Duration // full reconciliation scan this often; 0 never
	FollowSymlinks bool
}

// flags registers every setting on fs, with its default.
func (c *Config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Dir, "dir", ".", "content folder to publish")
	fs.StringVar(&c.Addr, "addr", ":8080", "address to listen on")
	fs.StringVar(&c.BaseURL, "base-url", "http://localhost:8080/", "public URL of the site, used in links")
	fs.StringVar(&c.Title, "title", "dropfeed", "feed title")
	fs.StringVar(&c.Description, "description", "", "feed description (default: the title)")
	fs.StringVar(&c.Author, "author", "", "feed author (default: the title)")
	fs.StringVar(&c.Language, "language", "", "feed language, a BCP 47 tag such as en or pt-BR")
	fs.IntVar(&c.Limit, "limit", 50, "items per feed")
	fs.StringVar(&c.State, "state", "", "state file (default <dir>/.dropfeed/state.db)")
	fs.DurationVar(&c.MaxAge, "max-age", 5*time.Minute, "Cache-Control max-age for feeds and pages")
	c.MaxFileSize = 10 << 20
	fs.Var(&c.MaxFileSize, "max-file-size", "largest article file read, e.g. 10MB")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&c.Poll, "poll", 0, "look for changes by walking the folder this often, e.g. 2s, instead of inotify\n(for NFS, SMB, FUSE and Docker Desktop mounts, which send no events); 0 uses inotify")
	fs.DurationVar(&c.Rescan, "rescan", 5*time.Minute, "scan the whole folder this often to repair anything events missed\n(unchanged files are not re-read); 0 never")
	fs.BoolVar(&c.FollowSymlinks, "follow-symlinks", false, "enter symlinked folders, and read symlinks that lead outside the folder")
}

// parseFlags parses args into fs, then fills every flag not given on the
// command line from its DROPFEED_<NAME> variable.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		env := "DROPFEED_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
		}
	})
	return errors.Join(errs...)
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
