package feed

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/dropfeed/dropfeed/content"
)

// How the feed is split into documents (RFC 5005, "archived feeds"):
//
// The published articles, oldest first, are cut into pages of Limit items:
// page 1 holds the oldest. The main feed holds the newest Limit items (fewer
// when the byte cap bites) and every older article is on exactly one page.
// Only the newest page can be incomplete. A page is sealed once a newer page
// exists: its set of articles and its links are then final, so it is served
// as immutable. New articles only ever fill the newest page, so sealed pages
// keep their bytes; only an edit or a deletion of one of their own articles,
// or an article dated before them, changes them.

// archivePath is the served path, without extension, of archive page n.
func archivePath(n int) string {
	return "archive/" + strconv.Itoa(n)
}

// archivePages cuts the archived articles, given newest first, into pages
// of size items, oldest page first; each page lists its articles newest
// first, as every feed does. The pages share archived's array.
func archivePages(archived []*content.Article, size int) [][]*content.Article {
	var pages [][]*content.Article
	for end := len(archived); end > 0; end -= size {
		pages = append(pages, archived[max(0, end-size):end])
	}
	return pages
}

// archivePageCount is how many pages n archived articles fill.
func archivePageCount(n, size int) int {
	return (n + size - 1) / size
}

// mainInfo describes the main feed when pages archive pages exist.
func mainInfo(pages int, hubs []string, tombstones []tombstone) docInfo {
	info := docInfo{path: mainFeedPath, hubs: hubs, tombstones: tombstones, history: historyComplete}
	if pages > 0 {
		info.history = historyNone
		info.links = []docLink{{rel: "prev-archive", path: archivePath(pages)}}
	}
	return info
}

// archiveInfo describes archive page n of pages.
func archiveInfo(n, pages int, hubs []string) docInfo {
	info := docInfo{
		path:    archivePath(n),
		history: historyArchive,
		hubs:    hubs,
		links:   []docLink{{rel: "current", path: mainFeedPath}},
	}
	if n > 1 {
		info.links = append(info.links, docLink{rel: "prev-archive", path: archivePath(n - 1)})
	}
	if n < pages {
		info.links = append(info.links, docLink{rel: "next-archive", path: archivePath(n + 1)})
	}
	return info
}

// tagGroup is the articles sharing one tag, as its feed shows them.
type tagGroup struct {
	slug     string             // URL name: /tags/<slug>.atom
	name     string             // the spelling of the newest article that has it
	articles []*content.Article // the newest, newest first: as many as a feed shows
	count    int                // how many articles have the tag
}

// tagPath is the served path, without extension, of a tag's feeds.
func tagPath(slug string) string {
	return "tags/" + slug
}

// tagName is how a tag spelling is shown and named in URLs.
type tagName struct{ name, slug string }

// groupTags groups the published articles, newest first, by tag slug, so
// that tags differing in case or punctuation only share one feed. Tags
// without a letter or digit have no feed. Groups are sorted by slug.
// Each group keeps its newest limit articles, which is all a feed shows,
// and counts the rest. known holds the names of spellings seen before
// (folding and normalising every tag of every article is most of the cost
// otherwise); the names of this call's spellings are returned for the next.
func groupTags(published []*content.Article, limit int, known map[string]tagName) ([]tagGroup, map[string]tagName) {
	names := make(map[string]tagName, len(known))
	bySlug := map[string]*tagGroup{}
	// The group of each tag spelling, so that an article's tag costs one
	// lookup: there are far fewer spellings than articles.
	byTag := make(map[string]*tagGroup, len(known))
	var seen []*tagGroup
	for _, a := range published {
		seen = seen[:0]
		for _, t := range a.Tags {
			g, ok := byTag[t]
			if !ok {
				tn, ok := known[t]
				if !ok {
					name := strings.TrimSpace(xmlText(t))
					tn = tagName{name: name, slug: tagSlug(name)}
				}
				names[t] = tn
				if tn.slug != "" {
					if g = bySlug[tn.slug]; g == nil {
						g = &tagGroup{slug: tn.slug, name: tn.name}
						bySlug[tn.slug] = g
					}
				}
				byTag[t] = g
			}
			if g == nil || slices.Contains(seen, g) {
				continue
			}
			seen = append(seen, g)
			if g.count < limit {
				g.articles = append(g.articles, a)
			}
			g.count++
		}
	}
	groups := make([]tagGroup, 0, len(bySlug))
	for _, g := range bySlug {
		groups = append(groups, *g)
	}
	slices.SortFunc(groups, func(a, b tagGroup) int { return cmp.Compare(a.slug, b.slug) })
	return groups, names
}

// maxTagSlug bounds a tag slug in bytes, well under file name limits.
const maxTagSlug = 100

// tagFold folds case for grouping tags; it is immutable once built.
var tagFold = cases.Fold()

// tagSlug returns the URL name of a tag: its letters and digits, case
// folded and in NFC, every other run of characters as one "-", without a
// leading or trailing "-". It never holds "/", "." or anything a URL or a
// file name would need to escape, so it is safe as one path segment.
func tagSlug(tag string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFC.String(tagFold.String(tag)) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			if b.Len()+utf8.RuneLen(r) > maxTagSlug {
				break
			}
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}
