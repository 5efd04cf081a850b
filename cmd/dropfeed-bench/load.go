package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is one load run against one URL.
type loadResult struct {
	RPS    float64 `json:"rps"`
	Errors int64   `json:"errors"` // transport errors and unexpected statuses
}

// loadTarget is one URL to load, with the headers and status each request
// must have and get.
type loadTarget struct {
	url    string
	header http.Header
	status int
}

// loadGen runs load against a target for a duration with a number of
// connections.
type loadGen interface {
	name() string
	run(ctx context.Context, t loadTarget, conns int, d time.Duration) (loadResult, error)
}

// wrkGen runs wrk, the HTTP benchmarking tool.
type wrkGen struct {
	path    string
	threads int
}

func (w wrkGen) name() string { return "wrk" }

var (
	wrkRPSRE    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkNon2xxRE = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSockRE   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func (w wrkGen) run(ctx context.Context, t loadTarget, conns int, d time.Duration) (loadResult, error) {
	args := []string{"-t", strconv.Itoa(min(w.threads, conns)), "-c", strconv.Itoa(conns),
		"-d", strconv.Itoa(max(1, int(d.Seconds()))) + "s"}
	for k, vs := range t.header {
		for _, v := range vs {
			args = append(args, "-H", k+": "+v)
		}
	}
	args = append(args, t.url)
	out, err := exec.CommandContext(ctx, w.path, args...).CombinedOutput()
	if err != nil {
		return loadResult{}, fmt.Errorf("wrk %s: %w\n%s", t.url, err, out)
	}
	return parseWrk(string(out))
}

// parseWrk reads requests per second and errors from wrk's report.
func parseWrk(out string) (loadResult, error) {
	m := wrkRPSRE.FindStringSubmatch(out)
	if m == nil {
		return loadResult{}, fmt.Errorf("wrk: no Requests/sec in its output:\n%s", out)
	}
	var r loadResult
	r.RPS, _ = strconv.ParseFloat(m[1], 64) // the pattern admits only numbers
	if m := wrkNon2xxRE.FindStringSubmatch(out); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		r.Errors += n
	}
	if m := wrkSockRE.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.Errors += n
		}
	}
	return r, nil
}

// goGen is the built-in load generator, for machines without wrk: one
// goroutine per connection, each sending its next request when the last
// response is read, as wrk does.
type goGen struct{}

func (goGen) name() string { return "built-in Go client" }

func (goGen) run(ctx context.Context, t loadTarget, conns int, d time.Duration) (loadResult, error) {
	tr := &http.Transport{
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		DisableCompression:  true, // the request carries its own Accept-Encoding; bodies stay as sent
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var ok, bad atomic.Int64
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
				if err != nil {
					bad.Add(1)
					return
				}
				req.Header = t.header.Clone()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						bad.Add(1)
					}
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != t.status {
					if ctx.Err() == nil {
						bad.Add(1)
					}
					continue
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return loadResult{RPS: float64(ok.Load()) / time.Since(start).Seconds(), Errors: bad.Load()}, nil
}

// servingResult compares dropfeed with nginx serving the same feed bytes.
type servingResult struct {
	Articles    int           `json:"articles"`
	LoadGen     string        `json:"load_generator"`
	Connections int           `json:"connections"`
	Duration    string        `json:"duration_per_run"`
	Rounds      int           `json:"rounds"`
	GzipBytes   int           `json:"gzip_bytes"`
	Bytes       int           `json:"bytes"`
	Nginx       string        `json:"nginx,omitempty"` // nginx version; "" when not compared
	Cases       []servingCase `json:"cases"`
}

// servingCase is one kind of request: medians over the rounds.
type servingCase struct {
	Name        string       `json:"name"`
	Dropfeed    float64      `json:"dropfeed_rps"`
	Nginx       float64      `json:"nginx_rps,omitempty"`
	Ratio       float64      `json:"ratio,omitempty"` // dropfeed / nginx
	DropfeedRaw []loadResult `json:"dropfeed_runs"`
	NginxRaw    []loadResult `json:"nginx_runs,omitempty"`
	// RoundRatios is dropfeed / nginx in each round, run against run:
	// their spread is how far one round can be trusted on this machine.
	RoundRatios []float64 `json:"round_ratios,omitempty"`
}

// feedBytes fetches path raw, with and without gzip, and the gzip ETag.
func feedBytes(ctx context.Context, url string) (plain, gz []byte, gzETag string, err error) {
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}
	get := func(enc string) ([]byte, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, "", err
		}
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, "", err
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != enc {
			return nil, "", fmt.Errorf("GET %s (Accept-Encoding %q): %s, Content-Encoding %q", url, enc, resp.Status, resp.Header.Get("Content-Encoding"))
		}
		return body, resp.Header.Get("ETag"), nil
	}
	if plain, _, err = get(""); err != nil {
		return nil, nil, "", err
	}
	if gz, gzETag, err = get("gzip"); err != nil {
		return nil, nil, "", err
	}
	if gzETag == "" {
		return nil, nil, "", fmt.Errorf("GET %s: no ETag on the gzip response", url)
	}
	return plain, gz, gzETag, nil
}

// stableFeed waits until the feed at url has kept its bytes for a second,
// then returns them as feedBytes does: the conditional GETs need an ETag
// that stays current.
func stableFeed(ctx context.Context, url string) (plain, gz []byte, gzETag string, err error) {
	deadline := time.Now().Add(15 * time.Second)
	plain, gz, gzETag, err = feedBytes(ctx, url)
	for err == nil {
		select {
		case <-ctx.Done():
			return nil, nil, "", ctx.Err()
		case <-time.After(time.Second):
		}
		var etag string
		if _, _, etag, err = feedBytes(ctx, url); err != nil || etag == gzETag {
			break
		}
		if time.Now().After(deadline) {
			return nil, nil, "", fmt.Errorf("%s kept changing for 15 s with no file dropped", url)
		}
		plain, gz, gzETag, err = feedBytes(ctx, url)
	}
	return plain, gz, gzETag, err
}

// feedChange says whether the feed at url still has the bytes before, and
// where it first differs when not, for error messages.
func feedChange(ctx context.Context, url string, before []byte) string {
	now, _, _, err := feedBytes(ctx, url)
	switch {
	case err != nil:
		return err.Error()
	case bytes.Equal(now, before):
		return "the feed is unchanged"
	}
	i := 0
	for i < min(len(now), len(before)) && now[i] == before[i] {
		i++
	}
	clip := func(b []byte) string { return string(b[max(0, i-80):min(len(b), i+80)]) }
	return fmt.Sprintf("the feed changed with no file dropped (%d -> %d bytes); first difference at byte %d:\nbefore: %q\nnow:    %q",
		len(before), len(now), i, clip(before), clip(now))
}

// checkStatus makes one request and fails unless it gets the status.
func checkStatus(ctx context.Context, t loadTarget) error {
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		return err
	}
	req.Header = t.header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != t.status {
		return fmt.Errorf("GET %s with %v: %s, want %d", t.url, t.header, resp.Status, t.status)
	}
	if t.status == http.StatusOK && resp.Header.Get("Content-Encoding") != "gzip" {
		return fmt.Errorf("GET %s with %v: not gzip-encoded", t.url, t.header)
	}
	return nil
}

// nginxConf is a minimal nginx configuration serving root as static files
// on addr, its precompressed .gz files to clients that accept gzip. Logging
// is off and keep-alive unlimited, as in dropfeed.
const nginxConf = `daemon off;
worker_processes auto;
pid {{prefix}}/nginx.pid;
error_log {{prefix}}/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    client_body_temp_path {{prefix}}/tmp/body;
    proxy_temp_path {{prefix}}/tmp/proxy;
    fastcgi_temp_path {{prefix}}/tmp/fastcgi;
    uwsgi_temp_path {{prefix}}/tmp/uwsgi;
    scgi_temp_path {{prefix}}/tmp/scgi;
    types { application/atom+xml atom; }
    server {
        listen {{addr}};
        root {{prefix}}/www;
        gzip_static on;
        gzip_vary on;
        location / { }
    }
}
`

// startNginx serves plain and gz as /feed.atom from a temporary prefix
// under work, and returns the server and its version.
func startNginx(ctx context.Context, nginx, work string, plain, gz []byte, mod time.Time) (*server, string, error) {
	prefix := filepath.Join(work, "nginx")
	for _, d := range []string{"www", "tmp"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			return nil, "", err
		}
	}
	// nginx's workers may run as an unprivileged user: every folder up to the files must be readable.
	for d := prefix; d != filepath.Dir(d) && strings.HasPrefix(d, work); d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755)
	}
	for name, data := range map[string][]byte{"feed.atom": plain, "feed.atom.gz": gz} {
		p := filepath.Join(prefix, "www", name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, "", err
		}
		if err := os.Chtimes(p, mod, mod); err != nil {
			return nil, "", err
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	conf := strings.NewReplacer("{{prefix}}", prefix, "{{addr}}", addr).Replace(nginxConf)
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, "", err
	}
	out, _ := exec.CommandContext(ctx, nginx, "-v").CombinedOutput()
	version := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "nginx version:"))
	srv, err := startServer(ctx, "nginx", "http://"+addr+"/", filepath.Join(prefix, "stderr.log"),
		[]string{nginx, "-p", prefix, "-c", confPath, "-e", filepath.Join(prefix, "error.log")}, prefix, nil)
	if err != nil {
		return nil, "", err
	}
	if _, err := srv.waitOK(ctx, newClient(), "feed.atom", 20*time.Millisecond, 10*time.Second); err != nil {
		srv.stop()
		return nil, "", err
	}
	return srv, version, nil
}

// measureServing loads dropfeed's /feed.atom, gzip-encoded and conditional
// (304), and the same bytes from nginx when nginx is not "", alternating
// servers round by round so drift on a shared machine hits both alike.
func measureServing(ctx context.Context, cfg *config, gen loadGen, work string, df *server, n int) (servingResult, error) {
	res := servingResult{Articles: n, LoadGen: gen.name(), Connections: cfg.conns, Duration: cfg.loadDuration.String(), Rounds: cfg.loadRounds}
	plain, gz, etag, err := stableFeed(ctx, df.base+"feed.atom")
	if err != nil {
		return res, err
	}
	res.Bytes, res.GzipBytes = len(plain), len(gz)

	gzipHeader := http.Header{"Accept-Encoding": {"gzip"}}
	targetsFor := func(base, etag string) []loadTarget {
		return []loadTarget{
			{url: base + "feed.atom", header: gzipHeader, status: http.StatusOK},
			{url: base + "feed.atom", header: http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {etag}}, status: http.StatusNotModified},
		}
	}
	sides := []side{{"dropfeed", targetsFor(df.base, etag)}}
	if cfg.nginx != "" {
		ng, version, err := startNginx(ctx, cfg.nginx, work, plain, gz, time.Now().Add(-time.Hour))
		if err != nil {
			return res, fmt.Errorf("nginx: %w", err)
		}
		defer ng.stop()
		res.Nginx = version
		_, _, ngETag, err := feedBytes(ctx, ng.base+"feed.atom")
		if err != nil {
			return res, fmt.Errorf("nginx: %w", err)
		}
		sides = append(sides, side{"nginx", targetsFor(ng.base, ngETag)})
	}
	for _, s := range sides {
		for _, t := range s.targets {
			if err := checkStatus(ctx, t); err != nil {
				return res, fmt.Errorf("%s: %w", s.name, err)
			}
		}
	}

	res.Cases = []servingCase{{Name: "feed.atom gzip 200"}, {Name: "feed.atom conditional 304"}}
	if err := runRounds(ctx, gen, cfg.conns, cfg.loadDuration, cfg.loadRounds, sides, res.Cases, plain); err != nil {
		return res, err
	}
	if res.Cases[0].Dropfeed == 0 {
		return res, errors.New("serving: no requests completed")
	}
	return res, nil
}

// side is one server under load: dropfeed or nginx, with a target per
// serving case.
type side struct {
	name    string
	targets []loadTarget
}

// runRounds loads each side's target of each case once a round and fills
// cases with the runs, their medians and, with two sides, their ratio
// (the first side's over the second's) and each round's.
//
// The sides take turns going first, round by round (ABBA): the machine is
// shared and its speed drifts (by a fifth over one minute in run FJ), so
// that a server always loaded first would be measured on a machine faster
// or slower than the other by that drift. With an even number of rounds
// each goes first as often.
func runRounds(ctx context.Context, gen loadGen, conns int, d time.Duration, rounds int, sides []side, cases []servingCase, plain []byte) error {
	for r := range rounds {
		for ci := range cases {
			runs := make([]loadResult, len(sides))
			for k := range sides {
				i := k
				if r%2 == 1 {
					i = len(sides) - 1 - k
				}
				s := sides[i]
				res, err := gen.run(ctx, s.targets[ci], conns, d)
				if err != nil {
					return fmt.Errorf("%s: %w", s.name, err)
				}
				if res.Errors > 0 {
					return fmt.Errorf("%s %s: %d errors or unexpected statuses under load; %s",
						s.name, cases[ci].Name, res.Errors, feedChange(ctx, s.targets[ci].url, plain))
				}
				runs[i] = res
			}
			c := &cases[ci]
			c.DropfeedRaw = append(c.DropfeedRaw, runs[0])
			if len(sides) > 1 {
				c.NginxRaw = append(c.NginxRaw, runs[1])
				if runs[1].RPS > 0 {
					c.RoundRatios = append(c.RoundRatios, runs[0].RPS/runs[1].RPS)
				}
			}
		}
	}
	for i := range cases {
		c := &cases[i]
		c.Dropfeed = medianRPS(c.DropfeedRaw)
		if len(c.NginxRaw) > 0 {
			c.Nginx = medianRPS(c.NginxRaw)
			if c.Nginx > 0 {
				c.Ratio = c.Dropfeed / c.Nginx
			}
		}
	}
	return nil
}

// medianRPS is the median requests per second of the runs.
func medianRPS(rs []loadResult) float64 {
	if len(rs) == 0 {
		return 0
	}
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = r.RPS
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
