"""FHIR R4 server under /fhir/R4: our providers, services, schedules and openings as FHIR resources,
and the IHE ITI Scheduling operations ($find, $hold, $book, and the search of existing appointments)."""
