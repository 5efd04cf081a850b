package feed

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dropfeed/dropfeed/content"
)

// Content types of the served documents.
const (
	atomType = "application/atom+xml; charset=utf-8"
	rssType  = "application/rss+xml; charset=utf-8"
	jsonType = "application/feed+json; charset=utf-8"
	htmlType = "text/html; charset=utf-8"
)

// pageCSP lets the HTML pages use their inline style sheet and images from
// anywhere, and nothing else: no scripts, frames, fonts or forms.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src * data:"

// Options configures serving. The zero value of every field keeps the
// behaviour described on it.
type Options struct {
	Limit  int           // items per feed and per archive page; 0 means 50
	MaxAge time.Duration // Cache-Control max-age; 0 means 5 minutes
	Logger *slog.Logger  // nil means slog.Default()

	// MaxFeedBytes caps the size of the main and tag feeds in every format:
	// their oldest items are left out (to the archives, for the main feed)
	// until each document fits, keeping one item at least. 0 means 1 MiB;
	// negative means no cap.
	MaxFeedBytes int

	// Hubs are WebSub hub URLs, announced in every feed document and in
	// the Link headers of every feed response.
	Hubs []string

	// OnChange, when set, is called after each new version is in place
	// with the absolute URLs of the feed documents (main, archive and tag
	// feeds, every format) whose bytes changed; on the first version, all
	// of them. It is called one call at a time, from Update or from the
	// publishing timer, and must return quickly and not call Update.
	OnChange func(urls []string)

	// Now is the clock that decides which articles are due and when
	// tombstones expire; nil means time.Now.
	Now func() time.Time

	// TombstoneTTL is how long a deleted article stays in the Atom feed as
	// an RFC 6721 deleted entry; 0 means 30 days, negative means never.
	TombstoneTTL time.Duration

	// RateLimit is the least time between two unconditional GETs of one
	// feed document by one client IP address; sooner ones get 429 with
	// Retry-After. Conditional requests are never limited. 0 means off.
	RateLimit time.Duration
}

// Defaults of Options, used for zero fields.
const (
	DefaultLimit        = 50                  // Options.Limit
	DefaultMaxAge       = 5 * time.Minute     // Options.MaxAge
	DefaultMaxFeedBytes = 1 << 20             // Options.MaxFeedBytes
	DefaultTombstoneTTL = 30 * 24 * time.Hour // Options.TombstoneTTL
)

// immutableCacheControl is sent with sealed archive pages, whose bytes are final.
const immutableCacheControl = "public, max-age=31536000, immutable"

// Handler serves the feeds, their archives and tag feeds, the HTML index,
// article pages, /healthz and /metrics from an in-memory version that
// Update swaps atomically.
type Handler struct {
	site         Site
	limit        int
	maxBytes     int      // no cap when <= 0
	cacheControl []string // the Cache-Control header value of documents without their own
	hubs         []string
	onChange     func([]string)
	now          func() time.Time
	tombstoneTTL time.Duration // no tombstones when < 0
	log          *slog.Logger
	mux          *http.ServeMux
	stylesheet   *resource    // the feeds' XSLT style sheet; the same for every version
	limiter      *rateLimiter // nil when rate limiting is off
	metrics      *metrics

	current atomic.Pointer[version] // nil until the first successful Update
	ready   atomic.Bool

	// updateMu serialises renders so each one builds on the version it
	// replaces; it guards the fields below.
	updateMu sync.Mutex
	articles []*content.Article   // as last given to Update, rendered again by the timer
	deleted  map[string]time.Time // when each gone article's feed entry id went
	tagNames map[string]tagName   // names of the tag spellings of the last version
	// inOrder is the last version's articles, and grouped its published
	// articles' tags, when articles were in content.FeedOrder: the next
	// version then checks and groups only what changed (walk.go).
	inOrder *orderedLast
	timer   *time.Timer // fires when the next article is due or tombstone expires
	closed  bool
	// entries are the feed entries the last version's feeds were rendered
	// from, by article: a change renders the main feed and some tag feeds
	// again, and their other articles are the same.
	entries map[*content.Article]entry

	pageCache pageCache // the article pages asked for, kept while their article is unchanged
}

// orderedLast is what the next render builds on when the last one's
// articles were in content.FeedOrder.
type orderedLast struct {
	articles  []*content.Article // as given to Update
	published []*content.Article // those published, in the same order
	tags      []tagGroup         // published grouped by tag (groupTags)
}

// version is one immutable rendering of all documents; requests only read it.
type version struct {
	files map[string]*resource // by served path without the leading "/"; "" is the index; not the archive pages
	// archive is the archive pages, archive/1 first. A change leaves all
	// but the newest one or two as they were, and they are shared with
	// the version before: at 100,000 articles, 2,000 pages put in a map
	// again were 10 ms of a change.
	archive []*archiveDocs
	pages   articlePages // article pages, /articles/<slug> (articlepages.go)
}

// archiveDocs is the documents of one archive page and what they show.
type archiveDocs struct {
	src  *pageSource
	docs [4]*resource // in archiveExts order
}

// archiveExts are the extensions of an archive page's documents: the three
// feed formats in Documents order, then the HTML page.
var archiveExts = [4]string{"atom", "rss", "json", "html"}

// file returns the document of v at path, a served path without the
// leading "/", or nil when there is none.
func (v *version) file(path string) *resource {
	if res := v.files[path]; res != nil {
		return res
	}
	num, ok := strings.CutPrefix(path, "archive/")
	if !ok {
		return nil
	}
	num, ext, _ := strings.Cut(num, ".")
	i := slices.Index(archiveExts[:], ext)
	if num == "" || num[0] < '1' || num[0] > '9' || i < 0 {
		return nil // archivePath writes no sign and no leading zero
	}
	n, err := strconv.Atoi(num)
	if err != nil || n > len(v.archive) {
		return nil
	}
	return v.archive[n-1].docs[i]
}

// all yields every document of v (but the article pages) with its path.
func (v *version) all() iter.Seq2[string, *resource] {
	return func(yield func(string, *resource) bool) {
		for path, res := range v.files {
			if !yield(path, res) {
				return
			}
		}
		for i, page := range v.archive {
			path := archivePath(i + 1)
			for k, res := range page.docs {
				if !yield(path+"."+archiveExts[k], res) {
					return
				}
			}
		}
	}
}

// resource is one document with everything needed to serve it. Its bytes
// are rendered when the version is built (the feeds, tag feeds and index:
// what pollers ask for) or on first use (archive and article pages, which
// are many and seldom asked for), and then kept.
type resource struct {
	contentType  string
	html         bool
	modTime      time.Time
	feed         bool   // a feed document: WebSub links, rate limit, OnChange
	self         string // absolute URL of a feed document
	cacheControl string // overrides the Handler's when set

	rendered *payload                 // the bytes of an eagerly rendered document; nil for lazy ones
	payload  func() (*payload, error) // the bytes, rendered at most once
	src      *pageSource              // what the document is rendered from, when it is kept for reuse
	header   headerValues             // set by finish
}

// finish fills in what is derived from the other fields; call it once
// they are final.
func (r *resource) finish() *resource {
	r.header = newHeaderValues(r)
	return r
}

// payload is the bytes of one document and their gzipped form, with
// their header values.
type payload struct {
	body        []byte
	gz          func() []byte // body gzipped, compressed on first use
	etag        string        // strong ETag of body
	etagValue   []string      // etag as a header value
	lengthValue []string      // len(body) as a header value
	gzETag      string        // strong ETag of gz
	// gz's ETag and length as header values
	gzETagValue, gzLengthValue func() []string
}

func newPayload(body []byte) *payload {
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:16])
	p := &payload{
		body: body,
		// Compressed on the first gzip request (or export), not at render:
		// most documents are never asked for between two changes.
		gz:          sync.OnceValue(func() []byte { return gzipBytes(body) }),
		etag:        `"` + tag + `"`,
		gzETag:      `"` + tag + `-gz"`,
		lengthValue: []string{strconv.Itoa(len(body))},
	}
	p.etagValue = []string{p.etag}
	p.gzETagValue = sync.OnceValue(func() []string { return []string{p.gzETag} })
	p.gzLengthValue = sync.OnceValue(func() []string { return []string{strconv.Itoa(len(p.gz()))} })
	return p
}

// NewHandler returns a Handler for site. It serves 503 on content routes
// until the first Update succeeds; the feeds' style sheet, /feed.xsl, and
// /metrics are served from the start.
func NewHandler(site Site, opts Options) *Handler {
	if opts.Limit <= 0 {
		opts.Limit = DefaultLimit
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxFeedBytes == 0 {
		opts.MaxFeedBytes = DefaultMaxFeedBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TombstoneTTL == 0 {
		opts.TombstoneTTL = DefaultTombstoneTTL
	}
	h := &Handler{
		site:         site,
		limit:        opts.Limit,
		maxBytes:     opts.MaxFeedBytes,
		cacheControl: []string{"public, max-age=" + strconv.Itoa(int(opts.MaxAge/time.Second))},
		hubs:         slices.Clone(opts.Hubs),
		onChange:     opts.OnChange,
		now:          opts.Now,
		tombstoneTTL: opts.TombstoneTTL,
		log:          opts.Logger,
		mux:          http.NewServeMux(),
		stylesheet:   newResource(nil, xslType, stylesheet, time.Time{}, time.Now()),
		metrics:      newMetrics(),
		deleted:      map[string]time.Time{},
	}
	if opts.RateLimit > 0 {
		h.limiter = newRateLimiter(opts.RateLimit, maxRateLimitClients)
	}
	// Method patterns make the mux answer 405 with an Allow header; GET also matches HEAD.
	for _, pattern := range []string{
		"GET /feed.atom", "GET /feed.rss", "GET /feed.json",
		"GET /archive/{file}", "GET /tags/{file}",
		"GET /{$}", "GET /articles/{slug...}",
	} {
		h.mux.HandleFunc(pattern, h.serveFile)
	}
	h.mux.HandleFunc("GET /"+StylesheetName, func(w http.ResponseWriter, r *http.Request) {
		h.send(w, r, h.stylesheet)
	})
	h.mux.HandleFunc("GET /healthz", h.serveHealth)
	h.mux.Handle("GET /metrics", h.metrics.handler())
	return h
}

// Update renders a new version from all known articles: drafts and
// articles dated in the future excluded, sorted newest first (Published
// desc, then ID). The main feed holds the newest Options.Limit items (fewer
// if Options.MaxFeedBytes bites), older ones are on RFC 5005 archive pages,
// each tag has its feeds, and the index lists the main feed's articles
// and every tag. Articles that were published and are gone get a
// tombstone. Unchanged documents keep their bytes and ETags; sealed archive pages and tag feeds
// whose articles did not change are not rendered again. The new version is
// swapped in atomically; on error the previous version keeps being served
// and the error is returned. When an article is dated in the future, a
// timer renders again at its time, with no other call needed.
//
// Update keeps articles, to render again from, and may serve from the
// slice itself: no one may change the slice or its elements afterwards. A
// Library never changes what its Articles returned. Not copying it saves a
// copy of every article per change.
func (h *Handler) Update(articles []*content.Article) error {
	h.updateMu.Lock()
	defer h.updateMu.Unlock()
	return h.render(articles)
}

// Close stops the timer that publishes future-dated articles and expires
// tombstones. The Handler keeps serving and Update keeps working, without
// the timer.
func (h *Handler) Close() error {
	h.updateMu.Lock()
	defer h.updateMu.Unlock()
	h.closed = true
	if h.timer != nil {
		h.timer.Stop()
	}
	return nil
}

// tick renders the last articles again when one becomes due or a
// tombstone expires.
func (h *Handler) tick() {
	h.updateMu.Lock()
	defer h.updateMu.Unlock()
	if h.closed {
		return
	}
	if err := h.render(h.articles); err != nil {
		h.log.Error("scheduled feed update failed", "err", err)
	}
}

// render builds, swaps in and announces a version; updateMu is held.
func (h *Handler) render(articles []*content.Article) error {
	start := time.Now()
	now := h.now()
	last := cmp.Or(h.inOrder, &orderedLast{})
	published, due, newest, inOrder := publishable(articles, last.articles, now)
	prev := h.current.Load()
	if prev == nil {
		prev = &version{}
	}
	deleted, tombstones, expires := h.tombstones(prev.pages.published, published, now)
	b := &builder{h: h, prev: prev, now: now, next: &version{
		files: make(map[string]*resource, len(prev.files)+8),
		pages: newArticlePages(published, h.log),
	}, entries: make(map[*content.Article]entry, len(h.entries))}
	shown, err := b.mainFeed(published, tombstones)
	if err != nil {
		h.metrics.renderErrors.Inc()
		return fmt.Errorf("feed: update: %w", err)
	}
	pages := archivePages(published[shown:], h.limit)
	tags, tagNames, ok := []tagGroup(nil), map[string]tagName(nil), false
	if inOrder {
		tags, tagNames, ok = regroupTags(last.tags, last.published, published, h.limit, h.tagNames)
	}
	if !ok {
		tags, tagNames = groupTags(published, h.limit, h.tagNames)
	}
	b.archives(pages)
	if err := b.tags(tags); err != nil {
		h.metrics.renderErrors.Inc()
		return fmt.Errorf("feed: update: %w", err)
	}
	if err := b.index(published, shown, len(pages), tags, newest); err != nil {
		h.metrics.renderErrors.Inc()
		return fmt.Errorf("feed: update: %w", err)
	}

	h.current.Store(b.next)
	h.articles, h.deleted, h.tagNames, h.entries = articles, deleted, tagNames, b.entries
	h.inOrder = nil
	if inOrder {
		h.inOrder = &orderedLast{articles: articles, published: published, tags: tags}
	}
	h.schedule(now, due, expires)
	h.metrics.observeRender(time.Since(start), len(published), len(articles)-len(published), len(tombstones))
	h.log.Debug("feed version updated", "articles", len(published), "feed_items", shown,
		"archive_pages", len(pages), "tags", len(tags), "tombstones", len(tombstones))
	if changed := changedFeeds(prev, b.next); h.onChange != nil && len(changed) > 0 {
		h.onChange(changed)
	}
	return nil
}

// publishable returns the articles to publish at now, sorted newest first
// (Published desc, then ID), the earliest Published time still to come
// (zero when none), and the latest Updated time among those published
// (read while each article is at hand: at 100,000 articles a second pass
// over them took 3 ms a change). last, when not nil, is a list known to be in
// content.FeedOrder, the last one given: pairs of articles next to each
// other there need no comparing again. inOrder reports whether articles
// were in content.FeedOrder.
func publishable(articles, last []*content.Article, now time.Time) (published []*content.Article, due, newest time.Time, inOrder bool) {
	if published, due, newest, ok := publishableInOrder(articles, last, now); ok {
		return published, due, newest, true
	}
	// Sorting small keys keeps the comparisons off the articles' memory.
	type sortKey struct {
		sec  int64
		nsec int32
		i    int32
		id   string
	}
	keys := make([]sortKey, 0, len(articles))
	for i, a := range articles {
		switch {
		case a.Draft:
		case a.Published.After(now):
			if due.IsZero() || a.Published.Before(due) {
				due = a.Published
			}
		default:
			keys = append(keys, sortKey{a.Published.Unix(), int32(a.Published.Nanosecond()), int32(i), a.ID})
			if a.Updated.After(newest) {
				newest = a.Updated
			}
		}
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if a.sec != b.sec {
			return cmp.Compare(b.sec, a.sec)
		}
		if a.nsec != b.nsec {
			return cmp.Compare(b.nsec, a.nsec)
		}
		return cmp.Compare(a.id, b.id)
	})
	published = make([]*content.Article, len(keys))
	for j, k := range keys {
		published[j] = articles[k.i]
	}
	return published, due, newest, false
}

// publishableInOrder is publishable for articles already in its order, as
// a Library gives them (content.FeedOrder): no sort, and when every article
// is due, not even a copy. ok is false when the articles are not in order.
func publishableInOrder(articles, last []*content.Article, now time.Time) (published []*content.Article, due, newest time.Time, ok bool) {
	held := 0
	w := listWalk{last: last}
	at := -1 // where the article before was in last, or -1
	for i, a := range articles {
		// Two articles paired with last are in its order, which is
		// content.FeedOrder: only a pair with an article it does not hold
		// there is compared. Comparing every pair read the ids of articles
		// of the same second all over the heap (15 ms a change at 100,000).
		k := w.pair(a)
		known := k >= 0 && at >= 0
		at = k
		if i > 0 && !known && content.FeedOrder(articles[i-1], a) > 0 {
			return nil, time.Time{}, time.Time{}, false
		}
		switch {
		case a.Draft:
			held++
		case a.Published.After(now):
			held++
			if due.IsZero() || a.Published.Before(due) {
				due = a.Published
			}
		case a.Updated.After(newest):
			newest = a.Updated
		}
	}
	if held == 0 {
		return articles, due, newest, true
	}
	published = make([]*content.Article, 0, len(articles)-held)
	for _, a := range articles {
		if !a.Draft && !a.Published.After(now) {
			published = append(published, a)
		}
	}
	return published, due, newest, true
}

// tombstones works out which articles went since the last version and
// which tombstones are still shown: newest deletion first, Limit at most.
// It returns the new deleted map for the caller to keep once the version
// is in place, and when the oldest shown tombstone expires.
func (h *Handler) tombstones(prev, published []*content.Article, now time.Time) (deleted map[string]time.Time, shown []tombstone, expires time.Time) {
	if h.tombstoneTTL < 0 {
		return map[string]time.Time{}, nil, time.Time{}
	}
	added, gone := publishedDiff(prev, published, func(a *content.Article) string { return entryID(h.site.BaseURL, a) })
	deleted = h.deleted
	if len(gone) > 0 || len(added) > 0 {
		deleted = maps.Clone(h.deleted)
		for _, ref := range gone {
			deleted[ref] = now
		}
		// An article back under its old id is no longer deleted.
		for _, ref := range added {
			delete(deleted, ref)
		}
	}
	var expired []string
	for ref, when := range deleted {
		if !now.Before(when.Add(h.tombstoneTTL)) {
			expired = append(expired, ref)
			continue
		}
		shown = append(shown, tombstone{ref: ref, when: when})
	}
	if len(expired) > 0 {
		deleted = maps.Clone(deleted)
		for _, ref := range expired {
			delete(deleted, ref)
		}
	}
	slices.SortFunc(shown, func(a, b tombstone) int {
		if c := b.when.Compare(a.when); c != 0 {
			return c
		}
		return cmp.Compare(a.ref, b.ref)
	})
	shown = shown[:min(len(shown), h.limit)]
	for _, t := range shown {
		if e := t.when.Add(h.tombstoneTTL); expires.IsZero() || e.Before(expires) {
			expires = e
		}
	}
	return deleted, shown, expires
}

// publishedDiff returns the feed entry ids (made by ref) of the articles
// of next that prev did not publish, and of those of prev that next does
// not. Both are in content.FeedOrder (publishable's order; only articles
// sharing a date and an id, and so a ref, may be in another order among
// themselves), so one walk through both finds them, with no lookup of
// every article; an article whose date changed is in neither.
func publishedDiff(prev, next []*content.Article, ref func(*content.Article) string) (added, gone []string) {
	i, j := 0, 0
	for i < len(prev) || j < len(next) {
		var c int
		switch {
		case i == len(prev):
			c = 1
		case j == len(next):
			c = -1
		case prev[i] == next[j]: // the same stored article: no need to read it
			c = 0
		default:
			c = content.FeedOrder(prev[i], next[j])
		}
		switch {
		case c == 0:
			i, j = i+1, j+1
		case c < 0:
			gone = append(gone, ref(prev[i]))
			i++
		default:
			added = append(added, ref(next[j]))
			j++
		}
	}
	if len(added) == 0 || len(gone) == 0 {
		return added, gone
	}
	// Moved rather than added and gone: the same id at another date.
	inAdded := make(map[string]bool, len(added))
	for _, r := range added {
		inAdded[r] = true
	}
	inGone := make(map[string]bool, len(gone))
	for _, r := range gone {
		inGone[r] = true
	}
	added = slices.DeleteFunc(added, func(r string) bool { return inGone[r] })
	gone = slices.DeleteFunc(gone, func(r string) bool { return inAdded[r] })
	return added, gone
}

// entryID is the id an article has in the feeds (before ids that clash
// within one document are told apart).
func entryID(base *url.URL, a *content.Article) string {
	if id := strings.TrimSpace(xmlText(a.ID)); id != "" {
		return id
	}
	return ArticleURL(base, a.Slug)
}

// schedule arms the timer for the next due article or tombstone expiry,
// whichever comes first; updateMu is held.
func (h *Handler) schedule(now, due, expires time.Time) {
	if h.timer != nil {
		h.timer.Stop()
	}
	next := due
	if next.IsZero() || !expires.IsZero() && expires.Before(next) {
		next = expires
	}
	if h.closed || next.IsZero() {
		return
	}
	h.timer = time.AfterFunc(next.Sub(now), h.tick)
}

// changedFeeds lists the URLs of the feed documents in next whose bytes
// differ from prev's, sorted.
func changedFeeds(prev, next *version) []string {
	var urls []string
	for path, res := range next.files {
		if res.feed && prev.files[path] != res {
			urls = append(urls, res.self)
		}
	}
	for i, page := range next.archive {
		if i < len(prev.archive) && prev.archive[i] == page {
			continue
		}
		for k, res := range page.docs {
			if res.feed && (i >= len(prev.archive) || prev.archive[i].docs[k] != res) {
				urls = append(urls, res.self)
			}
		}
	}
	slices.Sort(urls)
	return urls
}

// builder puts the documents of a new version together, reusing those of
// the previous version that were rendered from the same things.
type builder struct {
	h          *Handler
	prev, next *version
	now        time.Time
	entries    map[*content.Article]entry // what this version's feeds were rendered from
}

// entry returns a's feed entry, built once for every document of this
// version, and taken from the last version's while a is the same article
// (articles are never changed once stored: a changed file is a new one).
// Building one reads the body from disk and rewrites its URLs: at 10,000
// articles, a third of what rendering a change cost.
func (b *builder) entry(a *content.Article) (entry, error) {
	if e, ok := b.entries[a]; ok {
		return e, nil
	}
	e, ok := b.h.entries[a]
	if !ok {
		var err error
		if e, err = newEntry(b.h.site.BaseURL, a); err != nil {
			return entry{}, err
		}
	}
	b.entries[a] = e
	return e, nil
}

// feedExts are the extensions of the three formats, in Documents order.
var feedExts = []string{"atom", "rss", "json"}

// feedTypes are the content types of the three formats, in Documents order.
var feedTypes = []string{atomType, rssType, jsonType}

// reuseSource keeps the previous version's documents at paths when they
// were rendered from what src holds, and reports whether it did.
func (b *builder) reuseSource(src pageSource, paths ...string) bool {
	for _, p := range paths {
		if old := b.prev.files[p]; old == nil || old.src == nil || !old.src.same(src) {
			return false
		}
	}
	for _, p := range paths {
		b.next.files[p] = b.prev.files[p]
	}
	return true
}

// put adds one document at path, rendered now, keeping the previous
// resource when the bytes and the way they are served are the same.
func (b *builder) put(path string, want resource, body []byte, updated time.Time) {
	old := b.prev.files[path]
	res := newResource(old, want.contentType, body, updated, b.now)
	if res.feed != want.feed || res.self != want.self || res.cacheControl != want.cacheControl || res.src != want.src {
		c := *res
		c.feed, c.self, c.cacheControl, c.src = want.feed, want.self, want.cacheControl, want.src
		res = c.finish()
	}
	b.next.files[path] = res
}

// lazy returns a document, replacing prev, that render makes from src on
// first use.
func (b *builder) lazy(prev *resource, want resource, src *pageSource, render func() ([]byte, error), updated time.Time) *resource {
	return lazyResource(prev, want, src, render, updated, b.now)
}

// lazyResource returns a document, replacing prev, that render makes from
// src on first use.
func lazyResource(prev *resource, want resource, src *pageSource, render func() ([]byte, error), updated, now time.Time) *resource {
	res := want
	res.src = src
	res.html = want.contentType == htmlType
	res.modTime = lastModified(prev, updated, now)
	res.payload = sync.OnceValues(func() (*payload, error) {
		body, err := render()
		if err != nil {
			return nil, err
		}
		return newPayload(body), nil
	})
	return res.finish()
}

// putFeed adds the three documents of the feed at path (without
// extension), rendered from src when that is kept for reuse.
func (b *builder) putFeed(path string, src *pageSource, docs Documents) {
	for i, body := range [][]byte{docs.Atom, docs.RSS, docs.JSON} {
		ext := feedExts[i]
		b.put(path+"."+ext, resource{
			contentType: feedTypes[i],
			feed:        true,
			self:        docURL(b.h.site.BaseURL, path, ext),
			src:         src,
		}, body, docs.Updated)
	}
}

// formatPaths returns the served paths of the three documents at path.
func formatPaths(path string) []string {
	return []string{path + ".atom", path + ".rss", path + ".json"}
}

// fit renders the newest of items, up to limit, that keep each format
// under the byte cap, one at least; info describes the document showing
// the first n items. It returns the documents and how many items they show.
func (b *builder) fit(items []*content.Article, limit int, info func(n int) docInfo) (Documents, int, error) {
	n := min(len(items), limit)
	for {
		docs, err := render(b.h.site, info(n), items[:n], b.entry)
		if err != nil {
			return Documents{}, 0, err
		}
		size := max(len(docs.Atom), len(docs.RSS), len(docs.JSON))
		if b.h.maxBytes <= 0 || size <= b.h.maxBytes || n <= 1 {
			return docs, n, nil
		}
		// Shrink in proportion to the excess, by one item at least.
		n = max(1, min(n-1, n*b.h.maxBytes/size))
	}
}

// mainFeed adds the main feed and returns how many articles it shows.
func (b *builder) mainFeed(published []*content.Article, tombstones []tombstone) (int, error) {
	h := b.h
	docs, n, err := b.fit(published, h.limit, func(n int) docInfo {
		return mainInfo(archivePageCount(len(published)-n, h.limit), h.hubs, tombstones)
	})
	if err != nil {
		return 0, err
	}
	b.putFeed(mainFeedPath, nil, docs)
	return n, nil
}

// archives adds the archive pages, oldest first, in the three feed formats
// and as an HTML page; sealed pages (all but the newest) are served as
// immutable. A page showing what it showed in the previous version keeps
// its documents; the others are rendered on their first request, since
// most archive pages are seldom asked for.
func (b *builder) archives(pages [][]*content.Article) {
	site, hubs := b.h.site, b.h.hubs
	prev := b.prev.archive
	b.next.archive = make([]*archiveDocs, len(pages))
	for i, page := range pages {
		n, sealed := i+1, i+1 < len(pages)
		// A page's links change only when it becomes sealed.
		note := strconv.FormatBool(sealed)
		var old *archiveDocs
		if i < len(prev) {
			old = prev[i]
			if old.src.same(pageSource{note: note, articles: page}) {
				b.next.archive[i] = old
				continue
			}
		}
		// The page is kept beyond this version: copy its pointers out of
		// the whole list, which would otherwise stay alive with it.
		kept := &pageSource{note: note, articles: slices.Clone(page)}
		info := archiveInfo(n, len(pages), hubs)
		docs := sync.OnceValues(func() (Documents, error) {
			d, err := render(site, info, kept.articles, builtEntry(site))
			if err != nil {
				return d, fmt.Errorf("archive page %d: %w", n, err)
			}
			return d, nil
		})
		cacheControl := ""
		if sealed {
			cacheControl = immutableCacheControl
		}
		updated := newestUpdated(kept.articles)
		path := archivePath(n)
		next := &archiveDocs{src: kept}
		for k, ext := range archiveExts {
			var was *resource
			if old != nil {
				was = old.docs[k]
			}
			want := resource{contentType: htmlType, cacheControl: cacheControl}
			body := func() ([]byte, error) { return renderArchivePage(site, n, sealed, kept.articles) }
			if k < len(feedExts) {
				want = resource{contentType: feedTypes[k], feed: true, self: docURL(site.BaseURL, path, ext), cacheControl: cacheControl}
				body = func() ([]byte, error) {
					d, err := docs()
					return [][]byte{d.Atom, d.RSS, d.JSON}[k], err
				}
			}
			next.docs[k] = b.lazy(was, want, kept, body, updated)
		}
		b.next.archive[i] = next
	}
}

// tags adds each tag's feeds: its newest Limit articles, complete when
// they are all of them.
func (b *builder) tags(groups []tagGroup) error {
	h := b.h
	for _, g := range groups {
		path := tagPath(g.slug)
		info := func(n int) docInfo {
			i := docInfo{path: path, id: docURL(h.site.BaseURL, path, "atom"), title: g.name, hubs: h.hubs}
			if n == g.count {
				i.history = historyComplete
			}
			return i
		}
		shown := g.articles
		// Its name, whether it is complete, and the articles it can show.
		note := g.name + "\x00" + strconv.FormatBool(len(shown) < g.count)
		if b.reuseSource(pageSource{note: note, articles: shown}, formatPaths(path)...) {
			continue
		}
		docs, _, err := b.fit(g.articles, h.limit, info)
		if err != nil {
			return fmt.Errorf("tag %q: %w", g.name, err)
		}
		b.putFeed(path, &pageSource{note: note, articles: slices.Clone(shown)}, docs)
	}
	return nil
}

// index adds the index page, which lists the articles of the main feed
// (older ones are on the archive pages), last changed at updated (the
// newest Updated of all published). Article pages are found and
// rendered when asked for (articlepages.go).
func (b *builder) index(published []*content.Article, shown, archived int, tags []tagGroup, updated time.Time) error {
	index, err := renderIndex(b.h.site, published[:shown], archived, tags)
	if err != nil {
		return err
	}
	b.put("", resource{contentType: htmlType}, index, updated)
	return nil
}

// pageSource is what a document that is reused from version to version
// is rendered from. Equal sources give equal bytes.
type pageSource struct {
	note     string             // what the document depends on besides its articles
	articles []*content.Article // what it shows, in order
}

// same reports whether documents rendered from s and o have the same bytes.
func (s pageSource) same(o pageSource) bool {
	if s.note != o.note || len(s.articles) != len(o.articles) {
		return false
	}
	for i := range s.articles {
		if !sameArticle(s.articles[i], o.articles[i]) {
			return false
		}
	}
	return true
}

// sameArticle reports whether a and b show the same in every document.
// A Library's article that did not change is known by its stored version,
// without reading its fields; other articles share their strings from one
// version to the next, so comparing is cheap for them too.
func sameArticle(a, b *content.Article) bool {
	if a == b { // the same stored article: a Library never changes one
		return true
	}
	if a.Unchanged(b) {
		return a.ID == b.ID
	}
	return a.ID == b.ID && a.Hash == b.Hash && a.Slug == b.Slug && a.Title == b.Title &&
		a.Summary == b.Summary && a.Author == b.Author && a.Language == b.Language &&
		a.Published.Equal(b.Published) && a.Updated.Equal(b.Updated) &&
		slices.Equal(a.Tags, b.Tags) && a.SameBody(b)
}

// SetReady marks the first scan as done: /healthz answers 200 from then on,
// 503 before.
func (h *Handler) SetReady() {
	h.ready.Store(true)
}

// ServeHTTP routes a request to the feeds, their style sheet, the pages,
// the health check or the metrics, and counts it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["X-Content-Type-Options"] = nosniffValue
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	h.mux.ServeHTTP(rec, r)
	// The mux sets the matched pattern on r: a route label of bounded cardinality.
	h.metrics.countRequest(r.Pattern, rec.status)
}

// Registry returns the Prometheus registry behind /metrics, so that the
// caller can register its own collectors (watcher events, hub pings).
func (h *Handler) Registry() *prometheus.Registry {
	return h.metrics.registry
}

// serveFile serves the current version's document at the request's path,
// or 404 when there is none.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request) {
	v := h.current.Load()
	if v == nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "starting: articles not read yet", http.StatusServiceUnavailable)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	res := v.file(path)
	if slug, ok := strings.CutPrefix(path, "articles/"); ok {
		if a, ok := v.pages.article(slug); ok {
			res = h.page(slug, a)
		}
	}
	if res == nil {
		http.NotFound(w, r)
		return
	}
	if res.feed && h.limiter != nil && r.Method == http.MethodGet && !conditional(r) {
		if wait, ok := h.limiter.allow(clientIP(r)+" "+r.URL.Path, h.now()); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			http.Error(w, "polled too often: send If-None-Match or If-Modified-Since, or wait", http.StatusTooManyRequests)
			return
		}
	}
	h.send(w, r, res)
}

// send serves res with its headers, gzipped when the client accepts it.
// The two requests pollers make
// most, a whole document and a conditional GET whose ETag still matches,
// are answered here with the headers http.ServeContent would send; every
// other one goes through ServeContent.
func (h *Handler) send(w http.ResponseWriter, r *http.Request, res *resource) {
	p, err := res.payload()
	if err != nil {
		h.log.Error("cannot render document", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error: the document cannot be rendered", http.StatusInternalServerError)
		return
	}
	a := answerFor(p, netFields(r.Header))
	h.setHeader(netHeader(w.Header()), res, a)
	switch a.how {
	case sendNotModified:
		w.WriteHeader(http.StatusNotModified)
		return
	case sendWhole:
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(a.body)
		}
		return
	}
	if a.gz {
		// ServeContent would send a range of the gzip bytes with the full length: serve it whole.
		delete(r.Header, "Range")
	}
	http.ServeContent(w, r, "", res.modTime, bytes.NewReader(a.body))
}

// answer is how send answers one GET or HEAD of a document: with its
// identity or its gzip bytes, and whether directly or through
// http.ServeContent.
type answer struct {
	body         []byte
	etag, length []string // header values of body
	gz           bool
	how          shortcut
}

// answerFor chooses the bytes of p that a request with header fields f
// gets, and how it is answered.
func answerFor(p *payload, f requestFields) answer {
	a := answer{body: p.body, etag: p.etagValue, length: p.lengthValue}
	if acceptsGzip(f.values("Accept-Encoding")) {
		a.body, a.etag, a.length, a.gz = p.gz(), p.gzETagValue(), p.gzLengthValue(), true
	}
	a.how = shortcutFor(f, a.etag[0])
	return a
}

// setHeader sets the response header fields of answer a to res, but
// X-Content-Type-Options, which every response has. Values are built
// once per document and assigned without canonicalising keys.
func (h *Handler) setHeader(hdr headerSetter, res *resource, a answer) {
	if res.cacheControl != "" {
		hdr.set("Cache-Control", res.header.cacheControl)
	} else {
		hdr.set("Cache-Control", h.cacheControl)
	}
	hdr.set("Vary", varyValue)
	if res.html {
		hdr.set("Content-Security-Policy", cspValue)
	}
	if res.feed && len(h.hubs) > 0 {
		// WebSub discovery (W3C WebSub, section 4).
		links := make([]string, 0, len(h.hubs)+1)
		for _, hub := range h.hubs {
			links = append(links, "<"+hub+">; rel=\"hub\"")
		}
		hdr.set("Link", append(links, "<"+res.self+">; rel=\"self\""))
	}
	hdr.set("Etag", a.etag)
	switch a.how {
	case sendNotModified:
		// As ServeContent's 304: no representation headers, and no
		// Last-Modified beside an ETag (RFC 9110, section 15.4.5).
	case sendWhole:
		// As ServeContent: Last-Modified, Accept-Ranges, Content-Length, the bytes.
		hdr.set("Content-Type", res.header.contentType)
		if a.gz {
			hdr.set("Content-Encoding", gzipValue)
		}
		hdr.set("Content-Length", a.length)
		if res.header.lastModified != nil {
			hdr.set("Last-Modified", res.header.lastModified)
		}
		hdr.set("Accept-Ranges", bytesValue)
	default:
		hdr.set("Content-Type", res.header.contentType)
		if a.gz {
			hdr.set("Content-Encoding", gzipValue)
			// ServeContent leaves Content-Length out once Content-Encoding is set; our bytes are exact.
			hdr.set("Content-Length", a.length)
		}
	}
}

// requestFields reads a request's header fields.
type requestFields interface {
	// values is the field's values, one per field line; nil when absent.
	// key is in canonical form.
	values(key string) []string
}

// netFields are the fields of a net/http request.
type netFields http.Header

func (f netFields) values(key string) []string { return f[key] }

// headerSetter takes response header fields.
type headerSetter interface {
	// set sets the field key, in canonical form, to values (one line
	// each); values is shared and must not be changed.
	set(key string, values []string)
}

// netHeader is the header of a net/http response.
type netHeader http.Header

func (h netHeader) set(key string, values []string) { h[key] = values }

// shortcut is how send answers a GET or HEAD.
type shortcut int

const (
	viaServeContent shortcut = iota // http.ServeContent decides
	sendWhole                       // no precondition or range: 200 with the document
	sendNotModified                 // If-None-Match is the current ETag, and decides: 304
)

// shortcutFor tells the two answers of http.ServeContent that are cheap to
// foresee from the request header fields f, for a document whose strong
// ETag is etag; every other request is left to ServeContent.
func shortcutFor(f requestFields, etag string) shortcut {
	// If-Match and If-Unmodified-Since are evaluated first (RFC 9110, section 13.2.2).
	if f.values("If-Match") != nil || f.values("If-Unmodified-Since") != nil {
		return viaServeContent
	}
	if inm := f.values("If-None-Match"); inm != nil {
		// A matching ETag wins over If-Modified-Since, Range and If-Range;
		// ServeContent reads the first field line only.
		if len(inm) == 1 && inm[0] == etag {
			return sendNotModified
		}
		return viaServeContent
	}
	for _, k := range []string{"If-Modified-Since", "Range", "If-Range"} {
		if f.values(k) != nil {
			return viaServeContent
		}
	}
	return sendWhole
}

// Header values shared by every response; never appended to in place (cap = len).
var (
	nosniffValue = []string{"nosniff"}
	varyValue    = []string{"Accept-Encoding"}
	cspValue     = []string{pageCSP}
	gzipValue    = []string{"gzip"}
	bytesValue   = []string{"bytes"}
)

// headerValues are a resource's header values, built once.
type headerValues struct {
	contentType, cacheControl, lastModified []string
}

func newHeaderValues(res *resource) headerValues {
	v := headerValues{contentType: []string{res.contentType}, cacheControl: []string{res.cacheControl}}
	if !res.modTime.IsZero() && !res.modTime.Equal(time.Unix(0, 0)) {
		v.lastModified = []string{res.modTime.UTC().Format(http.TimeFormat)}
	}
	return v
}

func (h *Handler) serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !h.ready.Load() {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// newResource prepares a rendered body for serving. It returns prev when
// the bytes are unchanged, so repeated Updates keep their ETags and skip
// compression.
func newResource(prev *resource, contentType string, body []byte, updated, now time.Time) *resource {
	p := newPayload(body)
	if prev != nil && prev.rendered != nil && prev.rendered.etag == p.etag {
		return prev
	}
	res := &resource{
		contentType: contentType,
		html:        contentType == htmlType,
		modTime:     lastModified(prev, updated, now),
		rendered:    p,
		payload:     func() (*payload, error) { return p, nil },
	}
	return res.finish()
}

// lastModified is the newest article Updated time, except that it never
// moves backwards or stays put when the bytes changed (an article removed,
// or edited within the same second): If-Modified-Since must not answer 304
// for changed content.
func lastModified(prev *resource, updated, now time.Time) time.Time {
	updated = updated.Truncate(time.Second)
	if prev == nil || prev.modTime.IsZero() || updated.After(prev.modTime) {
		return updated
	}
	if next := prev.modTime.Add(time.Second); next.After(now) {
		return next
	}
	return now.Truncate(time.Second)
}

// gzipWriters are gzip writers at the best level, kept between documents:
// each holds some 800 KB of compressor state, which a change that touches
// a few feeds would otherwise allocate for each of them.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestCompression) // the level is valid
	return zw
}}

// gzipBytes compresses b at the best level: it runs at most once per document version.
func gzipBytes(b []byte) []byte {
	buf := getScratch()
	defer putScratch(buf)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(buf)
	// Writes to a bytes.Buffer cannot fail.
	zw.Write(b)
	zw.Close()
	return copied(buf)
}

// newestUpdated returns the latest Updated time among articles, zero when none.
func newestUpdated(articles []*content.Article) time.Time {
	var t time.Time
	for _, a := range articles {
		if a.Updated.After(t) {
			t = a.Updated
		}
	}
	return t
}

// acceptsGzip reports whether the Accept-Encoding header values accept gzip
// (RFC 9110, section 12.5.3): named as gzip or x-gzip with a non-zero
// q-value, or covered by a non-zero "*" when gzip is not named.
func acceptsGzip(values []string) bool {
	if len(values) == 1 {
		// What HTTP clients send most, answered without parsing.
		switch values[0] {
		case "gzip", "gzip, deflate", "gzip, deflate, br", "gzip, deflate, br, zstd",
			"gzip,deflate", "deflate, gzip", "br, gzip", "gzip, br", "deflate, gzip, br, zstd":
			return true
		case "", "identity", "br", "deflate", "deflate, br":
			return false
		}
	}
	return parseAcceptsGzip(values)
}

// parseAcceptsGzip is acceptsGzip for any header values.
func parseAcceptsGzip(values []string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, v := range values {
		for coding := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(coding, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "gzip" && name != "x-gzip" && name != "*" {
				continue
			}
			q, ok := qValue(params)
			if !ok {
				continue
			}
			if name == "*" {
				starQ = max(starQ, q)
			} else {
				gzipQ = max(gzipQ, q)
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// qValue reads the q parameter from a coding's parameters; it is 1 when
// absent and not ok when malformed.
func qValue(params string) (float64, bool) {
	q := 1.0
	for p := range strings.SplitSeq(params, ";") {
		k, v, found := strings.Cut(p, "=")
		if !found || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 1 {
			return 0, false
		}
		q = f
	}
	return q, true
}
