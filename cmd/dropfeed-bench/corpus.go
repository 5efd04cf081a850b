package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Article sizes of the synthetic corpus, in bytes of body text.
const (
	minArticleBytes = 2 << 10
	maxArticleBytes = 8 << 10
)

// corpusEpoch is the newest date a corpus article carries; dropped articles
// are dated later, so each one lands at the top of the feed.
var corpusEpoch = time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)

// words are the vocabulary of the generated prose: everyday news English.
var words = strings.Fields(`the a of to and in on for with at by from as that this it its was were is are be
has have had will would could said says after before over under about into city council mayor budget
vote plan transport tram bus line station river bridge school hospital nurses students teachers parents
residents market prices housing rent energy water weather storm flood summer winter spring autumn year
month week day morning evening night report survey figures data growth costs millions thousands local
national regional government minister committee court judge police officers firefighters museum library
park garden festival concert football club match season team players coach fans stadium street road
traffic cyclists drivers railway airport harbour port ships fishing farmers harvest wheat apples coffee
shop owners workers union strike talks agreement deal contract company jobs factory plant project
construction works delay opening closure protest campaign petition election candidates voters turnout
result count poll share percent rise fall increase decrease record highest lowest first last new old
small large long short early late open public private free paid service services support funding grant
fund money tax taxes spending savings loan bank rates inflation economy business trade exports imports
research scientists study university campus experts analysis evidence review inquiry findings warning
safety health care doctors patients treatment clinic waiting lists emergency ambulance response times`)

// bylines are the authors the corpus articles are credited to.
var bylines = []string{
	"Marta Kowal", "Elif Demir", "James O'Neill", "Ana Souza", "Kenji Watanabe",
	"Priya Raman", "Lars Eriksson", "Fatima Haddad", "Tomás Ruiz", "Grace Mensah",
}

// places open the datelines of the news-style text articles.
var places = []string{"LONDON", "LISBON", "NAIROBI", "OSAKA", "OSLO", "TORONTO", "LYON", "PORTO", "GDANSK", "ACCRA"}

// tagNames are the tags of the Markdown articles.
var tagNames = []string{"city", "transport", "health", "schools", "economy", "weather", "culture", "sport", "housing", "science"}

// article is one generated article, before it is written in a format.
type article struct {
	Title   string
	Date    time.Time
	Author  string
	Tags    []string
	Paras   []string
	Heading string
}

// generator makes deterministic synthetic articles.
type generator struct {
	rng *rand.Rand
}

func newGenerator(seed uint64) *generator {
	return &generator{rng: rand.New(rand.NewPCG(seed, 0x6472_6f70_6665_6564))}
}

func (g *generator) word() string { return words[g.rng.IntN(len(words))] }

// sentence returns one capitalised sentence of 6 to 22 words.
func (g *generator) sentence() string {
	n := 6 + g.rng.IntN(17)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = g.word()
	}
	ws[0] = strings.ToUpper(ws[0][:1]) + ws[0][1:]
	if n > 10 && g.rng.IntN(3) == 0 {
		ws[n/2] += ","
	}
	return strings.Join(ws, " ") + "."
}

// paragraph returns 2 to 5 sentences.
func (g *generator) paragraph() string {
	n := 2 + g.rng.IntN(4)
	ss := make([]string, n)
	for i := range ss {
		ss[i] = g.sentence()
	}
	return strings.Join(ss, " ")
}

// headline returns a title that begins with the unique label.
func (g *generator) headline(label string) string {
	ws := []string{label}
	for range 4 + g.rng.IntN(5) {
		w := g.word()
		ws = append(ws, strings.ToUpper(w[:1])+w[1:])
	}
	return strings.Join(ws, " ")
}

// article generates an article whose title starts with label, dated date,
// with a body of minArticleBytes to maxArticleBytes.
func (g *generator) article(label string, date time.Time) article {
	a := article{
		Title:   g.headline(label),
		Date:    date,
		Author:  bylines[g.rng.IntN(len(bylines))],
		Heading: g.headline("Background"),
	}
	for range 1 + g.rng.IntN(3) {
		a.Tags = append(a.Tags, tagNames[g.rng.IntN(len(tagNames))])
	}
	target := minArticleBytes + g.rng.IntN(maxArticleBytes-minArticleBytes+1)
	for size := 0; size < target; {
		p := g.paragraph()
		a.Paras = append(a.Paras, p)
		size += len(p) + 2
	}
	return a
}

// markdown renders a as a Markdown file with YAML front matter. With dated
// false the date is left out, so the reader's first sight dates it.
func (a article) markdown(dated bool) []byte {
	var b strings.Builder
	b.WriteString("---\n")
	fmt.Fprintf(&b, "title: %q\n", a.Title)
	if dated {
		fmt.Fprintf(&b, "date: %s\n", a.Date.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "author: %q\n", a.Author)
	fmt.Fprintf(&b, "tags: [%s]\n", strings.Join(a.Tags, ", "))
	b.WriteString("---\n\n")
	for i, p := range a.Paras {
		switch {
		case i == len(a.Paras)/2:
			fmt.Fprintf(&b, "## %s\n\n", a.Heading)
		case i == 1:
			// Some inline markup, so the Markdown renderer has work to do.
			p = strings.Replace(p, " ", " *", 1)
			p = strings.Replace(p, " ", "* ", 2)
			p += " More at [the council site](https://example.org/council)."
		case i == 2 && len(a.Paras) > 4:
			b.WriteString("- " + a.Tags[0] + " plans\n- budget figures\n- next steps\n\n")
		}
		b.WriteString(p)
		b.WriteString("\n\n")
	}
	return []byte(b.String())
}

// newsText renders a as a plain-text news article: a banner, the headline,
// a byline, a dateline, hard-wrapped paragraphs and a closing appeal; the
// boilerplate is there for the text reader to drop. The date is not in the
// text: the file name carries it (YYYY-MM-DD-name.txt) when it should.
func (a article) newsText(n int) []byte {
	var b strings.Builder
	if n%2 == 0 {
		b.WriteString("Support the Riverside Herald!\n\n")
	}
	b.WriteString(a.Title + "\n\n")
	fmt.Fprintf(&b, "By %s\n\n", a.Author)
	for i, p := range a.Paras {
		if i == 0 {
			p = fmt.Sprintf("%s, %s (Herald) - %s", places[n%len(places)], a.Date.Format("January 2"), p)
		}
		b.WriteString(wrap(p, 72))
		b.WriteString("\n\n")
	}
	if n%3 == 0 {
		b.WriteString("… we have a small favor to ask.\n\nThe Riverside Herald is free to read. " +
			"If you can, please support us with a small monthly gift.\n\nRead more\n")
	}
	return []byte(b.String())
}

// wrap hard-wraps s at width columns, as mailed and agency copy is.
func wrap(s string, width int) string {
	var b strings.Builder
	col := 0
	for i, w := range strings.Fields(s) {
		if i > 0 {
			if col+1+len(w) > width {
				b.WriteByte('\n')
				col = 0
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

// corpusFile is one file of the corpus: its name in the folder and bytes.
type corpusFile struct {
	Name  string
	Title string
	Data  []byte
}

// corpusArticle returns the i-th article of the corpus: three in five are
// Markdown with front matter, the rest news-style text named with a date
// prefix. Dates step back from corpusEpoch, one article every 37 minutes.
func corpusArticle(g *generator, i int) (corpusFile, article) {
	label := fmt.Sprintf("Item %06d", i)
	date := corpusEpoch.Add(-time.Duration(i) * 37 * time.Minute)
	a := g.article(label, date)
	if i%5 < 3 {
		return corpusFile{Name: fmt.Sprintf("posts/%03d/item-%06d.md", i/1000, i), Title: a.Title, Data: a.markdown(true)}, a
	}
	name := fmt.Sprintf("news/%03d/%s-item-%06d.txt", i/1000, date.Format("2006-01-02"), i)
	return corpusFile{Name: name, Title: a.Title, Data: a.newsText(i)}, a
}

// dropArticle returns the i-th dropped article: undated, so it is
// published at first sight, newer than the whole corpus; Markdown and text
// alternate. nonce keeps titles unique across runs on the same folder.
func dropArticle(g *generator, i int, nonce string) (corpusFile, article) {
	label := fmt.Sprintf("Drop %04d %s", i, nonce)
	a := g.article(label, time.Now().UTC().Add(-time.Second))
	if i%2 == 0 {
		return corpusFile{Name: fmt.Sprintf("drop-%s-%04d.md", nonce, i), Title: a.Title, Data: a.markdown(false)}, a
	}
	return corpusFile{Name: fmt.Sprintf("drop-%s-%04d.txt", nonce, i), Title: a.Title, Data: a.newsText(i)}, a
}

// writeCorpus fills dir with n articles, in nested folders of at most 1000
// files, and returns the total bytes written.
func writeCorpus(dir string, n int, seed uint64) (int64, error) {
	g := newGenerator(seed)
	var total int64
	made := map[string]bool{}
	for i := range n {
		f, _ := corpusArticle(g, i)
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if d := filepath.Dir(p); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return total, fmt.Errorf("corpus: %w", err)
			}
			made[d] = true
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return total, fmt.Errorf("corpus: %w", err)
		}
		total += int64(len(f.Data))
	}
	return total, nil
}
