"""The console's forms (WTForms), and the service form to and from a data-file entry.

App environment. The form only shapes the input; the rules are the data file's
(`ServiceEntry` and `service_problems`), so a form, the API and a data file accept and
refuse the same entries. Their problems come back keyed like the form's fields
("schedules-0-opens_at"), to be shown next to the field.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import validators as v
from wtforms.fields import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from bot.console.i18n import L_
from bot.directory.data_file import ServiceEntry
from bot.directory.opening_hours import MODES, WEEKDAY_CODES
from bot.eligibility import GROUPS
from bot.needs import NEED_CODES
from bot.topics import TOPICS

# The entry's texts by language, as the form's text blocks hold them.
TEXT_FIELDS = ("name", "description", "eligibility", "fees", "documents", "hours_note")
STATUSES = (
    ("active", L_("active")),
    ("temporarily closed", L_("temporarily closed")),
    ("inactive", L_("inactive")),
    ("defunct", L_("defunct (no longer exists)")),
)
DAYS = (L_("Mon"), L_("Tue"), L_("Wed"), L_("Thu"), L_("Fri"), L_("Sat"), L_("Sun"))
MODE_LABELS = {
    "walk_in": L_("walk-in"),
    "appointment": L_("by appointment"),
    "phone": L_("by phone"),
    "unspecified": L_("not said"),
}
ROLE_LABELS = {  # bot/console/models.py's ROLES
    "admin": L_("admin"),
    "city_editor": L_("city editor"),
    "organization_editor": L_("organisation editor"),
}
YES_NO_UNKNOWN = (("", L_("not known")), ("yes", L_("yes")), ("no", L_("no")))
EXTRA_ROWS = 2  # empty rows offered for adding hours, places and closures


def options(pairs: Any) -> list[SelectChoice]:
    """(value, label) pairs as a select field's choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class FormData:
    """aiohttp's form data as WTForms reads it (it asks for `getlist`)."""

    def __init__(self, multidict: Any):
        self._multi = multidict

    def __len__(self) -> int:
        return len(self._multi)

    def __contains__(self, key: object) -> bool:
        return key in self._multi

    def __iter__(self):  # noqa: ANN204
        return iter(self._multi.keys())

    def getlist(self, key: str) -> list:
        return [value for value in self._multi.getall(key, []) if isinstance(value, str)]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(Form):
    email = StringField(L_("E-mail"), [v.InputRequired(), v.Length(max=300)])
    password = PasswordField(L_("Password"), [v.InputRequired(), v.Length(max=1000)])


class PasswordChangeForm(Form):
    current = PasswordField(L_("Current password"), [v.InputRequired(), v.Length(max=1000)])
    new = PasswordField(L_("New password"), [v.InputRequired(), v.Length(max=1000)])
    repeat = PasswordField(
        L_("New password again"), [v.InputRequired(), v.EqualTo("new", "The passwords differ.")]
    )


class UserForm(Form):
    email = StringField(L_("E-mail"), [v.InputRequired(), v.Email(), v.Length(max=300)])
    name = StringField(L_("Name"), [v.InputRequired(), v.Length(max=200)])
    role = SelectField(L_("Role"), choices=options(ROLE_LABELS.items()))
    city = SelectField(L_("City (city editors)"), choices=[], validate_choice=False)
    organization = SelectField(
        L_("Organisation (organisation editors)"), choices=[], validate_choice=False
    )
    password = PasswordField(L_("First password (tell it to them)"), [v.InputRequired()])


class TokenForm(Form):
    name = StringField(L_("What the token is for"), [v.InputRequired(), v.Length(max=100)])


class OrganizationForm(Form):
    version = HiddenField()
    id = StringField(L_("Id (letters, digits, hyphens)"), [v.InputRequired(), v.Length(max=100)])
    name = StringField(L_("Name"), [v.InputRequired(), v.Length(max=300)])
    url = StringField(L_("Web page"), [v.Optional(), v.Length(max=500)])


class TextsForm(Form):
    """A service's texts in one language."""

    name = StringField(L_("Name"), [v.Optional(), v.Length(max=300)])
    description = TextAreaField(L_("What it does"), [v.Optional(), v.Length(max=4000)])
    eligibility = TextAreaField(L_("Who it is for"), [v.Optional(), v.Length(max=4000)])
    fees = TextAreaField(L_("Fees"), [v.Optional(), v.Length(max=2000)])
    documents = TextAreaField(L_("What to bring"), [v.Optional(), v.Length(max=4000)])
    hours_note = TextAreaField(L_("Note on the hours"), [v.Optional(), v.Length(max=2000)])


class ScheduleForm(Form):
    byday = MultiCheckboxField(L_("Days"), choices=options(zip(WEEKDAY_CODES, DAYS, strict=True)))
    opens_at = StringField(L_("Opens"), render_kw={"type": "time"})
    closes_at = StringField(L_("Closes"), render_kw={"type": "time"})
    mode = SelectField(L_("How"), choices=options((m, MODE_LABELS[m]) for m in MODES))
    valid_from = StringField(L_("From"), render_kw={"type": "date"})
    valid_to = StringField(L_("Until"), render_kw={"type": "date"})


class LocationForm(Form):
    name = StringField(L_("Name of the place"))
    street = StringField(L_("Street and number"))
    postcode = StringField(L_("Postcode"))
    locality = StringField(L_("Town"))
    latitude = StringField(L_("Latitude"), render_kw={"inputmode": "decimal"})
    longitude = StringField(L_("Longitude"), render_kw={"inputmode": "decimal"})


class ClosureForm(Form):
    from_ = StringField(L_("First day"), render_kw={"type": "date"})
    to = StringField(L_("Last day"), render_kw={"type": "date"})
    reason_local = StringField(L_("Reason (city language)"))
    reason_en = StringField(L_("Reason (English)"))


class ServiceForm(Form):
    version = HiddenField()
    id = StringField(L_("Id (letters, digits, hyphens)"), [v.InputRequired(), v.Length(max=100)])
    organization = SelectField(L_("Organisation"), choices=[], validate_choice=False)
    status = SelectField(L_("Status"), choices=options(STATUSES))
    local = FormField(TextsForm)
    en = FormField(TextsForm)
    topics = MultiCheckboxField(
        L_("Topics"), choices=options((t, t.replace("_", " ")) for t in TOPICS)
    )
    needs = MultiCheckboxField(
        L_("Needs within the topics"), choices=options((n, n) for n in NEED_CODES)
    )
    languages = StringField(L_("Languages spoken (codes, comma separated: de, en, uk)"))
    interpreters = SelectField(
        L_("Interpreters on request"),
        choices=options(YES_NO_UNKNOWN),
    )
    appointment_only = SelectField(L_("Only by appointment"), choices=options(YES_NO_UNKNOWN))
    eligible_groups = MultiCheckboxField(
        L_("Only for these groups (none: everyone)"),
        choices=options((g, g.replace("_", " ")) for g in GROUPS),
    )
    minimum_age = IntegerField(L_("Minimum age"), [v.Optional()])
    maximum_age = IntegerField(L_("Maximum age"), [v.Optional()])
    phones = TextAreaField(L_("Phone numbers (one per line)"))
    email = StringField(L_("E-mail"))
    url = StringField(L_("Web page"))
    locations = FieldList(FormField(LocationForm))
    schedules = FieldList(FormField(ScheduleForm))
    closures = FieldList(FormField(ClosureForm))
    review_interval_days = IntegerField(L_("Review every (days)"), [v.Optional()])
    source_url = StringField(L_("Where the facts come from (web page)"))


def _blank(row: dict) -> bool:
    """A row with nothing typed or ticked (a select's preset, such as a schedule's mode,
    does not count)."""
    return not any(value not in (None, "", []) for key, value in row.items() if key != "mode")


def _texts(data: dict, default: str) -> dict[str, dict[str, str]]:
    """{"name": {"de": ..., "en": ...}, ...} from the local and English text blocks."""
    texts: dict[str, dict[str, str]] = {field: {} for field in TEXT_FIELDS}
    for block, language in (("local", default), ("en", "en")):
        for field in TEXT_FIELDS:
            value = (data[block].get(field) or "").strip()
            if value:
                texts[field][language] = value
    return texts


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def entry_data(form: ServiceForm, default: str, base: ServiceEntry | None) -> dict:
    """The entry the form describes, as data for `ServiceEntry.model_validate`; texts in
    languages the form does not show are kept from `base`."""
    data = form.data
    texts = _texts(data, default)
    if base is not None:
        for field in TEXT_FIELDS:
            kept = {k: t for k, t in getattr(base, field).items() if k not in (default, "en")}
            texts[field] = {**kept, **texts[field]}
    entry: dict[str, Any] = {
        "id": (data["id"] or "").strip(),
        "organization": data["organization"],
        "status": data["status"],
        **{field: texts[field] for field in TEXT_FIELDS},
        "topics": data["topics"] or [],
        "needs": data["needs"] or [],
        "languages": [c.strip() for c in (data["languages"] or "").split(",") if c.strip()],
        "interpreters": _yes_no(data["interpreters"]),
        "appointment_only": _yes_no(data["appointment_only"]),
        "eligible_groups": data["eligible_groups"] or [],
        "minimum_age": data["minimum_age"],
        "maximum_age": data["maximum_age"],
        "phones": [p.strip() for p in (data["phones"] or "").splitlines() if p.strip()],
        "email": (data["email"] or "").strip() or None,
        "url": (data["url"] or "").strip() or None,
        "locations": [_optional(row) for row in data["locations"] if not _blank(row)],
        "schedules": [_optional(row) for row in data["schedules"] if not _blank(row)],
        "closures": [_closure(row, default) for row in data["closures"] if not _blank(row)],
        "review": {
            "last_reviewed_at": str(base.review.last_reviewed_at) if base else None,
            "reviewed_by": base.review.reviewed_by if base else None,
            "review_interval_days": data["review_interval_days"] or 365,
            "source_url": (data["source_url"] or "").strip() or None,
        },
    }
    return entry


def _optional(row: dict) -> dict:
    """Empty cells of a row are unset (None), as in a data file."""
    return {key: (value if value not in ("", None) else None) for key, value in row.items()} | (
        {"byday": row["byday"]} if "byday" in row else {}
    )


def _closure(row: dict, default: str) -> dict:
    reason = {default: row["reason_local"].strip(), "en": row["reason_en"].strip()}
    return {
        "from": row["from_"] or None,
        "to": row["to"] or None,
        "reason": {k: t for k, t in reason.items() if t},
    }


def fill_form(form: ServiceForm, entry: ServiceEntry, default: str, version: int) -> None:
    """Put an entry into an empty form, with empty rows for adding."""
    form.version.data = str(version)
    form.id.data = entry.id
    form.organization.data = entry.organization
    form.status.data = entry.status
    for block, language in (("local", default), ("en", "en")):
        for field in TEXT_FIELDS:
            getattr(form, block)[field].data = getattr(entry, field).get(language, "")
    form.topics.data = list(entry.topics)
    form.needs.data = list(entry.needs)
    form.languages.data = ", ".join(entry.languages)
    yes_no = {True: "yes", False: "no", None: ""}
    form.interpreters.data = yes_no[entry.interpreters]
    form.appointment_only.data = yes_no[entry.appointment_only]
    form.eligible_groups.data = list(entry.eligible_groups)
    form.minimum_age.data, form.maximum_age.data = entry.minimum_age, entry.maximum_age
    form.phones.data = "\n".join(entry.phones)
    form.email.data, form.url.data = entry.email or "", entry.url or ""
    form.review_interval_days.data = entry.review.review_interval_days
    form.source_url.data = entry.review.source_url or ""
    for location in entry.locations:
        form.locations.append_entry(SimpleNamespace(**location.model_dump()))
    for schedule in entry.schedules:
        row = schedule.model_dump()
        row["opens_at"], row["closes_at"] = _hhmm(schedule.opens_at), _hhmm(schedule.closes_at)
        form.schedules.append_entry(SimpleNamespace(**row))
    for closure in entry.closures:
        form.closures.append_entry(
            SimpleNamespace(
                from_=str(closure.from_),
                to=str(closure.to or ""),
                reason_local=closure.reason.get(default, ""),
                reason_en=closure.reason.get("en", ""),
            )
        )
    add_empty_rows(form)


def add_empty_rows(form: ServiceForm) -> None:
    for field_list in (form.locations, form.schedules, form.closures):
        for _ in range(EXTRA_ROWS):
            field_list.append_entry()


def _hhmm(moment: Any) -> str:
    return moment.strftime("%H:%M")


# --- problems, keyed like the form's fields ---------------------------------------------

_BLOCK_OF_TEXT = {"name", "description", "eligibility", "fees", "documents", "hours_note"}


def form_key(location: tuple | list, default: str) -> str:
    """("schedules", 0, "opens_at") -> "schedules-0-opens_at"; ("name", "de") -> "local-name"."""
    parts = [str(p) for p in location]
    if parts and parts[0] in _BLOCK_OF_TEXT:
        language = parts[1] if len(parts) > 1 else default
        return f"{'en' if language == 'en' else 'local'}-{parts[0]}"
    if parts and parts[0] == "review":
        parts = parts[1:]
    if parts[:1] == ["closures"] and parts[2:3] == ["from"]:
        parts[2] = "from_"
    return "-".join(parts)


def validation_problems(error: ValidationError, default: str) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for item in error.errors():
        key = form_key(item["loc"], default)
        problems.setdefault(key, []).append(item["msg"])
    return problems


def path_problems(problems: list[tuple[str, str]], default: str) -> dict[str, list[str]]:
    """service_problems' ("schedules[0].closes_at", message) keyed like the form."""
    keyed: dict[str, list[str]] = {}
    for path, message in problems:
        location = path.replace("[", ".").replace("]", "").split(".")
        keyed.setdefault(form_key(location, default), []).append(message)
    return keyed
