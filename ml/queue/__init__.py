"""The check-in queue's evaluation: replayed clinic days scoring the wait estimates."""
