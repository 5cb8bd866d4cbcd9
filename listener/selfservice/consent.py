"""The consent wording customers see, versioned: a consent record names the version it was given
under, so a change of wording is a new version, never an edit of an old one."""

from __future__ import annotations

# Bump the version whenever the text of its language changes.
WORDING_VERSION = "2026-12-v1"

SMS_CONSENT = {
    "en": (
        "Text me about openings and my appointments. We'll text you once to confirm: reply YES."
        " Reply STOP at any time to stop all messages."
    ),
    "es": (
        "Envíenme mensajes sobre huecos y mis citas. Les enviaremos un mensaje para confirmar: responda SI."
        " Responda STOP en cualquier momento para no recibir más mensajes."
    ),
}
EMAIL_CONSENT = {
    "en": (
        "Email me about openings and my appointments. Stop at any time from the page linked in our emails,"
        " or by asking the practice."
    ),
    "es": (
        "Envíenme correos sobre huecos y mis citas. Puede darse de baja en la página enlazada en los correos"
        " o pidiéndolo a la consulta."
    ),
}
# The double opt-in text: GSM-7 and one segment in every language (tests/py/selfservice checks it).
CONFIRM_TEXT = {
    "en": (
        "{practice}: reply YES to get texts about openings and your visits."
        " Msg&data rates may apply. Reply STOP to opt out"
    ),
    "es": (
        "{practice}: responda SI para recibir mensajes sobre huecos y sus citas."
        " Pueden aplicar tarifas. STOP para salir"
    ),
}
# What the text reply to a confirming YES says.
CONFIRMED_REPLY = "You're signed up for texts. Reply STOP at any time to stop all messages."


def language_or_default(language: str | None) -> str:
    return language if language in SMS_CONSENT else "en"
