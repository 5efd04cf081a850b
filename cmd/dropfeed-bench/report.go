package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// target is one goal of issue 7 and whether this run met it.
type target struct {
	Goal  string `json:"goal"`
	Value string `json:"value"`
	Met   bool   `json:"met"`
}

// The goals the numbers are held to.
const (
	readyTarget      = 3 * time.Second
	rssTarget        = 300 << 20
	dropTargetSmall  = 300 * time.Millisecond // p99 at 2,000 articles
	dropTargetLarge  = 500 * time.Millisecond // p99 at 100,000 articles
	cpuFlatFactor    = 2.0                    // CPU per change at the largest N over the smallest
	nginxRatioTarget = 0.9
)

// evaluate checks the targets whose sizes this run measured.
func evaluate(rep *report) []target {
	var ts []target
	by := map[int]sizeResult{}
	for _, s := range rep.Sizes {
		by[s.Articles] = s
	}
	if s, ok := by[100000]; ok {
		ts = append(ts,
			target{"ready with 100,000 articles < 3 s", startValue(s), s.Start < readyTarget},
			target{"ready again with 100,000 articles < 3 s (restart, parse cache)", ms(s.Restart), s.Restart > 0 && s.Restart < readyTarget},
			target{"peak RSS with 100,000 articles < 300 MB", mb(max(s.StartRSS, s.Drop.PeakRSS)), max(s.StartRSS, s.Drop.PeakRSS) < rssTarget},
			target{"drop p99 with 100,000 articles < 500 ms", ms(s.Drop.P99), s.Drop.P99 < dropTargetLarge},
		)
	}
	if s, ok := by[2000]; ok {
		ts = append(ts, target{"drop p99 with 2,000 articles < 300 ms", ms(s.Drop.P99), s.Drop.P99 < dropTargetSmall})
	}
	if len(rep.Sizes) > 1 {
		lo, hi := rep.Sizes[0], rep.Sizes[0]
		for _, s := range rep.Sizes {
			if s.Articles < lo.Articles {
				lo = s
			}
			if s.Articles > hi.Articles {
				hi = s
			}
		}
		if lo.Drop.CPUPerChange > 0 {
			f := float64(hi.Drop.CPUPerChange) / float64(lo.Drop.CPUPerChange)
			ts = append(ts, target{
				fmt.Sprintf("CPU per change flat in N (%d vs %d articles, within %.0fx)", hi.Articles, lo.Articles, cpuFlatFactor),
				fmt.Sprintf("%s vs %s: %.1fx", ms(hi.Drop.CPUPerChange), ms(lo.Drop.CPUPerChange), f),
				f <= cpuFlatFactor,
			})
		}
	}
	if rep.Serving != nil {
		for _, c := range rep.Serving.Cases {
			if c.Ratio > 0 {
				ts = append(ts, target{"serving " + c.Name + " >= 0.9x nginx", floorX(c.Ratio), c.Ratio >= nginxRatioTarget})
			}
		}
	}
	return ts
}

// startValue is a first start's time, with that of reading the files
// alone beside it when the bench timed that.
func startValue(s sizeResult) string {
	if s.ReadAll.Took <= 0 {
		return ms(s.Start)
	}
	return fmt.Sprintf("%s (reading the files alone: %s)", ms(s.Start), ms(s.ReadAll.Took))
}

// floorX is r as "N.NNx", rounded down: a ratio under a target of two
// decimals never prints as the target (0.8985 as 0.89x, not 0.90x).
func floorX(r float64) string {
	return fmt.Sprintf("%.2fx", math.Floor(r*100)/100)
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

// printReport writes the results as aligned tables.
func printReport(w io.Writer, rep *report) {
	if rep == nil {
		return
	}
	fmt.Fprintf(w, "\ndropfeed-bench %s  commit %s  %s\n", rep.Date.Format(time.RFC3339), orDash(rep.Commit), rep.GoVersion)
	fmt.Fprintf(w, "machine: %d CPUs, %s, %d MB memory, Linux %s\n\n", rep.Machine.CPUs, rep.Machine.Model, rep.Machine.MemoryMB, rep.Machine.Kernel)

	if len(rep.Sizes) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "articles\tcorpus\tread all\tstart\trestart\tpeak RSS\tdrops\tdrop p50\tdrop p99\tdrop max\tCPU/change\tCPU/poll\t")
		for _, s := range rep.Sizes {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", s.Articles, mb(s.CorpusBytes), ms(s.ReadAll.Took), ms(s.Start), ms(s.Restart),
				mb(max(s.StartRSS, s.RestartRSS, s.Drop.PeakRSS)), s.Drop.Drops, ms(s.Drop.P50), ms(s.Drop.P99), ms(s.Drop.Max),
				ms(s.Drop.CPUPerChange), fmt.Sprintf("%.0f µs", float64(s.Drop.CPUPerPoll)/float64(time.Microsecond)))
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if s := rep.Serving; s != nil {
		fmt.Fprintf(w, "serving /feed.atom (%d articles; %d bytes, %d gzipped): %s, %d connections, median of %d × %s (the servers taking turns to go first)\n",
			s.Articles, s.Bytes, s.GzipBytes, s.LoadGen, s.Connections, s.Rounds, s.Duration)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "request\tdropfeed req/s\tnginx req/s\tround by round\tdropfeed/nginx\t")
		for _, c := range s.Cases {
			ng, rounds, ratio := "-", "-", "-"
			if c.Nginx > 0 {
				ng, ratio = fmt.Sprintf("%.0f", c.Nginx), floorX(c.Ratio)
			}
			if len(c.RoundRatios) > 0 {
				rounds = fmt.Sprintf("%.2f-%.2fx", slices.Min(c.RoundRatios), slices.Max(c.RoundRatios))
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t\n", c.Name, c.Dropfeed, ng, rounds, ratio)
		}
		tw.Flush()
		if s.Nginx != "" {
			fmt.Fprintf(w, "nginx %s\n", s.Nginx)
		}
		fmt.Fprintln(w)
	}
	if len(rep.Hugo) > 0 {
		df := map[int]sizeResult{}
		for _, s := range rep.Sizes {
			df[s.Articles] = s
		}
		fmt.Fprintf(w, "hugo server (%s)\n", rep.Hugo[0].Version)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "articles\tstart\tpeak RSS\tdrops\tdrop p50\tdrop p99\tCPU/change\tstart hugo/df\tp50 hugo/df\tp99 hugo/df\tCPU hugo/df\t")
		for _, h := range rep.Hugo {
			ratios := []string{"-", "-", "-", "-"}
			if d, ok := df[h.Articles]; ok {
				ratios = []string{ratio(h.Start, d.Start), ratio(h.Drop.P50, d.Drop.P50), ratio(h.Drop.P99, d.Drop.P99), ratio(h.Drop.CPUPerChange, d.Drop.CPUPerChange)}
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t\n", h.Articles, ms(h.Start), mb(max(h.StartRSS, h.Drop.PeakRSS)), h.Drop.Drops,
				ms(h.Drop.P50), ms(h.Drop.P99), ms(h.Drop.CPUPerChange), strings.Join(ratios, "\t"))
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if len(rep.Targets) > 0 {
		fmt.Fprintln(w, "targets:")
		for _, t := range rep.Targets {
			verdict := "MISSED"
			if t.Met {
				verdict = "met"
			}
			fmt.Fprintf(w, "  %-6s %-62s %s\n", verdict, t.Goal, t.Value)
		}
	}
}

// ratio is a/b as "N.Nx", "-" when b is zero.
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fx", float64(a)/float64(b))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
