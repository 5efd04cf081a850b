// Package feed turns content.Articles into Atom 1.0, RSS 2.0 and JSON Feed
// 1.1 documents and serves them over HTTP, together with a small HTML index
// and one page per article.
//
// Render builds the three documents with github.com/gorilla/feeds, adding
// what that library leaves out (self links, category terms, Dublin Core
// creators, an always-present JSON items array) and scrubbing every string
// so that the output is well-formed whatever it is given. Handler keeps the
// rendered documents in memory and serves them with conditional GET and gzip.
//
// The package does not read files, filter drafts or watch folders: the
// caller hands it the articles to publish.
package feed
