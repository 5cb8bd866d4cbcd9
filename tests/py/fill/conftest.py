"""Fill-engine fixtures: the Twilio stand-in from the channel tests, and a Redis of the test's own."""

from channels.twilio_standin import twilio_standin as twilio_standin
from faults.redis_fixtures import redis_socket as redis_socket
