package main

import (
	"flag"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// parseServe parses serve's settings from args, env and the files written
// into a temporary folder, where args may name them as {dir}/NAME.
func parseServe(t *testing.T, args []string, env map[string]string, files map[string]string) (Config, error) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		writeFile(t, filepath.Join(dir, name), text)
	}
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "{dir}", dir)
	}
	for k, v := range env {
		env[k] = strings.ReplaceAll(v, "{dir}", dir)
	}
	var cfg Config
	fs := flag.NewFlagSet("dropfeed serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.serveFlags(fs)
	err := parseFlags(fs, args, func(k string) string { return env[k] })
	return cfg, err
}

func TestConfigPrecedence(t *testing.T) {
	const toml = "title = \"From TOML\"\nlimit = 7\nbase_url = \"https://file.example.org/\"\nmax-age = \"90s\"\n" +
		"hub = [\"https://hub1.example.org/\", \"https://hub2.example.org/\"]\nfollow_symlinks = true\nmax-feed-bytes = \"2MB\"\n"
	const yaml = "title: From YAML\nlimit: 8\nbase-url: https://yaml.example.org/\nrate_limit: 1m\nhub: https://hub3.example.org/\n" +
		"tombstone-ttl: 48h\nout: /srv/feeds\n"
	files := map[string]string{"site.toml": toml, "site.yaml": yaml}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		got  func(c Config) []any // the settings the case looks at
		want []any
	}{
		{"defaults", nil, nil,
			func(c Config) []any {
				return []any{c.Title, c.Limit, c.BaseURL, c.MaxAge, len(c.Hubs), int64(c.MaxFeedBytes), c.TombstoneTTL}
			},
			[]any{"dropfeed", 50, "http://localhost:8080/", 5 * time.Minute, 0, int64(1 << 20), 30 * 24 * time.Hour}},
		{"toml file over defaults", []string{"--config", "{dir}/site.toml"}, nil,
			func(c Config) []any {
				return []any{c.Title, c.Limit, c.BaseURL, c.MaxAge, strings.Join(c.Hubs, " "), c.FollowSymlinks, int64(c.MaxFeedBytes)}
			},
			[]any{"From TOML", 7, "https://file.example.org/", 90 * time.Second, "https://hub1.example.org/ https://hub2.example.org/", true, int64(2 << 20)}},
		{"yaml file named by the environment", nil, map[string]string{"DROPFEED_CONFIG": "{dir}/site.yaml"},
			func(c Config) []any {
				return []any{c.Title, c.Limit, c.BaseURL, c.RateLimit, strings.Join(c.Hubs, " "), c.TombstoneTTL}
			},
			[]any{"From YAML", 8, "https://yaml.example.org/", time.Minute, "https://hub3.example.org/", 48 * time.Hour}},
		{"environment over file", []string{"--config", "{dir}/site.toml"},
			map[string]string{"DROPFEED_TITLE": "From Env", "DROPFEED_HUB": "https://a.example/, https://b.example/"},
			func(c Config) []any { return []any{c.Title, c.Limit, strings.Join(c.Hubs, " ")} },
			[]any{"From Env", 7, "https://a.example/ https://b.example/"}},
		{"flag over environment over file", []string{"--config", "{dir}/site.toml", "--title", "From Flag", "--hub", "https://c.example/", "--hub", "https://d.example/"},
			map[string]string{"DROPFEED_TITLE": "From Env", "DROPFEED_LIMIT": "9", "DROPFEED_HUB": "https://a.example/"},
			func(c Config) []any { return []any{c.Title, c.Limit, c.BaseURL, strings.Join(c.Hubs, " ")} },
			[]any{"From Flag", 9, "https://file.example.org/", "https://c.example/ https://d.example/"}},
		{"--config flag over DROPFEED_CONFIG", []string{"--config", "{dir}/site.toml"}, map[string]string{"DROPFEED_CONFIG": "{dir}/site.yaml"},
			func(c Config) []any { return []any{c.Title, c.ConfigFile != ""} },
			[]any{"From TOML", true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseServe(t, tt.args, tt.env, files)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(cfg); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConfigFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		text    string
		env     map[string]string
		wantErr []string
	}{
		{"unknown key", "site.toml", "title = \"x\"\ncolour = \"blue\"\n", nil, []string{"site.toml", `unknown key "colour"`}},
		{"unknown key in yaml", "site.yml", "titel: x\n", nil, []string{"site.yml", `unknown key "titel"`}},
		{"config inside config", "site.toml", "config = \"other.toml\"\n", nil, []string{"site.toml", `unknown key "config"`}},
		{"same setting twice", "site.yaml", "base-url: https://a.example/\nbase_url: https://b.example/\n", nil, []string{"site.yaml", "base-url", "base_url"}},
		{"bad value", "site.toml", "limit = \"many\"\n", nil, []string{"site.toml", "limit"}},
		{"list for one value", "site.toml", "title = [\"a\", \"b\"]\n", nil, []string{"site.toml", "title", "list"}},
		{"table", "site.toml", "[title]\nx = 1\n", nil, []string{"site.toml", "title"}},
		{"not toml", "site.toml", "title = \n", nil, []string{"--config", "site.toml"}},
		{"unknown extension", "site.ini", "title=x\n", nil, []string{"--config", "site.ini", ".toml"}},
		{"bad value is the file's, though the env sets another", "site.toml", "limit = \"many\"\n",
			map[string]string{"DROPFEED_TITLE": "ok"}, []string{"site.toml: limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseServe(t, []string{"--config", "{dir}/" + tt.file}, tt.env, map[string]string{tt.file: tt.text})
			if err == nil {
				t.Fatalf("no error, want one naming %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want one naming %q", err, want)
				}
			}
		})
	}
	if _, err := parseServe(t, []string{"--config", "/nonexistent/dropfeed.toml"}, nil, nil); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Errorf("missing file: err = %v, want one naming --config", err)
	}
}

// One file can hold the settings of both commands: each ignores the
// other's keys, and no key of either is unknown to the other.
func TestConfigFileSharedByCommands(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "site.toml"), "addr = \"127.0.0.1:0\"\nout = \"/srv/feeds\"\nping = false\nrate-limit = \"1m\"\n")
	var serveCfg, buildCfg Config
	serveFS := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveCfg.serveFlags(serveFS)
	buildFS := flag.NewFlagSet("build", flag.ContinueOnError)
	buildCfg.buildFlags(buildFS)
	noEnv := func(string) string { return "" }
	if err := parseFlags(serveFS, []string{"--config", filepath.Join(dir, "site.toml")}, noEnv); err != nil {
		t.Fatal(err)
	}
	if err := parseFlags(buildFS, []string{"--config", filepath.Join(dir, "site.toml")}, noEnv); err != nil {
		t.Fatal(err)
	}
	if serveCfg.Addr != "127.0.0.1:0" || serveCfg.RateLimit != time.Minute || serveCfg.Out != "" {
		t.Errorf("serve: addr %q, rate limit %s, out %q", serveCfg.Addr, serveCfg.RateLimit, serveCfg.Out)
	}
	if buildCfg.Out != "/srv/feeds" || buildCfg.Ping || buildCfg.Addr != "" {
		t.Errorf("build: out %q, ping %v, addr %q", buildCfg.Out, buildCfg.Ping, buildCfg.Addr)
	}
}

func TestServeNewFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"hub not a URL", []string{"--hub", "hub.example.org"}, nil, "--hub"},
		{"hub from env not http", nil, map[string]string{"DROPFEED_HUB": "https://ok.example/,ftp://hub.example.org/"}, "ftp://hub.example.org/"},
		{"negative rate limit", []string{"--rate-limit", "-1s"}, nil, "--rate-limit"},
		{"negative tombstone ttl", []string{"--tombstone-ttl", "-1h"}, nil, "--tombstone-ttl"},
		{"bad feed size", []string{"--max-feed-bytes", "lots"}, nil, "max-feed-bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--dir", t.TempDir(), "--addr", "127.0.0.1:0"}, tt.args...)
			err := serve(t.Context(), args, func(k string) string { return tt.env[k] }, io.Discard, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}
