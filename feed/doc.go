// Package feed turns content.Articles into Atom 1.0, RSS 2.0 and JSON Feed
// 1.1 documents and serves them over HTTP, together with a small HTML index
// and one page per article.
//
// Render builds the three documents with github.com/gorilla/feeds, adding
// what that library leaves out (self links, category terms, Dublin Core
// creators, an always-present JSON items array) and scrubbing every string
// so that the output is well-formed whatever it is given. Handler keeps the
// rendered documents in memory and serves them with conditional GET and
// gzip: the main feed, RFC 5005 archive pages (archive.go says how the
// articles are split), one feed per tag, RFC 6721 tombstones for deleted
// articles, WebSub discovery links, an optional per-client rate limit and
// Prometheus metrics. Handler is an http.Handler; FastHTTP and NewServer
// put it behind a fasthttp server that answers the requests pollers make
// most without net/http. Files hands the same bytes to a static export.
//
// The package does not read files, watch folders or ping WebSub hubs: the
// caller hands it the articles (drafts and future-dated ones are held back
// here) and learns through Options.OnChange which feeds changed.
package feed
