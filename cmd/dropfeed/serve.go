package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dropfeed/dropfeed/content"
	"github.com/dropfeed/dropfeed/content/store"
	"github.com/dropfeed/dropfeed/feed"
	"github.com/dropfeed/dropfeed/feed/websub"
)

// serve runs `dropfeed serve` until ctx is done. listening, when not nil, is
// told the address once the server accepts connections (tests use :0).
func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, listening func(addr string), mem memoryLimiter) error {
	var cfg Config
	base, err := cfg.load("dropfeed serve", cfg.serveFlags, args, getenv, stderr)
	if err != nil {
		return err
	}
	log := cfg.logger(stderr)
	defer limitMemory(ctx, mem, int64(cfg.MemoryLimit), getenv, log)()

	opts := cfg.feedOptions(log)
	hubs := &websub.Publisher{Hubs: cfg.Hubs, Logger: log}
	if len(cfg.Hubs) > 0 {
		// Publish only queues; hubs.Run, started below, sends.
		opts.OnChange = hubs.Publish
	}
	// Watch before the first scan, so a file written during the scan is not
	// missed. The watcher walks the folders while the state is read: at
	// 100,000 articles each takes a good part of a second.
	watcher := cfg.watcher(log)
	watching := make(chan error, 1)
	go func() { watching <- watcher.Open() }()
	// Markdown bodies are rendered when a feed or page first shows them: a
	// first start at 100,000 articles reads them in a fraction of the time.
	s, err := openSite(&cfg, base, log, opts, true)
	werr := <-watching
	if err != nil || werr != nil {
		if werr == nil {
			watcher.Close()
		}
		if s != nil {
			s.Close()
		}
		return cmp.Or(err, werr)
	}
	defer s.Close()
	defer watcher.Close()
	handler := s.handler
	pub := newPublisher(s, watcher, log)

	// Listen before scanning: a port clash is an error now, not a log line
	// later, and /healthz can say "not ready" while a large folder is read.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	// fasthttp, not net/http: pollers' requests cost a third of the CPU (see feed.Handler.FastHTTP).
	srv := handler.NewServer(log)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "base_url", base.String(), "dir", cfg.Dir)
	if listening != nil {
		listening(ln.Addr().String())
	}

	// Deferred in this order so that cancel runs first, then the wait.
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() {
		if err := watcher.Run(ctx, pub.apply); err != nil {
			log.Error("watching stopped", "dir", cfg.Dir, "reason", err)
		}
	})
	wg.Go(func() { hubs.Run(ctx) })

	start := time.Now()
	if err := pub.scan(ctx); err != nil {
		srv.Shutdown()
		return err
	}
	handler.SetReady()
	log.Info("ready", "articles", len(s.lib.Articles()), "took", time.Since(start).Round(time.Millisecond))

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", cmp.Or(err, errors.New("the server stopped")))
	}
	log.Info("shutting down")
	shutdownCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	if err := srv.ShutdownWithContext(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// site is a content folder opened for publishing: its state, its
// articles and the handler that renders and serves them.
type site struct {
	store   *store.Store
	lib     *content.Library
	handler *feed.Handler
}

// openSite opens the state file and the library of cfg.Dir, and a handler
// with opts for them; deferMarkdown is content.LibraryOptions.DeferMarkdown.
// The caller closes it.
func openSite(cfg *Config, base *url.URL, log *slog.Logger, opts feed.Options, deferMarkdown bool) (*site, error) {
	st, err := store.Open(cfg.State)
	if err != nil {
		return nil, err
	}
	feedID, err := st.FeedID()
	if err != nil {
		st.Close()
		return nil, err
	}
	lib, err := content.OpenLibrary(cfg.Dir, st, content.LibraryOptions{
		MaxFileSize:    int64(cfg.MaxFileSize),
		Logger:         log,
		FollowSymlinks: cfg.FollowSymlinks,
		// Beside the state, which keeps what every file parsed to: a restart
		// reads only the files changed meanwhile.
		KeepBodies:    cfg.State + ".bodies",
		DeferMarkdown: deferMarkdown,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	handler := feed.NewHandler(feed.Site{
		ID:          feedID,
		Title:       cfg.Title,
		Description: cfg.Description,
		Author:      cfg.Author,
		Language:    cfg.Language,
		BaseURL:     base,
	}, opts)
	return &site{store: st, lib: lib, handler: handler}, nil
}

// Close stops the handler's publishing timer and closes the library's
// body file and the state file.
func (s *site) Close() error {
	return errors.Join(s.handler.Close(), s.lib.Close(), s.store.Close())
}

// watcher is the content.Watcher the settings ask for.
func (c *Config) watcher(log *slog.Logger) *content.Watcher {
	return &content.Watcher{
		Dir:            c.Dir,
		Poll:           c.Poll,
		Rescan:         c.Rescan,
		FollowSymlinks: c.FollowSymlinks,
		Logger:         log,
	}
}

// publisher applies changes to the library and renders them, one change at
// a time so that a newer version is never replaced by an older one.
type publisher struct {
	mu       sync.Mutex
	lib      *content.Library
	handler  *feed.Handler
	watcher  *content.Watcher
	log      *slog.Logger
	events   prometheus.Counter // changed paths the watcher reported
	rescans  prometheus.Counter // full rescans the watcher asked for
	rendered func()             // when set, called after each successful render
}

// newPublisher returns a publisher for site, counting the watcher's
// reports on the handler's /metrics.
func newPublisher(s *site, w *content.Watcher, log *slog.Logger) *publisher {
	p := &publisher{
		lib:     s.lib,
		handler: s.handler,
		watcher: w,
		log:     log,
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dropfeed_watcher_events_total",
			Help: "Changed paths the folder watcher reported.",
		}),
		rescans: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dropfeed_watcher_rescans_total",
			Help: "Full scans of the folder the watcher asked for, after lost events or on --rescan.",
		}),
	}
	s.handler.Registry().MustRegister(p.events, p.rescans)
	return p
}

func (p *publisher) scan(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.lib.Scan(ctx); err != nil {
		return err
	}
	// Files still being written are read once the watcher sees them settle.
	p.watcher.Recheck(p.lib.Unsettled()...)
	return p.render()
}

func (p *publisher) apply(ctx context.Context, b content.Batch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events.Add(float64(len(b.Paths)))
	if b.Rescan {
		p.rescans.Inc()
	}
	changed, err := p.lib.ApplyBatch(ctx, b)
	p.watcher.Recheck(p.lib.Unsettled()...)
	if err != nil {
		p.log.Error("applying changes failed", "paths", b.Paths, "reason", err)
	}
	if !changed {
		return
	}
	if err := p.render(); err != nil {
		p.log.Error("rendering failed; the previous feeds are still served", "reason", err)
	}
}

func (p *publisher) render() error {
	start := time.Now()
	if err := p.handler.Update(p.lib.Articles()); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	p.log.Debug("feeds rendered", "took", time.Since(start))
	if p.rendered != nil {
		p.rendered()
	}
	return nil
}
