"""The built-in templates: one skeleton per part, with each language's phrases filled in.

The result is ordinary Jinja source (what `GET /v1/message-templates/builtin/…` shows), so an
operator can start a custom template from it.
"""

from __future__ import annotations

from doorpin.services.message_templates.rendering import TemplateSet

_INTRO = (
    '{% if reason == "pin_changed" %}[[intro_pin]]{% elif reason == "dates_changed" %}[[intro_dates]]'
    '{% elif reason == "resend" %}[[intro_resend]]{% else %}[[intro_pre]]{% endif %}'
)
SUBJECT = (
    '{% if reason == "pin_changed" %}[[subject_pin]]{% elif reason == "dates_changed" %}[[subject_dates]]'
    "{% else %}[[subject_pre]]{% endif %}"
)
TEXT = f"""[[hello]]{{% if guest_name %}} {{{{ guest_name }}}}{{% endif %}},

{_INTRO}

[[code]]: {{{{ pin }}}}
[[doors]]: {{{{ doors | join(", ") }}}}
[[from]]: {{{{ window_start }}}}
[[until]]: {{{{ window_end }}}}
[[local]]

[[page]]:
{{{{ guest_page_url }}}}

[[bye]]
{{{{ property_name }}}}
"""
HTML = f"""<!doctype html>
<html lang="{{{{ language }}}}"><body style="font-family: sans-serif; line-height: 1.5; color: #222">
<p>[[hello]]{{% if guest_name %}} {{{{ guest_name }}}}{{% endif %}},</p>
<p>{_INTRO}</p>
<p>[[code]]: <strong style="font-size: 1.6em; letter-spacing: 0.1em">{{{{ pin }}}}</strong></p>
<p>[[doors]]: {{{{ doors | join(", ") }}}}<br>
[[from]]: {{{{ window_start }}}}<br>
[[until]]: {{{{ window_end }}}}<br>
<small>[[local]]</small></p>
<p><a href="{{{{ guest_page_url }}}}">[[page]]</a></p>
<p>[[bye]]<br>{{{{ property_name }}}}</p>
</body></html>
"""
# Plain ASCII punctuation: one non-GSM character would halve what fits in an SMS segment.
SMS = (
    '{{ property_name }}: {% if reason == "pin_changed" %}[[sms_new_code]]{% else %}[[sms_code]]{% endif %} '
    '{{ pin }}; {{ doors | join(", ") }}; {{ window_start }} - {{ window_end }}. {{ guest_page_url }}'
)

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "subject_pre": "Your door code for {{ property_name }}",
        "subject_pin": "Your new door code for {{ property_name }}",
        "subject_dates": "Your updated stay at {{ property_name }}",
        "hello": "Hello",
        "intro_pre": "Here is everything you need to get in.",
        "intro_pin": "Your door code has changed: please use the new code below. The old one no longer works.",
        "intro_dates": "Your stay has changed. Here are your updated access details.",
        "intro_resend": "As requested, here are your access details again.",
        "code": "Your code",
        "doors": "Doors",
        "from": "Valid from",
        "until": "Valid until",
        "local": "Times are local time at {{ property_name }}.",
        "page": "Your guest page (code, doors and instructions)",
        "bye": "See you soon,",
        "sms_code": "your door code",
        "sms_new_code": "your NEW door code",
    },
    "de": {
        "subject_pre": "Ihr Türcode für {{ property_name }}",
        "subject_pin": "Ihr neuer Türcode für {{ property_name }}",
        "subject_dates": "Ihr geänderter Aufenthalt in {{ property_name }}",
        "hello": "Hallo",
        "intro_pre": "Hier ist alles, was Sie für den Zutritt brauchen.",
        "intro_pin": "Ihr Türcode hat sich geändert: Bitte verwenden Sie den neuen Code unten. "
        "Der alte Code funktioniert nicht mehr.",
        "intro_dates": "Ihr Aufenthalt hat sich geändert. Hier sind Ihre aktualisierten Zugangsdaten.",
        "intro_resend": "Wie gewünscht, hier noch einmal Ihre Zugangsdaten.",
        "code": "Ihr Code",
        "doors": "Türen",
        "from": "Gültig ab",
        "until": "Gültig bis",
        "local": "Alle Zeiten in Ortszeit von {{ property_name }}.",
        "page": "Ihre Gästeseite (Code, Türen und Hinweise)",
        "bye": "Bis bald,",
        "sms_code": "Ihr Türcode",
        "sms_new_code": "Ihr NEUER Türcode",
    },
    "fr": {
        "subject_pre": "Votre code d'accès pour {{ property_name }}",
        "subject_pin": "Votre nouveau code d'accès pour {{ property_name }}",
        "subject_dates": "Votre séjour modifié à {{ property_name }}",
        "hello": "Bonjour",
        "intro_pre": "Voici tout ce qu'il vous faut pour entrer.",
        "intro_pin": "Votre code d'accès a changé : utilisez le nouveau code ci-dessous. L'ancien ne fonctionne plus.",
        "intro_dates": "Votre séjour a changé. Voici vos informations d'accès mises à jour.",
        "intro_resend": "Comme demandé, voici à nouveau vos informations d'accès.",
        "code": "Votre code",
        "doors": "Portes",
        "from": "Valable à partir du",
        "until": "Valable jusqu'au",
        "local": "Heures locales de {{ property_name }}.",
        "page": "Votre page invité (code, portes et instructions)",
        "bye": "À bientôt,",
        "sms_code": "votre code d'accès",
        "sms_new_code": "votre NOUVEAU code d'accès",
    },
    "es": {
        "subject_pre": "Su código de acceso para {{ property_name }}",
        "subject_pin": "Su nuevo código de acceso para {{ property_name }}",
        "subject_dates": "Su estancia modificada en {{ property_name }}",
        "hello": "Hola",
        "intro_pre": "Aquí tiene todo lo necesario para entrar.",
        "intro_pin": "Su código de acceso ha cambiado: use el nuevo código de abajo. El anterior ya no funciona.",
        "intro_dates": "Su estancia ha cambiado. Estos son sus datos de acceso actualizados.",
        "intro_resend": "Como ha solicitado, le enviamos de nuevo sus datos de acceso.",
        "code": "Su código",
        "doors": "Puertas",
        "from": "Válido desde",
        "until": "Válido hasta",
        "local": "Horas locales de {{ property_name }}.",
        "page": "Su página de huésped (código, puertas e instrucciones)",
        "bye": "¡Hasta pronto!",
        "sms_code": "su código de acceso",
        "sms_new_code": "su NUEVO código de acceso",
    },
    "pt": {
        "subject_pre": "O seu código de acesso para {{ property_name }}",
        "subject_pin": "O seu novo código de acesso para {{ property_name }}",
        "subject_dates": "A sua estadia alterada em {{ property_name }}",
        "hello": "Olá",
        "intro_pre": "Aqui está tudo o que precisa para entrar.",
        "intro_pin": "O seu código de acesso mudou: use o novo código abaixo. O anterior já não funciona.",
        "intro_dates": "A sua estadia mudou. Estes são os seus dados de acesso atualizados.",
        "intro_resend": "Como pedido, enviamos novamente os seus dados de acesso.",
        "code": "O seu código",
        "doors": "Portas",
        "from": "Válido a partir de",
        "until": "Válido até",
        "local": "Horas locais de {{ property_name }}.",
        "page": "A sua página de hóspede (código, portas e instruções)",
        "bye": "Até breve,",
        "sms_code": "o seu código de acesso",
        "sms_new_code": "o seu NOVO código de acesso",
    },
}

LANGUAGES = tuple(sorted(PHRASES))
# The title of the stay's calendar event, followed by the property's name.
CALENDAR_TITLES = {"en": "Stay at", "de": "Aufenthalt in", "fr": "Séjour à", "es": "Estancia en", "pt": "Estadia em"}


def _fill(skeleton: str, phrases: dict[str, str]) -> str:
    for key, phrase in phrases.items():
        skeleton = skeleton.replace(f"[[{key}]]", phrase)
    assert "[[" not in skeleton, skeleton
    return skeleton


def builtin_templates(language: str, channel: str) -> TemplateSet:
    """The built-in template of a base language (`en` when there is none); SMS text for sms/whatsapp."""
    phrases = PHRASES.get(language, PHRASES["en"])
    if channel == "email":
        return TemplateSet(_fill(SUBJECT, phrases), _fill(TEXT, phrases), _fill(HTML, phrases))
    return TemplateSet(None, _fill(SMS, phrases), None)
