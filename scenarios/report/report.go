// Package report renders scenario runs: a console timeline, JSON, JUnit XML
// and Markdown with a Mermaid sequence diagram per scenario. Every format
// is rendered from the same results and events.
package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/posim/posim/scenarios"
	"github.com/posim/posim/wire"
)

// Run is one `posim run`: its settings and the results in input order.
type Run struct {
	Seed    *int64              `json:"seed,omitempty"` // set when --seed overrode the scenarios' seeds
	Speed   float64             `json:"speed"`
	Profile string              `json:"profile"`
	Started time.Time           `json:"started"`
	Results []*scenarios.Result `json:"scenarios"`
	Skipped []Skipped           `json:"skipped,omitempty"`
}

// Skipped is a selected scenario that does not run under the profile.
type Skipped struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Counts returns how many scenarios passed and failed.
func (r *Run) Counts() (passed, failed int) {
	for _, res := range r.Results {
		if res.Passed {
			passed++
		} else {
			failed++
		}
	}
	return
}

// JSON writes the whole run, with every event, as indented JSON.
func JSON(w io.Writer, r *Run) error {
	passed, failed := r.Counts()
	out := struct {
		*Run
		Passed int `json:"passed"`
		Failed int `json:"failed"`
	}{r, passed, failed}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// JUnit writes one testcase per scenario; no ANSI codes ever.
func JUnit(w io.Writer, r *Run) error {
	suite := junitSuite{Name: "posim", Timestamp: r.Started.UTC().Format(time.RFC3339)}
	var total time.Duration
	suite.Properties = append(suite.Properties, junitProperty{"profile", r.Profile}, junitProperty{"speed", fmt.Sprint(r.Speed)})
	if r.Seed != nil {
		suite.Properties = append(suite.Properties, junitProperty{"seed", fmt.Sprint(*r.Seed)})
	}
	for _, res := range r.Results {
		total += res.Duration
		c := junitCase{Name: res.Name, Classname: "posim." + res.Profile, File: res.File, Time: secs(res.Duration),
			SystemOut: fmt.Sprintf("seed %d\n%s", res.Seed, Timeline(res, false))}
		switch {
		case res.Error != "":
			suite.Errors++
			c.Error = &junitFailure{Message: res.Error, Type: "error", Text: res.Error}
		case !res.Passed:
			suite.Failures++
			var lines []string
			for _, f := range res.Failures {
				lines = append(lines, f.String())
			}
			c.Failure = &junitFailure{Message: lines[0], Type: "expectation", Text: strings.Join(lines, "\n")}
		}
		suite.Cases = append(suite.Cases, c)
	}
	for _, s := range r.Skipped {
		suite.Skipped++
		suite.Cases = append(suite.Cases, junitCase{Name: s.Name, Classname: "posim." + r.Profile, Time: "0", Skipped: &junitSkipped{Message: s.Reason}})
	}
	suite.Tests = len(suite.Cases)
	suite.Time = secs(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{suite}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// Timeline renders a result's events as text, one line each.
func Timeline(res *scenarios.Result, color bool) string {
	var b strings.Builder
	for _, e := range res.Events {
		line := fmt.Sprintf("%8.3fs  step %-2d %-8s %-12s", float64(e.AtMS)/1000, e.Step, e.Source, e.Kind)
		if e.MTI != "" {
			line += " " + e.MTI
		}
		if e.STAN != "" {
			line += " stan=" + e.STAN
		}
		if e.PAN != "" {
			line += " pan=" + e.PAN
		}
		if e.Amount != "" {
			line += " amount=" + e.Amount
		}
		if e.RC != "" {
			line += " rc=" + e.RC
		}
		if e.Detail != "" {
			line += "  " + e.Detail
		}
		if color && e.Kind == "fault" {
			line = "\x1b[33m" + line + "\x1b[0m"
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return b.String()
}

// Markdown writes a report with a Mermaid sequence diagram per scenario.
func Markdown(w io.Writer, r *Run) error {
	passed, failed := r.Counts()
	fmt.Fprintf(w, "# posim run\n\nProfile `%s`, speed %g, %d passed, %d failed", r.Profile, r.Speed, passed, failed)
	if r.Seed != nil {
		fmt.Fprintf(w, ", seed %d", *r.Seed)
	}
	fmt.Fprint(w, ".\n\n| scenario | result | seed | time |\n|---|---|---|---|\n")
	for _, res := range r.Results {
		fmt.Fprintf(w, "| [%s](#%s) | %s | %d | %s |\n", res.Name, res.Name, verdict(res), res.Seed, secs(res.Duration)+"s")
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "| %s | skipped: %s | | |\n", s.Name, s.Reason)
	}
	for _, res := range r.Results {
		fmt.Fprintf(w, "\n## %s\n\n**%s** — %s\n\n%s\n\n", res.Name, res.Title.EN, verdict(res), res.Story.EN)
		if res.Title.ZH != "" {
			fmt.Fprintf(w, "%s：%s\n\n", res.Title.ZH, res.Story.ZH)
		}
		if res.Error != "" {
			fmt.Fprintf(w, "> error: %s\n\n", res.Error)
		}
		for _, f := range res.Failures {
			fmt.Fprintf(w, "- ✗ %s\n", f.String())
		}
		fmt.Fprintf(w, "\n```mermaid\n%s```\n", Mermaid(res))
	}
	return nil
}

func verdict(res *scenarios.Result) string {
	switch {
	case res.Error != "":
		return "error"
	case res.Passed:
		return "passed"
	}
	return "failed"
}

// Mermaid renders a result's messages and faults as a sequence diagram.
func Mermaid(res *scenarios.Result) string {
	var b strings.Builder
	b.WriteString("sequenceDiagram\n    participant T as Terminal\n    participant N as Network\n    participant A as Acquirer\n")
	for _, e := range res.Events {
		switch {
		case e.Source == "terminal" && e.Kind == "step":
			fmt.Fprintf(&b, "    Note over T: step %d: %s\n", e.Step, mermaidText(e.Detail))
		case e.Source == "terminal" && e.Kind == "result":
			fmt.Fprintf(&b, "    Note over T: %s\n", mermaidText(e.Detail))
		case e.Kind == "in":
			fmt.Fprintf(&b, "    T->>A: %s\n", mermaidText(msgLabel(e)))
		case e.Kind == "out":
			fmt.Fprintf(&b, "    A-->>T: %s\n", mermaidText(msgLabel(e)))
		case e.Kind == "fault":
			fmt.Fprintf(&b, "    Note over N: ✂ %s\n", mermaidText(e.Detail))
		case e.Kind == "orphan" || e.Kind == "duplicate" || e.Kind == "late_reversal" || e.Kind == "settlement" || e.Kind == "bad_frame":
			fmt.Fprintf(&b, "    Note over A: %s: %s\n", e.Kind, mermaidText(e.Detail))
		}
	}
	return b.String()
}

func msgLabel(e scenarios.Event) string {
	s := e.MTI
	if e.STAN != "" {
		s += " stan " + e.STAN
	}
	if e.Amount != "" {
		s += " " + e.Amount
	}
	if e.RC != "" {
		s += " rc " + e.RC
		if e.Kind == "out" {
			s += " " + wire.Meaning(e.RC, "en")
		}
	}
	return s
}

// mermaidText keeps a label on one line and away from Mermaid's syntax.
func mermaidText(s string) string {
	r := strings.NewReplacer("\n", " ", ";", ",", "#", "no.", ":", " -", "<", "(", ">", ")")
	return r.Replace(s)
}
