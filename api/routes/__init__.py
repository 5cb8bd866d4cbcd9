"""Route modules, one per area of the API; `ROUTES` is what the app mounts.

The claim page (/c/{token}) and the staff dashboard (/dashboard) render api/templates/ with Jinja.
"""

from __future__ import annotations

from litestar import Router
from litestar.types import ControllerRouterHandler

from slotoptim.api.fhir.routes import FHIR_ROUTER
from slotoptim.api.openapi import API_SECURITY
from slotoptim.api.routes.apikeys import ApiKeyController
from slotoptim.api.routes.appointments import AppointmentController
from slotoptim.api.routes.booking_page import booking_page, booking_submit, waitlist_submit
from slotoptim.api.routes.calendar import (
    connect_calendar,
    google_push,
    microsoft_lifecycle,
    microsoft_notification,
    oauth_callback,
    read_calendar,
)
from slotoptim.api.routes.catalogue import ProviderController, ServiceController
from slotoptim.api.routes.claim_page import claim_answer, claim_page, claim_submit
from slotoptim.api.routes.customers import CustomerController
from slotoptim.api.routes.dashboard import dashboard, dashboard_gap, home, login, login_form, logout
from slotoptim.api.routes.experiments import ExperimentController, PricingPolicyController
from slotoptim.api.routes.gaps import GapController
from slotoptim.api.routes.kpis import kpis
from slotoptim.api.routes.message_templates import MessageTemplateController
from slotoptim.api.routes.moveup import MoveUpController
from slotoptim.api.routes.offers import instant_claim, start_offers
from slotoptim.api.routes.payments import (
    list_charges,
    money,
    read_policies,
    stripe_webhook,
    update_policy,
    waive_charge,
)
from slotoptim.api.routes.queue import QueueController
from slotoptim.api.routes.queue_dashboard import queue_dashboard, queue_dashboard_act
from slotoptim.api.routes.queue_pages import (
    queue_here,
    queue_here_submit,
    queue_kiosk,
    queue_kiosk_submit,
    queue_screen,
    queue_screen_events,
    queue_screen_single,
    queue_status,
    queue_status_events,
)
from slotoptim.api.routes.settings import SettingsController
from slotoptim.api.routes.staff_tasks import StaffTaskController
from slotoptim.api.routes.system import healthz, metrics, readyz
from slotoptim.api.routes.waitlist import WaitlistController
from slotoptim.api.routes.webhooks import twilio_inbound, twilio_status

V1 = Router(
    path="/",
    security=API_SECURITY,
    route_handlers=[
        GapController,
        AppointmentController,
        MoveUpController,
        StaffTaskController,
        WaitlistController,
        CustomerController,
        start_offers,
        instant_claim,
        ProviderController,
        ServiceController,
        SettingsController,
        MessageTemplateController,
        ExperimentController,
        PricingPolicyController,
        kpis,
        ApiKeyController,
        QueueController,
        read_calendar,
        connect_calendar,
        read_policies,
        update_policy,
        list_charges,
        waive_charge,
        money,
    ],
)

ROUTES: list[ControllerRouterHandler] = [
    V1,
    FHIR_ROUTER,
    twilio_inbound,
    twilio_status,
    stripe_webhook,
    oauth_callback,
    google_push,
    microsoft_notification,
    microsoft_lifecycle,
    healthz,
    readyz,
    metrics,
    claim_page,
    claim_submit,
    claim_answer,
    booking_page,
    booking_submit,
    waitlist_submit,
    home,
    dashboard,
    dashboard_gap,
    login_form,
    login,
    logout,
    queue_screen_single,
    queue_screen,
    queue_screen_events,
    queue_status,
    queue_status_events,
    queue_here,
    queue_here_submit,
    queue_kiosk,
    queue_kiosk_submit,
    queue_dashboard,
    queue_dashboard_act,
]
