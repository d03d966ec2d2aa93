package terminal

import (
	"context"
	"errors"
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
	req := t.base(wire.OpMasterKey)
	t.stamp(req)
	req.NetworkCode, req.Batch = wire.NetMasterKey, t.batch()
	req.Private63 = t.cfg.Operator
	if err := t.prepare(req); err != nil {
		return res, res.finish(Refused, "", err)
	}
	res.STAN = req.STAN
	if err := t.connect(ctx); err != nil {
		return res, res.finish(Refused, "", err)
	}
	resp, err := t.send(ctx, req)
	switch {
	case errors.Is(err, ErrInvalidResponse):
		return res, res.finish(InvalidResponse, "", err)
	case err != nil:
		_ = t.save()
		return res, res.finish(NoResponse, "", err)
	case resp.ResponseCode != "00":
		_ = t.save()
		return res, res.finish(Declined, resp.ResponseCode, nil)
	}
	tmk, err := wire.OpenMasterKey(t.cfg.TransportKey, resp.Keys)
	if err != nil {
		_ = t.save()
		return res, res.finish(InvalidResponse, resp.ResponseCode, fmt.Errorf("%w: %v", ErrInvalidResponse, err))
	}
	t.state.TMK = tmk
	if err := t.save(); err != nil {
		return res, res.finish(Refused, resp.ResponseCode, err)
	}
	return res, res.finish(Approved, "00", nil)
}
