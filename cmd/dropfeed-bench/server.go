package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// server is one server process the bench started: dropfeed, Hugo or nginx.
type server struct {
	name    string
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT/
	logPath string
	started time.Time
	exited  chan struct{}
	waitErr error
}

// startServer starts argv with its output in logPath and env (KEY=VALUE)
// added to its environment. The process gets SIGTERM when ctx ends, and is
// killed 10 s later if still running.
func startServer(ctx context.Context, name, base, logPath string, argv []string, dir string, env []string) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	s := &server{name: name, cmd: cmd, base: base, logPath: logPath, exited: make(chan struct{})}
	s.started = time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		s.waitErr = cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	return s, nil
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop asks the server to end (SIGTERM) and waits for it, killing it after
// 10 s.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("%s did not stop within 10 s of SIGTERM; killed", s.name)
	}
	return nil
}

// logTail returns the last lines of the server's log, for error messages.
func (s *server) logTail(n int) string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// waitOK polls path every interval until it answers 200, and returns the
// time since the process started. It fails when the process exits or
// timeout passes.
func (s *server) waitOK(ctx context.Context, client *http.Client, path string, interval, timeout time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(s.started), nil
			}
		}
		select {
		case <-s.exited:
			return 0, fmt.Errorf("%s exited before /%s answered 200 (%v); log:\n%s", s.name, path, s.waitErr, s.logTail(15))
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(interval):
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s: /%s did not answer 200 within %s; log:\n%s", s.name, path, timeout, s.logTail(15))
		}
	}
}

// poller fetches one URL conditionally, remembering the last ETag, and
// reports whether the body holds a string.
type poller struct {
	client *http.Client
	url    string
	etag   string
	body   string
	polls  int
}

// contains fetches the URL (with If-None-Match once an ETag is known) and
// reports whether the latest body contains want.
func (p *poller) contains(ctx context.Context, want string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return false, err
	}
	if p.etag != "" {
		req.Header.Set("If-None-Match", p.etag)
	}
	p.polls++
	resp, err := p.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("poll %s: %w", p.url, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
	case http.StatusOK:
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return false, fmt.Errorf("poll %s: %w", p.url, err)
		}
		p.body, p.etag = string(data), resp.Header.Get("ETag")
	default:
		return false, fmt.Errorf("poll %s: status %s", p.url, resp.Status)
	}
	return strings.Contains(p.body, want), nil
}

// waitFor polls until the body contains want, every interval, and returns
// how long after since that was seen.
func (p *poller) waitFor(ctx context.Context, want string, since time.Time, interval, timeout time.Duration) (time.Duration, error) {
	deadline := since.Add(timeout)
	for {
		ok, err := p.contains(ctx, want)
		if err != nil {
			return 0, err
		}
		if ok {
			return time.Since(since), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%q did not appear in %s within %s", want, p.url, timeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(interval):
		}
	}
}

// dropFile writes f into dir the way a careful tool does: to a hidden
// temporary name first, then renamed into place. It returns the moment of
// the rename, when the article becomes visible.
func dropFile(dir string, f corpusFile) (time.Time, error) {
	final := filepath.Join(dir, filepath.FromSlash(f.Name))
	tmp := filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+".tmp")
	if err := os.WriteFile(tmp, f.Data, 0o644); err != nil {
		return time.Time{}, fmt.Errorf("drop: %w", err)
	}
	t := time.Now()
	if err := os.Rename(tmp, final); err != nil {
		return time.Time{}, errors.Join(fmt.Errorf("drop: %w", err), os.Remove(tmp))
	}
	return t, nil
}

// newClient returns an HTTP client for polling: keep-alive, short timeouts.
func newClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     30 * time.Second,
		},
	}
}
