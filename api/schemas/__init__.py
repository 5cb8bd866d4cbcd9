"""Request and response bodies (msgspec Structs): the constraints here become the OpenAPI schema
and the 400 answers that name the field."""
