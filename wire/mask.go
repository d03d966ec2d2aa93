package wire

import "strings"

// MaskPAN masks a primary account number for display: the first six and the
// last four digits stay, the rest become '*'. Values too short to keep both
// ends are masked entirely. It never returns the clear PAN of a real card
// length (13-19 digits).
func MaskPAN(pan string) string {
	if pan == "" {
		return ""
	}
	if len(pan) < 13 {
		return strings.Repeat("*", len(pan))
	}
	var b strings.Builder // one allocation: this runs for every message
	b.Grow(len(pan))
	b.WriteString(pan[:6])
	for range len(pan) - 10 {
		b.WriteByte('*')
	}
	b.WriteString(pan[len(pan)-4:])
	return b.String()
}

// LuhnValid reports whether a digit string passes the Luhn check.
func LuhnValid(pan string) bool {
	if len(pan) < 2 || !allDigits(pan) {
		return false
	}
	sum := 0
	double := false
	for i := len(pan) - 1; i >= 0; i-- {
		d := int(pan[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// LuhnDigit returns the check digit that makes partial+digit Luhn-valid.
func LuhnDigit(partial string) byte {
	for d := byte('0'); d <= '9'; d++ {
		if LuhnValid(partial + string(d)) {
			return d
		}
	}
	return '0'
}
