"""Custom templates: saved only when they render, previewed with sample data, used with a fallback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from doorpin.bootstrap import AppServices
from doorpin.domain.scopes import Scope
from tests.integration.messages.conftest import book, guest_property, pin_of
from tests.support.api import Tenant
from tests.support.gateway_server import Gateway
from tests.support.resources import assert_error, count_rows, ok
from tests.support.smtp_server import SmtpServer

GERMAN = {
    "subject": "{{ property_name }}: Ihr Code",
    "text": "Guten Tag {{ guest_name }}! Code {{ pin }} für {{ doors | join(' + ') }} ab {{ window_start }}.\n",
    "html": "<p>Code <b>{{ pin }}</b> für {{ property_name }}</p>",
}


def _path(prop: Any, channel: str = "email", language: str = "de") -> str:
    return f"/v1/properties/{prop['id']}/message-templates/{channel}/{language}"


def test_a_template_is_saved_read_listed_and_deleted(tenant: Tenant, services: AppServices) -> None:
    prop, _ = guest_property(tenant)
    saved = ok(tenant.put(_path(prop), GERMAN))
    assert saved["source"] == "custom"
    assert (saved["channel"], saved["language"], saved["text"]) == ("email", "de", GERMAN["text"])
    assert "pin" in saved["placeholders"]
    assert ok(tenant.get(_path(prop, language="DE")))["subject"] == GERMAN["subject"]
    assert [t["language"] for t in ok(tenant.get(f"/v1/properties/{prop['id']}/message-templates"))["data"]] == ["de"]
    replaced = ok(tenant.put(_path(prop), {**GERMAN, "subject": "Neu: {{ property_name }}"}))
    assert replaced["subject"] == "Neu: {{ property_name }}"
    assert count_rows(services, "message_templates") == 1
    assert tenant.delete(_path(prop)).status_code == 204
    assert_error(tenant.get(_path(prop)), 404, "not_found")
    assert_error(tenant.delete(_path(prop)), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({**GERMAN, "text": "Code {{ pin }"}, "text", "line 1"),
        ({**GERMAN, "text": "Code {{ pinn }}"}, "text", "pinn"),
        ({**GERMAN, "subject": "{% if reason %}x"}, "subject", "end of template"),
        ({**GERMAN, "html": "{{ pin.__class__.__mro__ }}"}, "html", "unsafe"),
        (
            {**GERMAN, "text": "{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}"},
            "text",
            "too much work",
        ),
        ({**GERMAN, "text": "{{ 'x' * 1000000 }}"}, "text", "longer than"),
        ({"text": "no subject"}, "subject", "subject"),
        # A branch only some reasons reach is still checked: every reason is rendered with sample data.
        ({**GERMAN, "text": '{% if reason == "resend" %}{{ oops }}{% endif %}ok'}, "text", "oops"),
    ],
)
def test_a_template_that_does_not_render_is_refused_when_saved(
    tenant: Tenant, body: dict[str, str], field: str, words: str
) -> None:
    prop, _ = guest_property(tenant)
    error = assert_error(tenant.put(_path(prop), body), 422, "validation_error", field)
    assert words in error["message"]
    assert_error(tenant.get(_path(prop)), 404, "not_found")


def test_sms_templates_have_only_text(tenant: Tenant) -> None:
    prop, _ = guest_property(tenant)
    assert_error(tenant.put(_path(prop, "sms"), GERMAN), 422, "validation_error", "subject")
    assert_error(
        tenant.put(_path(prop, "whatsapp"), {"text": "x", "html": "<p>x</p>"}), 422, "validation_error", "html"
    )
    assert ok(tenant.put(_path(prop, "sms"), {"text": "{{ pin }}"}))["subject"] is None


def test_templates_need_write_to_change_and_read_to_see(tenant: Tenant, other_tenant: Tenant) -> None:
    prop, _ = guest_property(tenant)
    reader = tenant.key_with(Scope.READ)
    assert_error(reader.put(_path(prop), GERMAN), 403, "forbidden")
    ok(tenant.put(_path(prop), GERMAN))
    assert ok(reader.get(_path(prop)))["language"] == "de"
    assert_error(reader.delete(_path(prop)), 403, "forbidden")
    assert_error(other_tenant.get(_path(prop)), 404, "not_found")
    assert_error(other_tenant.put(_path(prop), GERMAN), 404, "not_found")
    assert_error(tenant.put(_path(prop, language="not a tag"), GERMAN), 422, "validation_error")
    assert tenant.put(_path(prop, channel="pigeon"), GERMAN).status_code == 422


def test_preview_renders_the_given_template_with_sample_data(tenant: Tenant) -> None:
    prop, _ = guest_property(tenant)
    body = {"channel": "email", "language": "de", "reason": "pin_changed", "template": GERMAN}
    preview = ok(tenant.post(f"/v1/properties/{prop['id']}/message-templates/preview", body))
    assert preview["source"] == "request"
    assert preview["subject"] == "Casa Alfama: Ihr Code"
    assert preview["text"].startswith("Guten Tag Ana Silva! Code 123456 für Entrance + Room 12 ab ")
    assert "Uhr" in preview["text"]  # the sample window, written in German
    assert preview["html"] == "<p>Code <b>123456</b> für Casa Alfama</p>"
    broken = {**body, "template": {**GERMAN, "text": "{{ nope }}"}}
    assert_error(
        tenant.post(f"/v1/properties/{prop['id']}/message-templates/preview", broken),
        422,
        "validation_error",
        "template.text",
    )


def test_preview_without_a_template_shows_what_a_guest_of_that_language_gets(tenant: Tenant) -> None:
    prop, _ = guest_property(tenant)
    url = f"/v1/properties/{prop['id']}/message-templates/preview"
    builtin = ok(tenant.post(url, {"channel": "email", "language": "fr-CA"}))
    assert (builtin["source"], builtin["language"]) == ("builtin", "fr")
    assert builtin["subject"] == "Votre code d'accès pour Casa Alfama"
    sms = ok(tenant.post(url, {"channel": "sms", "language": "es", "reason": "pin_changed"}))
    assert sms["subject"] is None
    assert sms["html"] is None
    assert "NUEVO" in sms["text"]
    ok(tenant.put(_path(prop), GERMAN))
    custom = ok(tenant.post(url, {"channel": "email", "language": "de-AT"}))
    assert (custom["source"], custom["language"]) == ("custom", "de")
    assert custom["subject"] == "Casa Alfama: Ihr Code"


def test_the_builtin_templates_can_be_read_as_a_starting_point(tenant: Tenant) -> None:
    de = ok(tenant.get("/v1/message-templates/builtin/email/de-AT"))
    assert (de["source"], de["language"], de["property_id"]) == ("builtin", "de", None)
    assert "{{ pin }}" in de["text"]
    assert "Ihr Code" in de["text"]
    fallback = ok(tenant.get("/v1/message-templates/builtin/sms/ja"))
    assert fallback["language"] == "en"
    assert fallback["subject"] is None


def test_sending_uses_the_property_template_in_the_guests_language_then_falls_back(
    tenant: Tenant, smtp: SmtpServer, gateway: Gateway, send: Callable[[], int]
) -> None:
    prop, unit = guest_property(tenant, channels=["email", "whatsapp"])
    ok(tenant.put(_path(prop), GERMAN))
    ok(tenant.put(_path(prop, "sms", "en"), {"text": "Door code {{ pin }} ({{ reason }})"}))
    german = book(
        tenant,
        prop,
        unit,
        "2026-06-01",
        "2026-06-03",
        email="de@guest.example",
        language="de-CH",
        phone="+41 79 123 45 67",
    )
    french = book(
        tenant,
        prop,
        unit,
        "2026-06-01",
        "2026-06-03",
        email="fr@guest.example",
        language="fr",
        phone="+33 6 12 34 56 78",
    )
    send()
    mails = {r.rcpt_tos[0]: r.message for r in smtp.received}
    assert mails["de@guest.example"]["Subject"] == "Casa Alfama: Ihr Code"
    text = mails["de@guest.example"].get_body(preferencelist=("plain",))
    assert text is not None
    assert f"Code {pin_of(tenant, german)} für Entrance + Room 12 door" in text.get_content()
    # No French template at the property: the built-in French one.
    assert mails["fr@guest.example"]["Subject"] == "Votre code d'accès pour Casa Alfama"
    # WhatsApp uses the property's SMS template, in the property's language, for both guests.
    bodies = sorted(r.form["Body"] for r in gateway.requests)
    assert bodies == sorted(f"Door code {pin_of(tenant, s)} (pre_arrival)" for s in (german, french))
