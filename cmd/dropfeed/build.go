package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dropfeed/dropfeed/feed"
	"github.com/dropfeed/dropfeed/feed/websub"
)

// build runs `dropfeed build`: it writes every document serve would serve
// into the output folder, with a .gz beside each, and with --watch keeps
// it up to date until ctx is done.
func build(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, mem memoryLimiter) error {
	var cfg Config
	base, err := cfg.load("dropfeed build", cfg.buildFlags, args, getenv, stderr)
	if err != nil {
		return err
	}
	out, err := cfg.validateOut()
	if err != nil {
		return err
	}
	log := cfg.logger(stderr)
	defer limitMemory(ctx, mem, int64(cfg.MemoryLimit), getenv, log)()

	ex := &exporter{out: out, base: base, log: log, wake: make(chan struct{}, 1), changed: map[string]bool{}}
	if cfg.Ping && len(cfg.Hubs) > 0 {
		ex.hubs = &websub.Publisher{Hubs: cfg.Hubs, Logger: log}
	}
	opts := cfg.feedOptions(log)
	// Also called by the handler's timer when a future-dated article comes due.
	opts.OnChange = ex.onChange
	// Not deferred: an export renders every article's page, and the loaders
	// render on every core.
	s, err := openSite(&cfg, base, log, opts, false)
	if err != nil {
		return err
	}
	defer s.Close()
	ex.files = s.handler.Files
	removeLeftovers(out, log)

	if !cfg.Watch {
		return buildOnce(ctx, s, ex, log)
	}

	// As in serve: watch before the first scan, so a file written during the scan is not missed.
	watcher := cfg.watcher(log)
	if err := watcher.Open(); err != nil {
		return err
	}
	defer watcher.Close()
	pub := newPublisher(s, watcher, log)
	pub.rendered = ex.signal

	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() {
		if err := watcher.Run(ctx, pub.apply); err != nil {
			log.Error("watching stopped", "dir", cfg.Dir, "reason", err)
		}
	})
	if ex.hubs != nil {
		wg.Go(func() { ex.hubs.Run(ctx) })
	}
	if err := pub.scan(ctx); err != nil {
		return err
	}
	// The first export runs here, so that an unwritable --out is an error, not a log line.
	if err := ex.export(); err != nil {
		return err
	}
	log.Info("built; watching for changes", "out", out, "dir", cfg.Dir, "articles", len(s.lib.Articles()))
	wg.Go(func() { ex.run(ctx) })
	<-ctx.Done()
	log.Info("shutting down")
	return nil
}

// buildOnce reads the folder, writes the output and notifies the hubs.
func buildOnce(ctx context.Context, s *site, ex *exporter, log *slog.Logger) error {
	start := time.Now()
	if _, err := s.lib.Scan(ctx); err != nil {
		return err
	}
	if busy := s.lib.Unsettled(); len(busy) > 0 {
		log.Warn("files still being written were left out; build again once they are done", "paths", busy)
	}
	if err := s.handler.Update(s.lib.Articles()); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	if err := ex.export(); err != nil {
		return err
	}
	log.Info("built", "out", ex.out, "articles", len(s.lib.Articles()), "took", time.Since(start).Round(time.Millisecond))
	if ex.hubs == nil {
		return nil
	}
	return ex.hubs.Flush(ctx)
}

// validateOut checks --out and returns it absolute, with symlinks resolved
// so that the folder is replaced where it really is. It refuses a folder
// that holds or sits inside the content folder or the state file, and a
// folder holding anything but an earlier build.
func (c *Config) validateOut() (string, error) {
	if c.Out == "" {
		return "", errors.New("--out: an output folder is required")
	}
	out, err := filepath.Abs(c.Out)
	if err != nil {
		return "", fmt.Errorf("--out: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(out); err == nil {
		out = resolved
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("--out: %w", err)
	}
	parent := filepath.Dir(out)
	if parent == out {
		return "", fmt.Errorf("--out: %s cannot be replaced", out)
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("--out: %w", err)
	}
	dir := c.Dir
	if resolved, err := filepath.EvalSymlinks(dir); err == nil {
		dir = resolved
	}
	state, _ := filepath.Abs(c.State)
	switch {
	case isWithin(out, dir):
		return "", fmt.Errorf("--out: %s is inside --dir %s: the output would be read as articles", out, dir)
	case isWithin(dir, out):
		return "", fmt.Errorf("--out: %s holds --dir %s: replacing it would delete the articles", out, dir)
	case isWithin(state, out):
		return "", fmt.Errorf("--out: %s holds --state %s: replacing it would delete the state", out, state)
	}
	entries, err := os.ReadDir(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return out, nil
	case err != nil:
		return "", fmt.Errorf("--out: %w", err)
	case len(entries) == 0:
		return out, nil
	}
	for _, name := range []string{"feed.atom", feed.StylesheetName} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			return "", fmt.Errorf("--out: %s is not empty and holds no earlier build (no %s); refusing to replace it", out, name)
		}
	}
	return out, nil
}

// isWithin reports whether path is root or inside it; both are absolute and clean.
func isWithin(path, root string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// exporter writes the handler's documents into the output folder whenever
// they change, and then tells the hubs which feeds did.
type exporter struct {
	out   string
	base  *url.URL
	files func() (map[string]feed.File, error)
	hubs  *websub.Publisher // nil: no pings
	log   *slog.Logger
	wake  chan struct{} // holds a token while an export is due

	mu      sync.Mutex
	changed map[string]bool // feed URLs changed since the last export

	written map[string]feed.File // the output folder's documents; nil until the first export
}

// onChange records the feeds a new version changed and asks for an export:
// a feed.Options.OnChange, so it only queues.
func (e *exporter) onChange(urls []string) {
	e.mu.Lock()
	for _, u := range urls {
		e.changed[u] = true
	}
	e.mu.Unlock()
	e.signal()
}

// signal asks for an export, at most one pending.
func (e *exporter) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// run exports whenever asked until ctx is done; a failed export leaves the
// previous output in place.
func (e *exporter) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
			if err := e.export(); err != nil {
				e.log.Error("writing the output failed; the previous output stays", "out", e.out, "reason", err)
			}
		}
	}
}

// export replaces the output folder with the current documents, unless
// they are what it holds already, then queues a ping for each changed feed
// whose bytes differ from the output it replaced.
func (e *exporter) export() error {
	files, err := e.files()
	if err != nil {
		return err
	}
	e.mu.Lock()
	changed := e.changed
	e.changed = map[string]bool{}
	e.mu.Unlock()

	if e.written != nil && sameFiles(e.written, files) {
		return nil
	}
	var ping []string
	for u := range changed {
		if p, ok := e.path(u); ok && !e.holds(p, files[p].Body) {
			ping = append(ping, u)
		}
	}
	if err := writeTree(e.out, files, e.written); err != nil {
		// Ping them after a later export that succeeds.
		e.mu.Lock()
		for u := range changed {
			e.changed[u] = true
		}
		e.mu.Unlock()
		return err
	}
	e.written = files
	e.log.Debug("output replaced", "out", e.out, "files", len(files), "changed_feeds", len(ping))
	if e.hubs != nil && len(ping) > 0 {
		e.hubs.Publish(ping)
	}
	return nil
}

// path returns the output path of the document at an absolute URL of the site.
func (e *exporter) path(rawURL string) (string, bool) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", false
	}
	p, ok := strings.CutPrefix(u.Path, e.base.Path)
	return p, ok && fs.ValidPath(p)
}

// holds reports whether the output folder, as it is before this export,
// holds body at p.
func (e *exporter) holds(p string, body []byte) bool {
	if e.written != nil {
		f, ok := e.written[p]
		return ok && bytes.Equal(f.Body, body)
	}
	// Before the first export, what an earlier run left there.
	old, err := os.ReadFile(filepath.Join(e.out, filepath.FromSlash(p)))
	return err == nil && bytes.Equal(old, body)
}

// sameFiles reports whether a and b hold the same documents.
func sameFiles(a, b map[string]feed.File) bool {
	if len(a) != len(b) {
		return false
	}
	for p, f := range a {
		if g, ok := b[p]; !ok || !sameFile(f, g) {
			return false
		}
	}
	return true
}

func sameFile(a, b feed.File) bool {
	return a.ModTime.Equal(b.ModTime) && a.ContentType == b.ContentType &&
		bytes.Equal(a.Body, b.Body) && bytes.Equal(a.Gzip, b.Gzip)
}

// writeTree writes files, and a .gz of each, into a new folder beside out,
// then puts it in out's place in one step (see replaceDir). Files the same
// as in written, what out holds now, are hard-linked from out rather than
// written again: nothing ever writes into a published file.
func writeTree(out string, files, written map[string]feed.File) error {
	tmp, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".new-")
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	// Removes nothing once tmp has been renamed into place.
	defer os.RemoveAll(tmp)
	// MkdirTemp makes it private; the web server must read it.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	for p, f := range files {
		dst := filepath.Join(tmp, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		if old, ok := written[p]; ok && sameFile(old, f) && linkFile(filepath.Join(out, filepath.FromSlash(p)), dst) == nil {
			continue
		}
		if err := writeOutputFile(dst, f.Body, f.ModTime); err != nil {
			return err
		}
		if err := writeOutputFile(dst+".gz", f.Gzip, f.ModTime); err != nil {
			return err
		}
	}
	if err := replaceDir(tmp, out); err != nil {
		return fmt.Errorf("write output: replace %s: %w", out, err)
	}
	return nil
}

// linkFile hard-links src and src.gz to dst and dst.gz.
func linkFile(src, dst string) error {
	if err := os.Link(src, dst); err != nil {
		return err
	}
	if err := os.Link(src+".gz", dst+".gz"); err != nil {
		os.Remove(dst)
		return err
	}
	return nil
}

// writeOutputFile writes data to a new file at name, dated modTime (the
// Last-Modified that serve sends) unless that is zero.
func writeOutputFile(name string, data []byte, modTime time.Time) error {
	if err := os.WriteFile(name, data, 0o644); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if !modTime.IsZero() {
		if err := os.Chtimes(name, modTime, modTime); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	return nil
}

// replaceByRenames puts tmp in out's place with two renames: out moves
// aside, tmp takes its name, the old tree is removed. out is never half
// written, but is missing between the two renames; replaceDir uses this
// only where the filesystem cannot swap two folders in one step.
func replaceByRenames(tmp, out string) error {
	aside, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".old-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(aside)
	old := filepath.Join(aside, "out")
	if err := os.Rename(out, old); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return os.Rename(tmp, out)
		}
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		// Put the previous output back rather than leave none.
		return errors.Join(err, os.Rename(old, out))
	}
	return nil
}

// removeLeftovers removes the temporary folders an interrupted build left
// beside out.
func removeLeftovers(out string, log *slog.Logger) {
	parent, name := filepath.Split(out)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() && (strings.HasPrefix(n, "."+name+".new-") || strings.HasPrefix(n, "."+name+".old-")) {
			p := filepath.Join(parent, n)
			log.Info("removing what an interrupted build left", "path", p)
			if err := os.RemoveAll(p); err != nil {
				log.Warn("could not remove what an interrupted build left", "path", p, "reason", err)
			}
		}
	}
}
