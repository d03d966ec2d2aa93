package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/posim/posim/wire"
	"github.com/spf13/cobra"
)

type decodeFlags struct {
	file, format, profile, framing, pcap string
	json                                 bool
}

func newDecodeCmd() *cobra.Command {
	var f decodeFlags
	cmd := &cobra.Command{
		Use:   "decode [FRAME]",
		Short: "Print a frame field by field, or say why it does not read",
		Long: `Read one frame (length header included) as hex, base64 or raw bytes and print every field
with its number, name and value: card numbers masked, track data and PIN blocks never shown.
With --profile and --framing left on auto, posim tries iso87 and cup with each framing and
says which one reads. When none does, it says why and what the frame probably is instead:
a length header that disagrees with the bytes, another framing, a TPDU present or missing,
a binary bitmap where hex was expected, a field that breaks its spec. Exit 2 when the frame
does not read.`,
		Example: `  posim decode 0046303230307233...
  posim decode --file frame.bin --profile cup
  posim decode --pcap capture.pcap --profile cup
  xxd -p frame.bin | posim decode --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runDecode(cmd, f, args) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.file, "file", "", "read the frame from this file (- for standard input)")
	fl.StringVar(&f.format, "format", "auto", "how the frame is written: auto, hex, base64 or raw")
	fl.StringVar(&f.profile, "profile", "auto", "dialect: auto, "+strings.Join(wire.ProfileNames(), " or "))
	fl.StringVar(&f.framing, "framing", "auto", "length framing: auto, binary2, ascii4 or bcd2")
	fl.StringVar(&f.pcap, "pcap", "", "read a pcap or pcapng capture: every frame of every TCP stream, reassembled")
	fl.BoolVar(&f.json, "json", false, "print the result as one JSON object")
	return cmd
}

func runDecode(cmd *cobra.Command, f decodeFlags, args []string) error {
	if f.pcap != "" {
		if len(args) > 0 || f.file != "" {
			return usageErr("decode takes a frame, --file or --pcap, one of them")
		}
		return decodePcap(cmd, f)
	}
	var input []byte
	switch {
	case len(args) == 1 && f.file != "":
		return usageErr("decode takes a frame or --file, not both")
	case len(args) == 1:
		input = []byte(args[0])
	default:
		var err error
		if f.file == "" || f.file == "-" {
			input, err = io.ReadAll(cmd.InOrStdin())
		} else {
			input, err = os.ReadFile(f.file)
		}
		if err != nil {
			return invalid(fmt.Errorf("reading the frame: %w", err))
		}
	}
	frame, err := frameBytes(input, f.format, len(args) == 1)
	if err != nil {
		return invalid(err)
	}
	profiles, framers, err := f.choices()
	if err != nil {
		return err
	}
	for _, p := range profiles {
		for _, fr := range framers {
			d, err := wire.DecodeFrame(frame, p, fr)
			if err != nil {
				continue
			}
			return printDecoded(cmd.OutOrStdout(), d, f.json)
		}
	}
	causes := wire.Diagnose(frame, profiles[0], framers[0])
	if f.json {
		_ = json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{
			"profile": profiles[0].Name(), "framing": framers[0].Name(), "error": "does not read", "causes": causes})
	} else {
		fmt.Fprintf(cmd.ErrOrStderr(), "the %d-byte frame does not read as %s with %s framing:\n", len(frame), profiles[0].Name(), framers[0].Name())
		for _, c := range causes {
			fmt.Fprintf(cmd.ErrOrStderr(), "  - %s\n", c)
		}
	}
	return &exitError{code: exitInvalid, err: fmt.Errorf("frame does not read"), silent: true}
}

// frameBytes turns the input into the frame's bytes: hex (spaces and line
// breaks allowed), base64 or raw bytes; auto takes hex when the input is
// all hex digits, base64 when it decodes as such, else raw bytes (a frame
// given on the command line is text: hex or base64).
func frameBytes(in []byte, format string, text bool) ([]byte, error) {
	compact := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, string(in))
	switch format {
	case "hex":
		b, err := hex.DecodeString(compact)
		if err != nil {
			return nil, fmt.Errorf("frame as hex: %w", err)
		}
		return b, nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(compact)
		if err != nil {
			return nil, fmt.Errorf("frame as base64: %w", err)
		}
		return b, nil
	case "raw":
		return in, nil
	case "auto":
		if b, err := hex.DecodeString(compact); err == nil && len(b) > 0 {
			return b, nil
		}
		if b, err := base64.StdEncoding.DecodeString(compact); err == nil && len(b) > 0 {
			return b, nil
		}
		if text {
			return nil, fmt.Errorf("the frame is neither hex nor base64 (for raw bytes use --file)")
		}
		return in, nil
	}
	return nil, fmt.Errorf("--format %q: want auto, hex, base64 or raw", format)
}

// choices are the profiles and framings --profile and --framing allow.
func (f decodeFlags) choices() ([]wire.Profile, []wire.Framer, error) {
	profiles, err := decodeProfiles(f.profile)
	if err != nil {
		return nil, nil, invalid(err)
	}
	framers, err := decodeFramers(f.framing)
	if err != nil {
		return nil, nil, invalid(err)
	}
	return profiles, framers, nil
}

func decodeProfiles(name string) ([]wire.Profile, error) {
	if name == "auto" {
		return []wire.Profile{wire.ISO87, wire.CUP}, nil
	}
	p, err := wire.ProfileByName(name)
	if err != nil {
		return nil, err
	}
	return []wire.Profile{p}, nil
}

func decodeFramers(name string) ([]wire.Framer, error) {
	if name == "auto" {
		return []wire.Framer{wire.Binary2{}, wire.ASCII4{}, wire.BCD2{}}, nil
	}
	fr, err := wire.Framing(name, "", "")
	if err != nil {
		return nil, err
	}
	return []wire.Framer{fr}, nil
}

func printDecoded(w io.Writer, d *wire.Decoded, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	fmt.Fprintf(w, "%s %s (%s, %s framing)\n", d.MTI, d.Op, d.Profile, d.Framing)
	if d.TPDU != "" {
		fmt.Fprintf(w, "  TPDU %s  header %s\n", d.TPDU, d.Header)
	}
	for _, fl := range d.Fields {
		fmt.Fprintf(w, "  DE%-3d %-40s %s\n", fl.ID, fl.Name, fl.Value)
		for _, t := range fl.Tags {
			fmt.Fprintf(w, "        %-6s %-38s %s\n", t.Tag, t.Name, t.Value)
		}
	}
	return nil
}

// pcapStream is one TCP stream of a capture, decoded.
type pcapStream struct {
	From    string          `json:"from"`
	To      string          `json:"to"`
	Framing string          `json:"framing,omitempty"`
	Frames  []*wire.Decoded `json:"frames"`
	// Unread are the frames (or bytes) that did not read, with the causes.
	Unread []pcapUnread `json:"unread,omitempty"`
}

type pcapUnread struct {
	Bytes  int      `json:"bytes"`
	Causes []string `json:"causes"`
}

// decodePcap decodes every frame of every TCP stream of a capture.
func decodePcap(cmd *cobra.Command, f decodeFlags) error {
	file, err := os.Open(f.pcap)
	if err != nil {
		return invalid(err)
	}
	defer file.Close()
	streams, err := wire.ReadPcap(file)
	if err != nil {
		return invalid(fmt.Errorf("%s: %w", f.pcap, err))
	}
	profiles, framers, err := f.choices()
	if err != nil {
		return err
	}
	var out []pcapStream
	unread := false
	for _, s := range streams {
		ps := decodeStream(s, profiles, framers)
		unread = unread || len(ps.Unread) > 0
		out = append(out, ps)
	}
	w := cmd.OutOrStdout()
	if f.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		if len(out) == 0 {
			fmt.Fprintln(w, "no TCP payload in the capture")
		}
		for _, ps := range out {
			fmt.Fprintf(w, "%s -> %s: %d frames (%s framing)\n", ps.From, ps.To, len(ps.Frames), ps.Framing)
			for _, d := range ps.Frames {
				_ = printDecoded(w, d, false)
			}
			for _, u := range ps.Unread {
				fmt.Fprintf(w, "  %d bytes do not read:\n", u.Bytes)
				for _, c := range u.Causes {
					fmt.Fprintf(w, "    - %s\n", c)
				}
			}
		}
	}
	if unread {
		return &exitError{code: exitInvalid, err: fmt.Errorf("some frames do not read"), silent: true}
	}
	return nil
}

// decodeStream finds the profile and framing under which the most of a
// stream's frames read, and decodes them.
func decodeStream(s wire.Stream, profiles []wire.Profile, framers []wire.Framer) pcapStream {
	best := pcapStream{From: s.From, To: s.To, Frames: []*wire.Decoded{}}
	bestRead := -1
	for _, fr := range framers {
		frames, rest := wire.SplitFrames(s.Data, fr)
		for _, p := range profiles {
			ps := pcapStream{From: s.From, To: s.To, Framing: fr.Name(), Frames: []*wire.Decoded{}}
			for _, raw := range frames {
				if d, err := wire.DecodeFrame(raw, p, fr); err == nil {
					ps.Frames = append(ps.Frames, d)
				} else {
					ps.Unread = append(ps.Unread, pcapUnread{Bytes: len(raw), Causes: wire.Diagnose(raw, p, fr)})
				}
			}
			if len(rest) > 0 {
				ps.Unread = append(ps.Unread, pcapUnread{Bytes: len(rest), Causes: []string{"the stream ends inside a frame, or its bytes follow no " + fr.Name() + " length header"}})
			}
			if len(ps.Frames) > bestRead && (len(ps.Frames) > 0 || bestRead < 0) {
				best, bestRead = ps, len(ps.Frames)
			}
		}
	}
	return best
}
