package feed

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// maxRateLimitClients bounds the (client, feed) pairs the rate limiter
// remembers in one generation; it keeps two generations at most.
const maxRateLimitClients = 1 << 16

// rateLimiter remembers when each key (client address and path) was last
// served an unconditional GET. Its memory is bounded: it keeps a current
// and a previous generation, and starts a new one when the current one is
// an interval old or full, forgetting the generation before. Forgetting
// only ever lets a client through sooner.
type rateLimiter struct {
	interval time.Duration
	max      int

	mu       sync.Mutex
	cur, old map[string]time.Time
	started  time.Time // when cur was started
}

func newRateLimiter(interval time.Duration, max int) *rateLimiter {
	return &rateLimiter{interval: interval, max: max, cur: map[string]time.Time{}, old: map[string]time.Time{}}
}

// allow reports whether key may be served at now and records it if so;
// when not, it returns how long until it may.
func (l *rateLimiter) allow(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.started) >= l.interval || len(l.cur) >= l.max {
		l.old, l.cur, l.started = l.cur, make(map[string]time.Time, len(l.cur)), now
	}
	last, ok := l.cur[key]
	if !ok {
		last, ok = l.old[key]
	}
	if ok {
		if wait := l.interval - now.Sub(last); wait > 0 {
			return wait, false
		}
	}
	l.cur[key] = now
	return 0, true
}

// size is how many keys the limiter remembers.
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.cur) + len(l.old)
}

// conditional reports whether r carries a validator, which polite feed
// readers send: such requests are never rate limited.
func conditional(r *http.Request) bool {
	return r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != ""
}

// clientIP is the address of the connection's peer. Behind a reverse
// proxy that is the proxy's, which the proxy should then limit itself.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
