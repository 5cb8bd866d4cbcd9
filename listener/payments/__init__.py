"""No-show protection with Stripe (issue 13).

The policy and its decisions live in SQL (sql/67m_fn_payment_*.sql); this package talks to
Stripe: the Checkout session of a pending booking (checkout.py), the webhook (webhook.py), the
outbox handler that charges, captures and releases (charges.py), and the side pass that expires
checkouts and releases lapsing holds (service.py). Only Stripe ids, brand and last four digits
are ever stored: card numbers never reach us (Checkout collects them on Stripe's page).
"""
