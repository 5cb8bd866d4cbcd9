"""Money as a customer reads it: Babel's CLDR data formats each currency with its own digits (no
decimals for JPY, three for BHD) and each locale with its own symbol placement and separators."""

from __future__ import annotations

from decimal import Decimal

from babel.core import Locale, UnknownLocaleError
from babel.numbers import UnknownCurrencyError, format_currency

DEFAULT_LOCALE = "en_US"


def locale_for(language: str | None, currency: str) -> str:
    """The locale to format `currency` in for a reader of `language`: the language with the
    currency's most likely territory when CLDR knows the pair (es + EUR: es_ES), else the language."""
    lang = (language or "en").lower()
    territories = {
        "USD": "US",
        "EUR": "ES" if lang == "es" else "IE",
        "GBP": "GB",
        "MXN": "MX",
        "JPY": "JP",
        "CAD": "CA",
        "AUD": "AU",
    }
    territory = territories.get(currency)
    candidate = f"{lang}_{territory}" if territory else lang
    try:
        Locale.parse(candidate)
    except (UnknownLocaleError, ValueError):
        return lang
    return candidate


def money(amount: Decimal, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """`amount` in `currency` for `locale`; an unknown currency or locale falls back to
    "1,234.50 XYZ" rather than failing the page."""
    try:
        return str(format_currency(amount, currency, locale=locale))
    except (UnknownCurrencyError, UnknownLocaleError, ValueError):
        return f"{amount:,.2f} {currency}"
