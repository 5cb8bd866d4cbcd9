"""The SQL each endpoint runs. Every statement names the organisation (`current_org()`) even
though row-level security already confines the application role to it: defence in depth."""
