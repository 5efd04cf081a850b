// Package websub tells WebSub hubs (W3C WebSub, section 7) that feeds have
// changed, so that subscribers get new items pushed to them instead of
// waiting for their next poll.
//
// It owns the publishing side only: announcing the hubs in the feeds and in
// Link headers is package feed's job, and subscriptions are the hubs' job.
package websub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Defaults of Publisher's fields.
const (
	DefaultAttempts   = 5
	DefaultBackoff    = time.Second
	DefaultMaxBackoff = time.Minute
	DefaultMaxPending = 10000
	DefaultTimeout    = 30 * time.Second
)

// Publisher POSTs hub.mode=publish&hub.url=<feed URL> to each hub for each
// feed URL given to Publish. Its exported fields are its configuration and
// must not change once Publish, Run or Flush has been called.
//
// Each hub has its own queue and goroutine, so a slow or failing hub delays
// no other. Publish only queues: it never blocks on the network. A URL
// published again while it waits in a hub's queue is sent once. A failed
// ping (a network error or a 5xx, 408 or 429 answer) is retried after
// Backoff, twice that, and so on up to MaxBackoff, Attempts times in all;
// other 4xx answers are not retried, since the hub refused the request.
type Publisher struct {
	Hubs       []string      // hub URLs
	Client     *http.Client  // nil means a client of its own with a DefaultTimeout timeout
	Logger     *slog.Logger  // nil means slog.Default()
	Attempts   int           // tries per ping; 0 means DefaultAttempts
	Backoff    time.Duration // wait before the first retry; 0 means DefaultBackoff
	MaxBackoff time.Duration // longest wait between retries; 0 means DefaultMaxBackoff
	MaxPending int           // URLs queued per hub beyond which new ones are dropped; 0 means DefaultMaxPending

	setupOnce sync.Once
	client    *http.Client
	log       *slog.Logger
	queues    []*queue
}

// queue holds one hub's URLs waiting to be sent, in the order published.
type queue struct {
	hub   string
	mu    sync.Mutex
	urls  []string
	set   map[string]bool
	ready chan struct{} // holds a token while urls is not empty
}

func (p *Publisher) setup() {
	p.setupOnce.Do(func() {
		p.client = p.Client
		if p.client == nil {
			// A transport of its own, so Run can close its idle connections on return.
			p.client = &http.Client{
				Timeout:   DefaultTimeout,
				Transport: http.DefaultTransport.(*http.Transport).Clone(),
			}
		}
		p.log = p.Logger
		if p.log == nil {
			p.log = slog.Default()
		}
		for _, hub := range p.Hubs {
			p.queues = append(p.queues, &queue{hub: hub, set: map[string]bool{}, ready: make(chan struct{}, 1)})
		}
	})
}

// Publish queues a ping of every hub for each of urls and returns at once.
// It is safe to call from any goroutine, before or while Run runs.
func (p *Publisher) Publish(urls []string) {
	p.setup()
	limit := p.MaxPending
	if limit <= 0 {
		limit = DefaultMaxPending
	}
	for _, q := range p.queues {
		if dropped := q.add(urls, limit); dropped > 0 {
			p.log.Warn("websub: hub queue full; pings dropped", "hub", q.hub, "dropped", dropped)
		}
	}
}

// add queues the urls not queued yet, up to limit in all, and returns how
// many it had to drop.
func (q *queue) add(urls []string, limit int) (dropped int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, u := range urls {
		switch {
		case q.set[u]:
		case len(q.urls) >= limit:
			dropped++
		default:
			q.set[u] = true
			q.urls = append(q.urls, u)
		}
	}
	if len(q.urls) > 0 {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	return dropped
}

// take empties the queue and returns what it held.
func (q *queue) take() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	urls := q.urls
	q.urls, q.set = nil, map[string]bool{}
	select {
	case <-q.ready:
	default:
	}
	return urls
}

// Run sends the queued pings as they come, until ctx is done; pings still
// queued or being retried then are dropped. It returns once every request
// it started has ended.
func (p *Publisher) Run(ctx context.Context) {
	p.setup()
	defer p.client.CloseIdleConnections()
	var wg sync.WaitGroup
	for _, q := range p.queues {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-q.ready:
					p.deliver(ctx, q.hub, q.take())
				}
			}
		})
	}
	wg.Wait()
}

// Flush sends every queued ping, with retries, and returns when all are
// sent or given up on, or ctx is done: for a program that publishes once
// and exits rather than calling Run. It returns an error naming the hubs
// that missed pings.
func (p *Publisher) Flush(ctx context.Context) error {
	p.setup()
	defer p.client.CloseIdleConnections()
	errs := make([]error, len(p.queues))
	var wg sync.WaitGroup
	for i, q := range p.queues {
		wg.Go(func() { errs[i] = p.deliver(ctx, q.hub, q.take()) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// deliver pings hub for each of urls, retrying the failed ones with
// exponential backoff; it returns an error when some were given up on.
func (p *Publisher) deliver(ctx context.Context, hub string, urls []string) error {
	attempts, wait, maxWait := p.Attempts, p.Backoff, p.MaxBackoff
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	if wait <= 0 {
		wait = DefaultBackoff
	}
	if maxWait <= 0 {
		maxWait = DefaultMaxBackoff
	}
	if len(urls) == 0 {
		return nil
	}
	var failed []error
	for attempt := 1; ; attempt++ {
		var retry []string
		failed = failed[:0]
		for _, u := range urls {
			err := p.ping(ctx, hub, u)
			if err == nil {
				p.log.Debug("websub: hub notified", "hub", hub, "url", u)
				continue
			}
			failed = append(failed, err)
			var perm permanentError
			if !errors.As(err, &perm) {
				retry = append(retry, u)
			}
		}
		if len(failed) == 0 {
			return nil
		}
		if ctx.Err() != nil || attempt >= attempts || len(retry) == 0 {
			break
		}
		p.log.Warn("websub: hub ping failed; retrying", "hub", hub, "attempt", attempt, "retry_in", wait,
			"urls", len(retry), "reason", failed[0])
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("websub: %s: %w", hub, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, maxWait)
		urls = retry
	}
	err := fmt.Errorf("websub: %s: %d pings failed: %w", hub, len(failed), errors.Join(failed...))
	if ctx.Err() == nil {
		p.log.Error("websub: giving up on hub pings", "hub", hub, "urls", len(failed), "reason", errors.Join(failed...))
	}
	return err
}

// permanentError is a hub's refusal that asking again will not change.
type permanentError struct{ error }

// ping sends one publish request and reports whether the hub accepted it.
func (p *Publisher) ping(ctx context.Context, hub, feedURL string) error {
	form := url.Values{"hub.mode": {"publish"}, "hub.url": {feedURL}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return permanentError{fmt.Errorf("publish %s: %w", feedURL, err)}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("publish %s: %w", feedURL, err)
	}
	defer resp.Body.Close()
	// Read a little of the body so the connection can be reused, and to say why it failed.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("publish %s: hub answered %s: %q", feedURL, resp.Status, strings.TrimSpace(string(body)))
	if resp.StatusCode >= 400 && resp.StatusCode < 500 &&
		resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return permanentError{err}
	}
	return err
}
