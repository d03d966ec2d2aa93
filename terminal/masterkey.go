package terminal

import (
	"context"
	"fmt"

	"github.com/posim/posim/wire"
)

// masterKey is the terminal master key sign-ons open their working keys
// with: the one a master key download brought, else the configured one.
func (t *Terminal) masterKey() string {
	if t.state.TMK != "" {
		return t.state.TMK
	}
	return t.cfg.TMK
}

// MasterKey downloads the terminal master key (cup 0800 with 60.3 350,
// 主密钥下载), as a terminal that was loaded with a transport key only does
// before its first sign-on: the host sends the master key encrypted under
// the transport key (Config.TransportKey) with its check value; the
// terminal checks it, keeps it in its state and signs on with it from then
// on. A check value that does not match is an invalid response naming the
// key, and nothing is kept. A terminal without a transport key, or a
// dialect without working keys, refuses before sending.
func (t *Terminal) MasterKey(ctx context.Context) (*Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := t.newResult(string(wire.OpMasterKey))
	switch {
	case !t.keyed():
		return res, res.finish(Refused, "", fmt.Errorf("%w: a master key download is a cup exchange; %s has none", ErrInvalidRequest, t.cfg.Profile.Name()))
	case t.cfg.TransportKey == "":
		return res, res.finish(Refused, "", fmt.Errorf("%w: no transport key to open the master key with (--transport-key)", ErrInvalidRequest))
	}
	return res, t.networkLocked(ctx, wire.OpMasterKey, wire.NetMasterKey, res)
}

// openMasterKey keeps the master key a master key download's answer
// (DE62) brings, once its check value under the transport key holds.
func (t *Terminal) openMasterKey(de62 []byte) error {
	tmk, err := wire.OpenMasterKey(t.cfg.TransportKey, de62)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidResponse, err)
	}
	t.state.TMK = tmk
	return nil
}
