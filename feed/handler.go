package feed

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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

// Options configures serving.
type Options struct {
	Limit  int           // items per feed; 0 means 50
	MaxAge time.Duration // Cache-Control max-age; 0 means 5 minutes
	Logger *slog.Logger  // nil means slog.Default()
}

// Handler serves the feeds, the HTML index, article pages and /healthz from
// an in-memory version that Update swaps atomically.
type Handler struct {
	site         Site
	limit        int
	cacheControl string
	log          *slog.Logger
	mux          *http.ServeMux
	stylesheet   *resource // the feeds' XSLT style sheet; the same for every version

	current atomic.Pointer[version] // nil until the first successful Update
	ready   atomic.Bool

	// updateMu serialises Updates so each one builds on the version it replaces.
	updateMu sync.Mutex
}

// version is one immutable rendering of all documents; requests only read it.
type version struct {
	atom, rss, json *resource
	index           *resource
	pages           map[string]*resource // article pages by slug
	pageKeys        map[string]string    // what each page was rendered from, by slug
}

// resource is one document with everything needed to serve it, computed once.
type resource struct {
	contentType string
	html        bool
	body, gz    []byte
	etag        string // strong ETag of body
	gzETag      string // strong ETag of gz
	modTime     time.Time
}

// NewHandler returns a Handler for site. It serves 503 on content routes
// until the first Update succeeds; the feeds' style sheet, /feed.xsl, is
// served from the start.
func NewHandler(site Site, opts Options) *Handler {
	if opts.Limit <= 0 {
		opts.Limit = 50
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Handler{
		site:         site,
		limit:        opts.Limit,
		cacheControl: "public, max-age=" + strconv.Itoa(int(opts.MaxAge/time.Second)),
		log:          opts.Logger,
		mux:          http.NewServeMux(),
		stylesheet:   newResource(nil, xslType, stylesheet, time.Time{}, time.Now()),
	}
	// Method patterns make the mux answer 405 with an Allow header; GET also matches HEAD.
	h.mux.HandleFunc("GET /feed.atom", h.serve(func(v *version, _ *http.Request) *resource { return v.atom }))
	h.mux.HandleFunc("GET /feed.rss", h.serve(func(v *version, _ *http.Request) *resource { return v.rss }))
	h.mux.HandleFunc("GET /feed.json", h.serve(func(v *version, _ *http.Request) *resource { return v.json }))
	h.mux.HandleFunc("GET /{$}", h.serve(func(v *version, _ *http.Request) *resource { return v.index }))
	h.mux.HandleFunc("GET /articles/{slug...}", h.serve(func(v *version, r *http.Request) *resource {
		return v.pages[r.PathValue("slug")]
	}))
	h.mux.HandleFunc("GET /"+StylesheetName, func(w http.ResponseWriter, r *http.Request) {
		h.send(w, r, h.stylesheet)
	})
	h.mux.HandleFunc("GET /healthz", h.serveHealth)
	return h
}

// Update renders a new version from all known articles: drafts excluded,
// sorted newest first (Published desc, then ID), feeds limited to
// Options.Limit; the index lists every published article. It precomputes
// gzip bodies and strong ETags once per version, then swaps the version in
// atomically. On error the previous version keeps being served and the
// error is returned.
func (h *Handler) Update(articles []content.Article) error {
	h.updateMu.Lock()
	defer h.updateMu.Unlock()
	published := make([]content.Article, 0, len(articles))
	for _, a := range articles {
		if !a.Draft {
			published = append(published, a)
		}
	}
	slices.SortFunc(published, func(a, b content.Article) int {
		if c := b.Published.Compare(a.Published); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})

	docs, err := Render(h.site, published[:min(len(published), h.limit)])
	if err != nil {
		return fmt.Errorf("feed: update: %w", err)
	}
	index, err := renderIndex(h.site, published)
	if err != nil {
		return fmt.Errorf("feed: update: %w", err)
	}

	prev := h.current.Load()
	if prev == nil {
		prev = &version{}
	}
	now := time.Now()
	next := &version{
		atom:     newResource(prev.atom, atomType, docs.Atom, docs.Updated, now),
		rss:      newResource(prev.rss, rssType, docs.RSS, docs.Updated, now),
		json:     newResource(prev.json, jsonType, docs.JSON, docs.Updated, now),
		index:    newResource(prev.index, htmlType, index, newestUpdated(published), now),
		pages:    make(map[string]*resource, len(published)),
		pageKeys: make(map[string]string, len(published)),
	}
	for _, a := range published {
		if _, dup := next.pages[a.Slug]; dup {
			// Newest first, so the newer article keeps the URL.
			h.log.Warn("duplicate article slug; older article has no page", "slug", a.Slug, "path", a.Path)
			continue
		}
		// An unchanged article keeps its page: a change costs work for what changed only.
		key := pageKey(a)
		if prev.pageKeys[a.Slug] == key {
			next.pages[a.Slug], next.pageKeys[a.Slug] = prev.pages[a.Slug], key
			continue
		}
		page, err := renderArticle(h.site, a)
		if err != nil {
			return fmt.Errorf("feed: update: article %q: %w", a.Path, err)
		}
		next.pages[a.Slug] = newResource(prev.pages[a.Slug], htmlType, page, a.Updated, now)
		next.pageKeys[a.Slug] = key
	}
	h.current.Store(next)
	h.log.Debug("feed version updated", "articles", len(published), "feed_items", min(len(published), h.limit))
	return nil
}

// pageKey identifies everything an article page is rendered from.
func pageKey(a content.Article) string {
	return strings.Join([]string{a.ID, a.Hash, a.Slug, a.Title, strconv.Itoa(len(a.HTML)), a.Published.String(), a.Updated.String()}, "\x00")
}

// SetReady marks the first scan as done: /healthz answers 200 from then on,
// 503 before.
func (h *Handler) SetReady() {
	h.ready.Store(true)
}

// ServeHTTP routes a request to the feeds, their style sheet, the pages or
// the health check.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

// serve returns a handler that serves the resource pick selects from the
// current version, or 404 when pick finds none.
func (h *Handler) serve(pick func(*version, *http.Request) *resource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := h.current.Load()
		if v == nil {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "starting: articles not read yet", http.StatusServiceUnavailable)
			return
		}
		res := pick(v, r)
		if res == nil {
			http.NotFound(w, r)
			return
		}
		h.send(w, r, res)
	}
}

// send serves res with its headers, gzipped when the client accepts it.
func (h *Handler) send(w http.ResponseWriter, r *http.Request, res *resource) {
	hdr := w.Header()
	hdr.Set("Content-Type", res.contentType)
	hdr.Set("Cache-Control", h.cacheControl)
	hdr.Add("Vary", "Accept-Encoding")
	if res.html {
		hdr.Set("Content-Security-Policy", pageCSP)
	}
	body, etag := res.body, res.etag
	if acceptsGzip(r.Header.Values("Accept-Encoding")) {
		body, etag = res.gz, res.gzETag
		hdr.Set("Content-Encoding", "gzip")
		// ServeContent leaves Content-Length out once Content-Encoding is set; our bytes are exact.
		hdr.Set("Content-Length", strconv.Itoa(len(body)))
		// ServeContent would send a range of the gzip bytes with the full length: serve it whole.
		r.Header.Del("Range")
	}
	hdr.Set("ETag", etag)
	http.ServeContent(w, r, "", res.modTime, bytes.NewReader(body))
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

// newResource prepares body for serving. It reuses prev when the bytes are
// unchanged, so repeated Updates keep their ETags and skip compression.
func newResource(prev *resource, contentType string, body []byte, updated, now time.Time) *resource {
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:16])
	etag := `"` + tag + `"`
	if prev != nil && prev.etag == etag {
		return prev
	}
	return &resource{
		contentType: contentType,
		html:        contentType == htmlType,
		body:        body,
		gz:          gzipBytes(body),
		etag:        etag,
		gzETag:      `"` + tag + `-gz"`,
		modTime:     lastModified(prev, updated, now),
	}
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

// gzipBytes compresses b at the best level: it runs once per version.
func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	// Writes to a bytes.Buffer cannot fail.
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// newestUpdated returns the latest Updated time among articles, zero when none.
func newestUpdated(articles []content.Article) time.Time {
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
