"""The app is built with Litestar's current API: no deprecation warning when it is created
(the route signatures, parameters and OpenAPI description are all parsed then)."""

from __future__ import annotations

import warnings

from api.conftest import base_settings

from slotoptim.api.app import create_app


def test_creating_the_app_warns_of_no_deprecation() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Nothing connects before the app starts: the address need not be a database.
        create_app(base_settings("postgresql://nobody@127.0.0.1:1/none"))
    deprecations = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert deprecations == []
