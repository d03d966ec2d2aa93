package wire

// Class is the action class of a response code: what the terminal and the
// merchant should do about it.
type Class string

// Action classes (docs/domain.md, "Response codes and action classes").
const (
	ClassSuccess   Class = "A" // success
	ClassRetry     Class = "B" // failed, may retry
	ClassNoRetry   Class = "C" // failed, do not retry
	ClassRetain    Class = "D" // failed, retain card / call
	ClassSystem    Class = "E" // system fault
	ClassReconcile Class = ""  // reconciliation result, no action class
)

// ResponseCode is one entry of the DE39 catalogue.
type ResponseCode struct {
	Code    string `json:"code"`
	Meaning string `json:"meaning"`
	ZH      string `json:"meaning_zh"`
	Class   Class  `json:"class"`
}

// Approved reports whether the code means success.
func (c ResponseCode) Approved() bool { return c.Code == "00" }

// ResponseCodes is the DE39 catalogue in code order.
var ResponseCodes = []ResponseCode{
	{"00", "approved", "承兑或交易成功", ClassSuccess},
	{"01", "refer to card issuer", "请持卡人与发卡银行联系", ClassNoRetry},
	{"03", "invalid merchant", "无效商户", ClassNoRetry},
	{"04", "pick-up card", "没收卡", ClassRetain},
	{"05", "do not honor", "不予承兑", ClassNoRetry},
	{"06", "error", "出错", ClassSystem},
	{"12", "invalid transaction", "无效交易", ClassNoRetry},
	{"13", "invalid amount", "无效金额", ClassRetry},
	{"14", "invalid card number", "无效卡号", ClassNoRetry},
	{"15", "no such issuer", "无此发卡行", ClassNoRetry},
	{"19", "re-enter transaction", "重新送入交易", ClassNoRetry},
	{"22", "suspected malfunction", "故障怀疑", ClassNoRetry},
	{"25", "unable to locate original", "找不到原始交易", ClassNoRetry},
	{"30", "format error", "格式错误", ClassNoRetry},
	{"33", "expired card, pick-up", "过期的卡", ClassRetain},
	{"34", "suspected fraud, pick-up", "有作弊嫌疑", ClassRetain},
	{"38", "PIN tries exceeded, pick-up", "密码错误次数超限", ClassRetain},
	{"40", "requested function not supported", "不支持此功能", ClassNoRetry},
	{"41", "lost card", "挂失卡", ClassRetain},
	{"43", "stolen card", "被窃卡", ClassRetain},
	{"51", "insufficient funds", "余额不足", ClassNoRetry},
	{"54", "expired card", "过期的卡", ClassNoRetry},
	{"55", "incorrect PIN", "密码错", ClassRetry},
	{"57", "not permitted to cardholder", "不允许持卡人进行的交易", ClassNoRetry},
	{"58", "not permitted to terminal", "不允许终端进行的交易", ClassNoRetry},
	{"59", "suspected fraud", "有作弊嫌疑", ClassNoRetry},
	{"61", "exceeds amount limit", "超出金额限制", ClassNoRetry},
	{"62", "restricted card", "受限制的卡", ClassNoRetry},
	{"64", "original amount incorrect", "原始金额错误", ClassNoRetry},
	{"65", "exceeds frequency limit", "超出取款次数限制", ClassNoRetry},
	{"68", "response received too late", "交易超时，请重试", ClassRetry},
	{"75", "PIN tries exceeded", "允许的输入PIN次数超限", ClassNoRetry},
	{"77", "batch mismatch", "POS批次与网络中心不一致，重新签到", ClassNoRetry},
	{"90", "cut-off in progress", "正在日终处理", ClassRetry},
	{"91", "issuer or switch inoperative", "发卡方或交换中心不能操作", ClassRetry},
	{"92", "cannot route", "无法路由", ClassRetry},
	{"93", "violation of law", "交易违法、不能完成", ClassNoRetry},
	{"94", "duplicate transmission", "重复交易", ClassNoRetry},
	{"95", "reconcile error", "核对差错", ClassReconcile},
	{"96", "system malfunction", "系统异常、失效", ClassSystem},
	{"97", "terminal not registered", "终端号找不到", ClassNoRetry},
	{"98", "switch got no issuer answer", "交换中心收不到发卡方应答", ClassRetry},
	{"99", "PIN format error", "PIN格式错，请重新签到", ClassNoRetry},
	{"A0", "MAC failed", "MAC校验错，请重新签到", ClassNoRetry},
}

var codeIndex = func() map[string]ResponseCode {
	m := make(map[string]ResponseCode, len(ResponseCodes))
	for _, c := range ResponseCodes {
		m[c.Code] = c
	}
	return m
}()

// LookupCode returns the catalogue entry for a DE39 value.
func LookupCode(code string) (ResponseCode, bool) {
	c, ok := codeIndex[code]
	return c, ok
}

// Meaning returns the meaning of a code in the language asked for ("zh" for
// Chinese, anything else for English), or "unknown response code".
func Meaning(code, lang string) string {
	c, ok := codeIndex[code]
	switch {
	case !ok && lang == "zh":
		return "未知应答码"
	case !ok:
		return "unknown response code"
	case lang == "zh":
		return c.ZH
	}
	return c.Meaning
}

// Reversal reasons a terminal puts in DE39 of a reversal (docs/domain.md R3).
const (
	ReasonNoResponse = "98" // no response in time
	ReasonIncomplete = "96" // approved but the terminal could not complete
	ReasonBadMAC     = "A0" // MAC of an approval failed
	ReasonOther      = "06" // anything else
)
