package feed

import (
	"fmt"
	"log/slog"
	"maps"
	"sync"

	"github.com/dropfeed/dropfeed/content"
)

// maxCachedPages bounds the article pages kept between requests by a
// serving Handler; an export keeps all of them (see Files).
const maxCachedPages = 4096

// articlePages finds a version's article pages. A version holds no
// document per article: with 100,000 articles that was a map entry, a
// resource and two copies of the article each, built on every change for
// pages that are seldom asked for. Instead the slug index is built on the
// first request for a page, and the pages rendered are kept in a pageCache
// from one version to the next while their article is unchanged.
type articlePages struct {
	published []*content.Article    // newest first
	slugs     func() map[string]int // published's index by slug, built once
}

func newArticlePages(published []*content.Article, log *slog.Logger) articlePages {
	return articlePages{published: published, slugs: sync.OnceValue(func() map[string]int {
		m := make(map[string]int, len(published))
		for i, a := range published {
			if _, dup := m[a.Slug]; dup {
				// Newest first, so the newer article keeps the URL.
				log.Warn("duplicate article slug; older article has no page", "slug", a.Slug, "path", a.Path)
				continue
			}
			m[a.Slug] = i
		}
		return m
	})}
}

// article returns the article whose page is at slug.
func (p articlePages) article(slug string) (*content.Article, bool) {
	if p.slugs == nil {
		return nil, false
	}
	i, ok := p.slugs()[slug]
	if !ok {
		return nil, false
	}
	return p.published[i], true
}

// pageCache keeps rendered (or about to be rendered) article pages by slug.
type pageCache struct {
	mu    sync.Mutex
	pages map[string]*resource
}

// page returns the page of a at slug: the cached one while a is unchanged,
// else a new one, rendered on first use, that replaces it.
func (h *Handler) page(slug string, a *content.Article) *resource {
	c := &h.pageCache
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.pages[slug]
	if old != nil && sameArticle(old.src.articles[0], a) {
		return old
	}
	if old == nil && len(c.pages) >= maxCachedPages {
		for s := range c.pages { // any one: map order is random
			delete(c.pages, s)
			break
		}
	}
	if c.pages == nil {
		c.pages = map[string]*resource{}
	}
	res := h.newPage(old, a)
	c.pages[slug] = res
	return res
}

// newPage returns the page of a, rendered on first use, replacing prev.
func (h *Handler) newPage(prev *resource, a *content.Article) *resource {
	site := h.site
	src := &pageSource{articles: []*content.Article{a}}
	return lazyResource(prev, resource{contentType: htmlType}, src, func() ([]byte, error) {
		page, err := renderArticle(site, src.articles[0])
		if err != nil {
			return nil, fmt.Errorf("article %q: %w", a.Path, err)
		}
		return page, nil
	}, a.Updated, h.now())
}

// allPages returns the page of every article of v by slug, and keeps
// exactly those in the cache: an export writes them all, and asks again
// after the next change.
func (h *Handler) allPages(v *version) map[string]*resource {
	slugs := v.pages.slugs()
	c := &h.pageCache
	c.mu.Lock()
	defer c.mu.Unlock()
	pages := make(map[string]*resource, len(slugs))
	for slug, i := range slugs {
		a := v.pages.published[i]
		res := c.pages[slug]
		if res == nil || !sameArticle(res.src.articles[0], a) {
			res = h.newPage(res, a)
		}
		pages[slug] = res
	}
	c.pages = maps.Clone(pages)
	return pages
}
