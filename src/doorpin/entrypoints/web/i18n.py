"""The guest pages' words in English, German, French, Spanish and Portuguese, and their dates.

A small catalogue on purpose: a handful of sentences and the names of days and months. Adding a
language means adding one entry to each table below (`tests/unit/test_guest_i18n.py` checks
that every language has every message).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

DEFAULT_LANGUAGE = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your door code",
        "greeting": "Hello {name},",
        "intro": "Here is your code for {property}.",
        "code": "Your code",
        "doors": "Doors",
        "valid": "When it works",
        "from": "From",
        "until": "Until",
        "times_note": "Local time at the property ({zone}).",
        "how_to": "How to open the door",
        "not_ready": "Your code is not ready yet. Please look again later, or contact your host.",
        "not_found_title": "Page not found",
        "not_found_body": "This link does not work. Please use the link in your latest message, or contact your host.",
        "rate_limited_title": "Too many requests",
        "rate_limited_body": "Please wait a minute, then try again.",
    },
    "de": {
        "title": "Ihr Türcode",
        "greeting": "Hallo {name},",
        "intro": "Hier ist Ihr Code für {property}.",
        "code": "Ihr Code",
        "doors": "Türen",
        "valid": "Wann er gilt",
        "from": "Ab",
        "until": "Bis",
        "times_note": "Ortszeit der Unterkunft ({zone}).",
        "how_to": "So öffnen Sie die Tür",
        "not_ready": "Ihr Code ist noch nicht bereit. Bitte schauen Sie später noch einmal "
        "oder wenden Sie sich an Ihren Gastgeber.",
        "not_found_title": "Seite nicht gefunden",
        "not_found_body": "Dieser Link funktioniert nicht. Bitte verwenden Sie den Link aus Ihrer "
        "neuesten Nachricht oder wenden Sie sich an Ihren Gastgeber.",
        "rate_limited_title": "Zu viele Anfragen",
        "rate_limited_body": "Bitte warten Sie eine Minute und versuchen Sie es dann erneut.",
    },
    "fr": {
        "title": "Votre code d’accès",
        "greeting": "Bonjour {name},",
        "intro": "Voici votre code pour {property}.",
        "code": "Votre code",
        "doors": "Portes",
        "valid": "Quand il fonctionne",
        "from": "Du",
        "until": "Au",
        "times_note": "Heure locale de l’hébergement ({zone}).",
        "how_to": "Comment ouvrir la porte",
        "not_ready": "Votre code n’est pas encore prêt. Revenez plus tard ou contactez votre hôte.",
        "not_found_title": "Page introuvable",
        "not_found_body": "Ce lien ne fonctionne pas. Utilisez le lien de votre dernier message "
        "ou contactez votre hôte.",
        "rate_limited_title": "Trop de requêtes",
        "rate_limited_body": "Veuillez patienter une minute, puis réessayer.",
    },
    "es": {
        "title": "Tu código de acceso",
        "greeting": "Hola, {name}:",
        "intro": "Este es tu código para {property}.",
        "code": "Tu código",
        "doors": "Puertas",
        "valid": "Cuándo funciona",
        "from": "Desde",
        "until": "Hasta",
        "times_note": "Hora local del alojamiento ({zone}).",
        "how_to": "Cómo abrir la puerta",
        "not_ready": "Tu código aún no está listo. Vuelve a mirar más tarde o contacta con tu anfitrión.",
        "not_found_title": "Página no encontrada",
        "not_found_body": "Este enlace no funciona. Usa el enlace de tu último mensaje o contacta con tu anfitrión.",
        "rate_limited_title": "Demasiadas solicitudes",
        "rate_limited_body": "Espera un minuto y vuelve a intentarlo.",
    },
    "pt": {
        "title": "O seu código de acesso",
        "greeting": "Olá {name},",
        "intro": "Aqui está o seu código para {property}.",
        "code": "O seu código",
        "doors": "Portas",
        "valid": "Quando funciona",
        "from": "De",
        "until": "Até",
        "times_note": "Hora local do alojamento ({zone}).",
        "how_to": "Como abrir a porta",
        "not_ready": "O seu código ainda não está pronto. Volte mais tarde ou contacte o seu anfitrião.",
        "not_found_title": "Página não encontrada",
        "not_found_body": "Esta ligação não funciona. Use a ligação da sua mensagem mais recente "
        "ou contacte o seu anfitrião.",
        "rate_limited_title": "Demasiados pedidos",
        "rate_limited_body": "Aguarde um minuto e tente novamente.",
    },
}

STEPS: dict[str, list[str]] = {
    "en": [
        "Type the code on the keypad of the door.",
        "Press the confirm key if there is one (✓, # or the lock symbol).",
        "The code works only at the times shown, on the doors listed.",
        "Please keep the code to yourself.",
    ],
    "de": [
        "Geben Sie den Code am Tastenfeld der Tür ein.",
        "Drücken Sie die Bestätigungstaste, falls vorhanden (✓, # oder das Schloss-Symbol).",
        "Der Code gilt nur zu den angegebenen Zeiten und an den genannten Türen.",
        "Bitte geben Sie den Code nicht weiter.",
    ],
    "fr": [
        "Tapez le code sur le clavier de la porte.",
        "Appuyez sur la touche de validation s’il y en a une (✓, # ou le symbole du cadenas).",
        "Le code ne fonctionne qu’aux horaires indiqués, sur les portes listées.",
        "Merci de ne pas communiquer ce code.",
    ],
    "es": [
        "Marca el código en el teclado de la puerta.",
        "Pulsa la tecla de confirmación si la hay (✓, # o el símbolo del candado).",
        "El código solo funciona en el horario indicado y en las puertas de la lista.",
        "Por favor, no compartas el código.",
    ],
    "pt": [
        "Marque o código no teclado da porta.",
        "Prima a tecla de confirmação, se existir (✓, # ou o símbolo do cadeado).",
        "O código só funciona no horário indicado e nas portas indicadas.",
        "Por favor, não partilhe o código.",
    ],
}

WEEKDAYS: dict[str, list[str]] = {  # Monday first, as datetime.weekday()
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
    "pt": ["segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo"],
}


def _words(text: str) -> list[str]:
    return text.split()


MONTHS: dict[str, list[str]] = {
    "en": _words("January February March April May June July August September October November December"),
    "de": _words("Januar Februar März April Mai Juni Juli August September Oktober November Dezember"),
    "fr": _words("janvier février mars avril mai juin juillet août septembre octobre novembre décembre"),
    "es": _words("enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"),
    "pt": _words("janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro"),
}

LANGUAGES = tuple(MESSAGES)


def language_of(tag: str | None) -> str | None:
    """The catalogue language for a BCP 47 tag (`de-AT` -> `de`), or None when we have none."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in MESSAGES else None


def pick_language(*preferences: str | None) -> str:
    """The first preference the catalogue speaks, else English."""
    for tag in preferences:
        found = language_of(tag)
        if found is not None:
            return found
    return DEFAULT_LANGUAGE


def accepted_languages(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, most wanted first (q=0 dropped)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(header: str | None) -> str:
    """The language of a page that knows nothing but the browser's Accept-Language."""
    return pick_language(*accepted_languages(header))


def format_when(local: datetime, language: str) -> str:
    """A wall-clock instant written out for a guest: `Friday 14 June 2030, 15:00`."""
    weekday = WEEKDAYS[language][local.weekday()]
    month = MONTHS[language][local.month - 1]
    day, year, clock = local.day, local.year, f"{local.hour:02d}:{local.minute:02d}"
    if language == "de":
        return f"{weekday}, {day}. {month} {year}, {clock} Uhr"
    if language == "fr":
        return f"{weekday} {'1er' if day == 1 else day} {month} {year} à {clock}"
    if language in ("es", "pt"):
        return f"{weekday}, {day} de {month} de {year}, {clock}"
    return f"{weekday} {day} {month} {year}, {clock}"


def group_digits(pin: str) -> list[str]:
    """A PIN in groups that are easy to read and type: `123 456`, `1234 5678`, `123 456 7890`."""
    if len(pin) <= 8:
        half = len(pin) // 2
        return [part for part in (pin[:half], pin[half:]) if part]
    groups = [pin[i : i + 3] for i in range(0, len(pin), 3)]
    if len(groups[-1]) == 1:  # never a lone digit at the end: 123 456 7890
        groups[-2:] = [groups[-2] + groups[-1]]
    return groups


def check_catalogue(languages: Iterable[str] = LANGUAGES) -> list[str]:
    """What is missing from the catalogue, as readable problems (empty: complete)."""
    problems: list[str] = []
    keys = set(MESSAGES[DEFAULT_LANGUAGE])
    for language in languages:
        missing = keys - set(MESSAGES.get(language, {}))
        problems.extend(f"{language}: no message {key!r}" for key in sorted(missing))
        for table, size in ((STEPS, len(STEPS[DEFAULT_LANGUAGE])), (WEEKDAYS, 7), (MONTHS, 12)):
            if len(table.get(language, [])) != size:
                problems.append(f"{language}: {size} entries expected in a table")
    return problems
