package feed

import (
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/dropfeed/dropfeed/content"
)

// pageTemplates holds the HTML index and article page; built once, never changed.
var pageTemplates = template.Must(template.New("page").Funcs(template.FuncMap{
	"isoDate":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"showDate": showDate,
}).Parse(pageLayout))

const pageLayout = `{{define "head"}}<!DOCTYPE html>
<html{{with .Lang}} lang="{{.}}"{{end}}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{range .Feeds}}<link rel="alternate" type="{{.Type}}" title="{{.Title}}" href="{{.Href}}">
{{end}}<style>
body { max-width: 42rem; margin: 2rem auto; padding: 0 1rem; font: 1.05rem/1.6 system-ui, sans-serif; color: #222; background: #fff; }
a { color: #0645ad; }
header, footer { color: #555; font-size: 0.9rem; }
h1 { line-height: 1.2; }
ol.articles { list-style: none; padding: 0; }
ol.articles li { margin: 1.5rem 0; }
ol.articles h2 { font-size: 1.2rem; margin: 0; }
.meta { color: #666; font-size: 0.9rem; }
.tags { list-style: none; padding: 0; display: inline; }
.tags li { display: inline; margin-right: 0.5rem; }
article img, article video { max-width: 100%; height: auto; }
pre { overflow-x: auto; }
@media (prefers-color-scheme: dark) { body { color: #ddd; background: #181818; } a { color: #8ab4f8; } .meta, header, footer { color: #aaa; } }
</style>
</head>
<body>
{{end}}

{{define "feeds"}}<p class="meta">Subscribe: {{range $i, $f := .Feeds}}{{if $i}} · {{end}}<a href="{{$f.Href}}" type="{{$f.Type}}">{{$f.Title}}</a>{{end}}</p>{{end}}

{{define "index"}}{{template "head" .}}<header>
<h1>{{.Title}}</h1>
{{with .Site.Description}}<p>{{.}}</p>{{end}}
{{template "feeds" .}}
</header>
<main>
{{if .Articles}}{{template "list" .Articles}}{{else}}<p>Nothing published yet.</p>
{{end}}{{with .Older}}<nav><p><a href="{{.}}" rel="prev">Older articles</a></p></nav>
{{end}}{{with .Tags}}<section>
<h2>Tags</h2>
<ul class="taglist">
{{range .}}<li>{{.Name}} ({{.Count}}): <a href="{{.Atom}}" type="application/atom+xml">Atom</a> · <a href="{{.RSS}}" type="application/rss+xml">RSS</a> · <a href="{{.JSON}}" type="application/feed+json">JSON Feed</a></li>
{{end}}</ul>
</section>
{{end}}</main>
</body>
</html>
{{end}}

{{define "list"}}<ol class="articles">
{{range .}}<li>
<h2><a href="{{.URL}}">{{.Title}}</a></h2>
<p class="meta"><time datetime="{{isoDate .Published}}">{{showDate .Published}}</time></p>
{{with .Summary}}<p>{{.}}</p>{{end}}
</li>
{{end}}</ol>
{{end}}

{{define "archive"}}{{template "head" .}}<header>
<p><a href="{{.Home}}">← {{.SiteTitle}}</a></p>
<h1>{{.Heading}}</h1>
</header>
<main>
{{template "list" .Articles}}<nav><p><a href="{{.Newer}}" rel="next">Newer articles</a>{{with .Older}} · <a href="{{.}}" rel="prev">Older articles</a>{{end}}</p></nav>
</main>
<footer>
{{template "feeds" .}}
</footer>
</body>
</html>
{{end}}

{{define "article"}}{{template "head" .}}<header>
<p><a href="{{.Home}}">← {{.SiteTitle}}</a></p>
</header>
<main>
<article>
<h1>{{.Article.Title}}</h1>
<p class="meta">Published <time datetime="{{isoDate .Article.Published}}">{{showDate .Article.Published}}</time>
{{- if .Edited}} · updated <time datetime="{{isoDate .Article.Updated}}">{{showDate .Article.Updated}}</time>{{end}}
{{- with .Article.Author}} · by {{.}}{{end}}</p>
{{with .Article.Tags}}<div class="meta">Tags: <ul class="tags">{{range .}}<li>{{.}}</li>{{end}}</ul></div>
{{end}}{{.Body}}
</article>
</main>
<footer>
<p><a href="{{.Home}}">All articles</a></p>
{{template "feeds" .}}
</footer>
</body>
</html>
{{end}}`

// feedLink is one feed as the pages link to it.
type feedLink struct {
	Title, Type, Href string
}

// indexItem is one article as the index lists it.
type indexItem struct {
	Title, URL, Summary string
	Published           time.Time
}

// indexTag is one tag as the index lists it, with its feeds.
type indexTag struct {
	Name            string
	Count           int
	Atom, RSS, JSON string
}

// indexPage is the data of the "index" template.
type indexPage struct {
	Site     Site
	Title    string
	Lang     string
	Feeds    []feedLink
	Articles []indexItem
	Older    string // the newest archive page, when there is one
	Tags     []indexTag
}

// archivePage is the data of the "archive" template.
type archivePage struct {
	Title        string
	Heading      string
	Lang         string
	Home         string
	SiteTitle    string
	Feeds        []feedLink
	Articles     []indexItem
	Newer, Older string
}

// articlePage is the data of the "article" template.
type articlePage struct {
	Site      Site
	Title     string
	Lang      string
	Home      string
	SiteTitle string
	Feeds     []feedLink
	Article   *content.Article
	Body      template.HTML
	Edited    bool
}

// feedLinks lists the three feeds with their media types, for autodiscovery
// and for the visible links.
func feedLinks(site Site) []feedLink {
	return []feedLink{
		{Title: "Atom", Type: "application/atom+xml", Href: FeedURL(site.BaseURL, "feed.atom")},
		{Title: "RSS", Type: "application/rss+xml", Href: FeedURL(site.BaseURL, "feed.rss")},
		{Title: "JSON Feed", Type: "application/feed+json", Href: FeedURL(site.BaseURL, "feed.json")},
	}
}

// renderIndex renders the HTML page listing articles in the given order,
// a link to the newest of the archived pages when there are any, then the
// tags with their feeds.
func renderIndex(site Site, articles []*content.Article, archived int, tags []tagGroup) ([]byte, error) {
	items, err := indexItems(site, articles)
	if err != nil {
		return nil, fmt.Errorf("render index: %w", err)
	}
	data := indexPage{
		Site:     site,
		Title:    siteTitle(site),
		Lang:     site.Language,
		Feeds:    feedLinks(site),
		Articles: items,
	}
	if archived > 0 {
		data.Older = docURL(site.BaseURL, archivePath(archived), "html")
	}
	for _, t := range tags {
		p := tagPath(t.slug)
		data.Tags = append(data.Tags, indexTag{
			Name:  t.name,
			Count: t.count,
			Atom:  docURL(site.BaseURL, p, "atom"),
			RSS:   docURL(site.BaseURL, p, "rss"),
			JSON:  docURL(site.BaseURL, p, "json"),
		})
	}
	return execute("index", data)
}

// renderArchivePage renders archive page n as HTML: the articles of the
// feed archive page n, with links to the newer page (the index, when n is
// the newest page) and the older one.
func renderArchivePage(site Site, n int, sealed bool, articles []*content.Article) ([]byte, error) {
	items, err := indexItems(site, articles)
	if err != nil {
		return nil, fmt.Errorf("render archive page %d: %w", n, err)
	}
	heading := "Archive page " + strconv.Itoa(n)
	data := archivePage{
		Title:     heading + " – " + siteTitle(site),
		Heading:   heading,
		Lang:      site.Language,
		Home:      site.BaseURL.String(),
		SiteTitle: siteTitle(site),
		Feeds:     feedLinks(site),
		Articles:  items,
		Newer:     site.BaseURL.String(),
	}
	if sealed {
		data.Newer = docURL(site.BaseURL, archivePath(n+1), "html")
	}
	if n > 1 {
		data.Older = docURL(site.BaseURL, archivePath(n-1), "html")
	}
	return execute("archive", data)
}

// indexItems lists articles as the index and archive pages show them.
func indexItems(site Site, articles []*content.Article) ([]indexItem, error) {
	items := make([]indexItem, len(articles))
	for i, a := range articles {
		summary, err := a.LoadSummary()
		if err != nil {
			return nil, err
		}
		items[i] = indexItem{
			Title:     a.Title,
			URL:       ArticleURL(site.BaseURL, a.Slug),
			Summary:   summary,
			Published: a.Published,
		}
	}
	return items, nil
}

// renderArticle renders one article as an HTML page. Its HTML is already
// sanitised, so it is inserted as is.
func renderArticle(site Site, a *content.Article) ([]byte, error) {
	lang := a.Language
	if lang == "" {
		lang = site.Language
	}
	body, err := a.LoadHTML()
	if err != nil {
		return nil, fmt.Errorf("render article page: %w", err)
	}
	title := a.Title + " – " + siteTitle(site)
	return execute("article", articlePage{
		Site:      site,
		Title:     title,
		Lang:      lang,
		Home:      site.BaseURL.String(),
		SiteTitle: siteTitle(site),
		Feeds:     feedLinks(site),
		Article:   a,
		Body:      template.HTML(body),
		Edited:    !a.Updated.IsZero() && showDate(a.Updated) != showDate(a.Published),
	})
}

// showDate is the date pages show: the UTC calendar day, as the feeds use UTC.
func showDate(t time.Time) string {
	return t.UTC().Format("2006-01-02")
}

// siteTitle is the site's title, or its host when it has none.
func siteTitle(site Site) string {
	if site.Title != "" {
		return site.Title
	}
	return site.BaseURL.Host
}

func execute(name string, data any) ([]byte, error) {
	buf := getScratch()
	defer putScratch(buf)
	if err := pageTemplates.ExecuteTemplate(buf, name, data); err != nil {
		return nil, fmt.Errorf("render %s page: %w", name, err)
	}
	return copied(buf), nil
}
