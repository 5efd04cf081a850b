package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// hugoSite is the configuration and layouts of the Hugo site the bench
// builds around the corpus: the home page lists every article (as
// dropfeed's index does), each article has a page, and the home RSS feed
// holds the newest 50 (dropfeed's default limit). Taxonomies, sitemap and
// robots.txt are off; dropfeed has none of them.
var hugoSite = map[string]string{
	"hugo.toml": `baseURL = "http://127.0.0.1/"
title = "hugo bench"
disableKinds = ["taxonomy", "term", "sitemap", "robotsTXT", "404"]
[services.rss]
limit = 50
[outputs]
home = ["html", "rss"]
section = ["html"]
page = ["html"]
`,
	"layouts/home.html": `<!DOCTYPE html>
<html><head><title>{{ .Site.Title }}</title></head>
<body><ol>{{ range .Site.RegularPages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Date.Format "2006-01-02" }}<p>{{ .Summary }}</p></li>{{ end }}</ol></body></html>
`,
	"layouts/list.html": `<!DOCTYPE html>
<html><head><title>{{ .Title }}</title></head>
<body><ol>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ol></body></html>
`,
	"layouts/single.html": `<!DOCTYPE html>
<html><head><title>{{ .Title }}</title></head>
<body><article><h1>{{ .Title }}</h1><p>{{ .Date.Format "2006-01-02" }} · {{ .Params.author }}</p>{{ .Content }}</article></body></html>
`,
}

// hugoResult is what `hugo server` showed with one corpus size.
type hugoResult struct {
	Articles int           `json:"articles"`
	Version  string        `json:"version"`
	Start    time.Duration `json:"start_ns"` // process start to /index.xml 200
	StartRSS int64         `json:"start_peak_rss_bytes"`
	Drop     dropResult    `json:"drop"`
}

// writeHugoSite writes the Hugo site into dir: the layouts and the same n
// articles as the dropfeed corpus, all as Markdown with front matter (Hugo
// does not read plain text articles).
func writeHugoSite(dir string, n int, seed uint64) error {
	for name, text := range hugoSite {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return err
		}
	}
	g := newGenerator(seed)
	made := map[string]bool{}
	for i := range n {
		f, a := corpusArticle(g, i)
		name := strings.TrimSuffix(f.Name, filepath.Ext(f.Name)) + ".md"
		p := filepath.Join(dir, "content", filepath.FromSlash(name))
		if d := filepath.Dir(p); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			made[d] = true
		}
		if err := os.WriteFile(p, a.markdown(true), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// hugoRun measures `hugo server` on the corpus of size n: start-up, then
// drops of dated Markdown articles until each is in /index.xml. Fast
// render mode is off: in it Hugo re-renders only the pages a browser has
// open, and never updates index.xml for a new file.
func hugoRun(ctx context.Context, cfg *config, work string, n int) (hugoResult, error) {
	res := hugoResult{Articles: n}
	if out, err := exec.CommandContext(ctx, cfg.hugo, "version").Output(); err == nil {
		res.Version = strings.TrimSpace(string(out))
	}
	site := filepath.Join(work, fmt.Sprintf("hugo-%d", n))
	defer func() {
		if !cfg.keep {
			os.RemoveAll(site)
		}
	}()
	if err := writeHugoSite(site, n, cfg.seed); err != nil {
		return res, fmt.Errorf("hugo site: %w", err)
	}
	flushWrites()
	stage := filepath.Join(site, "staging")
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return res, err
	}
	addr, err := freeAddr()
	if err != nil {
		return res, err
	}
	_, port, _ := net.SplitHostPort(addr) // freeAddr returns host:port
	base := "http://" + addr + "/"
	srv, err := startServer(ctx, "hugo", base, filepath.Join(work, fmt.Sprintf("hugo-%d.log", n)), []string{
		cfg.hugo, "server", "--source", site, "--bind", "127.0.0.1", "--port", port, "--baseURL", base,
		"--appendPort=false", "--disableLiveReload", "--disableFastRender", "--renderToMemory", "--logLevel", "warn",
	}, site, nil)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	if res.Start, err = srv.waitOK(ctx, newClient(), "index.xml", cfg.poll, cfg.readyTimeout); err != nil {
		return res, fmt.Errorf("hugo N=%d start: %w", n, err)
	}
	if res.StartRSS, err = peakRSS(srv.pid()); err != nil {
		return res, err
	}
	g := newGenerator(cfg.seed ^ uint64(n) ^ 0x68756730)
	nonce := fmt.Sprintf("h%x", time.Now().UnixNano()&0xffffff)
	res.Drop, err = measureDrops(ctx, dropPlan{
		srv:      srv,
		feedPath: "index.xml",
		dir:      filepath.Join(site, "content"),
		stage:    stage,
		drops:    cfg.hugoDrops,
		interval: cfg.poll,
		timeout:  cfg.dropTimeout,
		make: func(i int) corpusFile {
			f, a := dropArticle(g, i, nonce)
			f.Name = strings.TrimSuffix(f.Name, filepath.Ext(f.Name)) + ".md"
			f.Data = a.markdown(true)
			return f
		},
	})
	if err != nil {
		return res, fmt.Errorf("hugo N=%d drops: %w\nhugo log:\n%s", n, err, srv.logTail(10))
	}
	return res, nil
}
