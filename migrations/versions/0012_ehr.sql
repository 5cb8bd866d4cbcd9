-- EHR interop over FHIR R4: which EHR resource each provider, service, customer and block of ours
-- came from (or was matched to). Appointments map through slotoptim_private.external_item (the
-- shared mirror); the connection itself is a slotoptim_private.external_connection of purpose 'fhir'.
create table if not exists slotoptim_private.ehr_link (
  id bigint generated always as identity primary key,
  org_id bigint not null,
  connection_id bigint not null,
  -- Practitioner -> provider, HealthcareService and Appointment.serviceType codes ('ServiceType',
  -- external id "system|code") -> service, Patient -> customer, a busy Slot -> a closure (block).
  resource_type text not null
    constraint ehr_link_resource_type_known
      check (resource_type in ('Practitioner', 'HealthcareService', 'ServiceType', 'Patient', 'Slot')),
  external_id text not null
    constraint ehr_link_external_id_length check (length(external_id) between 1 and 300),
  provider_id bigint,
  service_id bigint,
  customer_id bigint,
  closure_id bigint,
  -- The EHR's meta.versionId of what we last applied.
  version text,
  updated_at timestamptz not null,
  constraint ehr_link_one_target check (
    (resource_type = 'Practitioner' and provider_id is not null and service_id is null and customer_id is null and closure_id is null)
    or (resource_type in ('HealthcareService', 'ServiceType') and service_id is not null and provider_id is null
        and customer_id is null and closure_id is null)
    or (resource_type = 'Patient' and customer_id is not null and provider_id is null and service_id is null
        and closure_id is null)
    or (resource_type = 'Slot' and provider_id is not null and service_id is null and customer_id is null)
  ),
  unique (connection_id, resource_type, external_id),
  unique (org_id, id),
  foreign key (org_id, connection_id) references slotoptim_private.external_connection (org_id, id) on delete cascade,
  foreign key (org_id, provider_id) references slotoptim_private.provider (org_id, id) on delete cascade,
  foreign key (org_id, service_id) references slotoptim_private.service (org_id, id) on delete cascade,
  foreign key (org_id, customer_id) references slotoptim_private.customer (org_id, id) on delete cascade,
  foreign key (closure_id) references slotoptim_private.closure (id) on delete set null (closure_id)
);

create index if not exists ehr_link_provider_idx on slotoptim_private.ehr_link (provider_id) where provider_id is not null;
create index if not exists ehr_link_customer_idx on slotoptim_private.ehr_link (customer_id) where customer_id is not null;

comment on table slotoptim_private.ehr_link is
  'Which EHR (FHIR) resource each provider, service, customer and busy-slot block came from or was matched to.';
