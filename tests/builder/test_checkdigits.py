"""GB 11643 and GB 32100 check characters, and the disability certificate number."""

import pytest

from builder.checkdigits import (
    disability_cert_problem,
    id_check_char,
    id_problem,
    uscc_check_char,
    uscc_problem,
)

# Published examples: GB 11643's own sample and widely cited valid codes.
VALID_IDS = ["11010519491231002X", "440524188001010014"]


@pytest.mark.parametrize("value", VALID_IDS)
def test_published_id_numbers_are_valid(value):
    assert id_problem(value) is None


def test_check_char_is_computed_from_the_weights():
    # 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167; 167 % 11 = 2 → X
    assert id_check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    "value, message",
    [
        ("11010519491231002Y", "前17位应为数字"),
        ("110105194912310021", "校验位错误"),
        ("1101051949123100", "应为18位"),
        ("110105194913310021", "出生日期无效"),
    ],
)
def test_invalid_id_numbers_say_why(value, message):
    assert message in id_problem(value)


def test_published_uscc_is_valid():
    assert uscc_problem("91350100M000100Y43") is None
    assert uscc_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    "value, message",
    [
        ("91350100M000100Y44", "校验位错误"),
        ("91350100M0001O0Y43", "非法字符“O”"),
        ("91350100M000100Y4", "应为18位"),
    ],
)
def test_invalid_uscc_says_why(value, message):
    assert message in uscc_problem(value)


def test_disability_certificate_is_id_plus_category_and_grade():
    assert disability_cert_problem("11010519491231002X42") is None
    assert "类别" in disability_cert_problem("11010519491231002X82")
    assert "等级" in disability_cert_problem("11010519491231002X45")
    assert "身份号码" in disability_cert_problem("11010519491231002142")
