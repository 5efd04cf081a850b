package feed

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/dropfeed/dropfeed/content"
)

// A change adds, replaces or removes a few articles of a list of
// 100,000 and leaves the others where they were, by pointer (Update's
// caller never changes an article it handed over). Walking the new list
// against the last one finds what stayed without reading an article, so
// that the work a change does over every article (checking the order,
// grouping tags) is done for the articles that changed only. The walks
// are exact: an article the walk fails to pair is treated as changed,
// which costs time, never correctness.

// walkAhead is how many articles of the last list a walk looks past for
// the next article of the new one: one per article the change removed
// there. Past it the rest of the lists are compared article by article.
const walkAhead = 4

// listWalk pairs the articles of a new list, taken in order, with the
// same pointers in the last list.
type listWalk struct {
	last []*content.Article
	next int // the first article of last not yet paired or passed
}

// pair returns the index in the last list of a, the next article of the
// new list, or -1 when a is not within walkAhead of where the walk is. The
// articles of the last list it passes to find a are left unpaired.
func (w *listWalk) pair(a *content.Article) int {
	for k := w.next; k < len(w.last) && k <= w.next+walkAhead; k++ {
		if w.last[k] == a {
			w.next = k + 1
			return k
		}
	}
	return -1
}

// listDiff returns the articles of next that the walk does not pair with
// one of last (added, in next's order) and those of last left unpaired
// (gone, in last's order). An article that moved is in both.
func listDiff(last, next []*content.Article) (added, gone []*content.Article) {
	w := listWalk{last: last}
	for _, a := range next {
		from := w.next
		k := w.pair(a)
		if k < 0 {
			added = append(added, a)
			continue
		}
		gone = append(gone, last[from:k]...)
	}
	return added, append(gone, last[w.next:]...)
}

// maxRegroup is how many added and gone articles regroupTags takes; a
// change larger than that (a scan, a folder renamed) groups every tag
// again, which costs no more.
const maxRegroup = 256

// regroupTags returns groupTags(published, limit, known) for a version
// whose previous one grouped lastPublished into last, known holding that
// grouping's names, both lists in content.FeedOrder: it adds and takes
// away the articles that changed instead of grouping every article again.
// It reports false, with the caller then calling groupTags, when the
// change is large or a group lost an article it showed and has more than
// it can now show (the next one is unknown without a look at every
// article).
func regroupTags(last []tagGroup, lastPublished, published []*content.Article, limit int, known map[string]tagName) ([]tagGroup, map[string]tagName, bool) {
	added, gone := listDiff(lastPublished, published)
	if len(added)+len(gone) > maxRegroup {
		return nil, nil, false
	}
	if len(added) == 0 && len(gone) == 0 {
		return last, known, true
	}
	names, cloned := known, false
	nameOf := func(t string) tagName {
		tn, ok := names[t]
		if !ok {
			if !cloned {
				// known belongs to the last version. Names of spellings no
				// longer used stay until the next groupTags: they are only
				// a cache of what xmlText and tagSlug return.
				names, cloned = make(map[string]tagName, len(known)+1), true
				maps.Copy(names, known)
			}
			name := strings.TrimSpace(xmlText(t))
			tn = tagName{name: name, slug: tagSlug(name)}
			names[t] = tn
		}
		return tn
	}
	// The groups the change touches, copied; the others are shared. A
	// group that shows fewer articles than it has knows nothing of those
	// after the last it shows (edge): an added article there is counted,
	// not shown, as one of them may come first.
	type regroup struct {
		tagGroup
		edge *content.Article
	}
	touched := map[string]*regroup{}
	bySlug := func(slug string) *regroup {
		if g := touched[slug]; g != nil {
			return g
		}
		g := &regroup{tagGroup: tagGroup{slug: slug}}
		if i, ok := slices.BinarySearchFunc(last, slug, func(g tagGroup, s string) int { return cmp.Compare(g.slug, s) }); ok {
			g.tagGroup = last[i]
			g.articles = slices.Clone(g.articles)
			if g.count > len(g.articles) {
				g.edge = g.articles[len(g.articles)-1]
			}
		}
		touched[slug] = g
		return g
	}
	// Each group an article counts in once, however many of its tags
	// name it.
	var seen []string
	slugsOf := func(a *content.Article) []string {
		seen = seen[:0]
		for _, t := range a.Tags {
			if s := nameOf(t).slug; s != "" && !slices.Contains(seen, s) {
				seen = append(seen, s)
			}
		}
		return seen
	}
	for _, a := range gone {
		for _, s := range slugsOf(a) {
			g := bySlug(s)
			g.count--
			if i := slices.Index(g.articles, a); i >= 0 {
				g.articles = slices.Delete(g.articles, i, i+1)
			}
		}
	}
	for _, a := range added {
		for _, s := range slugsOf(a) {
			g := bySlug(s)
			g.count++
			if g.edge != nil && content.FeedOrder(a, g.edge) > 0 {
				continue
			}
			i, _ := slices.BinarySearchFunc(g.articles, a, content.FeedOrder)
			if i < limit {
				g.articles = slices.Insert(g.articles, i, a)
				g.articles = g.articles[:min(len(g.articles), limit)]
			}
		}
	}
	groups := slices.Clone(last)
	for slug, g := range touched {
		if len(g.articles) < min(g.count, limit) {
			return nil, nil, false // an article it showed went and another should show
		}
		i, found := slices.BinarySearchFunc(groups, slug, func(g tagGroup, s string) int { return cmp.Compare(g.slug, s) })
		switch {
		case g.count == 0 && found:
			groups = slices.Delete(groups, i, i+1)
		case g.count == 0:
		case found:
			groups[i] = g.tagGroup
		default:
			groups = slices.Insert(groups, i, g.tagGroup)
		}
		if g.count > 0 {
			// Named by the newest article that has it, as groupTags does.
			for _, t := range g.articles[0].Tags {
				if tn := nameOf(t); tn.slug == slug {
					groups[i].name = tn.name
					break
				}
			}
		}
	}
	return groups, names, true
}
