package feed

import (
	"bytes"
	"log/slog"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// FastHTTP returns h as a handler for a fasthttp.Server. The requests
// pollers make most, a GET or HEAD of a feed, the index, an archive page,
// a tag feed or the style sheet that is answered whole or with 304 Not
// Modified, are answered from the current version directly, with the
// status, header fields and bytes ServeHTTP would give; every other
// request goes to ServeHTTP through fasthttpadaptor.
//
// It exists for speed: on a 2-core machine under 64 connections, a
// net/http handler that only writes a 304 answers at 0.70x the rate nginx
// serves a static file (a goroutine per request to watch the connection,
// a header map), a fasthttp one at 1.2x; served this way the feed keeps
// up with nginx (BENCHMARKS.md).
func (h *Handler) FastHTTP() fasthttp.RequestHandler {
	slow := fasthttpadaptor.NewFastHTTPHandler(h)
	return func(ctx *fasthttp.RequestCtx) {
		if !h.serveFast(ctx) {
			slow(ctx)
		}
	}
}

// NewServer returns a fasthttp.Server serving h.FastHTTP, with timeouts
// for slow or idle clients, request header fields up to 16 KiB, and its
// errors (a malformed request, a client gone) logged to log at level Warn.
func (h *Handler) NewServer(log *slog.Logger) *fasthttp.Server {
	return &fasthttp.Server{
		Handler:            h.FastHTTP(),
		ReadTimeout:        30 * time.Second,
		WriteTimeout:       60 * time.Second,
		IdleTimeout:        120 * time.Second,
		ReadBufferSize:     16 << 10,
		MaxRequestBodySize: 1 << 20,
		// As net/http: no Server field, no Content-Type the handler did not set.
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		// Idle keep-alive connections are closed at shutdown, not waited for.
		CloseOnShutdown: true,
		Logger:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// serveFast answers ctx as send would and reports true, or reports false
// without touching ctx when the request is not one it answers.
func (h *Handler) serveFast(ctx *fasthttp.RequestCtx) bool {
	if !ctx.IsGet() && !ctx.IsHead() {
		return false
	}
	v := h.current.Load()
	if v == nil {
		return false
	}
	// The path as sent, in origin form; the mux ignores the query too.
	path, _, _ := bytes.Cut(ctx.Request.Header.RequestURI(), []byte("?"))
	pattern := fastPattern(path)
	var res *resource
	switch {
	case pattern == "":
		return false
	case pattern == stylesheetPattern:
		res = h.stylesheet
	default:
		res = v.file(string(path[1:]))
	}
	if res == nil {
		return false
	}
	req := fastFields{&ctx.Request.Header}
	if res.feed && h.limiter != nil && ctx.IsGet() &&
		req.values("If-None-Match") == nil && req.values("If-Modified-Since") == nil {
		// An unconditional poll may be limited: ServeHTTP counts it.
		return false
	}
	p, err := res.payload()
	if err != nil {
		// ServeHTTP logs it and answers 500.
		return false
	}
	a := answerFor(p, req)
	if a.how == viaServeContent {
		return false
	}
	hdr := fastHeader{&ctx.Response.Header}
	hdr.set("X-Content-Type-Options", nosniffValue)
	h.setHeader(hdr, res, a)
	status := fasthttp.StatusOK
	if a.how == sendNotModified {
		status = fasthttp.StatusNotModified
	} else {
		// For HEAD the server sends the length and skips the bytes.
		ctx.Response.SetBodyRaw(a.body)
	}
	ctx.SetStatusCode(status)
	h.metrics.countRequest(pattern, status)
	return true
}

// stylesheetPattern is the mux pattern of the style sheet.
const stylesheetPattern = "GET /" + StylesheetName

// fastPattern is the mux pattern that routes path, a request path as
// sent, to a document of the version or the style sheet, or "" when path
// is not one serveFast answers: anything the mux would clean, redirect or
// unescape first, and the article pages.
func fastPattern(path []byte) string {
	switch string(path) {
	case "/feed.atom":
		return "GET /feed.atom"
	case "/feed.rss":
		return "GET /feed.rss"
	case "/feed.json":
		return "GET /feed.json"
	case "/":
		return "GET /{$}"
	case "/" + StylesheetName:
		return stylesheetPattern
	}
	if file, ok := bytes.CutPrefix(path, []byte("/archive/")); ok && plainSegment(file) {
		return "GET /archive/{file}"
	}
	if file, ok := bytes.CutPrefix(path, []byte("/tags/")); ok && plainSegment(file) {
		return "GET /tags/{file}"
	}
	return ""
}

// plainSegment reports whether s is one path segment the mux takes as it
// is: letters, digits, '-', '_' and '.', not starting with a dot.
func plainSegment(s []byte) bool {
	if len(s) == 0 || s[0] == '.' {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// fastFields are the header fields of a fasthttp request.
type fastFields struct{ h *fasthttp.RequestHeader }

func (f fastFields) values(key string) []string {
	// key is canonical, as the request's names are once read: looked up
	// as it is, not copied and normalised again (a sixth of serveFast).
	if was := f.h.DisableNormalizing(); !was {
		defer f.h.EnableNormalizing()
	}
	all := f.h.PeekAll(key)
	if len(all) == 0 {
		return nil
	}
	vs := make([]string, len(all))
	for i, v := range all {
		vs[i] = string(v)
	}
	return vs
}

// fastHeader is the header of a fasthttp response.
type fastHeader struct{ h *fasthttp.ResponseHeader }

func (f fastHeader) set(key string, values []string) {
	for i, v := range values {
		if i > 0 {
			f.h.Add(key, v)
			continue
		}
		// Each name is set once and is canonical: set as it is, not
		// copied, checked and normalised again as Add does (Add and its
		// normalising were a third of serveFast). SetCanonical only reads it.
		f.h.SetCanonical(unsafe.Slice(unsafe.StringData(key), len(key)), unsafe.Slice(unsafe.StringData(v), len(v)))
	}
}
