"""Refuse regular expressions that can backtrack catastrophically (ReDoS).

JSON Schema patterns follow ECMA-262, so they are parsed here by a small ECMA-262 parser rather
than by Python's `re`, whose parser rewrites the tree (it factors `a|ab` into `a(?:|b)`), which
would hide the shapes looked for. The pattern must also compile with Python's `re`, because the
validators that apply it do.

What is refused, and why:

- backreferences (`\\1`, `\\k<n>`) and lookarounds (`(?=`, `(?!`, `(?<=`, `(?<!`): not regular,
  not supported by every validator, and needed by no report field;
- a quantifier over something that itself varies in length (`(a+)+`, `(a*)*`, `(\\d+)*`,
  `(a?)*`), unless the number of ways to split a string stays small (`(\\d{1,3}\\.){3}`) or each
  repetition is delimited by a character nothing else in it can match (`(?:_[a-z]+)*`,
  `(\\d+,)*`);
- an alternation under a quantifier whose branches can start with the same character
  (`(a|a)*`, `(a|ab)*`, `(\\d|\\w)+`);
- quantifier bounds above 1000 and patterns longer than 500 characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PATTERN_LENGTH = 500
MAX_REPEAT_BOUND = 1000
#: A quantifier allowing more repetitions than this counts as "many".
MANY = 10
#: Ways of splitting one string between nested quantifiers tolerated before refusing.
MAX_WAYS = 1000

_TOP = 0x10FFFF
Ranges = tuple[tuple[int, int], ...]


def _norm(ranges: list[tuple[int, int]]) -> Ranges:
    """Return sorted, merged code-point ranges."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def _complement(ranges: Ranges) -> Ranges:
    out, start = [], 0
    for lo, hi in ranges:
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= _TOP:
        out.append((start, _TOP))
    return tuple(out)


def _meets(a: Ranges, b: Ranges) -> bool:
    return any(lo1 <= hi2 and lo2 <= hi1 for lo1, hi1 in a for lo2, hi2 in b)


def _chars(text: str) -> Ranges:
    return _norm([(ord(c), ord(c)) for c in text])


_DIGIT = ((0x30, 0x39),)
_WORD = _norm([(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A), (0x5F, 0x5F)])
_SPACE = _norm(
    [
        (9, 13),
        (0x20, 0x20),
        (0xA0, 0xA0),
        (0x1680, 0x1680),
        (0x2000, 0x200A),
        (0x2028, 0x2029),
        (0x202F, 0x202F),
        (0x205F, 0x205F),
        (0x3000, 0x3000),
        (0xFEFF, 0xFEFF),
    ]
)
_CLASSES = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
_DOT = _complement(_chars("\n\r\u2028\u2029"))
_CONTROL = {"t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r"}


# Parse tree: ("chars", ranges) | ("empty",) | ("seq", [nodes]) | ("alt", [nodes])
# | ("repeat", node, lo, hi or None). Assertions (^ $ \b \B) become ("empty",).


@dataclass(frozen=True)
class RegexProblem:
    """Why a pattern is refused: a stable code and a Chinese explanation."""

    code: str
    message: str


class _Refuse(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.problem = RegexProblem(code, message)


def _invalid(why: str) -> _Refuse:
    return _Refuse("regex_invalid", f"正则表达式写法有误：{why}")


class _Parser:
    """Recursive-descent parser of ECMA-262 pattern syntax (no flags, Annex B literal braces)."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def peek(self, ahead: int = 0) -> str:
        i = self.pos + ahead
        return self.text[i] if i < len(self.text) else ""

    def parse(self) -> tuple:
        node = self.disjunction()
        if self.pos < len(self.text):
            raise _invalid(f"第 {self.pos + 1} 个字符“{self.peek()}”没有对应的左括号")
        return node

    def disjunction(self) -> tuple:
        options = [self.alternative()]
        while self.peek() == "|":
            self.pos += 1
            options.append(self.alternative())
        return options[0] if len(options) == 1 else ("alt", options)

    def alternative(self) -> tuple:
        items = []
        while self.peek() not in ("", "|", ")"):
            items.append(self.term())
        return ("seq", items)

    def term(self) -> tuple:
        char = self.peek()
        if char in "^$":
            self.pos += 1
            return self.no_quantifier(("empty",))
        if char == "\\" and self.peek(1) in ("b", "B"):
            self.pos += 2
            return self.no_quantifier(("empty",))
        return self.quantified(self.atom())

    def no_quantifier(self, node: tuple) -> tuple:
        if self.peek() in ("*", "+", "?") or self.brace() is not None:
            raise _invalid("断言（^、$、\\b）后面不能跟量词")
        return node

    def atom(self) -> tuple:
        char = self.peek()
        if char == "(":
            return self.group()
        if char == "[":
            return ("chars", self.char_class())
        if char == "\\":
            return ("chars", self.escape(in_class=False))
        if char in ("*", "+", "?"):
            raise _invalid(f"量词“{char}”前面没有可以重复的内容")
        if char == "{" and self.brace() is not None:
            raise _invalid("量词“{”前面没有可以重复的内容")
        if char == "{" and re.match(r"\{,\d+\}", self.text[self.pos :]):
            # Python reads {,n} as {0,n}, ECMA-262 as the literal text: the validators would disagree
            raise _invalid("请把 {,n} 写成 {0,n}")
        self.pos += 1
        return ("chars", _DOT if char == "." else _chars(char))

    def group(self) -> tuple:
        self.pos += 1
        if self.peek() == "?":
            head = self.text[self.pos : self.pos + 3]
            if head.startswith(("?=", "?!", "?<=", "?<!")):
                raise _Refuse(
                    "regex_lookaround",
                    "正则表达式使用了前后断言（(?=…)、(?!…)、(?<=…)、(?<!…)），"
                    "并非所有校验程序都支持，也容易造成回溯过多，请改写为不含断言的形式",
                )
            if head.startswith("?:"):
                self.pos += 2
            elif head.startswith("?<"):
                raise _invalid("不支持命名分组 (?<名称>…)，请改用 (?:…)")
            else:
                raise _invalid(f"不认识的分组写法“({head}”")
        node = self.disjunction()
        if self.peek() != ")":
            raise _invalid("括号没有闭合")
        self.pos += 1
        return node

    def brace(self) -> tuple[int, int | None, int] | None:
        """Return (lo, hi, length) when a {n}, {n,} or {n,m} quantifier starts here."""
        match = re.match(r"\{(\d+)(,(\d*))?\}", self.text[self.pos :])
        if not match:
            return None
        lo = int(match.group(1))
        hi = lo if match.group(2) is None else (int(match.group(3)) if match.group(3) else None)
        return lo, hi, match.end()

    def quantified(self, node: tuple) -> tuple:
        char = self.peek()
        if char in ("*", "+", "?"):
            self.pos += 1
            lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        elif (brace := self.brace()) is not None:
            lo, hi, length = brace
            self.pos += length
            if hi is not None and hi < lo:
                raise _invalid(f"量词 {{{lo},{hi}}} 的上限小于下限")
            if max(lo, hi or 0) > MAX_REPEAT_BOUND:
                raise _Refuse(
                    "regex_large_repeat",
                    f"正则表达式的重复次数 {max(lo, hi or 0)} 过大（上限 {MAX_REPEAT_BOUND}）",
                )
        else:
            return node
        if self.peek() == "?":  # lazy: same language, same backtracking risk
            self.pos += 1
        if self.peek() in ("*", "+", "?") or self.brace() is not None:
            raise _invalid("量词不能连续出现")
        return ("repeat", node, lo, hi)

    def escape(self, *, in_class: bool) -> Ranges:
        self.pos += 1
        char = self.peek()
        if not char:
            raise _invalid("末尾的反斜杠后面缺少字符")
        self.pos += 1
        if char.lower() in _CLASSES:
            ranges = _CLASSES[char.lower()]
            return _complement(ranges) if char.isupper() else ranges
        if char in "123456789" or char == "k":
            raise _Refuse(
                "regex_backreference",
                "正则表达式使用了反向引用（\\1、\\k<名称>），这类写法可能导致校验极其缓慢，"
                "且并非所有校验程序都支持，请改写",
            )
        if char in _CONTROL:
            return _chars(_CONTROL[char])
        if char == "b" and in_class:
            return _chars("\b")
        if char == "0" and not self.peek().isdigit():
            return _chars("\0")
        if char in ("x", "u"):
            size = 2 if char == "x" else 4
            digits = self.text[self.pos : self.pos + size]
            if len(digits) == size and all(c in "0123456789abcdefABCDEF" for c in digits):
                self.pos += size
                return ((int(digits, 16), int(digits, 16)),)
            raise _invalid(f"“\\{char}”后面应是 {size} 位十六进制数")
        if char == "c" and self.peek().isascii() and self.peek().isalpha():
            self.pos += 1
            return ((ord(self.text[self.pos - 1]) % 32,) * 2,)
        if char.isalnum():
            raise _invalid(f"不支持的转义“\\{char}”")
        return _chars(char)

    def char_class(self) -> Ranges:
        self.pos += 1
        negate = self.peek() == "^"
        self.pos += negate
        ranges: list[tuple[int, int]] = []
        while self.peek() != "]":
            if not self.peek():
                raise _invalid("方括号没有闭合")
            low = self.class_atom()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.pos += 1
                high = self.class_atom()
                if len(low) == 1 == len(high) and low[0][0] == low[0][1] and high[0][0] == high[0][1]:
                    if high[0][0] < low[0][0]:
                        raise _invalid("方括号中的范围顺序颠倒")
                    ranges.append((low[0][0], high[0][0]))
                    continue
                ranges.extend([*low, (ord("-"), ord("-")), *high])  # Annex B: [\d-x] is literal
                continue
            ranges.extend(low)
        self.pos += 1
        merged = _norm(ranges)
        return _complement(merged) if negate else merged

    def class_atom(self) -> Ranges:
        if self.peek() == "\\":
            return self.escape(in_class=True)
        self.pos += 1
        return _chars(self.text[self.pos - 1])


@dataclass(frozen=True)
class _Info:
    lo: int
    hi: int | None
    first: Ranges


def _info(node: tuple) -> _Info:
    """Return the length bounds and the possible first characters of a node."""
    kind = node[0]
    if kind == "chars":
        return _Info(1, 1, node[1])
    if kind == "empty":
        return _Info(0, 0, ())
    if kind == "repeat":
        body = _info(node[1])
        hi = None if node[3] is None or body.hi is None else body.hi * node[3]
        return _Info(body.lo * node[2], 0 if body.hi == 0 else hi, body.first if node[3] else ())
    parts = [_info(n) for n in node[1]]
    if kind == "alt":
        his = [p.hi for p in parts]
        return _Info(
            min(p.lo for p in parts),
            None if None in his else max(his),
            _norm([r for p in parts for r in p.first]),
        )
    first: list[tuple[int, int]] = []
    for part in parts:
        first.extend(part.first)
        if part.lo:
            break
    his = [p.hi for p in parts]
    return _Info(sum(p.lo for p in parts), None if None in his else sum(his), _norm(first))


def _nodes(node: tuple):
    """Yield the node and every node below it."""
    yield node
    if node[0] in ("seq", "alt"):
        for child in node[1]:
            yield from _nodes(child)
    elif node[0] == "repeat":
        yield from _nodes(node[1])


def _variable(node: tuple) -> list[tuple]:
    return [n for n in _nodes(node) if n[0] == "repeat" and n[2] != n[3]]


def _charsets(node: tuple) -> list[Ranges]:
    return [n[1] for n in _nodes(node) if n[0] == "chars"]


def _delimited(body: tuple) -> bool:
    """Tell whether each repetition of `body` starts or ends with its own delimiter character."""
    if body[0] != "seq" or len(body[1]) < 2:
        return False
    for edge, rest in ((body[1][0], body[1][1:]), (body[1][-1], body[1][:-1])):
        if edge[0] != "chars":
            continue
        rest_node = ("seq", list(rest))
        inner = _variable(rest_node)
        if (
            not any(n[0] == "alt" for n in _nodes(rest_node))
            and len(inner) <= 1
            and not any(_meets(edge[1], r) for r in _charsets(rest_node))
        ):
            return True
    return False


def _ways(body: tuple, times: int | None) -> float:
    """Return how many ways nested quantifiers could split a string, infinity when unbounded."""
    per = 1.0
    for node in _variable(body):
        if node[3] is None:
            return float("inf")
        per *= node[3] - node[2] + 1
    if per == 1:
        return 1
    return float("inf") if times is None else per**times


def _overlapping(node: tuple) -> bool:
    options = [_info(o) for o in node[1]]
    for i, a in enumerate(options):
        for b in options[i + 1 :]:
            if _meets(a.first, b.first) or (a.lo == 0 and b.lo == 0):
                return True
    return False


def _analyze(tree: tuple) -> RegexProblem | None:
    for node in _nodes(tree):
        if node[0] != "repeat" or node[3] == 1 or node[3] == 0:
            continue
        body, hi = node[1], node[3]
        many = hi is None or hi > MANY
        if _ways(body, hi) > MAX_WAYS and not _delimited(body):
            return RegexProblem(
                "regex_nested_quantifier",
                "正则表达式中量词套着量词（如 (a+)+、(\\d+)*），遇到不匹配的输入时"
                "需要尝试的组合数呈指数增长，可能使校验卡死；请改写为不嵌套量词的形式",
            )
        if many and _info(body).lo == 0:
            return RegexProblem(
                "regex_nested_quantifier",
                "正则表达式重复了一段可以为空的内容（如 (a?)*、(a|)*），可能使校验卡死；请去掉多余的量词",
            )
        if many and any(n[0] == "alt" and _overlapping(n) for n in _nodes(body)):
            return RegexProblem(
                "regex_overlapping_alternation",
                "正则表达式在重复的部分中使用了可以匹配相同内容的分支（如 (a|a)*、(a|ab)*），"
                "遇到不匹配的输入时可能使校验卡死；请让各分支以不同的字符开头",
            )
    return None


def regex_problem(pattern: str) -> RegexProblem | None:
    """Return why a JSON Schema pattern is refused, or None when it is safe to use."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return RegexProblem(
            "regex_too_long", f"正则表达式长 {len(pattern)} 个字符，超过上限 {MAX_PATTERN_LENGTH}"
        )
    try:
        tree = _Parser(pattern).parse()
    except _Refuse as exc:
        return exc.problem
    try:
        re.compile(pattern)
    except re.error as exc:
        return RegexProblem("regex_invalid", f"正则表达式无法编译：{exc}")
    return _analyze(tree)
