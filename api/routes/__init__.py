"""Route modules, one per area of the API; `ROUTES` is what the app mounts.

The claim page (/c/{token}) and the staff dashboard (/dashboard) render api/templates/ with Jinja.
"""

from __future__ import annotations

from litestar import Router
from litestar.types import ControllerRouterHandler

from slotoptim.api.openapi import API_SECURITY
from slotoptim.api.routes.apikeys import ApiKeyController
from slotoptim.api.routes.appointments import AppointmentController
from slotoptim.api.routes.catalogue import ProviderController, ServiceController
from slotoptim.api.routes.claim_page import claim_page, claim_submit
from slotoptim.api.routes.customers import CustomerController
from slotoptim.api.routes.dashboard import dashboard, home, login, login_form, logout
from slotoptim.api.routes.gaps import GapController
from slotoptim.api.routes.kpis import kpis
from slotoptim.api.routes.offers import instant_claim, start_offers
from slotoptim.api.routes.settings import SettingsController
from slotoptim.api.routes.system import healthz, metrics, readyz
from slotoptim.api.routes.waitlist import WaitlistController
from slotoptim.api.routes.webhooks import twilio_inbound, twilio_status

V1 = Router(
    path="/",
    security=API_SECURITY,
    route_handlers=[
        GapController,
        AppointmentController,
        WaitlistController,
        CustomerController,
        start_offers,
        instant_claim,
        ProviderController,
        ServiceController,
        SettingsController,
        kpis,
        ApiKeyController,
    ],
)

ROUTES: list[ControllerRouterHandler] = [
    V1,
    twilio_inbound,
    twilio_status,
    healthz,
    readyz,
    metrics,
    claim_page,
    claim_submit,
    home,
    dashboard,
    login_form,
    login,
    logout,
]
