package redact

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Chinese, Japanese and Korean are written without spaces between words:
// names and addresses are found inside runs of those scripts.
//
// A name is a known surname followed by a known given name (王 + 小明, 佐藤
// + 太郎, 김 + 민수), or a known surname and one or two more characters
// next to an honorific or a cue (王先生, 患者李明, 김씨).

var (
	cjkHonorifics = []string{"先生", "女士", "小姐", "医生", "醫生", "老师", "老師", "教授", "さん", "様", "さま", "氏", "君", "ちゃん", "先輩",
		"씨", "님", "선생님", "교수님", "환자"}
	cjkCues = []string{"患者", "病人", "姓名", "名字", "我叫", "我是", "叫做", "联系人", "聯繫人", "氏名", "名前", "患者名", "이름", "저는", "환자"}
)

// cjkAddress: administrative units, a street and a number, in Chinese or
// Japanese (北京市朝阳区建国路88号, 東京都千代田区丸の内1-1-1) or Korean
// (서울특별시 강남구 테헤란로 123).
var cjkAddress = regexp.MustCompile(
	`(?:\p{Han}{1,6}(?:省|自治区|特别行政区|都|道|府|県|县|市|区|區|郡|町|村|镇|鎮|乡|鄉)){1,4}` +
		`(?:[\p{Han}\p{Hiragana}\p{Katakana}ー]{1,10}(?:大道|路|街|巷|弄|通り|通|丁目)?)?` +
		`[0-9\-－]{1,12}(?:号|號|番地|番|号室|階|楼|樓)?` +
		`|(?:[가-힣]{1,6}(?:특별시|광역시|특별자치시|도|시|군|구|읍|면|동)\s){1,4}(?:[가-힣0-9]{1,10}(?:로|길)\s?)?[0-9]{1,5}(?:-[0-9]{1,5})?(?:번지)?`)

// scanCJK finds names and addresses in CJK text.
func (st *scanState) scanCJK() {
	if !hasCJK(st.text) {
		return
	}
	for _, m := range cjkAddress.FindAllStringIndex(st.text, -1) {
		if utf8.RuneCountInString(st.text[m[0]:m[1]]) >= 5 {
			st.add(Address, m[0], m[1], 0.85)
		}
	}
	for _, w := range st.words {
		r, _ := utf8.DecodeRuneInString(st.text[w.s:])
		if isCJK(r) {
			st.cjkNames(w)
		}
	}
}

func hasCJK(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xE2 { // the lead bytes of U+2E80 and above
			r, _ := utf8.DecodeRuneInString(s[i:])
			if isCJK(r) {
				return true
			}
		}
	}
	return false
}

// cjkNames looks for surname + given name inside one CJK run.
func (st *scanState) cjkNames(w word) {
	run := st.text[w.s:w.e]
	for i := 0; i < len(run); {
		_, size := utf8.DecodeRuneInString(run[i:])
		if end := st.cjkNameAt(run, i, w.s); end > i {
			st.add(Person, w.s+i, w.s+end, 0.85)
			i = end
			continue
		}
		i += size
	}
}

// cjkNameAt returns the end of a name starting at run[i:], or i.
func (st *scanState) cjkNameAt(run string, i, base int) int {
	for sl := 1; sl <= 2; sl++ {
		se := runeOffset(run, i, sl)
		if se < 0 || gazTable.Lookup(run[i:se]).Last == 0 {
			continue
		}
		for gl := 2; gl >= 1; gl-- {
			ge := runeOffset(run, se, gl)
			if ge < 0 {
				continue
			}
			given := gazTable.Lookup(run[se:ge]).First > 0
			if given || st.cjkCue(run, i, ge, base) {
				return ge
			}
		}
	}
	return i
}

// runeOffset returns the byte offset n runes after i, or -1.
func runeOffset(s string, i, n int) int {
	for ; n > 0; n-- {
		if i >= len(s) {
			return -1
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

// cjkCue: an honorific right after [i, e) or a cue right before it.
func (st *scanState) cjkCue(run string, i, e, base int) bool {
	for _, h := range cjkHonorifics {
		if strings.HasPrefix(run[e:], h) {
			return true
		}
	}
	for _, c := range cjkCues {
		before := st.text[max(0, base-16):base]
		if strings.HasSuffix(run[:i], c) || i == 0 && strings.HasSuffix(strings.TrimRight(before, " ：:"), c) {
			return true
		}
	}
	return false
}
