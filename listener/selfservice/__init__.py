"""Self-service: the public booking page's flow (book an opening, join the waitlist) and consent."""
