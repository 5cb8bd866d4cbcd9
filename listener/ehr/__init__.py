"""EHR interop over FHIR R4 (client side): SMART Backend Services authentication, a FHIR REST
client with Bundle paging, the mapping of EHR resources onto our calendar, the incremental pull,
and the write-back of our bookings through the external-write outbox."""
