"""The client pages' forms: register a client system, issue a token. Messages in Chinese, next to fields."""

from __future__ import annotations

import secrets
from datetime import date

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from runtime.sharing.grant_checks import add_years

#: A new token lasts this many years unless the admin picks another day.
TOKEN_YEARS = 1
#: What an expiry field says when it holds no date.
BAD_DATE = "请按“年-月-日”填写日期，如 2027-12-31"


class ClientForm(FlaskForm):
    """Register a client system: its name, department, the catalog system it is, whom to call."""

    name = StringField(
        "名称",
        validators=[DataRequired("请填写对接系统的名称"), Length(max=100, message="名称最多 100 个字")],
    )
    # Choices are checked below, in Chinese (WTForms' own message is English).
    department = SelectField(
        "所属部门", coerce=str, validate_choice=False, validators=[DataRequired("请选择所属部门")]
    )
    system = SelectField("对应的数据来源系统", coerce=str, validate_choice=False)
    contact = StringField("联系人", validators=[Length(max=200, message="联系人最多 200 个字")])
    description = TextAreaField("说明", validators=[Length(max=500, message="说明最多 500 个字")])

    def offer(self, departments: list[tuple[str, str]], systems: list[str]) -> ClientForm:
        """Set the choices: departments (id, name) and the catalog's source systems."""
        self.department.choices = [("", "（请选择部门）"), *departments]
        self.system.choices = [("", "（不对应目录中的系统）"), *((s, s) for s in systems)]
        return self

    def validate_department(self, field: SelectField) -> None:
        """Refuse a department that is not offered."""
        if field.data and field.data not in {value for value, _label in field.choices}:
            raise ValidationError("没有这个部门，请从列表中选择")

    def validate_system(self, field: SelectField) -> None:
        """Refuse a source system the catalog does not name."""
        if field.data and field.data not in {value for value, _label in field.choices}:
            raise ValidationError("数据目录中没有这个来源系统，请从列表中选择")


class TokenForm(FlaskForm):
    """Issue a token: a label saying where it is used, and the day it expires."""

    label = StringField("用途说明", validators=[Length(max=100, message="用途说明最多 100 个字")])
    expires_on = StringField("有效期至")
    #: One form, one token: a reload of the page that showed it (the browser re-posting) issues no second one.
    nonce = HiddenField()

    def __init__(self, *args, today: date, **kwargs) -> None:
        """Default the expiry to a year from today."""
        super().__init__(*args, **kwargs)
        self.today = today
        if not self.is_submitted():
            self.expires_on.data = add_years(today, TOKEN_YEARS).isoformat()
            self.nonce.data = secrets.token_urlsafe(12)

    def validate_expires_on(self, field: StringField) -> None:
        """Accept a day after today, written YYYY-MM-DD."""
        text = (field.data or "").strip()
        if not text:
            raise ValidationError("请填写有效期")
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValidationError(BAD_DATE) from None
        if day <= self.today:
            raise ValidationError("有效期应晚于今天")
        self.day = day
