"""The listener: wakes on NOTIFY, reads the durable rows, and acts on them."""
