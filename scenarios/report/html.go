package report

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/posim/posim/scenarios"
	"github.com/posim/posim/wire"
)

//go:embed web/ladder.html
var ladderPage string

// cjkFont is the subset of a CJK font the page embeds (web/font/NOTICE), so
// that Chinese renders on machines without one.
//
//go:embed web/font/posim-cjk.ttf
var cjkFont []byte

// CJKFont returns the embedded CJK font subset (TrueType).
func CJKFont() []byte { return cjkFont }

// PageData is what the ladder page renders: the scenarios with their events
// and ledgers, and the response-code meanings in both languages.
type PageData struct {
	Live    bool                `json:"live"`
	Lang    string              `json:"lang"`
	Speed   float64             `json:"speed"`
	Current int                 `json:"current"`
	Paused  bool                `json:"paused"`
	Done    bool                `json:"done"`
	Codes   map[string]CodeText `json:"codes"`
	// Steps names each step kind (the terminal's operations and the world
	// steps) in both languages.
	Steps     map[string]CodeText `json:"steps"`
	Scenarios []PageScenario      `json:"scenarios"`
	// Summary heads a report (not the live page).
	Summary *Summary `json:"summary,omitempty"`
}

// Summary is a report's header: what passed, failed and was skipped, with
// what the run was played with.
type Summary struct {
	Passed   int       `json:"passed"`
	Failed   int       `json:"failed"`
	Skipped  []Skipped `json:"skipped"`
	Seed     *int64    `json:"seed,omitempty"`
	Profile  string    `json:"profile"`
	Speed    float64   `json:"speed"`
	Duration string    `json:"duration"`
}

// CodeText is a response code's meaning in English and Chinese.
type CodeText struct {
	EN string `json:"en"`
	ZH string `json:"zh"`
}

// PageScenario is a scenario on the page: its result so far, and whether it
// is being played.
type PageScenario struct {
	*scenarios.Result
	Running bool  `json:"running,omitempty"`
	Passed  *bool `json:"passed,omitempty"`
}

// Codes returns the response-code catalogue for the page.
func Codes() map[string]CodeText {
	out := map[string]CodeText{}
	for _, c := range wire.ResponseCodes {
		out[c.Code] = CodeText{EN: c.Meaning, ZH: c.ZH}
	}
	return out
}

// Steps returns the step kinds' names for the page.
func Steps() map[string]CodeText {
	out := map[string]CodeText{}
	for k, t := range scenarios.StepLabels() {
		out[k] = CodeText{EN: t.EN, ZH: t.ZH}
	}
	return out
}

// Page renders the ladder page with data inlined. The page needs no
// network: styles and script are in the file.
func Page(w io.Writer, d PageData) error {
	if d.Codes == nil {
		d.Codes = Codes()
	}
	if d.Steps == nil {
		d.Steps = Steps()
	}
	data, err := json.Marshal(d) // escapes <, > and & so the data cannot end the script
	if err != nil {
		return err
	}
	page := strings.Replace(ladderPage, "__POSIM_FONT__", base64.StdEncoding.EncodeToString(cjkFont), 1)
	_, err = io.WriteString(w, strings.Replace(page, "__POSIM_DATA__", string(data), 1))
	return err
}

// HTML writes a self-contained report: every scenario of the run with its
// ladder, pass or fail, and the ledger before and after.
func HTML(w io.Writer, r *Run, lang string) error {
	d := PageData{Lang: lang, Speed: r.Speed}
	var took time.Duration
	for _, res := range r.Results {
		if res == nil {
			continue
		}
		passed := res.Passed
		d.Scenarios = append(d.Scenarios, PageScenario{Result: res, Passed: &passed})
		took += res.Duration
	}
	if !r.Started.IsZero() {
		took = time.Since(r.Started)
	}
	p, f := r.Counts()
	skipped := r.Skipped
	if skipped == nil {
		skipped = []Skipped{}
	}
	d.Summary = &Summary{Passed: p, Failed: f, Skipped: skipped, Seed: r.Seed, Profile: r.Profile, Speed: r.Speed,
		Duration: took.Round(100 * time.Millisecond).String()}
	return Page(w, d)
}
