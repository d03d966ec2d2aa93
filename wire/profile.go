package wire

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moov-io/iso8583"
)

// A Profile is one dialect of ISO 8583: a message spec, a framing and the
// rules that map the typed model onto fields. Implementations are safe for
// concurrent use.
type Profile interface {
	// Name is the profile's name as used on the command line ("iso87").
	Name() string
	// Spec is the message spec used to pack and unpack bodies.
	Spec() *iso8583.MessageSpec
	// Framer is the profile's default framing.
	Framer() Framer
	// Encode maps a typed transaction onto a message.
	Encode(t *Txn) (*iso8583.Message, error)
	// Decode maps a message onto a typed transaction. A field whose content
	// is not what the dialect allows is an error (a format error, code 30).
	Decode(m *iso8583.Message) (*Txn, error)
	// Reversal builds the reversal request for an original request, following
	// the dialect's matching rule, with the given reason (DE39) and STAN.
	Reversal(orig *Txn, reason, stan string, now time.Time) *Txn
	// Repeat returns the repeat of a reversal or advice already sent once
	// (iso87: 0400 → 0401, 0220 → 0221).
	Repeat(t *Txn) *Txn
	// Capabilities says what the dialect needs of terminals and hosts; the
	// rest of posim asks it, never the profile's name.
	Capabilities() Capabilities
}

// Capabilities are what a dialect needs of the terminal and the host.
type Capabilities struct {
	// WorkingKeys: a terminal signs on for working keys (DE62) and signs
	// financial messages with a MAC (DE64); the host issues the keys,
	// checks the MACs and answers a terminal that has not signed on 77.
	WorkingKeys bool
	// TPDU: frames carry a TPDU and an application header (TPDUFramer).
	TPDU bool
	// VoidsInTotals: settlement counts a voided sale as a debit and its
	// void as a credit (CUP); otherwise neither counts.
	VoidsInTotals bool
	// ForeignTotals: settlement totals are split between domestic cards
	// (card organisation CUP) and foreign ones, each with its own result.
	ForeignTotals bool
	// UploadBatch is how many transactions one batch-upload message (0320)
	// carries: 8 under cup, 1 under iso87.
	UploadBatch int
	// CompletionTolerance is how far, in per cent, a completion may exceed
	// its pre-authorisation (cup 15: issuers hold 115 %).
	CompletionTolerance int
}

// The profile registry: the built-in dialects, registered at start-up,
// and the custom one a --spec file makes, which may be set while others
// read.
var (
	profilesMu sync.RWMutex
	profiles   = map[string]Profile{}
	userSpec   Profile
)

// Default is the dialect posim speaks unless told otherwise.
var Default Profile = ISO87

// CustomName is the name of the dialect a user's spec file makes
// (RegisterCustom).
const CustomName = "custom"

// Register makes a built-in profile available by name. It panics on a
// duplicate name, which is a programming error caught at start-up.
func Register(p Profile) {
	profilesMu.Lock()
	defer profilesMu.Unlock()
	if _, dup := profiles[p.Name()]; dup || p.Name() == CustomName {
		panic("wire: profile registered twice: " + p.Name())
	}
	profiles[p.Name()] = p
}

// RegisterCustom makes a user-supplied profile available as "custom",
// replacing the one before. It is safe to call while others look
// profiles up.
func RegisterCustom(p Profile) {
	profilesMu.Lock()
	defer profilesMu.Unlock()
	userSpec = p
}

// IsCustom reports whether p is a user-supplied dialect rather than a
// built-in one.
func IsCustom(p Profile) bool { return p.Name() == CustomName }

// ProfileByName returns the named profile: a built-in one, or "custom"
// once RegisterCustom has set it.
func ProfileByName(name string) (Profile, error) {
	profilesMu.RLock()
	defer profilesMu.RUnlock()
	if p, ok := profiles[name]; ok {
		return p, nil
	}
	if name == CustomName && userSpec != nil {
		return userSpec, nil
	}
	return nil, fmt.Errorf("unknown profile %q (known: %s)", name, strings.Join(profileNames(), ", "))
}

// ProfileNames lists the built-in profiles, sorted.
func ProfileNames() []string {
	profilesMu.RLock()
	defer profilesMu.RUnlock()
	return profileNames()
}

func profileNames() []string {
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
